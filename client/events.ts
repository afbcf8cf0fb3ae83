/**
 * The results events a tool worker acts on, as the relay publishes them (docs/contract.md, "Results event"), for
 * the three APIs. Written here, not imported from the relay, so the client stands alone: it needs only the contract.
 */

/** The events that ask for tools, one per API. A worker subscribes to these (and to nothing else). */
export const REQUIRES_ACTION_TYPES = ["run.requires_action", "response.requires_action", "session.requires_action"] as const;

/** A tool call in the one shape every API's events use (`arguments` is a JSON string). */
export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** Exactly the id fields the answering message carries: `{ ...event.reply, tool_outputs }`. */
export type Reply =
  | { thread_id: string; run_id: string }
  | { response_id: string }
  | { conversation_id: string }
  | { session_id: string; turn_id: string };

/** The fields of a results event a worker needs; the rest of the event is kept as it came. */
export interface WorkerEvent {
  event_id: string;
  type: string;
  /** `assistants`, `responses` or `agents`. */
  api: string;
  status: string;
  tool_calls: ToolCall[];
  reply: Reply;
  metadata?: Record<string, string> | null;
  [field: string]: unknown;
}

/** The SNS message attributes a results event carries, as a worker reads them. */
export type EventAttributes = Record<string, string | string[]>;

/** A body that is not a results event a worker can answer (it is dropped, and reported to `onError`). */
export class UnreadableEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnreadableEventError";
  }
}

/**
 * Reads a results event from a queue subscribed to the results topic: delivered raw (the recommended setup) or
 * wrapped in an SNS notification envelope.
 * @example const event = readWorkerEvent(message.Body);
 */
export function readWorkerEvent(body: string): WorkerEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new UnreadableEventError("the body is not JSON");
  }
  const envelope = parsed as { Type?: unknown; Message?: unknown };
  if (envelope?.Type === "Notification" && typeof envelope.Message === "string") return readWorkerEvent(envelope.Message);
  const event = parsed as Partial<WorkerEvent>;
  const missing = (["event_id", "type", "api", "reply", "tool_calls"] as const).filter((field) => event?.[field] === undefined);
  if (missing.length > 0) throw new UnreadableEventError(`not a results event: no ${missing.join(", ")}`);
  if (!Array.isArray(event.tool_calls)) throw new UnreadableEventError("tool_calls is not a list");
  return event as WorkerEvent;
}

/** True for an event that asks a worker to run tools: `*.requires_action` with at least one call. */
export function asksForTools(event: WorkerEvent): boolean {
  return event.type.endsWith(".requires_action") && event.tool_calls.length > 0;
}

/** The FIFO message group of an answer: its conversation, thread, response chain or session stays in order. */
export function messageGroupOf(reply: Reply): string {
  if ("thread_id" in reply) return reply.thread_id;
  if ("session_id" in reply) return reply.session_id;
  if ("conversation_id" in reply) return reply.conversation_id;
  return reply.response_id;
}
