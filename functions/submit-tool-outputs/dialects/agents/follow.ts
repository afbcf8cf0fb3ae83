import { closeInBackground } from "../../endpoint/server-sent-events";
import type { Outcome } from "../../pipeline/outcome";
import { callOptions, type DecisionLimits, followUntil, type RecordContext } from "../../pipeline/record-context";
import type { Result } from "../../pipeline/result";
import { pause } from "../../pipeline/retry-timing";
import type { AgentsClient, SessionStreamItem } from "./client";
import type { AgentsRestingState } from "./results-event";
import { type AgentSession, pendingFunctionCalls, TURN_ENDINGS, type Turn } from "./session-state";

export type FollowDeps = DecisionLimits & {
  endpoint: Pick<AgentsClient, "getSession" | "getTurn" | "latestTurn" | "listTurnItems" | "openStream">;
};

/** What is followed: a session, the turn a message answered (if any), and the call ids it answered (none for a watch). */
export interface FollowSubject {
  sessionId: string;
  turnId?: string;
  answered?: ReadonlySet<string>;
  stream: boolean;
  /** Turns the session's stream carried, by id: a turn that ended there needs no read of its own. */
  streamedTurns?: ReadonlyMap<string, Turn>;
}

type Via = Extract<Outcome, { kind: "report" }>["via"];

const MIN_POLL_MS = 10;

/**
 * Follows the session until it rests for this subject (failed; idle with its turn ended; waiting only for calls that
 * are not the subject's), within the follow budget: by the live stream when asked (a cut, or an `error` event, is
 * followed by GET), else by polling. Still moving then: a `watch_session` follow-up. The outputs are taken by now, so
 * a failing read also ends in the follow-up rather than a retry.
 */
export async function followSession(subject: FollowSubject, via: Via, ctx: RecordContext, deps: FollowDeps): Promise<Outcome> {
  const until = followUntil(ctx, deps);
  let status: string | undefined;
  if (subject.stream) {
    const streamed = await followStream(subject, ctx, deps, until);
    if (streamed.ok) return report(streamed.state, via);
    status = streamed.status;
  }
  for (let first = true; ; first = false) {
    if (!first && !(await pause(deps.pollIntervalMs, ctx, until))) break;
    const seen = await deps.endpoint.getSession(subject.sessionId, callOptions(ctx));
    if (!seen.ok) {
      if (seen.failure.kind !== "transient") break;
      continue;
    }
    status = seen.session.status;
    const state = await restingState(subject, seen.session, ctx, deps);
    if (state) return report(state, via);
    if (Date.now() + Math.max(MIN_POLL_MS, deps.pollIntervalMs) >= until) break;
  }
  const followUp = {
    type: "watch_session" as const,
    session_id: subject.sessionId,
    ...(subject.turnId ? { turn_id: subject.turnId } : {}),
  };
  return { kind: "watch", followUp, ...(status ? { status } : {}) };
}

function report(state: AgentsRestingState, via: Via): Outcome {
  return { kind: "report", state, via };
}

/**
 * Follows on the live stream, reading the session whenever the stream is quiet for a poll interval: the stream does
 * not replay what happened before it opened, and a gateway may hold its headers until its first event (Portkey's
 * proxy does, test/gateway/agents-through-gateway.test.ts), so a stream alone could wait for an event that already
 * happened. Ends with the resting state, or with what is known when the stream ends, breaks or the budget is spent.
 */
async function followStream(
  subject: FollowSubject,
  ctx: RecordContext,
  deps: FollowDeps,
  until: number,
): Promise<Result<{ state: AgentsRestingState }, { status?: string }>> {
  const done = new AbortController();
  const signal = AbortSignal.any([ctx.signal, done.signal, AbortSignal.timeout(Math.max(0, until - Date.now()))]);
  // Opened first, so that what the session does after its read below is on the stream.
  const opening = deps.endpoint.openStream(subject.sessionId, callOptions(ctx, signal));
  let items: AsyncGenerator<SessionStreamItem> | undefined;
  let next: Promise<IteratorResult<SessionStreamItem>> | undefined;
  let status: string | undefined;
  const streamedTurns = new Map<string, Turn>();
  const streamed = { ...subject, streamedTurns };
  try {
    while (Date.now() < until && !signal.aborted) {
      const seen = await deps.endpoint.getSession(subject.sessionId, callOptions(ctx));
      if (seen.ok) {
        status = seen.session.status;
        const state = await restingState(streamed, seen.session, ctx, deps);
        if (state) return { ok: true, state };
      }
      const quietUntil = Math.min(until, Date.now() + Math.max(MIN_POLL_MS, deps.pollIntervalMs));
      for (;;) {
        if (items === undefined) {
          const opened = await within(opening, quietUntil);
          if (opened === QUIET) break;
          if (!opened.ok) return { ok: false, status };
          items = opened.items;
        }
        next ??= items.next();
        const item = await within(next, quietUntil);
        if (item === QUIET) break;
        next = undefined;
        if (item.done || item.value.kind === "error") return { ok: false, status };
        if (item.value.kind === "turn") streamedTurns.set(item.value.turn.id, item.value.turn);
        if (item.value.kind !== "session") continue;
        status = item.value.session.status;
        const state = await restingState(streamed, item.value.session, ctx, deps);
        if (state) return { ok: true, state };
      }
    }
  } catch {
    // Cut, reset, or the follow budget ended: what is known stands, and the poll goes on from there.
  } finally {
    // Closed without waiting: a pending read would hold the return until it settles, and the state found is
    // published meanwhile.
    done.abort();
    closeInBackground(items);
    opening.catch(() => undefined);
    next?.catch(() => undefined);
  }
  return { ok: false, status };
}

const QUIET = Symbol("quiet");

/** The promise's value, or QUIET when it has not settled by `until` (the promise goes on). */
async function within<T>(promise: Promise<T>, until: number): Promise<T | typeof QUIET> {
  let timer: NodeJS.Timeout | undefined;
  const quiet = new Promise<typeof QUIET>((resolve) => {
    timer = setTimeout(() => resolve(QUIET), Math.max(0, until - Date.now()));
  });
  try {
    return await Promise.race([promise, quiet]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The session's state if it rests for this subject, else undefined (still moving, or still holding the subject's
 * own calls: 202 means accepted, not yet processed).
 */
export async function restingState(
  subject: FollowSubject,
  session: AgentSession,
  ctx: RecordContext,
  deps: FollowDeps,
): Promise<AgentsRestingState | undefined> {
  const base: Pick<AgentsRestingState, "api" | "session" | "otherActions" | "newCallIds"> = {
    api: "agents",
    session,
    otherActions: false,
    newCallIds: [],
  };
  if (session.status === "failed") {
    const turn = subject.turnId ? await readTurn(subject, subject.turnId, ctx, deps) : undefined;
    return { ...base, turnId: subject.turnId ?? turn?.id ?? "", ...(turn ? { turn } : {}) };
  }
  if (session.status === "idle") {
    const turn = subject.turnId ? await readTurn(subject, subject.turnId, ctx, deps) : await readLatestTurn(subject.sessionId, ctx, deps);
    if (turn === undefined && subject.turnId === undefined) return { ...base, turnId: "" };
    if (turn === undefined || !TURN_ENDINGS.includes(turn.status)) return undefined;
    return { ...base, turnId: turn.id, turn };
  }
  if (session.status !== "requires_action") return undefined;
  const pending = pendingFunctionCalls(session);
  const answered = subject.answered;
  if (answered !== undefined && pending.some((call) => answered.has(call.call_id))) return undefined;
  const otherActions = session.required_actions.some((action) => action.type !== "function_call");
  // A watch naming no turn (a backend handing a new session over) reports every pending call as new work.
  const newCallIds =
    answered === undefined && subject.turnId === undefined
      ? pending.map((call) => call.call_id)
      : await newCalls(subject, pending, ctx, deps);
  // Which calls are new could not be told yet: look again rather than guess (a guess either stalls the turn or has
  // a call run twice).
  if (newCallIds === undefined) return undefined;
  const firstNew = pending.find((call) => newCallIds.includes(call.call_id));
  const approvalTurn = session.required_actions.find((action) => action.type !== "function_call")?.turn_id;
  const turnId = firstNew?.turn_id ?? subject.turnId ?? approvalTurn ?? pending[0]?.turn_id ?? "";
  return { ...base, turnId, newCallIds, otherActions };
}

/**
 * Which pending calls are new work: those of another turn, and those whose `function_call` item comes after this
 * message's outputs in its turn's items (for a watch, which answered none: after the turn's latest output, so calls
 * other messages are answering are not announced again; a turn with no output yet announces every call). Undefined
 * when that cannot be told yet (the items unreadable, or this message's outputs not listed yet).
 */
async function newCalls(
  subject: FollowSubject,
  pending: ReadonlyArray<{ call_id: string; turn_id: string }>,
  ctx: RecordContext,
  deps: FollowDeps,
): Promise<string[] | undefined> {
  const answered = subject.answered;
  const sameTurn = pending.filter((call) => call.turn_id === subject.turnId);
  const fresh = pending.filter((call) => call.turn_id !== subject.turnId).map((call) => call.call_id);
  if (sameTurn.length === 0 || subject.turnId === undefined) return fresh;
  const listed = await deps.endpoint.listTurnItems(subject.sessionId, subject.turnId, callOptions(ctx));
  if (!listed.ok) return undefined;
  const items = listed.items;
  const lastOurs = items.findLastIndex((item) => item.type === "function_call_output" && (answered?.has(item.call_id ?? "") ?? true));
  if (lastOurs < 0 && answered !== undefined) return undefined;
  for (const call of sameTurn) {
    const at = items.findIndex((item) => item.type === "function_call" && item.call_id === call.call_id);
    if (lastOurs < 0 || at < 0 || at > lastOurs) fresh.push(call.call_id);
  }
  return fresh;
}

async function readTurn(subject: FollowSubject, turnId: string, ctx: RecordContext, deps: FollowDeps): Promise<Turn | undefined> {
  // The stream's turn event (`agent.session.turn.completed`, …) came before the session's: no read needed.
  const streamed = subject.streamedTurns?.get(turnId);
  if (streamed !== undefined && TURN_ENDINGS.includes(streamed.status)) return streamed;
  const sessionId = subject.sessionId;
  const seen = await deps.endpoint.getTurn(sessionId, turnId, callOptions(ctx));
  return seen.ok ? seen.turn : undefined;
}

async function readLatestTurn(sessionId: string, ctx: RecordContext, deps: FollowDeps): Promise<Turn | undefined> {
  const seen = await deps.endpoint.latestTurn(sessionId, callOptions(ctx));
  return seen.ok ? seen.turn : undefined;
}
