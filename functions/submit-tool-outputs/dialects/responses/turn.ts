import { toolCallMismatch } from "../../endpoint/endpoint-outcome";
import type { Outcome } from "../../pipeline/outcome";
import { callOptions, type DecisionLimits, type RecordContext } from "../../pipeline/record-context";
import { type Step, stop } from "../../pipeline/result";
import { patiently } from "../../pipeline/retry-timing";
import type { ConversationItem, ResponsesClient } from "./client";
import { failed } from "./failed";
import type { ResponsesToolOutputMessage } from "./message-schema";
import { continuationSettings, conversationOf, sameIds, standing } from "./response-state";
import { type ConversationLatest, type TurnKey, turnKey } from "./submission-claims";

/** The turn a message answers: what the submission continues, and with which settings. */
export interface Turn {
  key: TurnKey;
  /** The response the outputs answer (`previous_response_id` mode; also known when that response is on a conversation). */
  previousResponseId?: string;
  /** The conversation the turn is on: the POST continues it with `conversation`, and listing it reconciles. */
  conversationId?: string;
  /** The continuation's settings (response-state.ts, continuationSettings). */
  settings: Record<string, unknown>;
}

/** A turn on a conversation: the POST continues it, and listing it reconciles. */
export type ConversationTurn = Turn & { conversationId: string };

/** A turn to submit, or the row that ends the message before anything is submitted. */
export type Found = Step<{ turn: Turn }>;

export type TurnDeps = DecisionLimits & { endpoint: Pick<ResponsesClient, "getResponse" | "listConversationItems"> };

/** The turn the message answers, by the id it names (the message schema admits exactly one of the two). */
export async function findTurn(
  message: ResponsesToolOutputMessage,
  givenIds: string[],
  ctx: RecordContext,
  deps: TurnDeps & { latest: ConversationLatest },
): Promise<Found> {
  const { response_id, conversation_id } = message;
  if (response_id !== undefined) return previousResponseTurn({ ...message, response_id }, givenIds, ctx, deps);
  if (conversation_id !== undefined) return conversationTurn({ ...message, conversation_id }, givenIds, ctx, deps);
  return stop({ kind: "dead_letter", reason: "invalid_message", detail: "send exactly one of response_id and conversation_id" });
}

/**
 * `previous_response_id` mode: `GET /responses/{response_id}` and its rows (not found; still moving; ended or asks
 * for nothing; other call ids), all before anything is submitted.
 */
export async function previousResponseTurn(
  message: ResponsesToolOutputMessage & { response_id: string },
  givenIds: string[],
  ctx: RecordContext,
  deps: TurnDeps,
): Promise<Found> {
  const seen = await patiently(() => deps.endpoint.getResponse(message.response_id, callOptions(ctx)), ctx, deps);
  if (!seen.ok) return stop(failed(seen.failure, ctx, "read the previous response"));
  const previous = seen.response;
  const where = standing(previous, givenIds);
  switch (where.kind) {
    case "moving":
      // Row "the previous response is queued / in_progress → hand back (its function calls are not final yet)".
      return stop({
        kind: "hand_back",
        reason: "response_in_progress",
        detail: `response ${previous.id} is still ${previous.status}: its function calls are not final`,
      });
    case "not_awaiting":
      // Row "ended failed / cancelled / incomplete, or asks for no function calls → response_not_awaiting_outputs".
      return stop(notAwaiting(`response ${previous.id} takes no outputs: ${where.why}`));
    case "other_ids":
      // Row "given ids ≠ the previous response's function_call call_ids → tool_call_mismatch, before anything is submitted".
      return stop(mismatch(where.expected, givenIds, `response ${previous.id}`));
    case "awaiting": {
      const conversationId = conversationOf(previous) ?? undefined;
      const key = turnKey({ previousResponseId: previous.id, conversationId }, givenIds);
      const settings = continuationSettings(previous, message.request);
      return { ok: true, turn: { key, previousResponseId: previous.id, conversationId, settings } };
    }
  }
}

/**
 * Conversation mode: the function calls waiting at the conversation's tail (`function_call` items with no output
 * yet). Outputs for these ids already in the conversation mean an earlier copy was accepted. Settings come from
 * `request`, or from the last response of the conversation the state table knows (`deps.latest`).
 */
export async function conversationTurn(
  message: ResponsesToolOutputMessage & { conversation_id: string },
  givenIds: string[],
  ctx: RecordContext,
  deps: TurnDeps & { latest: ConversationLatest },
): Promise<Found> {
  const conversationId = message.conversation_id;
  const listed = await patiently(() => listTail(deps, conversationId, givenIds, ctx), ctx, deps);
  if (!listed.ok) return stop(failed(listed.failure, ctx, "list the conversation's items"));
  const items = listed.items;
  const after = itemsAfterOutputs(items, givenIds);
  if (after) return stop(alreadyAccepted(message, givenIds, after, outputsFor(items, givenIds)));
  const expected = waitingCalls(items);
  if (expected.length === 0) return stop(notAwaiting(`conversation ${conversationId} waits for no function calls`));
  if (!sameIds(expected, givenIds)) return stop(mismatch(expected, givenIds, `conversation ${conversationId}`));

  let settings = continuationSettings(undefined, message.request);
  if (message.request?.model === undefined) {
    const known = await deps.latest.get(conversationId);
    if (known.settings) settings = { ...known.settings, ...settings };
    else if (known.responseId !== undefined) {
      const latestId = known.responseId;
      const seen = await patiently(() => deps.endpoint.getResponse(latestId, callOptions(ctx)), ctx, deps);
      if (!seen.ok) return stop(failed(seen.failure, ctx, "read the conversation's last response"));
      settings = continuationSettings(seen.response, message.request);
    } else {
      const detail = `request.model: is required when the relay knows no response of conversation ${conversationId} (name request.model or send response_id)`;
      return stop({ kind: "dead_letter", reason: "invalid_message", detail });
    }
  }
  return { ok: true, turn: { key: turnKey({ conversationId }, givenIds), conversationId, settings } };
}

/** The outputs the conversation holds for these call ids (the newest for each). */
export function outputsFor(items: ConversationItem[], givenIds: readonly string[]): Map<string, unknown> {
  const taken = new Map<string, unknown>();
  for (const item of items)
    if (item.type === "function_call_output" && item.call_id !== undefined && givenIds.includes(item.call_id) && !taken.has(item.call_id))
      taken.set(item.call_id, item.output);
  return taken;
}

/** The conversation's newest items, enough to hold the tail's calls and any outputs given for them. */
export function listTail(deps: TurnDeps, conversationId: string, givenIds: readonly string[], ctx: RecordContext) {
  const given = new Set(givenIds);
  // Enough once an item older than the tail's function calls shows (a message, an earlier round's output…).
  const enough = (items: ConversationItem[]) =>
    items.some((item, i) => i > 0 && item.type !== "function_call" && item.type !== "function_call_output" && seenCall(items, given));
  return deps.endpoint.listConversationItems(conversationId, callOptions(ctx), enough);
}

function seenCall(items: ConversationItem[], given: ReadonlySet<string>): boolean {
  return items.some((item) => item.type === "function_call" && item.call_id !== undefined && given.has(item.call_id));
}

/**
 * When the conversation holds outputs for every given id, the output items of the response those outputs
 * started (newest first): the items newer than the outputs, past the rest of that response's input, up to where
 * the next response's input begins. Undefined while any of the outputs is missing.
 * @example itemsAfterOutputs([message, output_a, call_a], ["call_a"]) // [message]
 */
export function itemsAfterOutputs(items: ConversationItem[], givenIds: readonly string[]): ConversationItem[] | undefined {
  const positions = givenIds.map((id) => items.findIndex((item) => item.type === "function_call_output" && item.call_id === id));
  if (positions.some((index) => index < 0)) return undefined;
  const newer = items.slice(0, Math.min(...positions));
  let end = newer.length;
  while (end > 0 && isInput(newer[end - 1])) end--;
  let start = end;
  while (start > 0 && !isInput(newer[start - 1])) start--;
  return newer.slice(start, end);
}

/**
 * The `call_id`s of the function calls at the conversation's tail (newest items first) that have no output yet:
 * those of the last response's output (which may hold text or reasoning beside its calls), down to its input.
 * @example waitingCalls([call_b, call_a, message_from_user]) // ["call_b", "call_a"]
 */
export function waitingCalls(items: ConversationItem[]): string[] {
  const tail: string[] = [];
  for (const item of items) {
    if (isInput(item)) break;
    if (item.type === "function_call" && item.call_id !== undefined) tail.push(item.call_id);
  }
  return tail;
}

/** An item a response takes as input: the outputs it answers, or a message that is not the model's own. */
function isInput(item: ConversationItem | undefined): boolean {
  return item?.type === "function_call_output" || (item?.type === "message" && item.role !== "assistant");
}

/**
 * Row "the state table shows these outputs already submitted": the conversation shows them taken, so this copy is
 * a duplicate (published as already accepted), unless the conversation holds other outputs for its ids (rule 12).
 */
function alreadyAccepted(
  message: ResponsesToolOutputMessage & { conversation_id: string },
  givenIds: string[],
  items: ConversationItem[],
  taken: Map<string, unknown>,
): Outcome {
  const differing = message.tool_outputs.filter(
    (o) => taken.has(o.tool_call_id) && JSON.stringify(taken.get(o.tool_call_id)) !== JSON.stringify(o.output),
  );
  if (differing.length > 0) return conflicting(givenIds, `conversation ${message.conversation_id} already holds other outputs`, differing);
  return { kind: "report", state: { api: "responses", conversationId: message.conversation_id, items }, via: "already_accepted" };
}

/** Rule 12: outputs for ids that already have others; the first stand. */
export function conflicting(givenIds: string[], why: string, differing: ReadonlyArray<{ tool_call_id: string }>): Outcome {
  return {
    kind: "dead_letter",
    reason: "conflicting_output",
    detail: `${why} for [${differing.map((o) => o.tool_call_id).join(", ")}]; the first stand, these were not submitted`,
    givenToolCallIds: givenIds,
  };
}

function notAwaiting(detail: string): Outcome {
  return { kind: "dead_letter", reason: "response_not_awaiting_outputs", detail };
}

export function mismatch(expected: string[], given: string[], where: string): Outcome {
  const detail = `${where} asks for outputs for [${expected.join(", ")}], the message has [${given.join(", ")}]`;
  return toolCallMismatch({ expected, given, detail });
}
