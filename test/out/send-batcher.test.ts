/**
 * The batcher that turns the sends of one batch's records into batch calls (SNS PublishBatch, SQS SendMessageBatch).
 */
import { describe, expect, it } from "vitest";
import { SendBatcher } from "../../functions/submit-tool-outputs/out/send-batcher";

/** A batcher over a recording fake of the batch call: which entries went in which call, and which failed. */
function batcherWith(failing: (value: string) => boolean = () => false, options: { maxBytes?: number } = {}) {
  const calls: string[][] = [];
  const batcher = new SendBatcher<string>({
    maxEntries: 10,
    maxBytes: options.maxBytes ?? 1000,
    lingerMs: 5,
    async send(values) {
      calls.push(values);
      return new Map(values.flatMap((value, i) => (failing(value) ? [[i, new Error(`refused ${value}`)] as const] : [])));
    },
  });
  return { batcher, calls };
}

describe("SendBatcher", () => {
  it("sends what arrives together in one call", async () => {
    // Prepare
    const { batcher, calls } = batcherWith();
    // Act
    await Promise.all(["a", "b", "c"].map((value) => batcher.add({ value, bytes: 10 })));
    // Assess
    expect(calls).toEqual([["a", "b", "c"]]);
  });

  it("makes a call of at most ten entries", async () => {
    const { batcher, calls } = batcherWith();
    await Promise.all(Array.from({ length: 23 }, (_, i) => batcher.add({ value: `m${i}`, bytes: 1 })));
    expect(calls.map((call) => call.length)).toEqual([10, 10, 3]);
  });

  it("keeps a call under its byte limit: a large entry goes alone", async () => {
    const { batcher, calls } = batcherWith(undefined, { maxBytes: 100 });
    await Promise.all([
      batcher.add({ value: "small", bytes: 30 }),
      batcher.add({ value: "large", bytes: 96 }),
      batcher.add({ value: "next", bytes: 5 }),
    ]);
    expect(calls).toEqual([["small"], ["large"], ["next"]]);
  });

  it("fails only the entries a partial failure names", async () => {
    const { batcher } = batcherWith((value) => value === "bad");
    const results = await Promise.allSettled(["ok", "bad", "fine"].map((value) => batcher.add({ value, bytes: 1 })));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  });

  it("fails every entry of a call that failed as a whole", async () => {
    const batcher = new SendBatcher<string>({
      maxEntries: 10,
      maxBytes: 1000,
      lingerMs: 5,
      send: () => Promise.reject(new Error("SNS down")),
    });
    const results = await Promise.allSettled(["a", "b"].map((value) => batcher.add({ value, bytes: 1 })));
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  });

  it("sends at once when no other entry can come, however long the linger", async () => {
    // Prepare
    const calls: string[][] = [];
    let deciding = 1;
    const batcher = new SendBatcher<string>({
      maxEntries: 10,
      maxBytes: 1000,
      lingerMs: 60_000,
      moreMayCome: () => deciding > 0,
      async send(values) {
        calls.push(values);
        return new Map();
      },
    });

    // Act
    const first = batcher.add({ value: "a", bytes: 1 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const sentBeforeTheLast = calls.length;
    deciding = 0;
    await Promise.all([first, batcher.add({ value: "b", bytes: 1 })]);
    await batcher.add({ value: "alone", bytes: 1 });

    // Assess
    expect(sentBeforeTheLast).toBe(0);
    expect(calls).toEqual([["a", "b"], ["alone"]]);
  });

  it("drops the entry of a caller whose signal aborted before the call went out", async () => {
    const { batcher, calls } = batcherWith();
    const stop = new AbortController();
    const kept = batcher.add({ value: "kept", bytes: 1 });
    const dropped = batcher.add({ value: "dropped", bytes: 1 }, stop.signal);
    stop.abort(new Error("cutoff"));
    await expect(dropped).rejects.toThrow("cutoff");
    await kept;
    expect(calls).toEqual([["kept"]]);
  });

  it("waits again for each entry that joins, so answers that come a little apart still share one call", async () => {
    // Prepare: entries 30 ms apart, a linger of 50 ms: each restarts the wait (the first alone would go at 50 ms).
    const calls: string[][] = [];
    const batcher = new SendBatcher<string>({
      maxEntries: 10,
      maxBytes: 1000,
      lingerMs: 50,
      maxLingerMs: 5000,
      moreMayCome: () => true,
      async send(values) {
        calls.push(values);
        return new Map();
      },
    });
    // Act
    const sent: Promise<void>[] = [];
    for (const value of ["a", "b", "c", "d"]) {
      sent.push(batcher.add({ value, bytes: 1 }));
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await Promise.all(sent);
    // Assess
    expect(calls).toEqual([["a", "b", "c", "d"]]);
  });

  it("never holds the first entry longer than maxLingerMs, however often others join", async () => {
    const calls: Array<{ values: string[]; at: number }> = [];
    const started = performance.now();
    const batcher = new SendBatcher<string>({
      maxEntries: 10,
      maxBytes: 1000,
      lingerMs: 15,
      maxLingerMs: 30,
      moreMayCome: () => true,
      async send(values) {
        calls.push({ values, at: performance.now() - started });
        return new Map();
      },
    });
    const sent: Promise<void>[] = [];
    for (const value of ["a", "b", "c", "d", "e", "f"]) {
      sent.push(batcher.add({ value, bytes: 1 }));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await Promise.all(sent);
    // The first call went out at its cap (30 ms), before the entries that came after it.
    expect(calls.length).toBeGreaterThan(1);
    expect(calls[0]!.values[0]).toBe("a");
    expect(calls[0]!.values).not.toContain("f");
  });

  it("passes the callers' one signal to the call as it is", async () => {
    const seen: Array<AbortSignal | undefined> = [];
    const batcher = new SendBatcher<string>({
      maxEntries: 10,
      maxBytes: 1000,
      lingerMs: 5,
      async send(_values, signal) {
        seen.push(signal);
        return new Map();
      },
    });
    const cutoff = new AbortController().signal;
    await Promise.all(["a", "b"].map((value) => batcher.add({ value, bytes: 1 }, cutoff)));
    expect(seen).toEqual([cutoff]);
  });
});
