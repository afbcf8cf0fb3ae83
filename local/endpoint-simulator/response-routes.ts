/**
 * The Responses and Conversations endpoints, each a function of (stores, request) → reply or a new
 * response. The HTTP layer (response-http.ts) adds faults, waiting and streaming around them.
 */

import { isRetrievable, placeResponse, type Stores } from "./continuation";
import { type ConversationRecord, conversationItemsAt } from "./conversations";
import { pageItems } from "./item-pages";
import { type Reply, replies } from "./replies";
import { buildResponseObject } from "./response-object";
import { responseReplies } from "./response-replies";
import { checkMetadata, ID_PATTERN, isObject, isReply, parseCreateResponse, parseInputItem } from "./response-request";
import {
  compileScript,
  outputFor,
  planSegments,
  type ResolvedRound,
  type ResponseRecord,
  responseStateAt,
  roundAt,
  type ScriptRound,
  type StoredItem,
} from "./responses";
import { newId } from "./runs";

import type { ResponseScript, SimulatorCounters } from "./types";

/** How a continuation ends without answering its parent's calls: the outputs may be taken again. */
const ENDED_WITHOUT_ANSWER = new Set(["failed", "incomplete", "cancelled"]);

export interface ResponsesState extends Stores {
  processingMs: number;
  counters: SimulatorCounters;
}

const FIRST_TURN_TEXT = "Hello from the endpoint simulator.";
const CONTINUATION_TEXT = "The tool outputs were received.";
const SCRIPT_WORDS = new Set(["completed", "failed", "incomplete", "cancelled"]);

/**
 * A first turn's script from its metadata, like `POST /threads/runs`: `sim_tool_calls` (count of the first
 * turn's function calls, default "1", "0" skips) and `sim_then` (comma list of completed|failed|incomplete|
 * cancelled|function_calls:<n>, what each continuation does).
 * @example responseScriptFromMetadata({ sim_tool_calls: "2", sim_then: "function_calls:1,completed" })
 */
export function responseScriptFromMetadata(metadata: Record<string, string>): ScriptRound[] | Reply {
  const count = Number(metadata.sim_tool_calls ?? "1");
  if (!Number.isInteger(count) || count < 0 || count > 128) {
    return replies.invalidType("metadata.sim_tool_calls", "a count from 0 to 128 as a string", metadata.sim_tool_calls);
  }
  const script: ResponseScript[] = count > 0 ? [{ functionCalls: count }] : [];
  for (const item of (metadata.sim_then ?? "completed").split(",").map((part) => part.trim())) {
    const more = /^function_calls:(\d+)$/.exec(item);
    if (more !== null && Number(more[1]) > 0) script.push({ functionCalls: Number(more[1]) });
    else if (SCRIPT_WORDS.has(item)) script.push(item as ResponseScript);
    else return replies.invalidType("metadata.sim_then", "completed|failed|incomplete|cancelled|function_calls:<n>", item);
  }
  return compileScript(script);
}

/** `POST /responses`: a new response, or why not. Counts created, continued, forked and rejected. */
export function createResponse(state: ResponsesState, body: unknown, at: number): { reply: Reply } | { record: ResponseRecord } {
  const reject = (reply: Reply) => {
    state.counters.responsesRejected += 1;
    return { reply };
  };
  const request = parseCreateResponse(body);
  if (isReply(request)) return reject(request);
  const placement = placeResponse(state, request, at);
  if (isReply(placement)) return reject(placement);

  const { parent, conversation, input, answersCalls } = placement;
  let chain: ScriptRound[];
  let depth: number;
  let round: ResolvedRound;
  if (answersCalls && parent !== null) {
    chain = parent.chain;
    depth = parent.depth + 1;
    round = roundAt(chain, depth);
  } else {
    // A first turn plays its script's first item itself; its continuations play the rest.
    const rounds = responseScriptFromMetadata(request.settings.metadata);
    if (!Array.isArray(rounds)) return reject(rounds);
    round = roundAt(rounds, 1);
    chain = rounds.slice(1);
    depth = 0;
  }
  const record: ResponseRecord = {
    id: newId("resp", 48),
    createdAt: at,
    settings: request.settings,
    previousResponseId: request.previousResponseId,
    conversationId: conversation?.id ?? null,
    background: request.background,
    streamed: request.stream,
    parentId: parent?.id ?? null,
    depth,
    chain,
    input,
    output: outputFor(round.outcome, request.settings, answersCalls ? CONTINUATION_TEXT : FIRST_TURN_TEXT),
    segments: planSegments(at, request.background, state.processingMs, round),
    children: [],
  };
  if (parent !== null && parent.children.length > 0) {
    // A second answer counts as a fork only while an earlier one still stands (running, or completed); after every
    // earlier continuation ended failed, incomplete or cancelled, taking the outputs again is a retry of the turn.
    const standing = parent.children.some((id) => {
      const child = state.responses.get(id);
      return child !== undefined && !ENDED_WITHOUT_ANSWER.has(responseStateAt(child, at).status);
    });
    if (standing) state.counters.forks += 1;
    else state.counters.retriesAfterFailure += 1;
  }
  state.responses.add(record);
  conversation?.responseIds.push(record.id);
  state.counters.responsesCreated += 1;
  if (answersCalls) state.counters.continuations += 1;
  return { record };
}

function findResponse(state: ResponsesState, id: string): ResponseRecord | Reply {
  if (!ID_PATTERN.test(id)) return responseReplies.malformedId("response_id", id);
  const record = state.responses.get(id);
  return isRetrievable(record) ? record : responseReplies.responseNotFound(id);
}

/** `GET /responses/{id}`, with `openai-poll-after-ms`. */
export function retrieveResponse(state: ResponsesState, id: string, at: number, pollAfterMs: number): Reply {
  const record = findResponse(state, id);
  if (isReply(record)) return record;
  return { status: 200, body: buildResponseObject(record, at), headers: { "openai-poll-after-ms": String(pollAfterMs) } };
}

/** The record behind a GET, for the stream-resume path (which needs the record itself). */
export function lookupResponse(state: ResponsesState, id: string): ResponseRecord | Reply {
  return findResponse(state, id);
}

/** `POST /responses/{id}/cancel`: background responses only; cancelling a finished one returns it unchanged. */
export function cancelResponse(state: ResponsesState, id: string, at: number): Reply {
  const record = findResponse(state, id);
  if (isReply(record)) return record;
  if (!record.background) return responseReplies.cancelSynchronous();
  state.responses.cancel(record, at);
  return { status: 200, body: buildResponseObject(record, at) };
}

/** `GET /responses/{id}/input_items`: the items this response was given. */
export function listInputItems(state: ResponsesState, id: string, query: URLSearchParams): Reply {
  const record = findResponse(state, id);
  if (isReply(record)) return record;
  return pageItems(record.input, query);
}

function conversationObject(conversation: ConversationRecord) {
  return {
    id: conversation.id,
    object: "conversation",
    created_at: Math.floor(conversation.createdAt / 1000),
    metadata: { ...conversation.metadata },
  };
}

const CONVERSATION_FIELDS = new Set(["metadata", "items"]);

/**
 * `POST /conversations` with optional `metadata` and up to 20 `items`.
 * @example createConversation(state, { metadata: { tenant: "acme" } }, Date.now()).status // 200
 */
export function createConversation(state: ResponsesState, body: unknown, at: number): Reply {
  const given = body ?? {};
  if (!isObject(given)) return replies.invalidType("body", "an object", given);
  const unknown = Object.keys(given).find((key) => !CONVERSATION_FIELDS.has(key));
  if (unknown !== undefined) return responseReplies.unknownParameter(unknown);
  const metadata = checkMetadata(given.metadata, "metadata");
  if (isReply(metadata)) return metadata;
  const list = given.items ?? [];
  if (!Array.isArray(list)) return replies.invalidType("items", "an array", list);
  if (list.length > 20) return responseReplies.tooManyItems("items", 20, list.length);
  const items: StoredItem[] = [];
  for (const [index, raw] of list.entries()) {
    const item = parseInputItem(raw, `items[${index}]`);
    if (isReply(item)) return item;
    const prefix = item.type === "message" ? "msg" : item.type === "function_call" ? "fc" : "fco";
    items.push({ ...item, id: item.id ?? newId(prefix, 48), status: "completed" } as StoredItem);
  }
  return { status: 200, body: conversationObject(state.conversations.create({ createdAt: at, metadata, items })) };
}

function findConversation(state: ResponsesState, id: string): ConversationRecord | Reply {
  if (!ID_PATTERN.test(id)) return responseReplies.malformedId("conversation_id", id);
  return state.conversations.get(id) ?? responseReplies.conversationNotFound(id, 404);
}

/** `GET /conversations/{id}` */
export function retrieveConversation(state: ResponsesState, id: string): Reply {
  const conversation = findConversation(state, id);
  return isReply(conversation) ? conversation : { status: 200, body: conversationObject(conversation) };
}

/** `GET /conversations/{id}/items`: a response's items appear once it has completed. */
export function listConversationItems(state: ResponsesState, id: string, query: URLSearchParams, at: number): Reply {
  const conversation = findConversation(state, id);
  if (isReply(conversation)) return conversation;
  return pageItems(conversationItemsAt(conversation, state.responses, at), query);
}
