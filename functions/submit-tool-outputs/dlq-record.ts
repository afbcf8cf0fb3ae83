import type { EndpointError } from "./endpoint-failure";
import type { MessageContext } from "./message";
import type { DlqReason, Outcome } from "./outcome";

/** What the relay writes to the DLQ (README.md, "DLQ record"). `original` is the SQS body, byte for byte. */
export interface DlqRecord {
  reason: DlqReason;
  detail: string;
  http_status?: number;
  endpoint_error?: EndpointError;
  expected_tool_call_ids?: string[];
  given_tool_call_ids?: string[];
  thread_id?: string;
  run_id?: string;
  metadata?: Record<string, string>;
  original: string;
  source_message_id: string;
  receive_count: number;
  at: string;
}

/** What the decision says about a dead letter (its outcome, less what only settling needs). */
export type DlqRecordInput = Omit<Extract<Outcome, { kind: "dead_letter" }>, "kind" | "publish">;

/** @example buildDlqRecord({ reason: "invalid_message", detail }, context, record) */
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
    ...context,
    original: source.body,
    source_message_id: source.messageId,
    receive_count: source.receiveCount,
    at: new Date().toISOString(),
  };
}
