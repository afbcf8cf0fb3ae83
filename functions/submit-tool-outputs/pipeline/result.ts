import type { Outcome } from "./outcome";

/**
 * The one shape of a step's answer: `ok: true` with what it found, or `ok: false` with why it stops, the fields
 * spread beside `ok` so that callers read `seen.run`, `listed.items`, `refused.failure`, `ended.outcome`. A step
 * that ends in more than two ways tags its answers with `kind` instead, as `Outcome` and the failures do.
 * @example type GetRunResult = Result<{ run: Run; pollAfterMs?: number }, { failure: AssistantsFailure }>;
 */
export type Result<Value extends object = object, Stop extends object = object> = ({ ok: true } & Value) | ({ ok: false } & Stop);

/** A decide step: it goes on with its value, or its `outcome` ends the message here. */
export type Step<Value extends object = object> = Result<Value, { outcome: Outcome }>;

/** Ends the message with this outcome. */
export function stop(outcome: Outcome): { ok: false; outcome: Outcome } {
  return { ok: false, outcome };
}
