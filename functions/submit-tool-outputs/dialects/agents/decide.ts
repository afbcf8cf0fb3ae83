import type { TransientFailure } from "../../endpoint/endpoint-failure";
import { sharedFailureOutcome, transientOutcome } from "../../endpoint/endpoint-outcome";
import type { Outcome } from "../../pipeline/outcome";
import { callOptions, followUntil, type RecordContext } from "../../pipeline/record-context";
import { backoffMs, patiently, pause } from "../../pipeline/retry-timing";
import type { AgentsClient } from "./client";
import type { AgentsFailure } from "./failure";
import { type FollowDeps, followSession } from "./follow";
import type { AgentsMessage, AgentsToolOutputMessage, WatchSessionMessage } from "./message-schema";
import { type AgentSession, pendingFunctionCalls, type SessionItem, TURN_ENDINGS } from "./session-state";
import { type AgentToolOutput, eventsBody, idempotencyKey } from "./submission";

/** What deciding an Agents message needs: the endpoint (passed in, so tests can script it), the limits, the receives. */
export type AgentsDeps = FollowDeps & {
  endpoint: Pick<AgentsClient, "postEvents">;
  /** The queue's maxReceiveCount: on the last receive, ids the turn never asked for are a mismatch, not a wait. */
  maxReceiveCount: number;
};

/**
 * What happens to one valid Agents message: the table "What happens to an Agents message" in docs/agents.md, row by
 * row (each branch names its row). No state table: the API's `Idempotency-Key` and the session's own items make a
 * resend safe, so nothing here touches DynamoDB.
 * @example const outcome = await decide(parsed.message, ctx, deps);
 */
export async function decide(message: AgentsMessage, ctx: RecordContext, deps: AgentsDeps): Promise<Outcome> {
  return message.type === "watch_session" ? watch(message, ctx, deps) : deliver(message, ctx, deps);
}

/** The reconcile's verdict on the message's outputs, read from the session and the turn's items. */
type Verdict =
  | { kind: "send"; outputs: AgentToolOutput[] }
  | { kind: "accepted" }
  | { kind: "wait"; detail: string; unknownIds: string[] }
  | { kind: "settle"; outcome: Outcome };

async function deliver(
  message: AgentsToolOutputMessage & { type: "tool_outputs" },
  ctx: RecordContext,
  deps: AgentsDeps,
): Promise<Outcome> {
  const givenIds = message.tool_outputs.map((output) => output.tool_call_id);
  const answered = new Set(givenIds);
  const follow = (via: "submitted" | "already_accepted") =>
    followSession({ sessionId: message.session_id, turnId: message.turn_id, answered, stream: message.stream === true }, via, ctx, deps);
  let outputs: AgentToolOutput[] = message.tool_outputs;
  let submissions = 0;
  let lastFailure: AgentsFailure | undefined;
  const lookUntil = followUntil(ctx, deps);
  for (;;) {
    // Row "submit: one POST …/events with one tool_result event per output and a content-derived Idempotency-Key → 2xx".
    submissions++;
    const body = eventsBody(message.turn_id, outputs);
    const sent = await deps.endpoint.postEvents(message.session_id, body, idempotencyKey(message.session_id, body), callOptions(ctx));
    if (sent.ok) return follow("submitted");
    const failure = sent.failure;
    lastFailure = failure;
    // Row "404 on the session".
    if (failure.kind === "not_found") return sessionNotFound(message.session_id, failure);
    const refusal = failure.kind === "transient" && !failure.ambiguous;
    if (failure.kind !== "not_pending" && !(failure.kind === "transient" && failure.ambiguous)) {
      // Row "401 / 403, 409, 429, 503 with retry-after": configuration → hand back; a definite refusal → retry, then hand back.
      if (refusal && submissions < deps.maxAttempts) {
        ctx.stats.retries++;
        if (await pause(backoffMs(submissions, deps, failure.retryAfterMs), ctx)) continue;
      }
      // Row "other 400".
      return sharedFailureOutcome(failure, ctx, "submit the tool results") ?? rejected(failure);
    }
    // Row "400 Unknown pending tool call, or any ambiguous failure": read the session (and the turn's items) first.
    for (;;) {
      const verdict = await reconcile(message, ctx, deps);
      if (verdict.kind === "settle") return verdict.outcome;
      if (verdict.kind === "accepted") return follow("already_accepted");
      if (verdict.kind === "send") {
        outputs = verdict.outputs;
        break;
      }
      // The server has not registered the calls yet (or does not know the ids while the turn runs): look again.
      if (!(await pause(deps.pollIntervalMs, ctx, lookUntil))) {
        const lastReceive = ctx.receiveCount >= deps.maxReceiveCount;
        if (lastReceive && verdict.unknownIds.length > 0) return mismatch(verdict.unknownIds, givenIds, "the turn never asked for them");
        return { kind: "hand_back", reason: "calls_not_registered", detail: verdict.detail };
      }
    }
    // Here the last failure was "not pending" or ambiguous: the only ones that lead to a reconcile and back.
    const unsure = lastFailure.kind === "transient" ? lastFailure : ambiguous("the calls were not pending");
    if (submissions >= deps.maxAttempts) return transientOutcome(unsure, ctx, "submit the tool results");
    ctx.stats.retries++;
    if (!(await pause(backoffMs(submissions, deps, unsure.retryAfterMs), ctx)))
      return transientOutcome(ambiguous("stopped before sending the results again"), ctx, "submit the tool results");
  }
}

/**
 * Reads the session (and, unless every id is pending, the turn's items) and places each of the message's outputs:
 * pending (send it, with the same key when they all are), taken with this output (a duplicate), taken with another
 * (`conflicting_output`), listed as a call but not pending yet (the registration race: wait), or unknown to the turn.
 */
async function reconcile(message: AgentsToolOutputMessage, ctx: RecordContext, deps: AgentsDeps): Promise<Verdict> {
  const seen = await patiently(() => deps.endpoint.getSession(message.session_id, callOptions(ctx)), ctx, deps);
  if (!seen.ok) return { kind: "settle", outcome: readFailed(message.session_id, seen.failure, ctx) };
  const session = seen.session;
  const pending = new Set(
    pendingFunctionCalls(session)
      .filter((call) => call.turn_id === message.turn_id)
      .map((call) => call.call_id),
  );
  // Row "the calls are pending → send again with the same key".
  if (message.tool_outputs.every((output) => pending.has(output.tool_call_id))) return { kind: "send", outputs: message.tool_outputs };

  const listed = await patiently(() => deps.endpoint.listTurnItems(message.session_id, message.turn_id, callOptions(ctx)), ctx, deps);
  if (!listed.ok) {
    // A turn the session does not have: the message's ids were never asked for there.
    if (listed.failure.kind === "not_found")
      return { kind: "settle", outcome: mismatch([], ids(message), `the session has no turn ${message.turn_id}`) };
    return { kind: "settle", outcome: readFailed(message.session_id, listed.failure, ctx) };
  }
  const items = listed.items;
  const calls = new Set(items.filter((item) => item.type === "function_call").map((item) => item.call_id));
  const taken = new Map(items.filter((item) => item.type === "function_call_output").map((item) => [item.call_id, item]));

  // Row "the same ids already answered with a different output → conflicting_output; the first stands".
  const conflicting = message.tool_outputs.filter((output) => {
    const took = taken.get(output.tool_call_id);
    return took !== undefined && !sameResult(output, took);
  });
  if (conflicting.length > 0) {
    const names = conflicting.map((output) => output.tool_call_id).join(", ");
    return {
      kind: "settle",
      outcome: {
        kind: "dead_letter",
        reason: "conflicting_output",
        detail: `the session already took a different result for ${names}; the first stands`,
      },
    };
  }
  const untaken = message.tool_outputs.filter((output) => !taken.has(output.tool_call_id));
  // Row "the turn's items hold function_call_outputs for every call id → already accepted".
  if (untaken.length === 0) return { kind: "accepted" };
  // Row "some ids answered, some pending → send only the pending ones (a new key for that content)".
  if (untaken.every((output) => pending.has(output.tool_call_id))) return { kind: "send", outputs: untaken };

  const turn = await deps.endpoint.getTurn(message.session_id, message.turn_id, callOptions(ctx));
  const turnEnded = (turn.ok && TURN_ENDINGS.includes(turn.turn.status)) || session.status === "failed";
  const unknownIds = untaken.filter((output) => !calls.has(output.tool_call_id)).map((output) => output.tool_call_id);
  // Row "ids the turn never asked for → tool_call_mismatch" (once the turn has ended; while it runs, look again).
  if (turnEnded && unknownIds.length > 0)
    return { kind: "settle", outcome: mismatch(expectedIds(items, pending), ids(message), "the turn ended") };
  // Row "the turn ended, or the session failed, without these outputs → session_not_awaiting_outputs".
  if (turnEnded) {
    const status = session.status === "failed" ? "the session failed" : `the turn is ${turn.ok ? turn.turn.status : "over"}`;
    return {
      kind: "settle",
      outcome: {
        kind: "dead_letter",
        reason: "session_not_awaiting_outputs",
        detail: `${status} without results for ${untaken.map((output) => output.tool_call_id).join(", ")}`,
      },
    };
  }
  // Row "the turn holds none of these calls yet and is still running → wait and look again, then hand back".
  const waitingFor = untaken.filter((output) => !pending.has(output.tool_call_id)).map((output) => output.tool_call_id);
  return {
    kind: "wait",
    unknownIds,
    detail: `the session has not registered ${waitingFor.join(", ")} as pending yet (session ${session.status})`,
  };
}

/** A `watch_session` (the relay's follow-up, or anyone's): report the session as it rests, following it within the budget. */
async function watch(message: WatchSessionMessage, ctx: RecordContext, deps: AgentsDeps): Promise<Outcome> {
  const seen = await patiently(() => deps.endpoint.getSession(message.session_id, callOptions(ctx)), ctx, deps);
  if (!seen.ok) return readFailed(message.session_id, seen.failure, ctx);
  return followSession(
    { sessionId: message.session_id, ...(message.turn_id ? { turnId: message.turn_id } : {}), stream: false },
    "watched",
    ctx,
    deps,
  );
}

/** The output the message carries and the one the session took are the same result (text, parts, or error). */
function sameResult(output: AgentToolOutput, item: SessionItem): boolean {
  if (output.error !== undefined) return (item.error ?? null) === output.error;
  return (item.error ?? null) === null && JSON.stringify(item.output ?? null) === JSON.stringify(output.output ?? null);
}

function ids(message: AgentsToolOutputMessage): string[] {
  return message.tool_outputs.map((output) => output.tool_call_id);
}

function expectedIds(items: SessionItem[], pending: Set<string>): string[] {
  const calls = items.flatMap((item) => (item.type === "function_call" && item.call_id !== undefined ? [item.call_id] : []));
  return [...new Set([...calls, ...pending])];
}

function mismatch(expected: string[], given: string[], why: string): Outcome {
  return {
    kind: "dead_letter",
    reason: "tool_call_mismatch",
    detail: `the turn asks for ${expected.length > 0 ? expected.join(", ") : "none of them"}, the message answers ${given.join(", ")} (${why})`,
    expectedToolCallIds: expected,
    givenToolCallIds: given,
  };
}

function sessionNotFound(sessionId: string, failure: AgentsFailure): Outcome {
  return {
    kind: "dead_letter",
    reason: "session_not_found",
    detail: `the endpoint has no session ${sessionId}`,
    httpStatus: failure.httpStatus,
    endpointError: failure.error,
  };
}

function rejected(failure: AgentsFailure): Outcome {
  const said = failure.error?.message ? `: ${failure.error.message}` : "";
  return {
    kind: "dead_letter",
    reason: "rejected_by_endpoint",
    detail: `the endpoint refused the tool results (HTTP ${failure.httpStatus ?? "?"})${said}`,
    httpStatus: failure.httpStatus,
    endpointError: failure.error,
  };
}

function readFailed(sessionId: string, failure: AgentsFailure, ctx: RecordContext): Outcome {
  if (failure.kind === "not_found") return sessionNotFound(sessionId, failure);
  return sharedFailureOutcome(failure, ctx, "read the session") ?? rejected(failure);
}

function ambiguous(detail: string): TransientFailure {
  return { kind: "transient", ambiguous: true, detail };
}

export type { AgentSession };
