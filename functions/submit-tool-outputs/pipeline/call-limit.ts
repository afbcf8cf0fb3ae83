/**
 * The signal of one outgoing call: it aborts at the first of its own timeout and the signals it is linked to (the
 * invocation's deadline, a record's). `clearTimer()` ends the timeout only; `dispose()` also unlinks it.
 *
 * Written here rather than with `AbortSignal.any([AbortSignal.timeout(ms), signal])`: `any` keeps a weak reference
 * to each composite in every source, so the invocation's signal gathers one per call until the garbage collector runs,
 * and it costs about 8 µs a call against about 1 µs for one controller with plain listeners (bench/README.md, CPU per
 * message). Node's fetch offers no per-call timeout of its own (undici's dispatcher timeouts have a one-second grain
 * and its package would add half a megabyte to the cold start).
 * @example const limit = callLimit(5_000, [ctx.signal]); try { await fetch(url, { signal: limit.signal }) } finally { limit.dispose() }
 */
export interface CallLimit {
  readonly signal: AbortSignal;
  clearTimer(): void;
  dispose(): void;
}

export function callLimit(timeoutMs: number, linked: ReadonlyArray<AbortSignal | undefined>, what = "call"): CallLimit {
  const controller = new AbortController();
  const sources = linked.filter((signal): signal is AbortSignal => signal !== undefined);
  const follow = (event: Event) => controller.abort((event.target as AbortSignal).reason);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const already = sources.find((signal) => signal.aborted);
  if (already) controller.abort(already.reason);
  else {
    for (const source of sources) source.addEventListener("abort", follow, { once: true });
    timer = setTimeout(() => controller.abort(new DOMException(`${what} timed out`, "TimeoutError")), timeoutMs);
  }
  const clearTimer = () => clearTimeout(timer);
  return {
    signal: controller.signal,
    clearTimer,
    dispose() {
      clearTimer();
      for (const source of sources) source.removeEventListener("abort", follow);
    },
  };
}
