import { setTimeout as sleep } from "node:timers/promises";
import type { DecisionLimits, RecordContext } from "./record-context";

/**
 * Retry timing, both kinds: the backoff between attempts inside one invocation, and the visibility delay of
 * a message handed back to SQS between receives.
 */

/**
 * Exponential backoff with jitter as openai-node does it (base × 2^n, capped, minus up to 25 %),
 * or the server's own `retry-after` when it gave one.
 * @example backoffMs(2, limits) // ≈ 750–1000 ms with the defaults
 */
export function backoffMs(
  attempt: number,
  limits: Pick<DecisionLimits, "retryBaseDelayMs" | "retryMaxDelayMs">,
  retryAfterMs?: number,
  random = Math.random,
): number {
  if (retryAfterMs !== undefined) return retryAfterMs;
  const ceiling = Math.min(limits.retryBaseDelayMs * 2 ** (attempt - 1), limits.retryMaxDelayMs);
  return ceiling * (1 - 0.25 * random());
}

/** Waits `ms` unless that would pass the deadline or the invocation stops; says whether it waited. */
export async function pause(ms: number, ctx: RecordContext, until = ctx.deadline): Promise<boolean> {
  if (Date.now() + ms >= until || ctx.signal.aborted) return false;
  try {
    await sleep(ms, undefined, { signal: ctx.signal });
    return true;
  } catch {
    return false;
  }
}

/**
 * Repeats a call that is safe to repeat (a GET) while it fails transiently, with backoff, within the attempts
 * and the deadline.
 * @example const seen = await patiently(() => client.getRun(threadId, runId, callOptions(ctx)), ctx, limits);
 */
export async function patiently<T extends { ok: true } | { ok: false; failure: { kind: string; retryAfterMs?: number } }>(
  get: () => Promise<T>,
  ctx: RecordContext,
  limits: DecisionLimits,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const result = await get();
    if (result.ok || result.failure.kind !== "transient" || attempt >= limits.maxAttempts || ctx.signal.aborted) return result;
    ctx.stats.retries++;
    if (!(await pause(backoffMs(attempt, limits, result.failure.retryAfterMs), ctx))) return result;
  }
}

/** SQS's longest visibility timeout, counted from the receive. */
const MAX_VISIBILITY_SECONDS = 43_200;
/** The event source mapping may have received a record this long before the invocation (its batching window, at most). */
const RECEIVE_BEFORE_INVOCATION_SECONDS = 300;

/** What else shapes one hand-back's delay: the server's `retry-after`, the random draw, the invocation's age. */
export interface RedeliveryFactors {
  retryAfterMs?: number;
  /** A draw in [0, 1) for the jitter (Math.random unless a test fixes it). */
  random?: () => number;
  /** How long ago the invocation started, in seconds. */
  sinceInvocationSeconds?: number;
}

/**
 * The visibility delay of a handed-back message: base × 2^(receives − 1), capped, ±20 % jitter so a burst of
 * failures does not return as one burst; never shorter than the server's `retry-after`; and never past SQS's
 * 12 hours from the receive (`sinceInvocationSeconds` plus the batching window it may have waited), which SQS
 * would refuse.
 * @example redeliveryDelaySeconds(3, { baseSeconds: 10, maxSeconds: 900 }) // ≈ 32–48
 */
export function redeliveryDelaySeconds(
  receiveCount: number,
  limits: { baseSeconds: number; maxSeconds: number },
  { retryAfterMs, random = Math.random, sinceInvocationSeconds = 0 }: RedeliveryFactors = {},
): number {
  const grown = Math.min(limits.maxSeconds, limits.baseSeconds * 2 ** Math.max(0, receiveCount - 1));
  const jittered = Math.round(grown * (0.8 + 0.4 * random()));
  const floor = retryAfterMs === undefined ? 0 : Math.ceil(retryAfterMs / 1000);
  const ceiling = Math.max(0, MAX_VISIBILITY_SECONDS - RECEIVE_BEFORE_INVOCATION_SECONDS - Math.ceil(sinceInvocationSeconds));
  return Math.min(ceiling, Math.max(jittered, floor));
}

/**
 * Rule 1 (DESIGN Part 3): the longest hand-back delay, in seconds, that still leaves the message one more receive
 * (the queue's visibility timeout plus the function's timeout) before the input queue's retention ends, counted from
 * the message's `SentTimestamp`; undefined when no further receive fits at all (the relay then writes the DLQ record
 * now). Infinity when the queue did not say when the message was sent.
 * @example retentionAllowsSeconds({ sentAt, retentionSeconds: 345_600, visibilityTimeoutSeconds: 360, functionTimeoutSeconds: 60 })
 */
export function retentionAllowsSeconds(o: {
  sentAt?: number;
  retentionSeconds: number;
  visibilityTimeoutSeconds: number;
  functionTimeoutSeconds: number;
  now?: number;
}): number | undefined {
  if (o.sentAt === undefined || !Number.isFinite(o.sentAt)) return Number.POSITIVE_INFINITY;
  const endsAt = o.sentAt + o.retentionSeconds * 1000;
  const left = (endsAt - (o.now ?? Date.now())) / 1000 - o.visibilityTimeoutSeconds - o.functionTimeoutSeconds;
  return left >= 0 ? Math.floor(left) : undefined;
}
