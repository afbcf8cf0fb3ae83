/**
 * The HTTP side of the Agents API under `/v1/agents/sessions`: routing, the beta header, counting, faults, the
 * events POST (202 with an empty body, the `Idempotency-Key` guarantee, the registration race) and the live SSE
 * stream. server.ts hands every request under `/v1/agents/` here after recording it. Bodies are never logged.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { buildAgentSession, buildTurn, requiredActionsAt, sessionStatusAt, turnItemsAt, turnStatusAt } from "./agent-objects";
import { AGENTS_MAX_BODY_BYTES, agentReplies } from "./agent-replies";
import {
  type AgentScript,
  type AgentSessionRecord,
  AgentSessionStore,
  agentScriptFromMetadata,
  bodyDigest,
  pendingApprovals,
  pendingCalls,
} from "./agent-sessions";
import { type FaultPlan, playFault } from "./faults";
import { type Reply, replies, sendReply } from "./replies";
import { decodeSegment } from "./response-paths";
import { responseReplies } from "./response-replies";
import { isObject } from "./response-request";
import type { CreateSessionOptions, Fault, SimulatorCounters } from "./types";

type AgentRoute =
  | { name: "create" | "list" }
  | { name: "get" | "delete" | "post_events" | "stream" | "turns" | "items"; sessionId: string }
  | { name: "turn" | "turn_items"; sessionId: string; turnId: string }
  | { name: "unknown" };

const SESSION_PATH = /^\/v1\/agents\/sessions\/([^/]+)(\/events|\/turns|\/items)?$/;
const TURN_PATH = /^\/v1\/agents\/sessions\/([^/]+)\/turns\/([^/]+)(\/items)?$/;

/** Whether server.ts should hand the request to the Agents side. */
export function isAgentsApiPath(path: string): boolean {
  return /^\/v1\/agents(\/|$)/.test(path);
}

function route(method: string, path: string): AgentRoute {
  if (path === "/v1/agents/sessions")
    return method === "POST" ? { name: "create" } : method === "GET" ? { name: "list" } : { name: "unknown" };
  const turn = TURN_PATH.exec(path);
  if (turn !== null && method === "GET") {
    const ids = { sessionId: decodeSegment(turn[1]!), turnId: decodeSegment(turn[2]!) };
    return turn[3] === "/items" ? { name: "turn_items", ...ids } : { name: "turn", ...ids };
  }
  const session = SESSION_PATH.exec(path);
  if (session === null) return { name: "unknown" };
  const sessionId = decodeSegment(session[1]!);
  const tail = session[2];
  if (tail === undefined)
    return method === "GET" ? { name: "get", sessionId } : method === "DELETE" ? { name: "delete", sessionId } : { name: "unknown" };
  if (tail === "/events")
    return method === "POST" ? { name: "post_events", sessionId } : method === "GET" ? { name: "stream", sessionId } : { name: "unknown" };
  if (method !== "GET") return { name: "unknown" };
  return tail === "/turns" ? { name: "turns", sessionId } : { name: "items", sessionId };
}

export interface AgentsHttpConfig {
  now: () => number;
  processingMs: number;
  requireBetaHeader: boolean;
  counters: SimulatorCounters;
  faults: FaultPlan;
  closing: AbortSignal;
  openStreams: Set<() => void>;
}

export interface AgentsCall {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  url: URL;
  text: string;
  parsed: { ok: true; value: unknown } | { ok: false };
  headers: Record<string, string>;
  answerHeaders: () => Record<string, string>;
  gatewayCheck: () => Reply | undefined;
}

interface ParsedResult {
  kind: "tool_result";
  turnId: string;
  callId: string;
  success: boolean;
  output: unknown;
  error: string | null;
}
type ParsedEvent =
  | ParsedResult
  | { kind: "message"; text: string }
  | { kind: "cancel" }
  | { kind: "approval"; requestId: string; decision: string };

const STREAM_TICK_MS = 10;

export class AgentsHttp {
  readonly #config: AgentsHttpConfig;
  readonly store: AgentSessionStore;
  #eventCounter = 0;

  constructor(config: AgentsHttpConfig) {
    this.#config = config;
    this.store = new AgentSessionStore(config.processingMs);
  }

  async handle(call: AgentsCall): Promise<void> {
    const { res, answerHeaders, headers } = call;
    const { counters, now } = this.#config;
    const target = route(call.method, call.url.pathname);
    if (target.name === "unknown") return sendReply(res, replies.invalidUrl(call.method, call.url.pathname), answerHeaders());
    if (target.name === "post_events") counters.agentEventPosts += 1;
    if (target.name === "get" || target.name === "turn") counters.agentReads += 1;
    if (target.name === "items" || target.name === "turn_items") counters.agentItemLists += 1;
    if (target.name === "stream") counters.agentStreams += 1;

    const refused = call.gatewayCheck();
    if (refused !== undefined) return sendReply(res, refused, answerHeaders());
    if (this.#config.requireBetaHeader && !(headers["openai-beta"] ?? "").split(",").some((v) => v.trim() === "agents=v1"))
      return sendReply(res, agentReplies.missingBeta(), answerHeaders());
    const bytes = Buffer.byteLength(call.text);
    if (bytes > AGENTS_MAX_BODY_BYTES) return sendReply(res, agentReplies.tooLarge(bytes), answerHeaders());
    if (call.text !== "" && !call.parsed.ok) return sendReply(res, replies.invalidJson(), answerHeaders());
    const body = call.parsed.ok ? call.parsed.value : undefined;

    const aimed = faultRoute(target);
    const fault =
      aimed === undefined
        ? undefined
        : this.#config.faults.take({
            route: aimed,
            sessionId: (target as { sessionId: string }).sessionId,
            stream: aimed === "agent_stream",
          });
    if (await playFault(fault, call, counters, this.#config.closing)) return;

    const query = call.url.searchParams;
    switch (target.name) {
      case "create":
        return this.#create(call, body);
      case "list":
        return sendReply(
          res,
          this.#page(
            [...this.store.all()].map((s) => this.#session(s)),
            query,
            "desc",
          ),
          answerHeaders(),
        );
      case "get":
        return sendReply(
          res,
          this.#withSession(target.sessionId, (s) => ok(this.#session(s))),
          answerHeaders(),
        );
      case "delete":
        return sendReply(res, this.#delete(target.sessionId), answerHeaders());
      case "turns":
        return sendReply(
          res,
          this.#withSession(target.sessionId, (s) =>
            this.#page(
              s.turns.map((t) => buildTurn(s, t, now())),
              query,
              "desc",
            ),
          ),
          answerHeaders(),
        );
      case "turn":
        return sendReply(
          res,
          this.#withTurn(target.sessionId, target.turnId, (s, t) => ok(buildTurn(s, t, now()))),
          answerHeaders(),
        );
      case "turn_items":
        return sendReply(
          res,
          this.#withTurn(target.sessionId, target.turnId, (_, t) => this.#page(turnItemsAt(t, now()), query, "desc")),
          answerHeaders(),
        );
      case "items":
        return sendReply(
          res,
          this.#withSession(target.sessionId, (s) =>
            this.#page(
              s.turns.flatMap((t) => turnItemsAt(t, now())),
              query,
              "desc",
            ),
          ),
          answerHeaders(),
        );
      case "post_events":
        return this.#postEvents(call, target.sessionId, body, fault);
      case "stream":
        return this.#stream(call, target.sessionId, query, fault);
    }
  }

  #session(session: AgentSessionRecord): Record<string, unknown> {
    this.store.advance(session, this.#config.now());
    return buildAgentSession(session, this.#config.now());
  }

  #withSession(id: string, then: (session: AgentSessionRecord) => Reply): Reply {
    const session = this.store.get(id);
    if (session === undefined) return agentReplies.sessionNotFound(id);
    this.store.advance(session, this.#config.now());
    return then(session);
  }

  #withTurn(sessionId: string, turnId: string, then: (session: AgentSessionRecord, turn: AgentSessionRecord["turns"][number]) => Reply) {
    return this.#withSession(sessionId, (session) => {
      const turn = session.turns.find((t) => t.id === turnId);
      return turn === undefined ? agentReplies.turnNotFound(turnId) : then(session, turn);
    });
  }

  /** A cursor page: `order` (default desc), `limit` 1–100 (default 20), `after` (an id). */
  #page(all: Array<Record<string, unknown>>, query: URLSearchParams, defaultOrder: "asc" | "desc"): Reply {
    const order = query.get("order") ?? defaultOrder;
    if (order !== "asc" && order !== "desc") return replies.invalidValue("order", order, ["asc", "desc"]);
    const limit = Number(query.get("limit") ?? "20");
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return replies.invalidValue("limit", query.get("limit") ?? "", ["1 to 100"]);
    let data = order === "desc" ? [...all].reverse() : [...all];
    const after = query.get("after");
    if (after !== null) data = data.slice(data.findIndex((item) => item.id === after) + 1);
    const page = data.slice(0, limit);
    const first = page[0]?.id ?? null;
    const last = page.at(-1)?.id ?? null;
    return ok({ object: "list", data: page, first_id: first, last_id: last, has_more: data.length > limit });
  }

  #delete(id: string): Reply {
    const session = this.store.get(id);
    if (session === undefined) return agentReplies.sessionNotFound(id);
    this.store.delete(id);
    return ok({ id, deleted: true, object: "agent.session.deleted" });
  }

  /** `POST /agents/sessions` (environment `none` only): a session whose first turn runs its metadata's script. */
  #create(call: AgentsCall, body: unknown) {
    const { res, answerHeaders } = call;
    const now = this.#config.now();
    const send = (reply: Reply) => sendReply(res, reply, answerHeaders());
    if (!isObject(body)) return send(replies.invalidType("body", "an object", body));
    if (!("environment" in body)) return send(replies.missingParameter("environment"));
    if (!isObject(body.environment) || body.environment.type !== "none")
      return send(replies.invalidValue("environment.type", String((body.environment as { type?: unknown })?.type), ["none"]));
    const metadata = body.metadata ?? {};
    if (!isObject(metadata) || Object.values(metadata).some((value) => typeof value !== "string"))
      return send(replies.invalidType("metadata", "an object of strings", metadata));
    const input = inputText(body.input);
    if (input === undefined) return send(replies.missingParameter("input"));
    const script = agentScriptFromMetadata(metadata as Record<string, string>);
    if (typeof script === "string")
      return send(replies.invalidType(script.split(":")[0]!, script.slice(script.indexOf(":") + 2), "a string"));
    const agent = isObject(body.agent) ? body.agent : {};
    const session = this.store.create({
      at: now,
      metadata: metadata as Record<string, string>,
      model: typeof agent.model === "string" ? agent.model : "gpt-5.5",
      instructions: typeof agent.instructions === "string" ? agent.instructions : null,
      registrationDelayMs: 0,
      newTurnScript: script,
    });
    this.store.startTurn(session, now, script, { input });
    if (body.stream === true) return this.#openStream(call, session, true);
    send(ok(buildAgentSession(session, now)));
  }

  async #postEvents(call: AgentsCall, sessionId: string, body: unknown, fault: Fault | undefined) {
    const { res, answerHeaders, headers } = call;
    const { counters } = this.#config;
    const now = this.#config.now();
    const refuse = (reply: Reply) => {
      counters.agentRejected += 1;
      sendReply(res, reply, answerHeaders());
    };
    const parsed = parseEvents(body);
    if (!Array.isArray(parsed)) return refuse(parsed);
    const session = this.store.get(sessionId);
    if (session === undefined) return refuse(agentReplies.sessionNotFound(sessionId));
    this.store.advance(session, now);

    const key = headers["idempotency-key"];
    const digest = bodyDigest((body as { events: unknown }).events);
    if (key !== undefined && session.keys.has(key)) {
      if (session.keys.get(key) !== digest) return refuse(agentReplies.conflict("this Idempotency-Key was used with a different request."));
      // The key's guarantee: a retry of an admitted request is answered as the first was, and changes nothing.
      counters.agentIdempotentReplays += 1;
      return accepted(res, answerHeaders());
    }
    // What the real API does with a second result for a call it took is not documented: a correct client never sends
    // one except as an exact retry under the same key (answered above).
    for (const event of parsed)
      if (event.kind === "tool_result" && (session.admissions.get(event.callId) ?? 0) > 0) counters.agentResultsForAnsweredCalls += 1;
    const problem = this.#check(session, parsed, now);
    if (problem !== undefined) return refuse(problem);

    const turn = session.turns.at(-1);
    for (const event of parsed) {
      if (event.kind === "tool_result") {
        this.store.admit(session, turn!, {
          callId: event.callId,
          success: event.success,
          output: event.output,
          error: event.error,
          at: now,
        });
        counters.agentResultsAdmitted += 1;
      } else if (event.kind === "approval") this.store.answerApproval(turn!, event.requestId, event.decision, now);
      else if (event.kind === "cancel") this.store.cancel(session, now);
      else if (turn === undefined || turn.ending !== undefined)
        this.store.startTurn(session, now, session.newTurnScript, { input: event.text });
    }
    if (key !== undefined) session.keys.set(key, digest);
    if (fault?.kind === "accept_then_500") return sendReply(res, replies.serverError(), answerHeaders());
    if (fault?.kind === "accept_then_drop") {
      call.req.socket.destroy();
      return;
    }
    accepted(res, answerHeaders());
  }

  /** All or nothing: the first event that cannot be taken now refuses the whole request. */
  #check(session: AgentSessionRecord, events: ParsedEvent[], now: number): Reply | undefined {
    const turn = session.turns.at(-1);
    const pending = new Map((turn === undefined ? [] : pendingCalls(turn, now)).map((call) => [call.callId, turn!.id]));
    const approvals = new Set((turn === undefined ? [] : pendingApprovals(turn, now)).map((a) => a.requestId));
    const seen = new Set<string>();
    for (const event of events) {
      if (event.kind === "tool_result") {
        if (pending.get(event.callId) !== event.turnId || seen.has(event.callId)) return agentReplies.unknownPendingToolCall(event.callId);
        seen.add(event.callId);
      }
      if (event.kind === "approval" && !approvals.has(event.requestId)) return agentReplies.unknownPendingApproval(event.requestId);
      if (event.kind === "message" && session.failed !== undefined) return agentReplies.conflict("the session has failed.");
    }
    return undefined;
  }

  #stream(call: AgentsCall, sessionId: string, query: URLSearchParams, fault: Fault | undefined) {
    const session = this.store.get(sessionId);
    if (session === undefined) return sendReply(call.res, agentReplies.sessionNotFound(sessionId), call.answerHeaders());
    if (fault?.kind === "stream_error") return this.#openStream(call, session, false, "error");
    this.#openStream(call, session, false, undefined, query.get("include_obfuscation") !== "false");
  }

  /**
   * A live stream: no replay of what happened before it opened ("streams do not replay missed events"). It looks
   * at the session every few ms and writes an event for each change, so it always agrees with a GET made then.
   */
  #openStream(call: AgentsCall, session: AgentSessionRecord, created: boolean, fail?: "error", obfuscate = true): void {
    const { res } = call;
    if (res.destroyed) return;
    const { now } = this.#config;
    res.writeHead(200, { ...call.answerHeaders(), "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
    res.flushHeaders();
    const write = (event: Record<string, unknown>) => {
      if (res.destroyed || res.writableEnded) return;
      const padded = obfuscate ? { ...event, obfuscation: "x".repeat(1 + (this.#eventCounter % 7)) } : event;
      res.write(`data: ${JSON.stringify({ event_id: `evt_${String(++this.#eventCounter).padStart(8, "0")}`, ...padded })}\n\n`);
    };
    if (fail === "error") {
      const error = (replies.serverError().body as { error: Record<string, unknown> }).error;
      write({ type: "error", session_id: session.id, error });
      res.end();
      return;
    }
    let last = created ? emptySnapshot() : this.#snapshot(session);
    if (created) write({ type: "agent.session.created", session: buildAgentSession(session, now()) });
    const tick = () => {
      if (res.destroyed || res.writableEnded) return;
      if (this.store.get(session.id) === undefined) return stop();
      const next = this.#snapshot(session);
      for (const event of diff(session, last, next, now())) write(event);
      last = next;
    };
    tick();
    const timer = setInterval(tick, STREAM_TICK_MS);
    const stop = () => {
      clearInterval(timer);
      if (!res.writableEnded) res.end();
    };
    this.#config.openStreams.add(stop);
    res.on("close", () => {
      clearInterval(timer);
      this.#config.openStreams.delete(stop);
    });
  }

  #snapshot(session: AgentSessionRecord): Snapshot {
    const at = this.#config.now();
    this.store.advance(session, at);
    return {
      status: sessionStatusAt(session, at),
      pending: requiredActionsAt(session, at)
        .map((action) => String(action.call_id ?? action.request_id))
        .sort()
        .join(","),
      turns: new Map(session.turns.map((turn) => [turn.id, turnStatusAt(turn, at)])),
      items: new Set(session.turns.flatMap((turn) => turnItemsAt(turn, at).map((item) => String(item.id)))),
    };
  }

  /** Test side: see `EndpointSimulator.createSession`. */
  createSession(opts: CreateSessionOptions = {}): { sessionId: string; turnId: string; callIds: string[] } {
    const unknown = Object.keys(opts).filter((key) => !SESSION_OPTION_KEYS.has(key));
    if (unknown.length > 0) throw new TypeError(`endpoint simulator: unknown session option(s) ${unknown.join(", ")}`);
    const now = this.#config.now();
    const first: AgentScript[] = [{ functionCalls: opts.toolCalls ?? 1, approvals: opts.approvals ?? 0 }];
    const session = this.store.create({
      ...(opts.sessionId === undefined ? {} : { id: opts.sessionId }),
      at: now,
      metadata: opts.metadata ?? {},
      model: opts.model ?? "gpt-5.5",
      instructions: opts.instructions === undefined ? "You are a helpful agent. Use the tools." : opts.instructions,
      // The first round is pending at once; the delay applies to the rounds that follow.
      registrationDelayMs: 0,
      newTurnScript: [...first, "completed"],
    });
    const turn = this.store.startTurn(session, now, [...first, ...(opts.afterOutputs ?? ["completed"])], {
      ...(opts.turnId === undefined ? {} : { turnId: opts.turnId }),
      input: "What is the weather, and where is my order?",
      immediate: true,
    });
    session.registrationDelayMs = opts.registrationDelayMs ?? 0;
    return { sessionId: session.id, turnId: turn.id, callIds: turn.rounds[0]!.calls.map((c) => c.callId) };
  }

  session(id: string): Record<string, unknown> | undefined {
    const session = this.store.get(id);
    return session === undefined ? undefined : this.#session(session);
  }

  /** How many times the session admitted a result for this call id (a correct client: at most 1). */
  admissions(sessionId: string, callId: string): number {
    return this.store.get(sessionId)?.admissions.get(callId) ?? 0;
  }

  /** Expires every `Idempotency-Key` seen so far (the API does not say how long it keeps them). */
  forgetIdempotencyKeys(): void {
    for (const session of this.store.all()) session.keys.clear();
  }

  /** Ends the session's running turn as cancelled, as `agent.session.input.cancel` would. */
  cancelTurn(id: string): void {
    const session = this.store.get(id);
    if (session === undefined) throw new Error(`endpoint simulator: no session ${id}`);
    this.store.advance(session, this.#config.now());
    this.store.cancel(session, this.#config.now());
  }

  /** When the session entered the resting state it is in now (requires_action, idle, failed); undefined while it moves. */
  restingSince(id: string): number | undefined {
    const session = this.store.get(id);
    if (session === undefined) return undefined;
    const now = this.#config.now();
    this.store.advance(session, now);
    const status = sessionStatusAt(session, now);
    if (status === "in_progress") return undefined;
    if (status === "failed") return session.failed!.at;
    const turn = session.turns.at(-1);
    if (turn === undefined) return session.createdAt;
    if (status === "idle") return turn.ending!.at;
    return Math.max(...pendingCalls(turn, now).map((call) => call.registeredAt), ...pendingApprovals(turn, now).map((a) => a.registeredAt));
  }

  clear(): void {
    this.store.clear();
  }
}

const SESSION_OPTION_KEYS = new Set([
  "sessionId",
  "turnId",
  "toolCalls",
  "approvals",
  "afterOutputs",
  "registrationDelayMs",
  "metadata",
  "model",
  "instructions",
]);

interface Snapshot {
  status: string;
  pending: string;
  turns: Map<string, string>;
  items: Set<string>;
}

function emptySnapshot(): Snapshot {
  return { status: "", pending: "", turns: new Map(), items: new Set() };
}

const TURN_ENDINGS = new Set(["completed", "failed", "cancelled"]);

/** The stream events that take a client from one snapshot to the next, in the order the API sends them. */
function diff(session: AgentSessionRecord, before: Snapshot, after: Snapshot, now: number): Array<Record<string, unknown>> {
  const events: Array<Record<string, unknown>> = [];
  const sessionObject = () => buildAgentSession(session, now);
  for (const turn of session.turns) {
    const was = before.turns.get(turn.id);
    const is = after.turns.get(turn.id)!;
    const turnObject = buildTurn(session, turn, now);
    if (was === undefined) {
      events.push({ type: "agent.session.turn.created", session_id: session.id, turn_id: turn.id, turn: turnObject });
      if (!TURN_ENDINGS.has(is))
        events.push({ type: "agent.session.turn.in_progress", session_id: session.id, turn_id: turn.id, turn: turnObject });
    }
    for (const item of turnItemsAt(turn, now)) {
      if (before.items.has(String(item.id))) continue;
      events.push({ type: "agent.session.turn.item.added", session_id: session.id, turn_id: turn.id, item, output_index: null });
    }
    if (TURN_ENDINGS.has(is) && was !== is)
      events.push({
        type: `agent.session.turn.${is}`,
        session_id: session.id,
        turn_id: turn.id,
        turn: turnObject,
        usage: turnObject.usage,
      });
  }
  if (after.status !== before.status || (after.status === "requires_action" && after.pending !== before.pending))
    events.push({ type: `agent.session.${after.status}`, session: sessionObject() });
  return events;
}

function faultRoute(target: AgentRoute): Exclude<Fault["on"], "any"> | undefined {
  if (target.name === "post_events") return "agent_events";
  if (target.name === "stream") return "agent_stream";
  if (target.name === "get" || target.name === "turn" || target.name === "turn_items" || target.name === "items" || target.name === "turns")
    return "agent_get";
  return undefined;
}

function ok(body: unknown): Reply {
  return { status: 200, body };
}

/** 202 with an empty body: accepted, not yet processed. */
function accepted(res: ServerResponse, headers: Record<string, string>): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(202, { ...headers, "content-length": "0" });
  res.end();
}

function inputText(input: unknown): string | undefined {
  if (typeof input === "string" && input !== "") return input;
  if (!Array.isArray(input)) return undefined;
  const texts = input.flatMap((message) =>
    isObject(message) && Array.isArray(message.content)
      ? message.content.flatMap((part) => (isObject(part) && typeof part.text === "string" ? [part.text] : []))
      : [],
  );
  return texts.length === 0 ? undefined : texts.join("\n");
}

const RESULT_FIELDS = new Set(["type", "turn_id", "call_id", "success", "output", "error"]);

/** Checks `{events:[…]}` as the SDK types it; answers as the API does for a bad field. */
function parseEvents(body: unknown): ParsedEvent[] | Reply {
  if (!isObject(body)) return replies.invalidType("body", "an object", body);
  const extra = Object.keys(body).find((key) => key !== "events");
  if (extra !== undefined) return responseReplies.unknownParameter(extra);
  if (!("events" in body)) return replies.missingParameter("events");
  if (!Array.isArray(body.events)) return replies.invalidType("events", "an array", body.events);
  if (body.events.length === 0) return replies.invalidType("events", "a non-empty array", body.events);
  const events: ParsedEvent[] = [];
  for (const [index, event] of body.events.entries()) {
    const at = `events[${index}]`;
    if (!isObject(event)) return replies.invalidType(at, "an object", event);
    if (event.type === "agent.session.input.tool_result") {
      const unknown = Object.keys(event).find((key) => !RESULT_FIELDS.has(key));
      if (unknown !== undefined) return responseReplies.unknownParameter(`${at}.${unknown}`);
      for (const field of ["turn_id", "call_id"] as const) {
        if (!(field in event)) return replies.missingParameter(`${at}.${field}`);
        if (typeof event[field] !== "string") return replies.invalidType(`${at}.${field}`, "a string", event[field]);
      }
      if (typeof event.success !== "boolean") return replies.invalidType(`${at}.success`, "a boolean", event.success);
      const output = event.output ?? null;
      if (output !== null && typeof output !== "string" && !validParts(output))
        return replies.invalidType(`${at}.output`, "a string or an array of input_text / input_image parts", output);
      const error = event.error ?? null;
      if (error !== null && typeof error !== "string") return replies.invalidType(`${at}.error`, "a string", error);
      events.push({
        kind: "tool_result",
        turnId: event.turn_id as string,
        callId: event.call_id as string,
        success: event.success,
        output,
        error,
      });
    } else if (event.type === "agent.session.input.message") {
      const text = inputText(event.input);
      if (text === undefined) return replies.missingParameter(`${at}.input`);
      events.push({ kind: "message", text });
    } else if (event.type === "agent.session.input.cancel") events.push({ kind: "cancel" });
    else if (event.type === "agent.session.input.mcp_approval_request_result") {
      const response = isObject(event.response) ? event.response : {};
      if (typeof event.request_id !== "string") return replies.invalidType(`${at}.request_id`, "a string", event.request_id);
      if (!["approve", "deny", "cancel"].includes(String(response.decision)))
        return replies.invalidValue(`${at}.response.decision`, String(response.decision), ["approve", "deny", "cancel"]);
      events.push({ kind: "approval", requestId: event.request_id, decision: String(response.decision) });
    } else {
      const allowed = [
        "agent.session.input.tool_result",
        "agent.session.input.message",
        "agent.session.input.cancel",
        "agent.session.input.mcp_approval_request_result",
      ];
      return replies.invalidValue(`${at}.type`, String(event.type), allowed);
    }
  }
  return events;
}

function validParts(output: unknown): boolean {
  return (
    Array.isArray(output) &&
    output.every(
      (part) =>
        isObject(part) &&
        ((part.type === "input_text" && typeof part.text === "string") ||
          (part.type === "input_image" && typeof part.image_url === "string")),
    )
  );
}

/** The Agents API's counters, all zero (spread into the simulator's counters). */
export function agentCounters(): Pick<
  SimulatorCounters,
  | "agentEventPosts"
  | "agentResultsAdmitted"
  | "agentResultsForAnsweredCalls"
  | "agentIdempotentReplays"
  | "agentRejected"
  | "agentReads"
  | "agentItemLists"
  | "agentStreams"
> {
  return {
    agentEventPosts: 0,
    agentResultsAdmitted: 0,
    agentResultsForAnsweredCalls: 0,
    agentIdempotentReplays: 0,
    agentRejected: 0,
    agentReads: 0,
    agentItemLists: 0,
    agentStreams: 0,
  };
}
