import type { TransientFailure } from "../../endpoint/endpoint-failure";
import type { Outcome } from "../../pipeline/outcome";
import { callOptions, type DecisionLimits, followUntil, type RecordContext } from "../../pipeline/record-context";
import { backoffMs, patiently, pause } from "../../pipeline/retry-timing";
import type { ResponsesClient } from "./client";
import { failed } from "./failed";
import type { ResponsesFailure } from "./failure";
import { followResponse, readResponseStream, reportOrWatch } from "./follow";
import type { ResponsesMessage, ResponsesToolOutputMessage, WatchResponseMessage } from "./message-schema";
import { conversationOf, type ResponseObject } from "./response-state";
import type { ClaimVerdict, ConversationLatest, SubmissionClaims } from "./submission-claims";
import { conversationTurn, itemsAfterOutputs, listTail, previousResponseTurn, type Turn } from "./turn";

/** What deciding a Responses message needs: the endpoint, the state table (opened on first use) and the policies. */
export type ResponsesDeps = DecisionLimits & {
  endpoint: Pick<ResponsesClient, "getResponse" | "createResponse" | "listConversationItems">;
  /** The claims and the conversations' latest responses; undefined when RELAY_STATE_TABLE is unset. */
  state?: () => Promise<{ claims: SubmissionClaims; latest: ConversationLatest }>;
  /** `RESPONSES_BACKGROUND`. */
  background: boolean;
  /** `RESPONSES_UNCONFIRMED`. */
  unconfirmed: "dead_letter" | "resubmit";
};

/** The claim a decision holds while it submits. */
type Held = { attempt: string; claimedAt: string };

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
  const found =
    message.response_id !== undefined
      ? await previousResponseTurn({ ...message, response_id: message.response_id }, givenIds, ctx, deps)
      : await conversationTurn({ ...message, conversation_id: message.conversation_id! }, givenIds, ctx, deps, latest);
  // Row "the state table shows these outputs already submitted" (in a conversation, the outputs show there).
  if (found.found === "accepted")
    return {
      kind: "report",
      state: { api: "responses", conversationId: message.conversation_id!, items: found.items },
      via: "already_accepted",
    };
  if (found.found === "outcome") return found.outcome;
  const turn = found.turn;
  const verdict = await claims.claim({
    key: turn.key,
    owner: ctx.messageId,
    leaseUntil: ctx.leaseUntil,
    callIds: givenIds,
    previousResponseId: turn.previousResponseId,
    conversationId: turn.conversationId,
  });
  return afterClaim(verdict, message, givenIds, turn, ctx, deps, claims, latest);
}

async function afterClaim(
  verdict: ClaimVerdict,
  message: ResponsesToolOutputMessage,
  givenIds: string[],
  turn: Turn,
  ctx: RecordContext,
  deps: ResponsesDeps,
  claims: SubmissionClaims,
  latest: ConversationLatest,
): Promise<Outcome> {
  switch (verdict.verdict) {
    case "claimed": {
      // A response on a conversation: the conversation shows outputs taken without a claim (outside the relay,
      // or before the claim's time to live), which would otherwise be answered twice. (A conversation_id
      // message looked already, in conversationTurn.)
      if (turn.conversationId !== undefined && message.response_id !== undefined) {
        const listed = await listTail(deps, turn.conversationId, givenIds, ctx);
        const items = listed.ok ? itemsAfterOutputs(listed.items, givenIds) : undefined;
        if (items) {
          await claims.record(turn.key, verdict.attempt, undefined).catch(() => undefined);
          const state = { api: "responses" as const, conversationId: turn.conversationId, items, ...answeredBy(turn) };
          return { kind: "report", state, via: "already_accepted" };
        }
      }
      return submit(message, givenIds, turn, verdict, ctx, deps, claims, latest);
    }
    case "submitted":
      // Row "the state table shows these outputs already submitted → do not submit; follow / publish the recorded continuation".
      return followRecorded(verdict.responseId, givenIds, turn, ctx, deps);
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
      if (turn.conversationId !== undefined) {
        // The earlier attempt's invocation has ended. Its outputs show once the response they started completes;
        // absent now, either it was never taken (a 5xx that created nothing), or its response failed, or it still
        // runs. Submitting again is then safe but for one instant: a response still running holds the conversation
        // locked, and the endpoint refuses the POST (`conversation_locked`, nothing taken); only a response
        // completing between this look and that POST would get a second answer (counted in UnconfirmedResubmits).
        const shown = await conversationShows(givenIds, turn, verdict, ctx, deps, { claims, latest });
        if (shown === "unknown")
          return { kind: "hand_back", reason: "awaiting_confirmation", detail: `could not list conversation ${turn.conversationId}` };
        if (shown !== "absent") return shown;
        const taken = await claims.takeOver(turn.key, verdict, ctx.messageId, ctx.leaseUntil);
        if (!taken)
          return { kind: "hand_back", reason: "claimed_elsewhere", detail: "another copy took over the lapsed claim", retryAfterMs: 1_000 };
        ctx.stats.unconfirmedResubmits++;
        return submit(message, givenIds, turn, { attempt: taken.attempt, claimedAt: verdict.claimedAt }, ctx, deps, claims, latest);
      }
      // A submission_unconfirmed record moved back whole (SQS's message-move task, `dlq redrive`) is the operator's
      // go-ahead: they checked the response's children and want the outputs submitted.
      const goAhead = ctx.redrivenAfter === "submission_unconfirmed";
      if (deps.unconfirmed === "dead_letter" && !goAhead) return unconfirmed(message, givenIds, verdict.claimedAt, lapsed);
      const taken = await claims.takeOver(turn.key, verdict, ctx.messageId, ctx.leaseUntil);
      if (!taken)
        return { kind: "hand_back", reason: "claimed_elsewhere", detail: "another copy took over the lapsed claim", retryAfterMs: 1_000 };
      ctx.stats.unconfirmedResubmits++;
      return submit(message, givenIds, turn, { attempt: taken.attempt, claimedAt: verdict.claimedAt }, ctx, deps, claims, latest);
    }
  }
}

/** Row "submit: POST /responses … record the new response id, follow it to rest, publish", with its failure rows. */
async function submit(
  message: ResponsesToolOutputMessage,
  givenIds: string[],
  turn: Turn,
  held: Held,
  ctx: RecordContext,
  deps: ResponsesDeps,
  claims: SubmissionClaims,
  latest: ConversationLatest,
): Promise<Outcome> {
  const stream = message.stream === true;
  const body = {
    ...turn.settings,
    input: message.tool_outputs.map((output) => ({ type: "function_call_output", call_id: output.tool_call_id, output: output.output })),
    ...(turn.conversationId !== undefined ? { conversation: turn.conversationId } : { previous_response_id: turn.previousResponseId }),
    background: deps.background,
    ...(stream ? { stream: true } : {}),
  };
  const record = async (response: ResponseObject) => {
    await claims.record(turn.key, held.attempt, response.id).catch(() => undefined);
    const conversationId = conversationOf(response) ?? turn.conversationId;
    if (conversationId !== undefined) await latest.remember(conversationId, response.id).catch(() => undefined);
  };

  for (let attempt = 1; ; attempt++) {
    const followEnd = new AbortController();
    const signal = stream ? AbortSignal.any([ctx.signal, followEnd.signal]) : ctx.signal;
    // A foreground POST answers only once the response is done: it is the following, and may take as long.
    const foreground = !deps.background && !stream ? { timeoutMs: followUntil(ctx, deps) - Date.now() } : {};
    const created = await deps.endpoint.createResponse(body, { ...callOptions(ctx, signal), ...foreground });
    let failure: ResponsesFailure;
    if (created.ok && "response" in created) {
      await record(created.response);
      return answered(await followResponse(created.response, "submitted", ctx, deps, followUntil(ctx, deps)), turn);
    }
    if (created.ok) {
      const until = followUntil(ctx, deps);
      const timer = setTimeout(() => followEnd.abort(), until - Date.now());
      const end = await readResponseStream(created.stream, record).finally(() => clearTimeout(timer));
      if (end.ended === "final") return answered(end.outcome, turn);
      // A stream cut after its first event is followed by GET, never resubmitted.
      if (end.response) return answered(await followResponse(end.response, "submitted", ctx, deps, until), turn);
      failure = STREAM_CUT;
    } else {
      failure = created.failure;
    }

    if (failure.kind === "transient" && failure.ambiguous) {
      // Row "an ambiguous failure of the POST: the POST may have been taken and no id came back".
      if (turn.conversationId !== undefined) return reconcileInConversation(givenIds, turn, held, failure, ctx, deps, { claims, latest });
      if (deps.unconfirmed === "dead_letter") {
        await claims.lapse(turn.key, held.attempt).catch(() => undefined);
        return unconfirmed(message, givenIds, held.claimedAt, failure);
      }
      ctx.stats.unconfirmedResubmits++; // RESPONSES_UNCONFIRMED=resubmit: the next POST may fork
    } else if (failure.kind !== "transient") {
      // Rows "tool_call_mismatch", "response_not_found", "rejected_by_endpoint", "401 / 403 / insufficient_quota":
      // the endpoint refused for certain, so nothing was taken and a later copy may claim the turn.
      await claims.release(turn.key, held.attempt).catch(() => undefined);
      return failed(failure, ctx, "submit the outputs");
    }
    // Row "a definite refusal (conversation_locked, 408, 409, 429, a connection refused) → retry with backoff, then hand back".
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
async function reconcileInConversation(
  givenIds: string[],
  turn: Turn,
  held: { attempt: string },
  failure: TransientFailure,
  ctx: RecordContext,
  deps: ResponsesDeps,
  { claims, latest }: { claims: SubmissionClaims; latest: ConversationLatest },
): Promise<Outcome> {
  const until = followUntil(ctx, deps);
  for (;;) {
    const shown = await conversationShows(givenIds, turn, held, ctx, deps, { claims, latest });
    if (shown !== "absent" && shown !== "unknown") return shown;
    if (!(await pause(deps.pollIntervalMs, ctx, until))) {
      // Ended with this invocation: the next copy looks once more, then submits again (afterClaim, "unconfirmed").
      await claims.lapse(turn.key, held.attempt).catch(() => undefined);
      const detail = `the POST failed ambiguously (${failure.detail}) and conversation ${turn.conversationId} does not show these outputs yet`;
      return { kind: "hand_back", reason: "awaiting_confirmation", detail, httpStatus: failure.httpStatus, endpointError: failure.error };
    }
  }
}

/** One look at the conversation: its items after these outputs, published as accepted; or absent; or unknown (no listing). */
async function conversationShows(
  givenIds: string[],
  turn: Turn,
  held: { attempt: string },
  ctx: RecordContext,
  deps: ResponsesDeps,
  { claims, latest }: { claims: SubmissionClaims; latest: ConversationLatest },
): Promise<Outcome | "absent" | "unknown"> {
  const conversationId = turn.conversationId!;
  const listed = await listTail(deps, conversationId, givenIds, ctx);
  if (!listed.ok) return "unknown";
  const items = itemsAfterOutputs(listed.items, givenIds);
  if (!items) return "absent";
  await claims.record(turn.key, held.attempt, undefined).catch(() => undefined);
  // The event's reply is `{conversation_id}`: the answer to it continues with the settings this turn was sent with.
  await latest.rememberSettings(conversationId, turn.settings).catch(() => undefined);
  return { kind: "report", state: { api: "responses", conversationId, items, ...answeredBy(turn) }, via: "submitted" };
}

/** Row "previous_response_id mode … dead_letter (DLQ submission_unconfirmed …)": the API cannot tell whether the POST was taken. */
function unconfirmed(message: ResponsesToolOutputMessage, givenIds: string[], claimedAt: string, failure: TransientFailure): Outcome {
  return {
    kind: "dead_letter",
    reason: "submission_unconfirmed",
    detail:
      `the POST continuing ${message.response_id} failed ambiguously (${failure.detail}): the endpoint may have taken the outputs, ` +
      "and the API cannot tell; check its children, then redrive this record as it is to submit them (the relay takes a " +
      "submission_unconfirmed record moved back whole as the go-ahead)",
    httpStatus: failure.httpStatus,
    endpointError: failure.error,
    givenToolCallIds: givenIds,
    claimedAt,
  };
}

/** A duplicate's row: follow and publish the recorded continuation (or, in a conversation, its items). */
async function followRecorded(
  responseId: string | undefined,
  givenIds: string[],
  turn: Turn,
  ctx: RecordContext,
  deps: ResponsesDeps,
): Promise<Outcome> {
  if (responseId === undefined) {
    const listed = await listTail(deps, turn.conversationId ?? "", givenIds, ctx);
    const items = listed.ok ? itemsAfterOutputs(listed.items, givenIds) : undefined;
    if (items)
      return {
        kind: "report",
        state: { api: "responses", conversationId: turn.conversationId!, items, ...answeredBy(turn) },
        via: "already_accepted",
      };
    return {
      kind: "hand_back",
      reason: "awaiting_confirmation",
      detail: "these outputs were submitted; the conversation does not show them yet",
    };
  }
  const seen = await patiently(() => deps.endpoint.getResponse(responseId, callOptions(ctx)), ctx, deps);
  if (!seen.ok) return failed(seen.failure, ctx, `read the recorded continuation ${responseId}`);
  return answered(await followResponse(seen.response, "already_accepted", ctx, deps, followUntil(ctx, deps)), turn);
}

/** A `watch_response` follow-up: report the response's resting state. */
async function watch(message: WatchResponseMessage, ctx: RecordContext, deps: ResponsesDeps): Promise<Outcome> {
  const seen = await patiently(() => deps.endpoint.getResponse(message.response_id, callOptions(ctx)), ctx, deps);
  if (!seen.ok) return failed(seen.failure, ctx, `read response ${message.response_id}`);
  return seen.response.status === "queued" || seen.response.status === "in_progress"
    ? followResponse(seen.response, "watched", ctx, deps, followUntil(ctx, deps))
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
