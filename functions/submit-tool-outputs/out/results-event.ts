import { createHash } from "node:crypto";
import type { Message } from "@aws-sdk/client-sqs";
import { type Run, requiredToolCallIds } from "../dialects/assistants/run-state";
import { type ConversationItem, functionCalls, type ResponseObject } from "../dialects/responses/response-state";

/**
 * The results event: what the results topic carries (docs/contract.md, "Results event"), for both APIs, its
 * SNS message attributes, and how a subscriber reads it back. The one home of this wire format.
 */

/** A tool call to answer, in one shape for both APIs (the Responses `call_id` is the `id`). */
export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** Exactly the id fields a tool worker puts in its answer: `{ ...event.reply, tool_outputs }`. */
export type Reply = { thread_id: string; run_id: string } | { response_id: string } | { conversation_id: string };

interface EventEnvelope {
  event_id: string;
  status: string;
  tool_calls: ToolCall[];
  reply: Reply;
  /** The message that completed the submission (for a collected set: the one that completed it). */
  source_message_id: string;
  /** Every collected message the submission carried, when outputs were collected. */
  source_message_ids?: string[];
  metadata?: Record<string, string>;
  at: string;
}

export interface AssistantsResultsEvent extends EventEnvelope {
  api: "assistants";
  type: `run.${string}`;
  thread_id: string;
  run_id: string;
  run: RunSummary;
}

export interface ResponsesResultsEvent extends EventEnvelope {
  api: "responses";
  type: `response.${string}`;
  /** The resting response this event reports; null when a conversation took the outputs and its id was not learnt. */
  response_id: string | null;
  /** The response these outputs answered; null in conversation mode when unknown. */
  previous_response_id: string | null;
  conversation_id: string | null;
  response: ResponseSummary;
  /** Message text was dropped to keep the event under SNS's 256 KB. */
  output_truncated?: true;
}

export type ResultsEvent = AssistantsResultsEvent | ResponsesResultsEvent;

/** A resting state a dialect reports: what an event is built from. */
export type RestingState =
  | { api: "assistants"; threadId: string; run: Run }
  /** A final response; `answered` is the response its outputs answered, when the relay knows it. */
  | { api: "responses"; response: ResponseObject; answered?: string }
  /** A conversation took the outputs and the new response's id was never learnt: its output items (newest first). */
  | { api: "responses"; conversationId: string; items: ConversationItem[]; answered?: string };

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
const KEPT_RESPONSE_FIELDS = [
  "id",
  "object",
  "status",
  "output",
  "error",
  "incomplete_details",
  "usage",
  "model",
  "created_at",
  "completed_at",
  "metadata",
  "previous_response_id",
  "conversation",
  "background",
] as const;

export type RunSummary = Partial<Record<(typeof KEPT_RUN_FIELDS)[number], unknown>> & { id: string; status: string };
export type ResponseSummary = Partial<Record<(typeof KEPT_RESPONSE_FIELDS)[number], unknown>> & { id: string | null; status: string };

export function summarizeRun(run: Run): RunSummary {
  return kept(run, KEPT_RUN_FIELDS) as RunSummary;
}

function kept(value: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const summary: Record<string, unknown> = {};
  for (const field of fields) if (field in value) summary[field] = value[field];
  return summary;
}

/** The status a resting state reports (for log lines). */
export function statusOf(state: RestingState): string {
  if (state.api === "assistants") return state.run.status;
  return "response" in state ? (state.response.status ?? "completed") : "completed";
}

/**
 * A stable id for one run state: the same run in the same state (and, for `requires_action`, asking for
 * the same tool calls) always gets the same id, so consumers can drop the duplicates at-least-once brings.
 */
export function eventIdOf(threadId: string, run: Run): string {
  const calls = requiredToolCallIds(run).sort().join(",");
  return digest(`${threadId}\n${run.id}\n${run.status}\n${calls}`);
}

const digest = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 32);

/** SNS refuses a message over 256 KiB (body and attributes); this leaves room for the attributes. */
const MAX_EVENT_BYTES = 256 * 1024 - 2048;

/** @example buildResultsEvent({ api: "assistants", threadId: "thread_a", run }, { sourceMessageId: record.messageId }) */
export function buildResultsEvent(
  state: RestingState,
  source: { sourceMessageId: string; sourceMessageIds?: string[]; metadata?: Record<string, string> },
): ResultsEvent {
  const envelope = {
    source_message_id: source.sourceMessageId,
    ...(source.sourceMessageIds ? { source_message_ids: source.sourceMessageIds } : {}),
    ...(source.metadata ? { metadata: source.metadata } : {}),
    at: new Date().toISOString(),
  };
  if (state.api === "assistants") {
    const { threadId, run } = state;
    const calls = (run.required_action?.submit_tool_outputs?.tool_calls ?? []) as Array<{
      id: string;
      function?: { name?: string; arguments?: string };
    }>;
    return {
      event_id: eventIdOf(threadId, run),
      api: "assistants",
      type: `run.${run.status}`,
      thread_id: threadId,
      run_id: run.id,
      status: run.status,
      run: summarizeRun(run),
      tool_calls:
        run.status === "requires_action" ? calls.map((call) => toolCall(call.id, call.function?.name, call.function?.arguments)) : [],
      reply: { thread_id: threadId, run_id: run.id },
      ...envelope,
    };
  }
  return fitted(responseEvent(state, envelope));
}

function responseEvent(
  state: Extract<RestingState, { api: "responses" }>,
  envelope: Pick<EventEnvelope, "source_message_id" | "at">,
): ResponsesResultsEvent {
  const fromConversation = "items" in state;
  // Conversation items are listed newest first; an event tells them in the order they happened.
  const output = fromConversation ? [...state.items].reverse() : (state.response.output ?? []);
  const response: ResponseSummary = fromConversation
    ? { id: null, status: "completed", output, conversation: { id: state.conversationId } }
    : (kept(state.response, KEPT_RESPONSE_FIELDS) as ResponseSummary);
  const status = response.status ?? "completed";
  const calls = functionCalls({ id: "", output: output as Array<{ type: string }> });
  const responseId = fromConversation ? null : state.response.id;
  const conversationId = fromConversation ? state.conversationId : (state.response.conversation?.id ?? null);
  // A completed response on a conversation is told by its output items, whichever way it was learnt (its GET, or
  // the conversation's items when its id was not): the same state gets the same id, so a consumer drops the second.
  const itemIds = (output as Array<{ id?: unknown }>).map((item) => (typeof item.id === "string" ? item.id : "")).join(",");
  const byItems = conversationId !== null && status === "completed" && (fromConversation || itemIds.replaceAll(",", "") !== "");
  const identity = byItems ? `conv\n${conversationId}\n${itemIds}` : `resp\n${responseId}\n${status}`;
  return {
    event_id: digest(identity),
    api: "responses",
    type: status === "completed" && calls.length > 0 ? "response.requires_action" : `response.${status}`,
    response_id: responseId,
    previous_response_id: state.answered ?? (fromConversation ? null : (state.response.previous_response_id ?? null)),
    conversation_id: conversationId,
    status,
    response,
    tool_calls: calls.map((call) => toolCall(call.call_id, call.name, call.arguments)),
    reply: responseId !== null ? { response_id: responseId } : { conversation_id: conversationId! },
    ...envelope,
  };
}

/**
 * An event over SNS's limit (DESIGN Part 3, rule 2) loses, in turn and only as far as needed: the message text; then
 * the bulky fields of the other output items (an image result, encrypted reasoning, a listing of tools…), each kept
 * as its `type`, `id`, `status` and name; marked `output_truncated`. A function call is never touched: its
 * arguments are what the tool worker needs. An event that still does not fit is told by `eventFits`.
 */
function fitted(event: ResponsesResultsEvent): ResponsesResultsEvent {
  if (fits(event)) return event;
  const output = (event.response.output as Array<{ type: string }> | undefined) ?? [];
  const withoutText = output.map((item) => (item.type === "message" ? { ...item, content: [] } : item));
  const textless: ResponsesResultsEvent = { ...event, response: { ...event.response, output: withoutText }, output_truncated: true };
  if (fits(textless)) return textless;
  const slim = withoutText.map((item) => (item.type === "function_call" || item.type === "message" ? item : slimItem(item)));
  return { ...textless, response: { ...textless.response, output: slim } };
}

/** An output item reduced to what names it (its bulky fields dropped): `type`, `id`, `status`, `name`, `server_label`. */
function slimItem(item: { type: string } & Record<string, unknown>): { type: string } {
  const keep = ["type", "id", "status", "name", "server_label", "call_id"];
  return Object.fromEntries(Object.entries(item).filter(([key]) => keep.includes(key))) as { type: string };
}

function fits(event: ResultsEvent): boolean {
  return Buffer.byteLength(JSON.stringify(event)) <= MAX_EVENT_BYTES;
}

/** Whether an event (as built, fitted) is within SNS's 256 KB: one that is not can never be published. */
export function eventFits(event: ResultsEvent): boolean {
  return fits(event);
}

function toolCall(id: string, name = "", args = ""): ToolCall {
  return { id, type: "function", function: { name, arguments: args } };
}

/** What an event is about, in words: `thread / run` or the response (or the conversation). */
export function subjectOf(event: ResultsEvent): string {
  if (event.api === "assistants") return `${event.thread_id} / ${event.run_id}`;
  return event.response_id ?? `conversation ${event.conversation_id}`;
}

/** The SNS message attributes subscribers filter on (tool workers subscribe to `type` `*.requires_action`). */
export function resultAttributes(event: ResultsEvent): Record<string, string> {
  const common = { type: event.type, status: event.status, api: event.api };
  if (event.api === "assistants") return { ...common, thread_id: event.thread_id };
  if (event.response_id !== null) return { ...common, response_id: event.response_id };
  return { ...common, conversation_id: event.conversation_id ?? "" };
}

/** The SNS FIFO group of an event: one thread's (conversation's, response chain's) events stay in order. */
export function resultGroupOf(event: ResultsEvent): string {
  if (event.api === "assistants") return event.thread_id;
  return event.conversation_id ?? event.previous_response_id ?? event.response_id ?? "responses";
}

/** A results event as a subscriber reads it (from an SQS queue subscribed to the topic). */
export interface PublishedResult<Event extends ResultsEvent = ResultsEvent> {
  event: Event;
  /** The SNS message attributes (`type`, `status`, `api`, and `thread_id` or `response_id` / `conversation_id`). */
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
