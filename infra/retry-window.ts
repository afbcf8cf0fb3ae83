/**
 * How long a message can stay in the input queue while the relay retries it, at worst: every receive but the
 * last hands it back (or crashes), and the last one writes the DLQ record. SQS deletes a message when the queue's
 * retention ends, counted from when it was first sent, however many receives are left: a message whose retries
 * outlast the retention vanishes without a DLQ record. Two guards (DESIGN Part 3, rule 1): the stack refuses
 * settings whose own delays cannot fit the retention with a receive to spare; and at run time, where an endpoint's
 * `retry-after` asks for more (up to SQS's 12 h a hand-back), the relay cuts the delay to what the retention leaves
 * (INPUT_RETENTION_SECONDS, set from this constant) and writes the DLQ record itself once no receive fits.
 */

/** The input queue's retention: SQS's default of 4 days, set explicitly so that this check and the queue agree. */
export const INPUT_RETENTION_SECONDS = 4 * 24 * 3600;

/** SQS's longest visibility timeout, which also bounds every hand-back delay. */
const MAX_VISIBILITY_SECONDS = 43_200;

/** The relay's jitter adds at most 20 % to a hand-back delay (functions/submit-tool-outputs/out/aws-sinks.ts). */
const MAX_JITTER = 1.2;

export interface RetryWindowSettings {
  maxReceiveCount: number;
  /** The input queue's visibility timeout: how long a receive that crashes keeps the message hidden. */
  visibilityTimeoutSeconds: number;
  functionTimeoutSeconds: number;
  batchingWindowSeconds: number;
  /** The relay's RETRY_VISIBILITY_BASE_SECONDS / RETRY_VISIBILITY_MAX_SECONDS. */
  retryVisibilityBaseSeconds: number;
  retryVisibilityMaxSeconds: number;
}

/**
 * The longest hand-back delay after receive `n`: base × 2^(n−1), capped at the maximum, plus the largest jitter,
 * within SQS's 12 h. A `retry-after` from the endpoint can ask for more; the relay caps that at run time.
 * @example longestHandBackSeconds(3, { retryVisibilityBaseSeconds: 10, retryVisibilityMaxSeconds: 900 }) // 48
 */
export function longestHandBackSeconds(
  receive: number,
  settings: Pick<RetryWindowSettings, "retryVisibilityBaseSeconds" | "retryVisibilityMaxSeconds">,
): number {
  const grown = Math.min(settings.retryVisibilityMaxSeconds, settings.retryVisibilityBaseSeconds * 2 ** Math.max(0, receive - 1));
  return Math.min(MAX_VISIBILITY_SECONDS, Math.round(grown * MAX_JITTER));
}

/**
 * The worst-case time from a message's first receive to the end of its last one. Each receive but the last ends
 * when the message is visible again: after the hand-back delay, counted from when the relay answers (at the latest
 * the batching window plus the function timeout after the receive), or after the visibility timeout if the
 * invocation crashed — whichever is later. The last receive takes up to the batching window plus the function timeout.
 * @example worstCaseRetrySeconds({ maxReceiveCount: 5, visibilityTimeoutSeconds: 360, functionTimeoutSeconds: 60,
 *   batchingWindowSeconds: 0, retryVisibilityBaseSeconds: 10, retryVisibilityMaxSeconds: 900 }) // 1500
 */
/** One more receive: what the relay keeps to spare before the retention ends (the visibility timeout plus the function's). */
export function oneReceiveSeconds(settings: Pick<RetryWindowSettings, "visibilityTimeoutSeconds" | "functionTimeoutSeconds">): number {
  return settings.visibilityTimeoutSeconds + settings.functionTimeoutSeconds;
}

export function worstCaseRetrySeconds(settings: RetryWindowSettings): number {
  const invocation = settings.batchingWindowSeconds + settings.functionTimeoutSeconds;
  let total = invocation;
  for (let receive = 1; receive < settings.maxReceiveCount; receive++) {
    total += Math.max(settings.visibilityTimeoutSeconds, invocation + longestHandBackSeconds(receive, settings));
  }
  return total;
}
