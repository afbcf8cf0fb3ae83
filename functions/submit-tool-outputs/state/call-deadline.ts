import { AsyncLocalStorage } from "node:async_hooks";
import { type CallLimit, callLimit } from "../pipeline/call-limit";

/**
 * The deadline of the record a state-table call is made for (DESIGN Part 3, rule 11), carried by the async context
 * rather than through every collection and claim method: the record's work runs `withinRecord(ctx.signal, …)`, and
 * each state-table call ends at the first of its own timeout and that signal. A hung call can then never hold a
 * scope's chain (collect/collector.ts) past its record's deadline, nor into the next invocation.
 * @example await withinRecord(ctx.signal, () => collector.collect(message, dialect, record, ctx));
 */
const current = new AsyncLocalStorage<AbortSignal>();

export function withinRecord<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  return current.run(signal, work);
}

/** The limit a state-table call made now must end by: its own timeout, the caller's signal, the record's deadline. */
export function stateCallLimit(timeoutMs: number, signal?: AbortSignal): CallLimit {
  return callLimit(timeoutMs, [signal, current.getStore()], "state table call");
}
