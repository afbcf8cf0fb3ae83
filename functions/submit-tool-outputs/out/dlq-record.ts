import type { Message, MessageAttributeValue } from "@aws-sdk/client-sqs";
import type { MessageIds } from "../dialects/index";
import type { EndpointError } from "../endpoint/endpoint-failure";
import type { MessageContext } from "../pipeline/message";
import type { DlqReason, Outcome } from "../pipeline/outcome";

/**
 * The DLQ record (docs/contract.md, "DLQ record"): how the relay writes it, fits it into one SQS message,
 * and reads it back (the CLI, the local stack and the tests). The one home of this wire format.
 * `original` is the SQS body, byte for byte, so a fixed message can be re-driven.
 */
export type DlqRecord = DlqRecordFields & MessageIds;

/** The record's own fields; beside them, the ids the message carried (its API's id fields). */
export interface DlqRecordFields {
  reason: DlqReason;
  detail: string;
  http_status?: number;
  endpoint_error?: EndpointError;
  expected_tool_call_ids?: string[];
  given_tool_call_ids?: string[];
  claimed_at?: string;
  metadata?: Record<string, string>;
  original: string;
  source_message_id: string;
  receive_count: number;
  at: string;
}

/** What the decision says about a dead letter (its outcome, less what only settling needs). */
export type DlqRecordInput = Omit<Extract<Outcome, { kind: "dead_letter" }>, "kind" | "publish">;

/** @example buildDlqRecord({ reason: "invalid_message", detail }, context, { body, messageId, receiveCount }) */
export function buildDlqRecord(
  input: DlqRecordInput,
  context: MessageContext,
  source: { body: string; messageId: string; receiveCount: number },
): DlqRecord {
  return {
    reason: input.reason,
    detail: input.detail,
    ...(input.httpStatus !== undefined ? { http_status: input.httpStatus } : {}),
    ...(input.endpointError ? { endpoint_error: input.endpointError } : {}),
    ...(input.expectedToolCallIds ? { expected_tool_call_ids: input.expectedToolCallIds } : {}),
    ...(input.givenToolCallIds ? { given_tool_call_ids: input.givenToolCallIds } : {}),
    ...(input.claimedAt ? { claimed_at: input.claimedAt } : {}),
    ...context,
    original: source.body,
    source_message_id: source.messageId,
    receive_count: source.receiveCount,
    at: new Date().toISOString(),
  };
}

/** SQS's limit for a message: the body and every attribute's name, type and value. */
const SQS_MAX_BYTES = 1_048_576;

const text = (value: string): MessageAttributeValue => ({ DataType: "String", StringValue: value });

/**
 * The DLQ message for a record: the record as JSON with a `reason` attribute; or, when that would pass
 * SQS's 1 MiB (a body near the limit), the original body itself, byte for byte, with as much of the
 * record in attributes as still fits, most important first (`format: original` tells the two apart).
 * @example const { body, attributes } = dlqMessage(record);
 */
export function dlqMessage(record: DlqRecord): { body: string; attributes: Record<string, MessageAttributeValue> } {
  const json = JSON.stringify(record);
  const reason = { reason: text(record.reason) };
  if (Buffer.byteLength(json) + sizeOf(reason) <= SQS_MAX_BYTES) return { body: json, attributes: reason };

  const candidates: Record<string, MessageAttributeValue> = {
    ...reason,
    format: text("original"),
    source_message_id: text(record.source_message_id),
    receive_count: { DataType: "Number", StringValue: String(record.receive_count) },
    detail: text(record.detail.slice(0, 1024)),
  };
  const attributes: Record<string, MessageAttributeValue> = {};
  let size = Buffer.byteLength(record.original);
  for (const [name, value] of Object.entries(candidates)) {
    const added = sizeOf({ [name]: value });
    if (size + added > SQS_MAX_BYTES) break;
    attributes[name] = value;
    size += added;
  }
  return { body: record.original, attributes };
}

/** How SQS and SNS count attributes against a message's size: name, data type and value, in UTF-8 bytes. */
export function sizeOf(attributes: Record<string, MessageAttributeValue>): number {
  return Object.entries(attributes).reduce(
    (sum, [name, value]) =>
      sum + Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? "") + Buffer.byteLength(value.StringValue ?? ""),
    0,
  );
}

/** A DLQ message: a record the relay wrote (with its reason), or a raw message SQS's redrive moved there. */
export interface DeadLetter {
  /** The DLQ message's own id. For a raw redriven message this is the input message's id. */
  messageId: string;
  /** The input message this letter stands for (`source_message_id`, or the id itself for a raw one). */
  sourceMessageId: string;
  /** `redrive` when SQS moved the raw message (a crash or timeout the relay could not catch). */
  writtenBy: "relay" | "redrive";
  reason: string;
  /** The relay's record; for a raw redriven message, only `original` (the body) is set. */
  record: Partial<DlqRecord> & { original: string };
  /** The original input body, byte for byte, ready to be re-driven. */
  original: string;
  body: string;
  attributes: Record<string, string>;
  receiptHandle: string;
  /** How often the DLQ message itself was received (peeks count). */
  receiveCount: number;
}

/**
 * Reads a DLQ message: the relay's record (JSON, or the original body with the record in attributes when it
 * was too big), or a raw body that SQS's redrive moved (no `reason` attribute).
 * @example const letters = received.map(readDeadLetter);
 */
export function readDeadLetter(message: Message): DeadLetter {
  const body = message.Body ?? "";
  const attributes = Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? ""]));
  const base = {
    messageId: message.MessageId ?? "",
    body,
    attributes,
    receiptHandle: message.ReceiptHandle ?? "",
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
  };
  const raw = (reason: string): DeadLetter => ({
    ...base,
    sourceMessageId: base.messageId,
    writtenBy: "redrive",
    reason,
    record: { original: body },
    original: body,
  });
  if (attributes.reason === undefined) return raw("redriven_by_sqs");
  if (attributes.format === "original") {
    // A record too big for SQS: the body is the original and the record's fields sit in attributes.
    const record = {
      reason: attributes.reason as DlqReason,
      detail: attributes.detail ?? "",
      original: body,
      source_message_id: attributes.source_message_id,
    };
    const sourceMessageId = attributes.source_message_id ?? base.messageId;
    return { ...base, sourceMessageId, writtenBy: "relay", reason: attributes.reason, record, original: body };
  }
  let record: DlqRecord;
  try {
    record = JSON.parse(body) as DlqRecord;
  } catch {
    return raw(attributes.reason);
  }
  return {
    ...base,
    sourceMessageId: record.source_message_id,
    writtenBy: "relay",
    reason: record.reason,
    record,
    original: record.original,
  };
}
