import { createHash } from "node:crypto";
import type { Message } from "@aws-sdk/client-sqs";
import { type Run, requiredToolCallIds } from "./assistants/run-state";

/**
 * The results event: what the results topic carries (docs/contract.md, "Results event"), its SNS message
 * attributes, and how a subscriber reads it back. The one home of this wire format.
 */
export interface ResultsEvent {
  event_id: string;
  type: `run.${string}`;
  thread_id: string;
  run_id: string;
  status: string;
  run: RunSummary;
  source_message_id: string;
  metadata?: Record<string, string>;
  at: string;
}

/** A resting state a dialect reports: what an event is built from. */
export type RestingState = { api: "assistants"; threadId: string; run: Run };

/** Fields a results consumer needs; instructions, tools and other bulky fields stay out of the event. */
const KEPT_RUN_FIELDS = [
  "id",
  "object",
  "thread_id",
  "assistant_id",
  "status",
  "required_action",
  "last_error",
  "incomplete_details",
  "usage",
  "created_at",
  "started_at",
  "expires_at",
  "cancelled_at",
  "failed_at",
  "completed_at",
  "model",
  "metadata",
] as const;

export type RunSummary = Partial<Record<(typeof KEPT_RUN_FIELDS)[number], unknown>> & { id: string; status: string };

export function summarizeRun(run: Run): RunSummary {
  const summary: Record<string, unknown> = {};
  for (const field of KEPT_RUN_FIELDS) if (field in run) summary[field] = run[field];
  return summary as RunSummary;
}

/** The status a resting state reports (for log lines). */
export function statusOf(state: RestingState): string {
  return state.run.status;
}

/**
 * A stable id for one run state: the same run in the same state (and, for `requires_action`, asking for
 * the same tool calls) always gets the same id, so consumers can drop the duplicates at-least-once brings.
 */
export function eventIdOf(threadId: string, run: Run): string {
  const calls = requiredToolCallIds(run).sort().join(",");
  return createHash("sha256").update(`${threadId}\n${run.id}\n${run.status}\n${calls}`).digest("hex").slice(0, 32);
}

/** @example buildResultsEvent({ api: "assistants", threadId: "thread_a", run }, { sourceMessageId: record.messageId }) */
export function buildResultsEvent(
  state: RestingState,
  source: { sourceMessageId: string; metadata?: Record<string, string> },
): ResultsEvent {
  const { threadId, run } = state;
  return {
    event_id: eventIdOf(threadId, run),
    type: `run.${run.status}`,
    thread_id: threadId,
    run_id: run.id,
    status: run.status,
    run: summarizeRun(run),
    source_message_id: source.sourceMessageId,
    ...(source.metadata ? { metadata: source.metadata } : {}),
    at: new Date().toISOString(),
  };
}

/** The SNS message attributes subscribers filter on (tool workers subscribe to `type` `run.requires_action`). */
export function resultAttributes(event: ResultsEvent): Record<string, string> {
  return { type: event.type, status: event.status, thread_id: event.thread_id };
}

/** The SNS FIFO group of an event: one thread's events stay in order. */
export function resultGroupOf(event: ResultsEvent): string {
  return event.thread_id;
}

/** A results event as a subscriber reads it (from an SQS queue subscribed to the topic). */
export interface PublishedResult {
  event: ResultsEvent;
  /** The SNS message attributes (`type`, `status`, `thread_id`). */
  attributes: Record<string, string>;
}

/**
 * Reads a results event from a queue subscribed to the topic: an SNS envelope (attributes inside), or the
 * event itself with SQS message attributes (raw delivery).
 * @example const { event } = readPublishedResult(message);
 */
export function readPublishedResult(message: Pick<Message, "Body" | "MessageAttributes">): PublishedResult {
  const body = JSON.parse(message.Body ?? "") as Record<string, unknown>;
  if (body.Type === "Notification" && typeof body.Message === "string") {
    const attributes = body.MessageAttributes as Record<string, { Value: string }> | undefined;
    return {
      event: JSON.parse(body.Message) as ResultsEvent,
      attributes: Object.fromEntries(Object.entries(attributes ?? {}).map(([k, v]) => [k, v.Value])),
    };
  }
  const attributes = Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? ""]));
  return { event: body as unknown as ResultsEvent, attributes };
}
