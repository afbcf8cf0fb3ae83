import type { RunStep } from "./endpoint-client";
import type { EndpointFailure } from "./endpoint-failure";
import { followRun, followStream } from "./follow";
import type { RelayMessage, ToolOutputMessage, WatchRunMessage } from "./message";
import type { Outcome } from "./outcome";
import { backoffMs, callOptions, type DecisionDeps, pause, type RecordContext } from "./record-context";
import { isResting, type Run, requiredToolCallIds, standing } from "./run-state";

/**
 * What happens to one valid message: the table "What happens to each message" in README.md, row by
 * row. The endpoint is passed in; publishing, DLQ writes and hand-backs are carried out by settle.ts.
 * @example const outcome = await decide(parsed.message, ctx, deps);
 */
export async function decide(message: RelayMessage, ctx: RecordContext, deps: DecisionDeps): Promise<Outcome> {
  return message.type === "watch_run" ? watch(message, ctx, deps) : deliver(message, ctx, deps);
}

async function deliver(message: ToolOutputMessage, ctx: RecordContext, deps: DecisionDeps): Promise<Outcome> {
  const givenIds = message.tool_outputs.map((output) => output.tool_call_id);
  // A redelivery may follow an attempt whose submission went out (a crash, a timeout): look before submitting again.
  let lookFirst = ctx.receiveCount > 1;
  let lastFailure: EndpointFailure | undefined;
  for (let attempt = 1; ; attempt++) {
    if (lookFirst) {
      const verdict = await look(message, givenIds, lastFailure, ctx, deps);
      if (verdict !== "waiting") return verdict;
    }
    const result = await submitOnce(message, givenIds, ctx, deps);
    if (!("again" in result)) return result;
    lastFailure = result.failure;
    if (attempt >= deps.maxAttempts) {
      // Attempts bound the submissions, not the last look: a duplicate may have been faster.
      const verdict = result.look ? await look(message, givenIds, lastFailure, ctx, deps) : "waiting";
      return verdict !== "waiting" ? verdict : failed(result.failure, ctx);
    }
    if (result.again === "after_backoff") {
      ctx.stats.retries++;
      const retryAfterMs = result.failure.kind === "transient" ? result.failure.retryAfterMs : undefined;
      if (!(await pause(backoffMs(attempt, deps, retryAfterMs), ctx))) return failed(result.failure, ctx);
    }
    lookFirst = result.look;
  }
}

/** GET the run and judge it (waiting → submit again), or the failure that kept us from seeing it. */
async function look(
  message: ToolOutputMessage,
  givenIds: string[],
  lastFailure: EndpointFailure | undefined,
  ctx: RecordContext,
  deps: DecisionDeps,
): Promise<Outcome | "waiting"> {
  const seen = await getRunPatiently(message, ctx, deps);
  if (!seen.ok) return failed(seen.failure, ctx);
  return judge(seen.run, givenIds, message, ctx, deps, lastFailure);
}

/** Another attempt is due: at once or after a backoff, and with or without a look at the run first. */
type Again = { again: "now" | "after_backoff"; look: boolean; failure: EndpointFailure };

const STREAM_BROKE: EndpointFailure = { kind: "transient", ambiguous: true, detail: "the event stream ended in an error" };

/** One submission and what it says: an outcome, or another attempt. */
async function submitOnce(
  message: ToolOutputMessage,
  givenIds: string[],
  ctx: RecordContext,
  deps: DecisionDeps,
): Promise<Outcome | Again> {
  // A stream stays open while the run moves: it is cut at the end of the follow budget.
  const followEnd = new AbortController();
  const signal = message.stream ? AbortSignal.any([ctx.signal, followEnd.signal]) : ctx.signal;
  const submitted = await deps.endpoint.submitToolOutputs(message, callOptions(ctx, signal));
  if (submitted.ok) {
    const until = followUntil(ctx, deps);
    if ("run" in submitted) return followRun(submitted.run, message, "submitted", ctx, deps, until);
    const timer = setTimeout(() => followEnd.abort(), until - Date.now());
    try {
      const followed = await followStream(submitted.stream, message, ctx, deps, until);
      return followed === "look_again" ? { again: "after_backoff", look: true, failure: STREAM_BROKE } : followed;
    } finally {
      clearTimeout(timer);
    }
  }

  const failure = submitted.failure;
  switch (failure.kind) {
    case "not_accepting":
      // Someone (a duplicate, or our own earlier attempt) may have been first: the run says.
      return { again: "now", look: true, failure };
    case "tool_call_mismatch":
      // Ids wholly unlike the expected ones may be an earlier round's, already taken, even if the run
      // still asked for them when we looked (a duplicate was faster): the run's steps say.
      if (!overlaps(failure.expectedIds, givenIds)) return { again: "now", look: true, failure };
      return mismatch(failure.expectedIds, givenIds, failure);
    case "transient":
      // After an ambiguous failure the submission may have been taken: look before submitting again.
      return { again: "after_backoff", look: failure.ambiguous, failure };
    default:
      return failed(failure, ctx);
  }
}

async function watch(message: WatchRunMessage, ctx: RecordContext, deps: DecisionDeps): Promise<Outcome> {
  const seen = await getRunPatiently(message, ctx, deps);
  if (!seen.ok) return failed(seen.failure, ctx);
  return followRun(seen.run, message, "watched", ctx, deps, followUntil(ctx, deps));
}

/** When following a run must end: the follow budget from now, and never past the invocation's deadline. */
function followUntil(ctx: RecordContext, deps: DecisionDeps): number {
  return Math.min(ctx.deadline, Date.now() + deps.followBudgetMs);
}

/**
 * The "GET the run before anything else" row: waiting → submit again; expired → DLQ; otherwise the run
 * no longer asks for these ids, and its steps tell whether it took them (a duplicate, or our own earlier
 * attempt: report) or never did (wrong ids: DLQ). Without a steps route, the plain rule stands: a run
 * that moved on took them; a run asking for other ids is a mismatch.
 */
async function judge(
  run: Run,
  givenIds: string[],
  message: ToolOutputMessage,
  ctx: RecordContext,
  deps: DecisionDeps,
  lastFailure?: EndpointFailure,
): Promise<Outcome | "waiting"> {
  // A mismatch the endpoint answered keeps its HTTP status and error on the DLQ record.
  const answered = lastFailure?.kind === "tool_call_mismatch" ? lastFailure : undefined;
  const where = standing(run, givenIds);
  if (where === "waiting") return "waiting";
  if (where === "expired")
    return { kind: "dead_letter", reason: "run_expired", detail: `run ${run.id} expired before it took these outputs`, publish: run };
  const expected = requiredToolCallIds(run);
  if (where === "other_ids" && overlaps(expected, givenIds)) return mismatch(expected, givenIds, answered);

  const steps = await patiently(() => deps.endpoint.listToolCallSteps(message.thread_id, message.run_id, callOptions(ctx)), ctx, deps);
  if (!steps.ok && steps.failure.kind === "transient") return failed(steps.failure, ctx);
  const taken = steps.ok ? givenIds.every((id) => answeredToolCallIds(steps.steps).has(id)) : where === "moved_on";
  if (taken) return followRun(run, message, "already_accepted", ctx, deps, followUntil(ctx, deps));
  if (where === "other_ids") return mismatch(expected, givenIds, answered);
  return {
    kind: "dead_letter",
    reason: "rejected_by_endpoint",
    detail: `run ${run.id} is ${run.status} and never took outputs for [${givenIds.join(", ")}]`,
    ...(isResting(run) ? { publish: run } : {}),
  };
}

/** Call ids the run has outputs for: those of tool-call steps it completed, or that carry an output. */
function answeredToolCallIds(steps: RunStep[]): Set<string> {
  return new Set(
    steps
      .filter((step) => step.step_details?.type === "tool_calls")
      .flatMap((step) =>
        (step.step_details?.tool_calls ?? []).flatMap((call) =>
          call.id && (step.status === "completed" || (call.function?.output ?? null) !== null) ? [call.id] : [],
        ),
      ),
  );
}

/** GET the run, with retries for transient failures. */
function getRunPatiently(message: { thread_id: string; run_id: string }, ctx: RecordContext, deps: DecisionDeps) {
  return patiently(() => deps.endpoint.getRun(message.thread_id, message.run_id, callOptions(ctx)), ctx, deps);
}

/** Repeats a GET (safe to repeat) while it fails transiently, with backoff, within the attempts and the deadline. */
async function patiently<T extends { ok: true } | { ok: false; failure: EndpointFailure }>(
  get: () => Promise<T>,
  ctx: RecordContext,
  deps: DecisionDeps,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const result = await get();
    if (result.ok || result.failure.kind !== "transient" || attempt >= deps.maxAttempts || ctx.signal.aborted) return result;
    ctx.stats.retries++;
    if (!(await pause(backoffMs(attempt, deps, result.failure.retryAfterMs), ctx))) return result;
  }
}

function overlaps(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return b.some((id) => set.has(id));
}

function mismatch(expected: string[], given: string[], failure?: EndpointFailure): Outcome {
  return {
    kind: "dead_letter",
    reason: "tool_call_mismatch",
    detail: `the run expects outputs for [${expected.join(", ")}], the message has [${given.join(", ")}]`,
    httpStatus: failure?.httpStatus,
    endpointError: failure?.error,
    expectedToolCallIds: expected,
    givenToolCallIds: given,
  };
}

/** Every endpoint failure that ends a decision, mapped to its row of the table. */
function failed(failure: EndpointFailure, ctx: RecordContext): Outcome {
  const http = { httpStatus: failure.httpStatus, endpointError: failure.error };
  if (failure.kind === "transient" && ctx.signal.aborted) {
    return { kind: "hand_back", reason: "deadline", detail: `stopped at the invocation's deadline (${failure.detail})`, ...http };
  }
  const said = failure.error?.message ? `: ${failure.error.message}` : "";
  switch (failure.kind) {
    case "not_found":
      return { kind: "dead_letter", reason: "run_not_found", detail: `the endpoint has no such thread or run${said}`, ...http };
    case "rejected":
      return {
        kind: "dead_letter",
        reason: "rejected_by_endpoint",
        detail: `the endpoint rejected the submission (HTTP ${failure.httpStatus})${said}`,
        ...http,
      };
    case "tool_call_mismatch":
      return mismatch(failure.expectedIds, failure.givenIds, failure);
    case "unauthorized":
      return {
        kind: "hand_back",
        reason: "unauthorized",
        detail: `the endpoint refused the credentials (HTTP ${failure.httpStatus})`,
        ...http,
      };
    case "quota_exceeded":
      return { kind: "hand_back", reason: "quota_exceeded", detail: "the endpoint's quota is exhausted (429 insufficient_quota)", ...http };
    case "not_accepting":
      return {
        kind: "hand_back",
        reason: "endpoint_unavailable",
        detail: "the run kept refusing outputs while it still asked for them",
        ...http,
      };
    case "transient":
      return {
        kind: "hand_back",
        reason: "endpoint_unavailable",
        detail: `the endpoint did not answer usefully (${failure.detail})`,
        retryAfterMs: failure.retryAfterMs,
        ...http,
      };
  }
}
