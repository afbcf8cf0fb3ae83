import type { Collector } from "./collector";

/** What the relay asks of the collector. */
export type RelayCollector = Pick<Collector, "collect" | "check" | "told">;

/**
 * The collector, built when the first collecting message or check comes: collect/ is a module of its own that a cold
 * start never compiles (test/infra/bundling.test.ts), as most invocations carry no collecting message. A failed
 * load is tried again by the next message.
 * @example const collector = collectorOnFirstUse(async () => new (await import("./collector")).Collector(parts));
 */
export function collectorOnFirstUse(build: () => Promise<Collector>): RelayCollector {
  let built: Promise<Collector> | undefined;
  const collector = () => {
    built ??= build().catch((error) => {
      built = undefined;
      throw error;
    });
    return built;
  };
  return {
    collect: async (message, dialect, record, ctx) => (await collector()).collect(message, dialect, record, ctx),
    check: async (check, dialects, ctx) => (await collector()).check(check, dialects, ctx),
    told: async (at, fate, messageId) => (await collector()).told(at, fate, messageId),
  };
}
