import type { RunStreamItem } from "./event-stream";
import type { Outcome } from "./outcome";
import { callOptions, type DecisionDeps, pause, type RecordContext } from "./record-context";
import { isResting, type Run } from "./run-state";

type Via = Extract<Outcome, { kind: "report" }>["via"];

const MIN_POLL_MS = 10;

/**
 * Polls the run (`GET`, honouring `openai-poll-after-ms`) until it rests or `until` (the end of the follow budget);
 * a run still moving then is left to a `watch_run` message. The outputs are already taken here, so a
 * failing GET also ends in a watch rather than a retry of the message.
 */
export async function followRun(
  run: Run,
  ids: { thread_id: string; run_id: string },
  via: Via,
  ctx: RecordContext,
  deps: DecisionDeps,
  until: number,
): Promise<Outcome> {
  let current = run;
  let wait = deps.pollIntervalMs;
  while (!isResting(current)) {
    if (!(await pause(wait, ctx, until))) return { kind: "watch", run: current };
    const seen = await deps.endpoint.getRun(ids.thread_id, ids.run_id, callOptions(ctx));
    if (!seen.ok) {
      if (seen.failure.kind !== "transient") return { kind: "watch", run: current };
      wait = deps.pollIntervalMs;
      continue;
    }
    current = seen.run;
    // An `openai-poll-after-ms` of 0 (or less) must not turn following into a busy loop.
    wait = Math.max(MIN_POLL_MS, seen.pollAfterMs ?? deps.pollIntervalMs);
  }
  return { kind: "report", run: current, via };
}

/**
 * Reads a submission's event stream until the run rests (the caller cuts the stream at `until`).
 * `event: error` or a stream that breaks before any run state makes the outcome unknown:
 * "look_again" asks the caller to GET the run.
 */
export async function followStream(
  stream: AsyncGenerator<RunStreamItem>,
  ids: { thread_id: string; run_id: string },
  ctx: RecordContext,
  deps: DecisionDeps,
  until: number,
): Promise<Outcome | "look_again"> {
  let latest: Run | undefined;
  try {
    for await (const item of stream) {
      if (item.kind === "error") return "look_again";
      if (item.kind === "done") break;
      latest = item.run;
      if (isResting(latest)) return { kind: "report", run: latest, via: "submitted" };
    }
  } catch {
    // The stream broke (reset, timeout, deadline): fall through to what we know.
  } finally {
    await stream.return(undefined).catch(() => undefined);
  }
  return latest ? followRun(latest, ids, "submitted", ctx, deps, until) : "look_again";
}
