import { type Polled, pollUntilRest } from "../../endpoint/poll";
import { closedInBackground } from "../../endpoint/server-sent-events";
import type { Outcome } from "../../pipeline/outcome";
import { callOptions, type DecisionLimits, type RecordContext } from "../../pipeline/record-context";
import type { AssistantsClient } from "./client";
import type { RunStreamItem } from "./event-stream";
import type { AssistantsFailure } from "./failure";
import { type NextStep, settleWith } from "./next-step";
import { isResting, type Run } from "./run-state";

export type Via = Extract<Outcome, { kind: "report" }>["via"];
type RunIds = { thread_id: string; run_id: string };
export type FollowDeps = DecisionLimits & { endpoint: Pick<AssistantsClient, "getRun"> };

/** The event stream broke before it told how the run went: the outputs may or may not have been taken. */
const STREAM_BROKE: AssistantsFailure = { kind: "transient", ambiguous: true, detail: "the event stream ended in an error" };

/** Publish a resting run; leave a moving one to a `watch_run` follow-up. */
export function reportOrWatch(run: Run, ids: RunIds, via: Via): Outcome {
  if (isResting(run)) return { kind: "report", state: { api: "assistants", threadId: ids.thread_id, run }, via };
  return { kind: "watch", followUp: { type: "watch_run", thread_id: ids.thread_id, run_id: ids.run_id }, status: run.status };
}

/**
 * Row "endpoint 2xx with a run → follow the run": polls it (`GET`, honouring `openai-poll-after-ms`) until
 * it rests or `until` (the end of the follow budget); a run still moving then is left to a `watch_run`.
 * The outputs are already taken here, so a failing GET also ends in a watch rather than a retry.
 */
export async function followRun(
  { run, ids, via, until }: { run: Run; ids: RunIds; via: Via; until: number },
  ctx: RecordContext,
  deps: FollowDeps,
): Promise<Outcome> {
  const look = async (): Promise<Polled<Run>> => {
    const seen = await deps.endpoint.getRun(ids.thread_id, ids.run_id, callOptions(ctx));
    return seen.ok
      ? { ok: true, value: seen.run, pollAfterMs: seen.pollAfterMs }
      : { ok: false, transient: seen.failure.kind === "transient" };
  };
  const latest = await pollUntilRest(run, { atRest: isResting, look, pollIntervalMs: deps.pollIntervalMs, until }, ctx);
  return reportOrWatch(latest, ids, via);
}

/**
 * Row "endpoint 2xx with a run", streamed: reads the submission's event stream until the run rests (the
 * caller cuts the stream at `until`). `event: error`, or a stream that breaks before any run state, leaves
 * the outcome unknown: the next step is a look at the run (an ambiguous failure's row).
 */
export async function followStream(
  { stream, ids, until }: { stream: AsyncGenerator<RunStreamItem>; ids: RunIds; until: number },
  ctx: RecordContext,
  deps: FollowDeps,
): Promise<NextStep> {
  const broke: NextStep = { kind: "again", failure: STREAM_BROKE, backoff: true, look: true };
  let latest: Run | undefined;
  try {
    for await (const item of closedInBackground(stream)) {
      if (item.kind === "error") return broke;
      if (item.kind === "done") break;
      latest = item.run;
      if (isResting(latest)) return settleWith(reportOrWatch(latest, ids, "submitted"));
    }
  } catch {
    // The stream broke (reset, timeout, deadline): fall through to what we know.
  }
  return latest ? settleWith(await followRun({ run: latest, ids, via: "submitted", until }, ctx, deps)) : broke;
}
