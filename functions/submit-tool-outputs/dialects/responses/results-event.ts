import { type EnvelopeSource, type EventEnvelope, eventDigest, eventFits, kept, toolCall } from "../../out/results-event";
import type { RestingState } from "../../pipeline/outcome";
import type { DialectResults } from "../dialect";
import { type ConversationItem, FINAL_RESPONSE_STATUSES, functionCalls, type ResponseObject } from "./response-state";

/** A Responses-API results event (docs/responses.md). */
export interface ResponsesResultsEvent extends EventEnvelope {
  api: "responses";
  type: `response.${string}`;
  /** The resting response this event reports; null when a conversation took the outputs and its id was not learnt. */
  response_id: string | null;
  /** The response these outputs answered; null in conversation mode when unknown. */
  previous_response_id: string | null;
  conversation_id: string | null;
  response: ResponseSummary;
  reply: { response_id: string } | { conversation_id: string };
  /** Message text was dropped to keep the event under SNS's 256 KB. */
  output_truncated?: true;
}

/** A response at rest, as the Responses dialect reports it. */
export type ResponsesState =
  /** A final response; `answered` is the response its outputs answered, when the relay knows it. */
  | { api: "responses"; response: ResponseObject; answered?: string }
  /** A conversation took the outputs and the new response's id was never learnt: its output items (newest first). */
  | { api: "responses"; conversationId: string; items: ConversationItem[]; answered?: string };

/** A resting state is this API's when it is tagged so: only the Responses dialect makes states with `api: "responses"`. */
export function isResponsesState(state: RestingState): state is ResponsesState {
  return state.api === "responses";
}

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

export type ResponseSummary = Partial<Record<(typeof KEPT_RESPONSE_FIELDS)[number], unknown>> & {
  id: string | null;
  status: string;
  output?: ResponseObject["output"];
};

function responseEvent(state: ResponsesState, envelope: EnvelopeSource): ResponsesResultsEvent {
  const fromConversation = "items" in state;
  // Conversation items are listed newest first; an event tells them in the order they happened.
  const output = fromConversation ? [...state.items].reverse() : (state.response.output ?? []);
  const response: ResponseSummary = fromConversation
    ? { id: null, status: "completed", output, conversation: { id: state.conversationId } }
    : (kept(state.response, KEPT_RESPONSE_FIELDS) as ResponseSummary);
  const status = response.status ?? "completed";
  const calls = functionCalls({ id: "", output });
  const responseId = fromConversation ? null : state.response.id;
  const conversationId = fromConversation ? state.conversationId : (state.response.conversation?.id ?? null);
  // A completed response on a conversation is told by its output items, whichever way it was learnt (its GET, or
  // the conversation's items when its id was not): the same state gets the same id, so a consumer drops the second.
  const itemIds = output.map((item) => (typeof item.id === "string" ? item.id : "")).join(",");
  const byItems = conversationId !== null && status === "completed" && (fromConversation || itemIds.replaceAll(",", "") !== "");
  const identity = byItems ? `conv\n${conversationId}\n${itemIds}` : `resp\n${responseId}\n${status}`;
  return {
    event_id: eventDigest(identity),
    api: "responses",
    type: status === "completed" && calls.length > 0 ? "response.requires_action" : `response.${status}`,
    response_id: responseId,
    previous_response_id: state.answered ?? (fromConversation ? null : (state.response.previous_response_id ?? null)),
    conversation_id: conversationId,
    status,
    response,
    tool_calls: calls.map((call) => toolCall(call.call_id, call.name, call.arguments)),
    reply: responseId !== null ? { response_id: responseId } : { conversation_id: conversationId ?? "" },
    ...envelope,
  };
}

/**
 * An event over SNS's limit (DESIGN Part 3, rule 2) loses, in turn and only as far as needed: the message text; then
 * the bulky fields of the other output items (an image result, encrypted reasoning, a listing of tools…), each kept
 * as its `type`, `id`, `status` and name; marked `output_truncated`. A function call is never touched: its
 * arguments are what the tool worker needs. An event that still does not fit is told by `eventFits`
 * (out/results-event.ts).
 */
function fitted(event: ResponsesResultsEvent): ResponsesResultsEvent {
  if (eventFits(event)) return event;
  const output = event.response.output ?? [];
  const withoutText = output.map((item) => (item.type === "message" ? { ...item, content: [] } : item));
  const textless: ResponsesResultsEvent = { ...event, response: { ...event.response, output: withoutText }, output_truncated: true };
  if (eventFits(textless)) return textless;
  const slim = withoutText.map((item) => (item.type === "function_call" || item.type === "message" ? item : slimItem(item)));
  return { ...textless, response: { ...textless.response, output: slim } };
}

/** An output item reduced to what names it (its bulky fields dropped). */
function slimItem(item: { type: string } & Record<string, unknown>): { type: string } {
  const keep = ["type", "id", "status", "name", "server_label", "call_id"];
  return { ...Object.fromEntries(Object.entries(item).filter(([key]) => keep.includes(key))), type: item.type };
}

/**
 * The Responses API's results: its event, its SNS attribute (`response_id`, or `conversation_id`) and FIFO group (the
 * conversation, else the response chain).
 */
export const responsesResults: DialectResults<ResponsesState, ResponsesResultsEvent> = {
  // A completed response whose output asks for function calls is `response.requires_action`.
  types: ["response.requires_action", ...FINAL_RESPONSE_STATUSES.map((status) => `response.${status}`)],
  event: (state, envelope) => fitted(responseEvent(state, envelope)),
  attributes: (event): Record<string, string> =>
    event.response_id !== null ? { response_id: event.response_id } : { conversation_id: event.conversation_id ?? "" },
  group: (event) => event.conversation_id ?? event.previous_response_id ?? event.response_id ?? "responses",
  subject: (event) => event.response_id ?? `conversation ${event.conversation_id}`,
  status: (state) => ("response" in state ? (state.response.status ?? "completed") : "completed"),
};
