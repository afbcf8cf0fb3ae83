import { sharedFailureOutcome, toolCallMismatch } from "../../endpoint/endpoint-outcome";
import type { Outcome } from "../../pipeline/outcome";
import { callOptions, type DecisionLimits, followUntil, type RecordContext } from "../../pipeline/record-context";
import { backoffMs, patiently, pause } from "../../pipeline/retry-timing";
import type { AssistantsClient, RunStep } from "./client";
import type { AssistantsFailure } from "./failure";
import { followRun, followStream } from "./follow";
import type { AssistantsMessage, ToolOutputMessage, WatchRunMessage } from "./message-schema";
import { type NextStep, settleWith } from "./next-step";
import { isResting, type Run, requiredToolCallIds, standing } from "./run-state";

/** What deciding an Assistants message needs: the endpoint (passed in, so tests can script it) and the limits. */
export type AssistantsDeps = DecisionLimits & { endpoint: Pick<AssistantsClient, "submitToolOutputs" | "getRun" | "listToolCallSteps"> };

/**
 * What happens to one valid Assistants message: the table "What happens to each message" in
 * docs/contract.md, row by row (each branch names its row). The endpoint is passed in; publishing, DLQ
 * writes and hand-backs are the Outcome, carried out by settle.ts.
 * @example const outcome = await decide(parsed.message, ctx, deps);
 */
export async function decide(message: AssistantsMessage, ctx: RecordContext, deps: AssistantsDeps): Promise<Outcome> {
  return message.type === "watch_run" ? watch(message, ctx, deps) : deliver(message, ctx, deps);
}

/** One message's decision: what each of its steps reads. */
interface Attempt {
  message: ToolOutputMessage;
  /** The call ids the message answers. */
  givenIds: string[];
  ctx: RecordContext;
  deps: AssistantsDeps;
}

async function deliver(message: ToolOutputMessage, ctx: RecordContext, deps: AssistantsDeps): Promise<Outcome> {
  const givenIds = message.tool_outputs.map((output) => output.tool_call_id);
  const attempt: Attempt = { message, givenIds, ctx, deps };
  // A redelivery may follow an attempt whose submission went out (a crash, a timeout): look before submitting again.
  let step: NextStep = ctx.receiveCount > 1 ? { kind: "look" } : { kind: "submit" };
  let submissions = 0;
  let lastFailure: AssistantsFailure | undefined;
  for (;;) {
    switch (step.kind) {
      case "settle":
        return step.outcome;
      case "look":
        step = await look(attempt, lastFailure);
        break;
      case "submit":
        submissions++;
        step = await submitOnce(attempt);
        break;
      case "again": {
        lastFailure = step.failure;
        // Row "retry …, then hand the message back": attempts bound the submissions, not the last look
        // (a duplicate may have been faster).
        if (submissions >= deps.maxAttempts) {
          const last = step.look ? await look(attempt, lastFailure) : undefined;
          return last?.kind === "settle" ? last.outcome : failed(step.failure, ctx);
        }
        if (step.backoff) {
          ctx.stats.retries++;
          const retryAfterMs = step.failure.kind === "transient" ? step.failure.retryAfterMs : undefined;
          if (!(await pause(backoffMs(submissions, deps, retryAfterMs), ctx))) return failed(step.failure, ctx);
        }
        step = step.look ? { kind: "look" } : { kind: "submit" };
        break;
      }
    }
  }
}

/** Row "… GET the run before anything else": the run's state decides; a GET that fails ends the decision. */
async function look(attempt: Attempt, lastFailure: AssistantsFailure | undefined): Promise<NextStep> {
  const { message, ctx, deps } = attempt;
  const seen = await getRunPatiently(message, ctx, deps);
  if (!seen.ok) return settleWith(failed(seen.failure, ctx));
  return judge(attempt, seen.run, lastFailure);
}

/** One submission and the row its answer falls in. */
async function submitOnce({ message, givenIds, ctx, deps }: Attempt): Promise<NextStep> {
  // A stream stays open while the run moves: it is cut at the end of the follow budget.
  const followEnd = new AbortController();
  const signal = message.stream ? AbortSignal.any([ctx.signal, followEnd.signal]) : ctx.signal;
  const submitted = await deps.endpoint.submitToolOutputs(message, callOptions(ctx, signal));
  if (submitted.ok) {
    // Row "endpoint 2xx with a run → follow the run, publish its resting state".
    const until = followUntil(ctx, deps);
    if ("run" in submitted) return settleWith(await followRun({ run: submitted.run, ids: message, via: "submitted", until }, ctx, deps));
    const timer = setTimeout(() => followEnd.abort(), until - Date.now());
    try {
      return await followStream({ stream: submitted.stream, ids: message, until }, ctx, deps);
    } finally {
      clearTimeout(timer);
    }
  }

  const failure = submitted.failure;
  switch (failure.kind) {
    case "not_accepting":
      // Row "400 … do not accept tool outputs → GET the run": a duplicate, or our own earlier attempt, may have been first.
      return { kind: "again", failure, backoff: false, look: true };
    case "tool_call_mismatch":
      // Row "400 Expected tool outputs for call_ids … → tool_call_mismatch". Ids wholly unlike the expected
      // ones may be an earlier round's, already taken, even if the run still asked for them when we looked
      // (a duplicate was faster): the run's steps say.
      if (!overlaps(failure.expectedIds, givenIds)) return { kind: "again", failure, backoff: false, look: true };
      return settleWith(mismatch(failure.expectedIds, givenIds, failure));
    case "transient":
      // Row "408, 409, 429, 5xx, network error, timeout → retry with backoff"; after an ambiguous failure
      // the submission may have been taken: look before submitting again.
      return { kind: "again", failure, backoff: true, look: failure.ambiguous };
    default:
      return settleWith(failed(failure, ctx));
  }
}

/** A `watch_run` follow-up: report the run's next resting state. */
async function watch(message: WatchRunMessage, ctx: RecordContext, deps: AssistantsDeps): Promise<Outcome> {
  const seen = await getRunPatiently(message, ctx, deps);
  if (!seen.ok) return failed(seen.failure, ctx);
  return followRun({ run: seen.run, ids: message, via: "watched", until: followUntil(ctx, deps) }, ctx, deps);
}

/**
 * The "GET the run before anything else" row: waiting → submit again; expired → DLQ; otherwise the run
 * no longer asks for these ids, and its steps tell whether it took them (a duplicate, or our own earlier
 * attempt: report) or never did (wrong ids: DLQ). Without a steps route, the plain rule stands: a run
 * that moved on took them; a run asking for other ids is a mismatch.
 */
async function judge({ message, givenIds, ctx, deps }: Attempt, run: Run, lastFailure?: AssistantsFailure): Promise<NextStep> {
  // A mismatch the endpoint answered keeps its HTTP status and error on the DLQ record.
  const answered = lastFailure?.kind === "tool_call_mismatch" ? lastFailure : undefined;
  const where = standing(run, givenIds);
  // Row "… still waiting for these call ids → submit again".
  if (where === "waiting") return { kind: "submit" };
  // Row "… run expired → DLQ run_expired and publish run.expired".
  if (where === "expired") {
    const publish = { api: "assistants" as const, threadId: message.thread_id, run };
    return settleWith({
      kind: "dead_letter",
      reason: "run_expired",
      detail: `run ${run.id} expired before it took these outputs`,
      publish,
    });
  }
  const expected = requiredToolCallIds(run);
  // Row "400 Expected tool outputs for call_ids …": the run asks for some of these ids and others.
  if (where === "other_ids" && overlaps(expected, givenIds)) return settleWith(mismatch(expected, givenIds, answered));

  const steps = await patiently(() => deps.endpoint.listToolCallSteps(message.thread_id, message.run_id, callOptions(ctx)), ctx, deps);
  if (!steps.ok && steps.failure.kind === "transient") return settleWith(failed(steps.failure, ctx));
  const took = steps.ok ? answeredToolCallIds(steps.steps) : undefined;
  const taken = took ? givenIds.every((id) => took.has(id)) : where === "moved_on";
  // Rule 12: the steps show the outputs the run took; another output for one of these ids is not this message's.
  const differing = took
    ? message.tool_outputs.filter((o) => typeof took.get(o.tool_call_id) === "string" && took.get(o.tool_call_id) !== o.output)
    : [];
  if (taken && differing.length > 0) {
    const ids = differing.map((o) => o.tool_call_id);
    return settleWith({
      kind: "dead_letter",
      reason: "conflicting_output",
      detail: `run ${run.id} already took other outputs for [${ids.join(", ")}]; these were not submitted`,
      expectedToolCallIds: requiredToolCallIds(run).length > 0 ? requiredToolCallIds(run) : givenIds,
      givenToolCallIds: givenIds,
    });
  }
  // Row "… run moved on → the outputs were already accepted: publish its current state, acknowledge".
  if (taken) return settleWith(await followRun({ run, ids: message, via: "already_accepted", until: followUntil(ctx, deps) }, ctx, deps));
  if (where === "other_ids") return settleWith(mismatch(expected, givenIds, answered));
  // Row "other 400 → rejected_by_endpoint": the run never asked for these ids.
  return settleWith({
    kind: "dead_letter",
    reason: "rejected_by_endpoint",
    detail: `run ${run.id} is ${run.status} and never took outputs for [${givenIds.join(", ")}]`,
    ...(isResting(run) ? { publish: { api: "assistants" as const, threadId: message.thread_id, run } } : {}),
  });
}

/**
 * Call ids the run has outputs for (those of tool-call steps it completed, or that carry an output), each with the
 * output it took when the step shows it (null when it does not).
 */
function answeredToolCallIds(steps: RunStep[]): Map<string, string | null> {
  const taken = new Map<string, string | null>();
  for (const step of steps) {
    if (step.step_details?.type !== "tool_calls") continue;
    for (const call of step.step_details.tool_calls ?? []) {
      const output = typeof call.function?.output === "string" ? call.function.output : null;
      if (call.id && (step.status === "completed" || output !== null)) taken.set(call.id, output);
    }
  }
  return taken;
}

/** GET the run, with retries for transient failures. */
function getRunPatiently(message: { thread_id: string; run_id: string }, ctx: RecordContext, deps: AssistantsDeps) {
  return patiently(() => deps.endpoint.getRun(message.thread_id, message.run_id, callOptions(ctx)), ctx, deps);
}

function overlaps(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return b.some((id) => set.has(id));
}

function mismatch(expected: string[], given: string[], failure?: AssistantsFailure): Outcome {
  const detail = `the run expects outputs for [${expected.join(", ")}], the message has [${given.join(", ")}]`;
  return toolCallMismatch({ expected, given, detail, failure });
}

/** Every endpoint failure that ends a decision, mapped to its row of the table. */
function failed(failure: AssistantsFailure, ctx: RecordContext): Outcome {
  // Rows "401, 403, 429 insufficient_quota → hand back; alarm" and "… retry …, then hand the message back".
  const shared = sharedFailureOutcome(failure, ctx, "submit the outputs");
  if (shared) return shared;
  const http = { httpStatus: failure.httpStatus, endpointError: failure.error };
  const said = failure.error?.message ? `: ${failure.error.message}` : "";
  switch (failure.kind) {
    case "not_found":
      // Row "404 → run_not_found".
      return { kind: "dead_letter", reason: "run_not_found", detail: `the endpoint has no such thread or run${said}`, ...http };
    case "tool_call_mismatch":
      return mismatch(failure.expectedIds, failure.givenIds, failure);
    case "not_accepting":
      return {
        kind: "hand_back",
        reason: "endpoint_unavailable",
        detail: "the run kept refusing outputs while it still asked for them",
        ...http,
      };
    default:
      // Row "other 400 → rejected_by_endpoint".
      return {
        kind: "dead_letter",
        reason: "rejected_by_endpoint",
        detail: `the endpoint rejected the submission (HTTP ${failure.httpStatus})${said}`,
        ...http,
      };
  }
}
