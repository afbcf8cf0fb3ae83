import type { RunStep } from "./endpoint-client";
import type { EndpointFailure } from "./endpoint-failure";
import { followRun, followStream } from "./follow";
import type { RelayMessage, ToolOutputMessage, WatchRunMessage } from "./message";
import type { Outcome } from "./outcome";
import { backoffMs, callOptions, pause, type DecisionDeps, type RecordContext } from "./record-context";
import { requiredToolCallIds, standing, type Run } from "./run-state";

/**
 * What happens to one valid message: the table "What happens to each message" in README.md, row by row. The endpoint is passed in;
 * publishing, DLQ writes and hand-backs are carried out afterwards by settle.ts.
 * @example const outcome = await decide(parsed.message, ctx, deps);
 */
export async function decide(message: RelayMessage, ctx: RecordContext, deps: DecisionDeps): Promise<Outcome> {
  return message.type === "watch_run" ? watch(message, ctx, deps) : deliver(message, ctx, deps);
}

async function deliver(message: ToolOutputMessage, ctx: RecordContext, deps: DecisionDeps): Promise<Outcome> {
  const givenIds = message.tool_outputs.map((output) => output.tool_call_id);
  // A redelivery may follow an attempt whose submission went out (a crash, a timeout): look before submitting again.
  let lookFirst = ctx.receiveCount > 1;
  for (let attempt = 1; ; attempt++) {
    if (lookFirst) {
      const seen = await getRunPatiently(message, ctx, deps);
      if (!seen.ok) return failed(seen.failure);
      const verdict = await judge(seen.run, givenIds, message, ctx, deps);
      if (verdict !== "waiting") return verdict;
    }

    // A stream stays open while the run moves: bound it by the follow budget as well as the deadline.
    const signal = message.stream ? AbortSignal.any([ctx.signal, AbortSignal.timeout(deps.followBudgetMs)]) : ctx.signal;
    const submitted = await deps.endpoint.submitToolOutputs(message, callOptions(ctx, signal));
    if (submitted.ok) {
      if ("run" in submitted) return followRun(submitted.run, message, "submitted", ctx, deps);
      const followed = await followStream(submitted.stream, message, ctx, deps);
      if (followed !== "look_again") return followed;
      lookFirst = true;
      continue;
    }

    const failure = submitted.failure;
    switch (failure.kind) {
      case "not_accepting":
        // Someone (a duplicate, or our own earlier attempt) may have been first: the run says.
        if (lookFirst && attempt >= deps.maxAttempts) return failed(failure);
        lookFirst = true;
        continue;
      case "tool_call_mismatch":
        // Ids wholly unlike the expected ones may be an earlier round's, already taken: the run says.
        if (!lookFirst && !overlaps(failure.expectedIds, givenIds)) {
          lookFirst = true;
          continue;
        }
        return mismatch(failure.expectedIds, givenIds, failure);
      case "transient": {
        if (attempt >= deps.maxAttempts) return failed(failure);
        ctx.stats.retries++;
        const waited = await pause(backoffMs(attempt, deps, failure.retryAfterMs), ctx);
        if (!waited) return failed(failure);
        lookFirst = failure.ambiguous;
        continue;
      }
      default:
        return failed(failure);
    }
  }
}

async function watch(message: WatchRunMessage, ctx: RecordContext, deps: DecisionDeps): Promise<Outcome> {
  const seen = await getRunPatiently(message, ctx, deps);
  if (!seen.ok) return failed(seen.failure);
  return followRun(seen.run, message, "watched", ctx, deps);
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
): Promise<Outcome | "waiting"> {
  const where = standing(run, givenIds);
  if (where === "waiting") return "waiting";
  if (where === "expired") return { kind: "dead_letter", reason: "run_expired", detail: `run ${run.id} expired before it took these outputs`, publish: run };
  const expected = requiredToolCallIds(run);
  if (where === "other_ids" && overlaps(expected, givenIds)) return mismatch(expected, givenIds);

  const steps = await patiently(() => deps.endpoint.listToolCallSteps(message.thread_id, message.run_id, callOptions(ctx)), ctx, deps);
  if (!steps.ok && steps.failure.kind === "transient") return failed(steps.failure);
  const taken = steps.ok ? givenIds.every((id) => answeredToolCallIds(steps.steps).has(id)) : where === "moved_on";
  if (taken) return followRun(run, message, "already_accepted", ctx, deps);
  if (where === "other_ids") return mismatch(expected, givenIds);
  return {
    kind: "dead_letter",
    reason: "rejected_by_endpoint",
    detail: `run ${run.id} is ${run.status} and never took outputs for [${givenIds.join(", ")}]`,
    publish: run,
  };
}

/** Call ids of the tool-call steps the run completed: the outputs it took. */
function answeredToolCallIds(steps: RunStep[]): Set<string> {
  return new Set(
    steps
      .filter((step) => step.step_details?.type === "tool_calls" && step.status === "completed")
      .flatMap((step) => step.step_details?.tool_calls?.flatMap((call) => (call.id ? [call.id] : [])) ?? []),
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
    if (result.ok || result.failure.kind !== "transient" || attempt >= deps.maxAttempts) return result;
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
export function failed(failure: EndpointFailure): Outcome {
  const http = { httpStatus: failure.httpStatus, endpointError: failure.error };
  const said = failure.error?.message ? `: ${failure.error.message}` : "";
  switch (failure.kind) {
    case "not_found":
      return { kind: "dead_letter", reason: "run_not_found", detail: `the endpoint has no such thread or run${said}`, ...http };
    case "rejected":
      return { kind: "dead_letter", reason: "rejected_by_endpoint", detail: `the endpoint rejected the submission (HTTP ${failure.httpStatus})${said}`, ...http };
    case "tool_call_mismatch":
      return mismatch(failure.expectedIds, failure.givenIds, failure);
    case "unauthorized":
      return { kind: "hand_back", reason: "unauthorized", detail: `the endpoint refused the credentials (HTTP ${failure.httpStatus})`, ...http };
    case "quota_exceeded":
      return { kind: "hand_back", reason: "quota_exceeded", detail: "the endpoint's quota is exhausted (429 insufficient_quota)", ...http };
    case "not_accepting":
      return { kind: "hand_back", reason: "endpoint_unavailable", detail: "the run kept refusing outputs while it still asked for them", ...http };
    case "transient":
      return { kind: "hand_back", reason: "endpoint_unavailable", detail: `the endpoint did not answer usefully (${failure.detail})`, retryAfterMs: failure.retryAfterMs, ...http };
  }
}
