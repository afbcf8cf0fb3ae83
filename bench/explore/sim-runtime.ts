/**
 * The explorer's simulated time and randomness. Installed once in the explorer's own process (never in the relay's
 * code, never in a test worker): Date, performance.now, the timer functions (global and node:timers/promises),
 * AbortSignal.timeout, Math.random and node:crypto's randomUUID/randomBytes all read this module, so a schedule is a
 * function of its seed alone. Timers never fire by themselves: the scheduler fires the earliest one when no
 * simulated I/O is ready (a discrete-event clock, as in FoundationDB's simulation).
 */
import { AsyncResource } from "node:async_hooks";
import crypto from "node:crypto";
import { syncBuiltinESMExports } from "node:module";
import timers from "node:timers";
import timersPromises from "node:timers/promises";
import { seededRandom } from "../../local/endpoint-simulator/faults";

/** mulberry32 (the simulator's own): every stream of randomness here is one of these. */
export const prng = seededRandom;

interface SimTimer {
  id: number;
  due: number;
  seq: number;
  run: () => void;
  /** The execution environment (and its generation) that set it: a crash drops its timers. */
  owner: unknown;
  interval?: number;
}

/** A simulated timer handle: what Node's Timeout offers that callers use (unref, ref, hasRef, refresh, numeric id). */
class SimTimeout {
  constructor(readonly id: number) {}
  unref() {
    return this;
  }
  ref() {
    return this;
  }
  hasRef() {
    return false;
  }
  refresh() {
    return this;
  }
  [Symbol.toPrimitive]() {
    return this.id;
  }
}

export const EPOCH = Date.UTC(2026, 0, 1);

class SimClock {
  now = EPOCH;
  random: () => number = prng(1);
  /** Who owns new timers (set by the scheduler from the async context). */
  owner: () => unknown = () => undefined;
  private timers = new Map<number, SimTimer>();
  private nextId = 1;
  private seq = 0;

  reset(seed: number): void {
    this.now = EPOCH;
    this.random = prng(seed ^ 0x5bd1e995);
    this.timers.clear();
    this.seq = 0;
  }

  set(run: () => void, ms: number, interval?: number): SimTimeout {
    const id = this.nextId++;
    const delay = Math.max(0, Number.isFinite(ms) ? ms : 0);
    const bound = AsyncResource.bind(run);
    this.timers.set(id, { id, due: this.now + delay, seq: this.seq++, run: bound, owner: this.owner(), interval });
    return new SimTimeout(id);
  }

  clear(handle: unknown): void {
    if (handle === undefined || handle === null) return;
    this.timers.delete(Number(handle));
  }

  /** The earliest timer's due time, or undefined. */
  nextDue(): number | undefined {
    let best: SimTimer | undefined;
    for (const t of this.timers.values()) if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    return best?.due;
  }

  /** Fires every timer due at or before now, earliest first; the clock never goes back. */
  fireDue(): number {
    let fired = 0;
    for (;;) {
      let best: SimTimer | undefined;
      for (const t of this.timers.values())
        if (t.due <= this.now && (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq))) best = t;
      if (!best) return fired;
      if (best.interval !== undefined) {
        best.due = this.now + Math.max(1, best.interval);
        best.seq = this.seq++;
      } else this.timers.delete(best.id);
      fired++;
      best.run();
    }
  }

  dropOwnedBy(owner: unknown): void {
    for (const [id, t] of this.timers) if (t.owner === owner) this.timers.delete(id);
  }

  pendingTimers(): number {
    return this.timers.size;
  }
}

export const clock = new SimClock();

let installed = false;

/** Replaces time and randomness in this process with the simulated ones. Idempotent. */
export function installSimRuntime(): void {
  if (installed) return;
  installed = true;
  const RealDate = Date;
  class SimDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(clock.now);
      else super(...(args as [number]));
    }
    static override now(): number {
      return clock.now;
    }
  }
  globalThis.Date = SimDate as DateConstructor;
  performance.now = () => clock.now - EPOCH;

  const setTimeoutSim = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => clock.set(() => fn(...args), ms ?? 0);
  const setIntervalSim = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => clock.set(() => fn(...args), ms ?? 0, ms ?? 0);
  globalThis.setTimeout = setTimeoutSim as unknown as typeof setTimeout;
  globalThis.setInterval = setIntervalSim as unknown as typeof setInterval;
  globalThis.clearTimeout = ((h: unknown) => clock.clear(h)) as typeof clearTimeout;
  globalThis.clearInterval = ((h: unknown) => clock.clear(h)) as typeof clearInterval;
  // Middy imports its timeout timer from node:timers: the same simulated timers there.
  Object.assign(timers, {
    setTimeout: globalThis.setTimeout,
    setInterval: globalThis.setInterval,
    clearTimeout: globalThis.clearTimeout,
    clearInterval: globalThis.clearInterval,
  });

  const sleep = <T>(ms?: number, value?: T, options?: { signal?: AbortSignal }): Promise<T | undefined> =>
    new Promise((resolve, reject) => {
      const signal = options?.signal;
      if (signal?.aborted) return reject(abortError(signal));
      const timer = clock.set(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve(value);
      }, ms ?? 0);
      const onAbort = () => {
        clock.clear(timer);
        reject(abortError(signal!));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  (timersPromises as { setTimeout: unknown }).setTimeout = sleep;

  AbortSignal.timeout = (ms: number) => {
    const controller = new AbortController();
    clock.set(() => controller.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError")), ms);
    return controller.signal;
  };

  Math.random = () => clock.random();
  (crypto as { randomUUID: unknown }).randomUUID = () => {
    const hex = Array.from({ length: 32 }, () => Math.floor(clock.random() * 16).toString(16)).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  };
  (crypto as { randomBytes: unknown }).randomBytes = (size: number) => {
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i++) bytes[i] = Math.floor(clock.random() * 256);
    return bytes;
  };
  // ESM named imports of built-in modules (`import { randomUUID } from "node:crypto"`) follow the patched exports.
  syncBuiltinESMExports();
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted", "AbortError");
}
