import { getEventListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { SQSRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { runBatch } from "../../functions/submit-tool-outputs/pipeline/batch-runner";
import { sqsRecord } from "../helpers/factories";

const record = (id: string, group?: string): SQSRecord => sqsRecord("", { messageId: id, groupId: group });

describe("runBatch", () => {
  it("keeps at most `concurrency` records in flight", async () => {
    let inFlight = 0;
    let peak = 0;
    const records = Array.from({ length: 12 }, (_, i) => record(`m${i}`));
    const response = await runBatch(records, {
      concurrency: 3,
      stop: new AbortController().signal,
      process: async () => {
        peak = Math.max(peak, ++inFlight);
        await sleep(10);
        inFlight--;
        return true;
      },
      skip: async () => false,
    });
    expect(peak).toBe(3);
    expect(response.batchItemFailures).toEqual([]);
  });

  it("runs a FIFO group in order and skips the rest of it after a failure, in batch order", async () => {
    const seen: string[] = [];
    const skipped: string[] = [];
    const records = [record("a1", "A"), record("b1", "B"), record("a2", "A"), record("a3", "A"), record("b2", "B")];
    const response = await runBatch(records, {
      concurrency: 10,
      stop: new AbortController().signal,
      process: async (r) => {
        seen.push(r.messageId);
        await sleep(r.messageId === "a1" ? 20 : 1);
        return r.messageId !== "a2";
      },
      skip: async (r, why) => {
        skipped.push(`${r.messageId}:${why}`);
        return false;
      },
    });
    expect(seen.filter((id) => id.startsWith("a"))).toEqual(["a1", "a2"]);
    expect(seen.filter((id) => id.startsWith("b"))).toEqual(["b1", "b2"]);
    expect(skipped).toEqual(["a3:group_blocked"]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(["a2", "a3"]);
  });

  it("starts nothing once stopped and reports only what is not done", async () => {
    const stop = new AbortController();
    const response = await runBatch([record("m1"), record("m2"), record("m3")], {
      concurrency: 1,
      stop: stop.signal,
      process: async (r) => {
        if (r.messageId === "m1") stop.abort();
        return true;
      },
      skip: async () => false,
    });
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(["m2", "m3"]);
  });

  it("lets a skipped record be settled as done (the relay's last-receive DLQ write)", async () => {
    const stop = new AbortController();
    stop.abort();
    const response = await runBatch([record("m1")], {
      concurrency: 1,
      stop: stop.signal,
      process: async () => false,
      skip: async () => true,
    });
    expect(response.batchItemFailures).toEqual([]);
  });
});

describe("runBatch at the cutoff", () => {
  it("answers without waiting for records still settling, reporting only those as failed", async () => {
    const cutoff = new AbortController();
    const hanging = new Promise<boolean>(() => undefined);
    const answer = runBatch([record("m1"), record("m2")], {
      concurrency: 2,
      stop: new AbortController().signal,
      cutoff: cutoff.signal,
      process: async (r) => (r.messageId === "m1" ? true : hanging),
      skip: async () => false,
    });
    await sleep(20);
    cutoff.abort();
    expect((await answer).batchItemFailures).toEqual([{ itemIdentifier: "m2" }]);
  });

  it("leaves no listener on a cutoff that never fired", async () => {
    const cutoff = new AbortController();
    await runBatch([record("m1")], {
      concurrency: 1,
      stop: new AbortController().signal,
      cutoff: cutoff.signal,
      process: async () => true,
      skip: async () => false,
    });
    expect(getEventListeners(cutoff.signal, "abort")).toHaveLength(0);
  });
});
