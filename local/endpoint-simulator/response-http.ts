/**
 * The HTTP side of the Responses and Conversations APIs under `/v1`: routing, counting, faults, holding a
 * foreground POST until its response is done, and streams (which a cancel ends). server.ts hands every
 * request under `/v1/responses` and `/v1/conversations` here after recording it. Bodies are never logged.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { ConversationStore, conversationItemsAt } from "./conversations";
import { type FaultPlan, playFault } from "./faults";
import { type Reply, replies, sendReply } from "./replies";
import { buildResponseObject, type ResponseObject } from "./response-object";
import { faultTarget, route } from "./response-paths";
import { responseReplies } from "./response-replies";
import { isReply } from "./response-request";
import {
  cancelResponse,
  createConversation,
  createResponse,
  listConversationItems,
  listInputItems,
  lookupResponse,
  type ResponsesState,
  retrieveConversation,
  retrieveResponse,
} from "./response-routes";
import { failingResponsePlan, responseStreamPlan, sendCreatedThenCut } from "./response-stream";
import { endOf, type ResponseRecord, ResponseStore, responseStateAt, type StoredItem, TERMINAL_RESPONSE_STATUSES } from "./responses";
import { seedResponse } from "./seeded-responses";
import { type PlannedEvent, sendEvents } from "./stream";
import type { CreateResponseOptions, Fault, SimulatorCounters } from "./types";

export interface ResponsesHttpConfig {
  now: () => number;
  pollAfterMs: number;
  processingMs: number;
  counters: SimulatorCounters;
  faults: FaultPlan;
  /** Aborted when the simulator closes: ends held POSTs and `slow` delays. */
  closing: AbortSignal;
  /** The simulator's open streams, ended on close. */
  openStreams: Set<() => void>;
}

/** One request, already read and recorded by server.ts. */
export interface ResponsesCall {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  url: URL;
  text: string;
  parsed: { ok: true; value: unknown } | { ok: false };
  answerHeaders: () => Record<string, string>;
  /** Portkey's and OpenAI's checks (keys), run after the request was counted. */
  gatewayCheck: () => Reply | undefined;
}

export class ResponsesHttp {
  readonly #config: ResponsesHttpConfig;
  readonly #state: ResponsesState;
  /** Open streams by response id, so that a cancel ends them. */
  readonly #streams = new Map<string, Set<() => void>>();

  constructor(config: ResponsesHttpConfig) {
    this.#config = config;
    this.#state = {
      responses: new ResponseStore(),
      conversations: new ConversationStore(),
      processingMs: config.processingMs,
      counters: config.counters,
    };
  }

  /**
   * Serves one request under `/v1/responses` or `/v1/conversations`.
   * @example if (isResponsesApiPath(path)) return responsesHttp.handle({ req, res, method, url, text, parsed, answerHeaders, gatewayCheck })
   */
  async handle(call: ResponsesCall): Promise<void> {
    const { res, answerHeaders } = call;
    const { counters, now } = this.#config;
    const target = route(call.method, call.url.pathname);
    if (target.name === "unknown") return sendReply(res, replies.invalidUrl(call.method, call.url.pathname), answerHeaders());
    if (target.name === "create") counters.responsePosts += 1;
    if (target.name === "get") counters.responseGets += 1;
    if (target.name === "input_items") counters.inputItemLists += 1;
    if (target.name === "cancel") counters.cancels += 1;
    if (target.name === "conversation_items") counters.conversationItemLists += 1;

    const refused = call.gatewayCheck();
    if (refused !== undefined) return sendReply(res, refused, answerHeaders());
    if (call.text !== "" && !call.parsed.ok) return sendReply(res, replies.invalidJson(), answerHeaders());
    const body = call.parsed.ok ? call.parsed.value : undefined;

    const aimed = faultTarget(target, body);
    const fault = aimed === undefined ? undefined : this.#config.faults.take(aimed);
    if (await playFault(fault, call, counters, this.#config.closing)) return;

    const query = call.url.searchParams;
    switch (target.name) {
      case "create":
        return this.#create(call, body, fault);
      case "get":
        if (query.get("stream") === "true") return this.#resume(call, target.id, query);
        return sendReply(res, retrieveResponse(this.#state, target.id, now(), this.#config.pollAfterMs), answerHeaders());
      case "cancel": {
        const reply = cancelResponse(this.#state, target.id, now());
        if (reply.status === 200) for (const stop of this.#streams.get(target.id) ?? []) stop();
        return sendReply(res, reply, answerHeaders());
      }
      case "input_items":
        return sendReply(res, listInputItems(this.#state, target.id, query), answerHeaders());
      case "create_conversation":
        return sendReply(res, createConversation(this.#state, body, now()), answerHeaders());
      case "get_conversation":
        return sendReply(res, retrieveConversation(this.#state, target.id), answerHeaders());
      case "conversation_items":
        return sendReply(res, listConversationItems(this.#state, target.id, query, now()), answerHeaders());
    }
  }

  async #create(call: ResponsesCall, body: unknown, fault: Fault | undefined): Promise<void> {
    const { res, answerHeaders } = call;
    const { now } = this.#config;
    const result = createResponse(this.#state, body, now());
    if ("reply" in result) return sendReply(res, result.reply, answerHeaders());
    const { record } = result;
    if (fault?.kind === "accept_then_500") return sendReply(res, replies.serverError(), answerHeaders());
    if (record.streamed) {
      const plan = responseStreamPlan(record);
      if (fault?.kind === "stream_cut_after_created") return sendCreatedThenCut(res, plan, answerHeaders());
      const error = (replies.serverError().body as { error: Parameters<typeof failingResponsePlan>[1] }).error;
      return this.#stream(res, record, fault?.kind === "stream_error" ? failingResponsePlan(plan, error) : plan, answerHeaders());
    }
    // The answer describes the response as created, however long the machine took to get here (a loaded
    // test machine must not see a background response skip `queued`).
    if (record.background) return sendReply(res, { status: 200, body: buildResponseObject(record, record.createdAt) }, answerHeaders());
    // A foreground POST answers when the response is done, as the real one does; a frozen test clock
    // is overtaken by real time, as streams are.
    const end = endOf(record).from;
    if (end > now()) await sleep(end - now(), undefined, { signal: this.#config.closing });
    sendReply(res, { status: 200, body: buildResponseObject(record, Math.max(now(), end)) }, answerHeaders());
  }

  /** `GET /responses/{id}?stream=true&starting_after=N`: the stream again, from event N+1 (background responses only). */
  #resume(call: ResponsesCall, id: string, query: URLSearchParams) {
    const record = lookupResponse(this.#state, id);
    if (isReply(record)) return sendReply(call.res, record, call.answerHeaders());
    // A foreground response's stream cannot be re-read: the API answers 404 then (reference notes).
    if (!record.background) return sendReply(call.res, responseReplies.responseNotFound(id), call.answerHeaders());
    const after = query.get("starting_after");
    const from = after === null ? 0 : Number(after) + 1;
    if (after !== null && (!Number.isInteger(from) || from < 1))
      return sendReply(call.res, replies.invalidType("starting_after", "a non-negative integer", after), call.answerHeaders());
    this.#stream(call.res, record, responseStreamPlan(record).slice(from), call.answerHeaders());
  }

  #stream(res: ServerResponse, record: ResponseRecord, plan: PlannedEvent[], headers: Record<string, string>): void {
    if (res.destroyed) return;
    const stop = sendEvents(res, plan, this.#config.now, headers);
    const forResponse = this.#streams.get(record.id) ?? new Set();
    forResponse.add(stop);
    this.#streams.set(record.id, forResponse);
    this.#config.openStreams.add(stop);
    res.on("close", () => {
      this.#config.openStreams.delete(stop);
      forResponse.delete(stop);
      if (forResponse.size === 0) this.#streams.delete(record.id);
    });
  }

  /** Test side: see `EndpointSimulator.createResponse`. */
  createResponse(opts: CreateResponseOptions = {}): { responseId: string; callIds: string[]; conversationId?: string } {
    return seedResponse(this.#state, opts, this.#config.now());
  }

  response(id: string): ResponseObject | undefined {
    const record = this.#state.responses.get(id);
    return record === undefined ? undefined : buildResponseObject(record, this.#config.now());
  }

  /** When the response reached its terminal status; undefined while it is queued or in progress, or unknown. */
  restingSince(id: string): number | undefined {
    const record = this.#state.responses.get(id);
    if (record === undefined) return undefined;
    const state = responseStateAt(record, this.#config.now());
    return TERMINAL_RESPONSE_STATUSES.includes(state.status) ? state.since : undefined;
  }

  children(id: string): string[] {
    return [...(this.#state.responses.get(id)?.children ?? [])];
  }

  conversationItems(id: string): StoredItem[] | undefined {
    const conversation = this.#state.conversations.get(id);
    return conversation === undefined
      ? undefined
      : structuredClone(conversationItemsAt(conversation, this.#state.responses, this.#config.now()));
  }

  clear(): void {
    this.#state.responses.clear();
    this.#state.conversations.clear();
  }
}

/** The Responses API's counters, all zero (spread into the simulator's counters). */
export function responseCounters(): Pick<
  SimulatorCounters,
  | "responsePosts"
  | "responsesCreated"
  | "continuations"
  | "forks"
  | "retriesAfterFailure"
  | "responsesRejected"
  | "responseGets"
  | "inputItemLists"
  | "cancels"
  | "conversationItemLists"
> {
  return {
    responsePosts: 0,
    responsesCreated: 0,
    continuations: 0,
    forks: 0,
    retriesAfterFailure: 0,
    responsesRejected: 0,
    responseGets: 0,
    inputItemLists: 0,
    cancels: 0,
    conversationItemLists: 0,
  };
}
