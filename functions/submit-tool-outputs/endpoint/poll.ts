import type { RecordContext } from "../pipeline/record-context";
import type { Result } from "../pipeline/result";
import { pause } from "../pipeline/retry-timing";

/** One look at a moving object: what it is now and how long the endpoint asks to wait, or whether a failure may pass. */
export type Polled<T> = Result<{ value: T; pollAfterMs?: number }, { transient: boolean }>;

/** The least wait between polls: an `openai-poll-after-ms` of 0 (or less) must not turn following into a busy loop. */
const MIN_POLL_MS = 10;

/** How one API's object is followed to rest. */
export interface PollPlan<T> {
  /** True when the object rests (a run at rest, a final response). */
  atRest(value: T): boolean;
  /** One GET of the object as it is now. */
  look(current: T): Promise<Polled<T>>;
  /** Wait when the endpoint names none. */
  pollIntervalMs: number;
  /** Epoch ms when following ends (the follow budget, never past the deadline). */
  until: number;
}

/**
 * The poll loop every API follows its objects with: look (honouring the endpoint's poll-after) until the object
 * rests, `until` comes, or a failure that is not transient ends it; a transient failure waits the usual interval and
 * looks again. Returns the latest state seen: the caller reports it, or leaves a moving one to its `watch_*`.
 * @example const latest = await pollUntilRest(run, { atRest: isResting, look, pollIntervalMs, until }, ctx);
 */
export async function pollUntilRest<T>(first: T, plan: PollPlan<T>, ctx: RecordContext): Promise<T> {
  let current = first;
  let wait = plan.pollIntervalMs;
  while (!plan.atRest(current)) {
    if (!(await pause(wait, ctx, plan.until))) break;
    const seen = await plan.look(current);
    if (!seen.ok) {
      if (!seen.transient) break;
      wait = plan.pollIntervalMs;
      continue;
    }
    current = seen.value;
    wait = Math.max(MIN_POLL_MS, seen.pollAfterMs ?? plan.pollIntervalMs);
  }
  return current;
}
