/**
 * Where a new response goes and whether its input fits there: the context it continues (the
 * `previous_response_id` chain, or the conversation's items), then the API's pairing rules between the
 * context's function calls and the input's outputs. The checks run in this order: ids, lookups, the
 * conversation lock, duplicates, outputs without a call, calls without an output.
 */
import { type ConversationRecord, type ConversationStore, conversationItemsAt, lockHolderAt } from "./conversations";
import type { Reply } from "./replies";
import { responseReplies } from "./response-replies";
import { ID_PATTERN, type InputItemParam, type ResponseRequest } from "./response-request";
import { type ResponseRecord, type ResponseStore, responseStateAt, type StoredItem } from "./responses";
import { newId } from "./runs";

export interface Placement {
  /** The response whose calls this one answers (always the previous response in `previous_response_id` mode). */
  parent: ResponseRecord | null;
  conversation: ConversationRecord | null;
  /** The input as it will be stored, every item with its id. */
  input: StoredItem[];
  /** The input carries function_call_output items. */
  answersCalls: boolean;
}

export interface Stores {
  responses: ResponseStore;
  conversations: ConversationStore;
}

/** A response the API still holds for `previous_response_id` and GET: stored, or background (kept for polling). */
export function isRetrievable(record: ResponseRecord | undefined): record is ResponseRecord {
  return record !== undefined && (record.settings.store || record.background);
}

/**
 * The items a response's context holds, oldest first: what its predecessors held, its input, and its
 * output once completed. Iterative, because a soak's chains can be long.
 * @example chainItems(stores, parent, Date.now()).filter((item) => item.type === "function_call")
 */
export function chainItems(stores: Stores, record: ResponseRecord, at: number): StoredItem[] {
  const lineage: ResponseRecord[] = [];
  let cursor: ResponseRecord | undefined = record;
  while (cursor !== undefined) {
    lineage.unshift(cursor);
    cursor = cursor.previousResponseId === null ? undefined : stores.responses.get(cursor.previousResponseId);
  }
  const root = lineage[0]!;
  const conversation = root.conversationId === null ? undefined : stores.conversations.get(root.conversationId);
  const items = conversation === undefined ? [] : conversationItemsAt(conversation, stores.responses, root.createdAt - 1);
  for (const step of lineage) {
    items.push(...step.input);
    if (responseStateAt(step, at).status === "completed") items.push(...step.output);
  }
  return items;
}

function storeInput(input: InputItemParam[]): StoredItem[] {
  return input.map((item): StoredItem => {
    if (item.type === "message") return { ...item, id: item.id ?? newId("msg", 48), status: "completed" };
    if (item.type === "function_call") return { ...item, id: item.id ?? newId("fc", 48), status: "completed" };
    return { ...item, id: item.id ?? newId("fco", 48), status: "completed" };
  });
}

/** The pairing rules over the whole context: every output has its call, every call has its output. */
function checkPairing(context: StoredItem[], input: InputItemParam[]): Reply | undefined {
  const heldIds = new Set(context.map((item) => item.id));
  for (const [index, item] of input.entries()) {
    if (item.type === "function_call" && item.id !== undefined && !item.id.startsWith("fc"))
      return responseReplies.idPrefix(`input[${index}].id`, item.id, "fc");
    if (item.id === undefined) continue;
    if (heldIds.has(item.id)) return responseReplies.duplicateItem(item.id);
    heldIds.add(item.id);
  }
  const all = [...context, ...input];
  const calls = new Set(all.filter((item) => item.type === "function_call").map((item) => item.call_id));
  const outputs = input.filter((item) => item.type === "function_call_output");
  const unknown = outputs.find((item) => !calls.has(item.call_id));
  if (unknown !== undefined) return responseReplies.noToolCall(unknown.call_id);
  const answered = new Set(all.filter((item) => item.type === "function_call_output").map((item) => item.call_id));
  const pending = [...calls].find((callId) => !answered.has(callId));
  return pending === undefined ? undefined : responseReplies.noToolOutput(pending);
}

/** The response among `candidates` (newest first) whose output holds the call this output answers. */
function ownerOf(candidates: ResponseRecord[], callId: string, at: number): ResponseRecord | undefined {
  return candidates.find(
    (record) =>
      responseStateAt(record, at).status === "completed" &&
      record.output.some((item) => item.type === "function_call" && item.call_id === callId),
  );
}

/**
 * Finds the context of a new response and checks its input against it.
 * @example placeResponse(stores, request, Date.now()) // { parent, conversation, input, answersCalls } or an error reply
 */
export function placeResponse(stores: Stores, request: ResponseRequest, at: number): Placement | Reply {
  const { previousResponseId, conversationId } = request;
  if (previousResponseId !== null && conversationId !== null) return responseReplies.previousAndConversation();
  if (previousResponseId !== null && !ID_PATTERN.test(previousResponseId))
    return responseReplies.malformedId("previous_response_id", previousResponseId);
  if (conversationId !== null && !ID_PATTERN.test(conversationId)) return responseReplies.malformedId("conversation", conversationId);

  const firstOutput = request.input.find((item) => item.type === "function_call_output");
  const answersCalls = firstOutput !== undefined;
  const input = storeInput(request.input);
  if (previousResponseId !== null) {
    const previous = stores.responses.get(previousResponseId);
    if (!isRetrievable(previous) || !previous.settings.store) return responseReplies.previousResponseNotFound(previousResponseId);
    const refused = checkPairing(chainItems(stores, previous, at), request.input);
    return refused ?? { parent: previous, conversation: null, input, answersCalls };
  }
  if (conversationId !== null) {
    const conversation = stores.conversations.get(conversationId);
    if (conversation === undefined) return responseReplies.conversationNotFound(conversationId, 404, "conversation");
    if (lockHolderAt(conversation, stores.responses, at) !== undefined) return responseReplies.conversationLocked();
    const refused = checkPairing(conversationItemsAt(conversation, stores.responses, at), request.input);
    if (refused !== undefined) return refused;
    const newestFirst = conversation.responseIds.map((id) => stores.responses.get(id)!).reverse();
    const parent = firstOutput === undefined ? null : (ownerOf(newestFirst, firstOutput.call_id, at) ?? null);
    return { parent, conversation, input, answersCalls };
  }
  const refused = checkPairing([], request.input);
  return refused ?? { parent: null, conversation: null, input, answersCalls };
}
