import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { DlqRecord } from "../functions/submit-tool-outputs/dlq-record";
import type { ResultsEvent } from "../functions/submit-tool-outputs/results-event";

/** A results event as a subscriber reads it (from an SQS queue subscribed to the topic). */
export interface PublishedResult {
  event: ResultsEvent;
  /** The SNS message attributes (`type`, `status`, `thread_id`). */
  attributes: Record<string, string>;
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
 * One ReceiveMessage with every attribute. `visibilityTimeout: 0` peeks: the messages stay visible.
 * @example const messages = await receiveBatch(sqs, url, { max: 10, waitSeconds: 1 });
 */
export async function receiveBatch(
  sqs: SQSClient,
  queueUrl: string,
  options: { max?: number; waitSeconds?: number; visibilityTimeout?: number; signal?: AbortSignal } = {},
): Promise<Message[]> {
  const received = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: options.max ?? 10,
      WaitTimeSeconds: options.waitSeconds ?? 0,
      ...(options.visibilityTimeout !== undefined ? { VisibilityTimeout: options.visibilityTimeout } : {}),
      MessageSystemAttributeNames: ["All"],
      MessageAttributeNames: ["All"],
    }),
    { abortSignal: options.signal },
  );
  return received.Messages ?? [];
}

/** Deletes received messages, ten at a time. */
export async function deleteMessages(sqs: SQSClient, queueUrl: string, messages: Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
}

/**
 * Receives and deletes everything visible on a queue now (an empty receive ends it).
 * @example const all = await drainQueue(sqs, aws.results.url);
 */
export async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const batch = await receiveBatch(sqs, queueUrl);
    if (batch.length === 0) return all;
    all.push(...batch);
    await deleteMessages(sqs, queueUrl, batch);
  }
}

/**
 * Reads a results event from a queue subscribed to the topic: an SNS envelope (attributes inside), or the
 * event itself with SQS message attributes (raw delivery).
 */
export function toPublishedResult(message: Message): PublishedResult {
  const body = JSON.parse(message.Body ?? "") as Record<string, unknown>;
  if (body.Type === "Notification" && typeof body.Message === "string") {
    const attributes = body.MessageAttributes as Record<string, { Value: string }> | undefined;
    return {
      event: JSON.parse(body.Message) as ResultsEvent,
      attributes: Object.fromEntries(Object.entries(attributes ?? {}).map(([k, v]) => [k, v.Value])),
    };
  }
  return { event: body as unknown as ResultsEvent, attributes: stringAttributes(message) };
}

/** Reads a DLQ message: the relay's record, or a raw body that SQS's redrive moved (no `reason` attribute). */
export function toDeadLetter(message: Message): DeadLetter {
  const body = message.Body ?? "";
  const attributes = stringAttributes(message);
  const base = {
    messageId: message.MessageId!,
    body,
    attributes,
    receiptHandle: message.ReceiptHandle!,
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
  };
  if (attributes.reason === undefined) {
    return {
      ...base,
      sourceMessageId: base.messageId,
      writtenBy: "redrive",
      reason: "redriven_by_sqs",
      record: { original: body },
      original: body,
    };
  }
  if (attributes.format === "original") {
    // A record too big for SQS: the body is the original and the record's fields sit in attributes.
    const record = {
      reason: attributes.reason as DlqRecord["reason"],
      detail: attributes.detail ?? "",
      original: body,
      source_message_id: attributes.source_message_id,
    };
    return {
      ...base,
      sourceMessageId: attributes.source_message_id ?? base.messageId,
      writtenBy: "relay",
      reason: attributes.reason,
      record,
      original: body,
    };
  }
  let record: DlqRecord;
  try {
    record = JSON.parse(body) as DlqRecord;
  } catch {
    return {
      ...base,
      sourceMessageId: base.messageId,
      writtenBy: "redrive",
      reason: attributes.reason,
      record: { original: body },
      original: body,
    };
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

function stringAttributes(message: Message): Record<string, string> {
  return Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? ""]));
}
