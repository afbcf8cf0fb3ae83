import * as z from "zod/mini";
import { lazySchema } from "../../config/lazy-schema";
import { type EndpointError, readEndpointError } from "../../endpoint/endpoint-failure";
import { type CallOptions, EndpointHttp, type EndpointHttpOptions, readJson } from "../../endpoint/endpoint-http";
import { eventFields, serverSentEvents } from "../../endpoint/server-sent-events";
import type { Result } from "../../pipeline/result";
import { type AgentsFailure, classifyAgentsFailure } from "./failure";
import { type AgentSession, AgentSessionSchema, type SessionItem, SessionItemSchema, type Turn, TurnSchema } from "./session-state";

export type AgentsResult<T extends object> = Result<T, { failure: AgentsFailure }>;

/** What the relay takes from a session's live stream: its snapshots, its turns' endings, and `error`. */
export type SessionStreamItem =
  | { kind: "session"; session: AgentSession }
  | { kind: "turn"; turn: Turn }
  | { kind: "error"; error?: EndpointError };

/** Items of one turn are few; 20 pages of 100 cover any turn a relay answers. */
const MAX_ITEM_PAGES = 20;
const SESSION_EVENT = /^agent\.session\.(created|in_progress|requires_action|idle|failed)$/;
const TURN_ENDED = /^agent\.session\.turn\.(completed|failed|cancelled)$/;

const parseSession = (value: unknown) => AgentSessionSchema.safeParse(value);
const parseTurn = (value: unknown) => TurnSchema.safeParse(value);
/** A page of turns or items, read loosely: a field of another type reads as absent, a body that is no object as null. */
const ListPage = lazySchema(() =>
  z.catch(
    z.nullable(
      z.object({
        data: z.catch(z.optional(z.array(z.unknown())), undefined),
        has_more: z.catch(z.optional(z.boolean()), undefined),
        last_id: z.catch(z.optional(z.nullable(z.string())), undefined),
      }),
    ),
    null,
  ),
);
const parseListPage = (value: unknown) => ListPage.safeParse(value);

/**
 * The Agents API's session calls (`{base}/agents/sessions/{session_id}…`), each with `OpenAI-Beta: agents=v1`. One call
 * per method: resending and reconciling are decisions (decide.ts).
 * @example const seen = await client.getSession("sess_1", { traceId: "m-1", signal });
 */
export class AgentsClient {
  private readonly http: EndpointHttp;

  constructor(options: EndpointHttpOptions) {
    this.http = new EndpointHttp({ ...options, headers: { ...options.headers, "openai-beta": "agents=v1" } });
  }

  /** `POST …/events` with its `Idempotency-Key`; any 2xx is acceptance (202 today, empty body). */
  async postEvents(sessionId: string, body: string, key: string, call: CallOptions): Promise<AgentsResult<object>> {
    const answer = await this.http.call(
      "POST",
      this.url(sessionId, ["events"]),
      { ...call, headers: { "idempotency-key": key } },
      { body },
    );
    if (!answer.ok) return { ok: false, failure: classifyAgentsFailure(answer.failure) };
    // The body is empty; reading it frees the connection.
    await answer.response.discard().catch(() => undefined);
    answer.release();
    return { ok: true };
  }

  async getSession(sessionId: string, call: CallOptions): Promise<AgentsResult<{ session: AgentSession }>> {
    const answer = await this.http.call("GET", this.url(sessionId), call);
    if (!answer.ok) return { ok: false, failure: classifyAgentsFailure(answer.failure) };
    const read = await readJson(answer, parseSession, "an AgentSession");
    return read.ok ? { ok: true, session: read.value } : read;
  }

  async getTurn(sessionId: string, turnId: string, call: CallOptions): Promise<AgentsResult<{ turn: Turn }>> {
    const answer = await this.http.call("GET", this.url(sessionId, ["turns", turnId]), call);
    if (!answer.ok) return { ok: false, failure: classifyAgentsFailure(answer.failure) };
    const read = await readJson(answer, parseTurn, "a Turn");
    return read.ok ? { ok: true, turn: read.value } : read;
  }

  /** The session's newest turn (for a `watch_session` that names none); undefined when it has none. */
  async latestTurn(sessionId: string, call: CallOptions): Promise<AgentsResult<{ turn?: Turn }>> {
    const answer = await this.http.call("GET", this.url(sessionId, ["turns"], { order: "desc", limit: "1" }), call);
    if (!answer.ok) return { ok: false, failure: classifyAgentsFailure(answer.failure) };
    const read = await readJson(answer, parseListPage, "a list of turns");
    if (!read.ok) return read;
    const turn = TurnSchema.safeParse(read.value?.data?.[0]);
    return turn.success ? { ok: true, turn: turn.data } : { ok: true };
  }

  /** The turn's items, oldest first: its function calls and the outputs the session took for them. */
  async listTurnItems(sessionId: string, turnId: string, call: CallOptions): Promise<AgentsResult<{ items: SessionItem[] }>> {
    const items: SessionItem[] = [];
    let after: string | undefined;
    for (let page = 0; page < MAX_ITEM_PAGES; page++) {
      const query = { order: "asc", limit: "100", after };
      const answer = await this.http.call("GET", this.url(sessionId, ["turns", turnId, "items"], query), call);
      if (!answer.ok) return { ok: false, failure: classifyAgentsFailure(answer.failure) };
      const read = await readJson(answer, parseListPage, "a list of items");
      if (!read.ok) return read;
      for (const item of read.value?.data ?? []) {
        const parsed = SessionItemSchema.safeParse(item);
        if (parsed.success) items.push(parsed.data);
      }
      const last = read.value?.last_id ?? items.at(-1)?.id;
      if (!read.value?.has_more || !last) break;
      after = last;
    }
    return { ok: true, items };
  }

  /** The live stream (`GET …/events`): no replay, so the caller reads the session once it is open. */
  async openStream(sessionId: string, call: CallOptions): Promise<AgentsResult<{ items: AsyncGenerator<SessionStreamItem> }>> {
    const answer = await this.http.call("GET", this.url(sessionId, ["events"]), call, { streaming: true });
    if (!answer.ok) return { ok: false, failure: classifyAgentsFailure(answer.failure) };
    // From here the caller's signal bounds the stream; the call's own timeout covered the headers.
    const body = this.http.eventStream(answer, true);
    if (body === undefined) {
      await answer.response.discard().catch(() => undefined);
      answer.release();
      return { ok: false, failure: { kind: "transient", ambiguous: false, detail: "the events answer is not an event stream" } };
    }
    return { ok: true, items: sessionStreamItems(body) };
  }

  /** `…/agents/sessions/{sessionId}/{...path}?{query}`. */
  private url(sessionId: string, path: readonly string[] = [], query?: Record<string, string | undefined>): URL {
    return this.http.url(["agents", "sessions", sessionId, ...path], query);
  }
}

/** Reads a session's SSE stream: session snapshots, turn endings, `error`; every other event is skipped. */
export async function* sessionStreamItems(body: AsyncIterable<Uint8Array>): AsyncGenerator<SessionStreamItem> {
  for await (const event of serverSentEvents(body)) {
    const data = eventFields(event.data);
    const type = data?.type ?? event.event;
    if (type === "error") {
      yield { kind: "error", error: readEndpointError({ error: data?.error ?? data }) };
      return;
    }
    if (type === undefined) continue;
    if (SESSION_EVENT.test(type)) {
      const session = AgentSessionSchema.safeParse(data?.session);
      if (session.success) yield { kind: "session", session: session.data };
    } else if (TURN_ENDED.test(type)) {
      const turn = TurnSchema.safeParse(data?.turn);
      if (turn.success) yield { kind: "turn", turn: turn.data };
    }
  }
}
