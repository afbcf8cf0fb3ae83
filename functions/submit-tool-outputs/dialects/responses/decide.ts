import { errorName } from "../../config/errors";
import type { TransientFailure } from "../../endpoint/endpoint-failure";
import type { Outcome } from "../../pipeline/outcome";
import { callOptions, type DecisionLimits, followUntil, type RecordContext } from "../../pipeline/record-context";
import type { Result } from "../../pipeline/result";
import { backoffMs, patiently, pause } from "../../pipeline/retry-timing";
import type { ResponsesClient } from "./client";
import { failed } from "./failed";
import type { ResponsesFailure } from "./failure";
import { followResponse, readResponseStream, reportOrWatch } from "./follow";
import type { ResponsesMessage, ResponsesToolOutputMessage, WatchResponseMessage } from "./message-schema";
import { conversationOf, type ResponseObject } from "./response-state";
import { type ClaimVerdict, type ConversationLatest, outputsHashOf, type SubmissionClaims } from "./submission-claims";
import { type ConversationTurn, conflicting, findTurn, itemsAfterOutputs, listTail, outputsFor, type Turn } from "./turn";

/** What deciding a Responses message needs: the endpoint, the state table (opened on first use) and the policies. */
export type ResponsesDeps = DecisionLimits & {
  endpoint: Pick<ResponsesClient, "getResponse" | "createResponse" | "listConversationItems">;
  /** The claims and the conversations' latest responses; undefined when RELAY_STATE_TABLE is unset. */
  state?: () => Promise<{ claims: SubmissionClaims; latest: ConversationLatest }>;
  /** `RESPONSES_BACKGROUND`. */
  background: boolean;
  /** `RESPONSES_UNCONFIRMED`. */
  unconfirmed: "dead_letter" | "resubmit";
  /** The queue's maxReceiveCount: on the last receive, a copy that finds the turn held by another waits for it. */
  maxReceiveCount?: number;
};

/** An attempt at a turn on a conversation (listing the conversation reconciles it). */
type InConversation = Attempt & { turn: ConversationTurn };

function inConversation(a: Attempt): a is InConversation {
  return a.turn.conversationId !== undefined;
}

/** The claim a decision holds while it submits. */
type Held = { attempt: string; claimedAt: string };

/**
 * One message's attempt at its turn: everything each step of deciding it needs, passed as one (the message, its
 * ids and outputs' hash, the turn found, the request body built before the claim, the record's context, the
 * dependencies, and the state table's claims and conversations).
 */
interface Attempt {
  message: ResponsesToolOutputMessage;
  givenIds: string[];
  /** The hash the claim keeps of these outputs (submission-claims.ts, outputsHashOf). */
  outputsHash: string;
  turn: Turn;
  /** The POST body, serialised before the claim: a body that cannot be built never leaves a claim behind. */
  body: PreparedBody;
  ctx: RecordContext;
  deps: ResponsesDeps;
  claims: SubmissionClaims;
  latest: ConversationLatest;
}

/** The stream broke before its first event: the POST may have been taken, and no id came back. */
const STREAM_CUT: TransientFailure = { kind: "transient", ambiguous: true, detail: "the event stream ended before its first event" };

/**
 * What happens to one valid Responses message: the table "What happens to a Responses message" in
 * docs/responses.md, row by row (each branch names its row). Exactly once: a turn is claimed in the state table
 * before the POST and its continuation recorded after, so duplicates and redeliveries never submit again.
 * @example const outcome = await decide(parsed.message, ctx, deps);
 */
export async function decide(message: ResponsesMessage, ctx: RecordContext, deps: ResponsesDeps): Promise<Outcome> {
  if (message.type === "watch_response") return watch(message, ctx, deps);
  if (!deps.state) {
    return { kind: "hand_back", reason: "not_configured", detail: "RELAY_STATE_TABLE is not set: Responses messages need the state table" };
  }
  const { claims, latest } = await deps.state();
  const givenIds = message.tool_outputs.map((output) => output.tool_call_id);
  const found = await findTurn(message, givenIds, ctx, { ...deps, latest });
  // Rows that end the message before a claim; in a conversation, also "the state table shows these outputs
  // already submitted" (the outputs show there: turn.ts, alreadyAccepted).
  if (!found.ok) return found.outcome;
  const turn = found.turn;
  // Rule 6: the body is built before the claim, so a failure to build it is this message's and leaves no claim.
  const body = prepareBody(message, turn, deps);
  if (!body.ok) return { kind: "dead_letter", reason: "invalid_message", detail: body.problem, givenToolCallIds: givenIds };
  const outputsHash = outputsHashOf(message.tool_outputs);
  const request = {
    key: turn.key,
    owner: ctx.messageId,
    leaseUntil: ctx.leaseUntil,
    callIds: givenIds,
    outputsHash,
    previousResponseId: turn.previousResponseId,
    conversationId: turn.conversationId,
  };
  let verdict = await claims.claim(request);
  // On the last receive a copy that finds the turn held (another copy, or another delivery of this very message, is
  // submitting now) waits for what that one records, within the follow budget, rather than be dead-lettered while the
  // other reports it: recorded, it publishes the same continuation (one event id); released or lapsed, it goes on.
  if (verdict.kind === "held" && ctx.receiveCount >= (deps.maxReceiveCount ?? Number.POSITIVE_INFINITY)) {
    const until = followUntil(ctx, deps);
    while (verdict.kind === "held" && (await pause(deps.pollIntervalMs, ctx, until))) verdict = await claims.claim(request);
  }
  return afterClaim(verdict, { message, givenIds, outputsHash, turn, body: body.body, ctx, deps, claims, latest });
}

async function afterClaim(verdict: ClaimVerdict, a: Attempt): Promise<Outcome> {
  const { message, givenIds, turn, ctx, deps } = a;
  // Rule 12: a claim made for other outputs on these ids: the first stands, this copy is not a duplicate of it.
  if (verdict.kind !== "claimed" && verdict.outputsHash !== undefined && verdict.outputsHash !== a.outputsHash)
    return conflicting(givenIds, "these ids were already submitted (or are being submitted) with other outputs", message.tool_outputs);
  switch (verdict.kind) {
    case "claimed": {
      // A response on a conversation: the conversation shows outputs taken without a claim (outside the relay,
      // or before the claim's time to live), which would otherwise be answered twice. (A conversation_id
      // message looked already, in conversationTurn.)
      if (turn.conversationId !== undefined && message.response_id !== undefined) {
        const listed = await listTail(deps, turn.conversationId, givenIds, ctx);
        const items = listed.ok ? itemsAfterOutputs(listed.items, givenIds) : undefined;
        if (items && listed.ok) {
          // Rule 12: the conversation took other outputs for these ids: the turn is given back, this message refused.
          const taken = outputsFor(listed.items, givenIds);
          const differing = message.tool_outputs.filter((o) => JSON.stringify(taken.get(o.tool_call_id)) !== JSON.stringify(o.output));
          if (differing.length > 0) {
            await a.claims.release(turn.key, verdict.attempt).catch(() => undefined);
            return conflicting(givenIds, `conversation ${turn.conversationId} already holds other outputs`, differing);
          }
          const recorded = await recordSurely(a, verdict.attempt, undefined);
          if (recorded) return recorded;
          const state = { api: "responses" as const, conversationId: turn.conversationId, items, ...answeredBy(turn) };
          return { kind: "report", state, via: "already_accepted" };
        }
      }
      return submit(a, verdict);
    }
    case "submitted":
      // Row "the state table shows these outputs already submitted → do not submit; follow / publish the recorded continuation".
      return followRecorded(a, verdict.responseId);
    case "held": {
      // A copy holding a live lease is submitting right now: come back shortly, when it has likely recorded what it
      // did (a background POST answers at once); the queue's growing redelivery delay adds the rest.
      const retryAfterMs = Math.min(5_000, Math.max(1_000, verdict.leaseUntil - Date.now()));
      return { kind: "hand_back", reason: "claimed_elsewhere", detail: "another copy of these outputs is being submitted", retryAfterMs };
    }
    case "unconfirmed": {
      // A claim whose lease passed with nothing recorded: its owner crashed or timed out, maybe after the POST.
      const lapsed: TransientFailure = {
        kind: "transient",
        ambiguous: true,
        detail: `an earlier attempt (message ${verdict.owner}) ended without recording what became of its POST`,
      };
      if (inConversation(a)) {
        // The earlier attempt's invocation has ended. Its outputs show once the response they started completes;
        // absent now, either it was never taken (a 5xx that created nothing), or its response failed, or it still
        // runs. Submitting again is then safe but for one instant: a response still running holds the conversation
        // locked, and the endpoint refuses the POST (`conversation_locked`, nothing taken); only a response
        // completing between this look and that POST would get a second answer (counted in UnconfirmedResubmits).
        const shown = await conversationShows(a, verdict);
        if (shown.ok) return shown.outcome;
        if (!shown.listed)
          return { kind: "hand_back", reason: "awaiting_confirmation", detail: `could not list conversation ${turn.conversationId}` };
        return takeOverAndSubmit(a, verdict);
      }
      // Rule 7: the go-ahead is the operator's, given through the relay's CLI (`dlq redrive --go-ahead`) and marked in
      // the state table against this very attempt; a body shaped like a DLQ record carries none.
      if (deps.unconfirmed === "dead_letter" && verdict.goAhead !== verdict.attempt) return unconfirmed(a, verdict.claimedAt, lapsed);
      return takeOverAndSubmit(a, verdict);
    }
  }
}

/** Takes a lapsed claim over (the go-ahead's mark goes with the attempt it named) and submits again. */
async function takeOverAndSubmit(a: Attempt, lapsed: Extract<ClaimVerdict, { kind: "unconfirmed" }>): Promise<Outcome> {
  const taken = await a.claims.takeOver(a.turn.key, lapsed, a.ctx.messageId, a.ctx.leaseUntil);
  if (!taken)
    return { kind: "hand_back", reason: "claimed_elsewhere", detail: "another copy took over the lapsed claim", retryAfterMs: 1_000 };
  a.ctx.stats.unconfirmedResubmits++;
  return submit(a, { attempt: taken.attempt, claimedAt: lapsed.claimedAt });
}

/**
 * Rule 4: the record of what a claim submitted is retried until the invocation's deadline; if it still cannot be
 * written the message is handed back (never acknowledged, its outcome unreported) and the failure counted for the
 * alarm, and this execution environment remembers the id, so that its next copy records it instead of taking the
 * claim for an unconfirmed one. Undefined when recorded.
 */
async function recordSurely(a: Attempt, attempt: string, responseId: string | undefined): Promise<Outcome | undefined> {
  for (let tries = 1; ; tries++) {
    try {
      await a.claims.record(a.turn.key, attempt, responseId);
      return undefined;
    } catch (error) {
      if (!(await pause(backoffMs(tries, a.deps), a.ctx))) {
        a.claims.remember(a.turn.key, attempt, responseId);
        a.ctx.stats.unrecordedSubmissions = (a.ctx.stats.unrecordedSubmissions ?? 0) + 1;
        const name = errorName(error);
        const what = responseId ? `response ${responseId}` : "the accepted outputs";
        const detail = `the outputs were submitted (${what}) but the state table did not take the record (${name}) before the deadline`;
        return { kind: "hand_back", reason: "state_unavailable", detail, retryAfterMs: 1_000 };
      }
    }
  }
}

/** The POST body, built and serialised once, before the claim. */
type PreparedBody = { json: string; stream: boolean };

function prepareBody(
  message: ResponsesToolOutputMessage,
  turn: Turn,
  deps: ResponsesDeps,
): Result<{ body: PreparedBody }, { problem: string }> {
  const stream = message.stream === true;
  const body = {
    ...turn.settings,
    input: message.tool_outputs.map((output) => ({ type: "function_call_output", call_id: output.tool_call_id, output: output.output })),
    ...(turn.conversationId !== undefined ? { conversation: turn.conversationId } : { previous_response_id: turn.previousResponseId }),
    background: deps.background,
    ...(stream ? { stream: true } : {}),
  };
  try {
    return { ok: true, body: { json: JSON.stringify(body), stream } };
  } catch (error) {
    return {
      ok: false,
      problem: `the request body cannot be built (${errorName(error)}: nested too deeply to serialise); nothing was submitted`,
    };
  }
}

/** Row "submit: POST /responses … record the new response id, follow it to rest, publish", with its failure rows. */
async function submit(a: Attempt, held: Held): Promise<Outcome> {
  const { turn, ctx, deps, claims, latest } = a;
  const stream = a.body.stream;
  let unrecorded: Outcome | undefined;
  const record = async (response: ResponseObject) => {
    unrecorded = await recordSurely(a, held.attempt, response.id);
    const conversationId = conversationOf(response) ?? turn.conversationId;
    if (conversationId !== undefined) await latest.remember(conversationId, response.id).catch(() => undefined);
  };

  for (let attempt = 1; ; attempt++) {
    const followEnd = new AbortController();
    const signal = stream ? AbortSignal.any([ctx.signal, followEnd.signal]) : ctx.signal;
    // A foreground POST answers only once the response is done: it is the following, and may take as long.
    const foreground = !deps.background && !stream ? { timeoutMs: followUntil(ctx, deps) - Date.now() } : {};
    const created = await deps.endpoint.createResponse(a.body, { ...callOptions(ctx, signal), ...foreground });
    let failure: ResponsesFailure;
    if (created.ok && "response" in created) {
      await record(created.response);
      if (unrecorded) return unrecorded;
      return answered(await followResponse(created.response, { via: "submitted", until: followUntil(ctx, deps) }, ctx, deps), turn);
    }
    if (created.ok) {
      const until = followUntil(ctx, deps);
      const timer = setTimeout(() => followEnd.abort(), until - Date.now());
      const end = await readResponseStream(created.stream, record).finally(() => clearTimeout(timer));
      if (unrecorded) return unrecorded;
      if (end.ok) return answered(end.outcome, turn);
      // A stream cut after its first event is followed by GET, never resubmitted.
      if (end.response) return answered(await followResponse(end.response, { via: "submitted", until }, ctx, deps), turn);
      failure = STREAM_CUT;
    } else {
      failure = created.failure;
    }

    if (failure.kind === "transient" && failure.ambiguous) {
      // Row "an ambiguous failure of the POST: the POST may have been taken and no id came back".
      if (inConversation(a)) return reconcileInConversation(a, held, failure);
      if (deps.unconfirmed === "dead_letter") {
        await claims.lapse(turn.key, held.attempt).catch(() => undefined);
        return unconfirmed(a, held.claimedAt, failure);
      }
      ctx.stats.unconfirmedResubmits++; // RESPONSES_UNCONFIRMED=resubmit: the next POST may fork
    } else if (failure.kind !== "transient") {
      // Rows "tool_call_mismatch", "response_not_found", "rejected_by_endpoint", "401 / 403 / insufficient_quota":
      // the endpoint refused for certain, so nothing was taken and a later copy may claim the turn.
      await claims.release(turn.key, held.attempt).catch(() => undefined);
      return failed(failure, ctx, "submit the outputs");
    }
    // Row "a definite refusal (conversation_locked, 409, 429, a connection refused) → retry with backoff, then hand back".
    if (attempt >= deps.maxAttempts || !(await pause(backoffMs(attempt, deps, failure.retryAfterMs), ctx))) {
      // Nothing taken: give the turn back. Maybe taken: the claim stays, its lease ends with this attempt.
      if (failure.ambiguous) await claims.lapse(turn.key, held.attempt).catch(() => undefined);
      else await claims.release(turn.key, held.attempt).catch(() => undefined);
      return failed(failure, ctx, "submit the outputs");
    }
    ctx.stats.retries++;
  }
}

/**
 * Conversation mode after an ambiguous failure: the conversation lists an accepted `function_call_output` once
 * the response it started completes. Found → accepted; absent → look again within the follow budget, then hand
 * back (the claim stays, so a later copy looks again instead of submitting).
 */
async function reconcileInConversation(a: InConversation, held: { attempt: string }, failure: TransientFailure): Promise<Outcome> {
  const { turn, ctx, deps, claims } = a;
  const until = followUntil(ctx, deps);
  for (;;) {
    const shown = await conversationShows(a, held);
    if (shown.ok) return shown.outcome;
    if (!(await pause(deps.pollIntervalMs, ctx, until))) {
      // Ended with this invocation: the next copy looks once more, then submits again (afterClaim, "unconfirmed").
      await claims.lapse(turn.key, held.attempt).catch(() => undefined);
      const detail = `the POST failed ambiguously (${failure.detail}) and conversation ${turn.conversationId} does not show these outputs yet`;
      return { kind: "hand_back", reason: "awaiting_confirmation", detail, httpStatus: failure.httpStatus, endpointError: failure.error };
    }
  }
}

/**
 * One look at the conversation: its items after these outputs, published as accepted (the outcome); or not shown
 * (`listed`: the listing worked and the outputs are absent; else it could not be read).
 */
async function conversationShows(a: InConversation, held: { attempt: string }): Promise<Result<{ outcome: Outcome }, { listed: boolean }>> {
  const { givenIds, turn, ctx, deps, latest } = a;
  const conversationId = turn.conversationId;
  const listed = await listTail(deps, conversationId, givenIds, ctx);
  if (!listed.ok) return { ok: false, listed: false };
  const items = itemsAfterOutputs(listed.items, givenIds);
  if (!items) return { ok: false, listed: true };
  const unrecorded = await recordSurely(a, held.attempt, undefined);
  if (unrecorded) return { ok: true, outcome: unrecorded };
  // The event's reply is `{conversation_id}`: the answer to it continues with the settings this turn was sent with.
  await latest.rememberSettings(conversationId, turn.settings).catch(() => undefined);
  return {
    ok: true,
    outcome: { kind: "report", state: { api: "responses", conversationId, items, ...answeredBy(turn) }, via: "submitted" },
  };
}

/** Row "previous_response_id mode … dead_letter (DLQ submission_unconfirmed …)": the API cannot tell whether the POST was taken. */
function unconfirmed(a: Attempt, claimedAt: string, failure: TransientFailure): Outcome {
  return {
    kind: "dead_letter",
    reason: "submission_unconfirmed",
    detail:
      `the POST continuing ${a.message.response_id} failed ambiguously (${failure.detail}): the endpoint may have taken the outputs, ` +
      "and the API cannot tell; look for a child of that response (Portkey's logs by this record's source_message_id, or the " +
      "provider's dashboard), then either delete this record, or give the go-ahead to submit them with " +
      `\`npx tool-output-relay dlq redrive --go-ahead ${a.ctx.messageId}\` (a redrive without it is dead-lettered again)`,
    httpStatus: failure.httpStatus,
    endpointError: failure.error,
    givenToolCallIds: a.givenIds,
    claimedAt,
  };
}

/** A duplicate's row: follow and publish the recorded continuation (or, in a conversation, its items). */
async function followRecorded(a: Attempt, responseId: string | undefined): Promise<Outcome> {
  const { givenIds, turn, ctx, deps } = a;
  if (responseId === undefined) {
    // Recorded without a response id: a conversation's turn, whose outputs show in the conversation.
    const conversationId = turn.conversationId;
    const listed = conversationId === undefined ? undefined : await listTail(deps, conversationId, givenIds, ctx);
    const items = listed?.ok ? itemsAfterOutputs(listed.items, givenIds) : undefined;
    if (conversationId !== undefined && items)
      return { kind: "report", state: { api: "responses", conversationId, items, ...answeredBy(turn) }, via: "already_accepted" };
    return {
      kind: "hand_back",
      reason: "awaiting_confirmation",
      detail: "these outputs were submitted; the conversation does not show them yet",
    };
  }
  const seen = await patiently(() => deps.endpoint.getResponse(responseId, callOptions(ctx)), ctx, deps);
  if (!seen.ok) return failed(seen.failure, ctx, `read the recorded continuation ${responseId}`);
  return answered(await followResponse(seen.response, { via: "already_accepted", until: followUntil(ctx, deps) }, ctx, deps), turn);
}

/** A `watch_response` follow-up: report the response's resting state. */
async function watch(message: WatchResponseMessage, ctx: RecordContext, deps: ResponsesDeps): Promise<Outcome> {
  const seen = await patiently(() => deps.endpoint.getResponse(message.response_id, callOptions(ctx)), ctx, deps);
  if (!seen.ok) return failed(seen.failure, ctx, `read response ${message.response_id}`);
  return seen.response.status === "queued" || seen.response.status === "in_progress"
    ? followResponse(seen.response, { via: "watched", until: followUntil(ctx, deps) }, ctx, deps)
    : reportOrWatch(seen.response, "watched");
}

/** The event names the response these outputs answered, which a conversation-mode response does not carry. */
function answered(outcome: Outcome, turn: Turn): Outcome {
  if (outcome.kind !== "report" || outcome.state.api !== "responses") return outcome;
  return { ...outcome, state: { ...outcome.state, ...answeredBy(turn) } };
}

function answeredBy(turn: Turn): { answered?: string } {
  return turn.previousResponseId !== undefined ? { answered: turn.previousResponseId } : {};
}
