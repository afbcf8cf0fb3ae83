/**
 * Settling on the last receive, against in-memory sinks (the relay's injected I/O edge) that record
 * what was written and can be made to fail.
 */
import { describe, expect, it } from "vitest";
import { mayHaveLanded, type RelaySinks } from "../../functions/submit-tool-outputs/out/aws-sinks";
import type { DlqRecord } from "../../functions/submit-tool-outputs/out/dlq-record";
import type { Outcome } from "../../functions/submit-tool-outputs/pipeline/outcome";
import { settle } from "../../functions/submit-tool-outputs/pipeline/settle";
import { sqsRecord } from "../helpers/factories";

const limits = {
  maxReceiveCount: 3,
  retryVisibilityBaseSeconds: 10,
  retryVisibilityMaxSeconds: 900,
  inputRetentionSeconds: 345_600,
  inputVisibilityTimeoutSeconds: 360,
};
const record = (receiveCount: number) => sqsRecord("{}", { receiveCount });
const context = { thread_id: "thread_1", run_id: "run_1" };
/** The message being settled: a tool-output message (its run may have taken the outputs) or a watch_run. */
const message = (receiveCount: number, carriesOutputs: boolean) => ({
  record: record(receiveCount),
  context,
  receiveCount,
  invokedAt: Date.now(),
  followUpIfTaken: carriesOutputs ? ({ type: "watch_run", thread_id: "thread_1", run_id: "run_1" } as const) : undefined,
});

function sinks(failing: Partial<Record<keyof RelaySinks, boolean>> = {}) {
  const written = { dlq: [] as DlqRecord[], watches: 0, published: 0, delays: [] as number[] };
  const maybeFail = (name: keyof RelaySinks) => (failing[name] ? Promise.reject(new Error(`${name} down`)) : Promise.resolve());
  const io: RelaySinks = {
    publishResult: async () => {
      await maybeFail("publishResult");
      written.published++;
    },
    writeDeadLetter: async (r) => {
      await maybeFail("writeDeadLetter");
      written.dlq.push(r);
    },
    enqueueWatch: async () => {
      await maybeFail("enqueueWatch");
      written.watches++;
    },
    delayRedelivery: async (_, seconds) => void written.delays.push(seconds),
    enqueueCheck: async () => undefined,
  };
  return { io, written };
}

const unavailable: Outcome = { kind: "hand_back", reason: "endpoint_unavailable", detail: "HTTP 502", httpStatus: 502 };

/** A run that expired, its state to be published beside its DLQ record. */
const expired: Outcome = {
  kind: "dead_letter",
  reason: "run_expired",
  detail: "run run_1 expired",
  publish: { api: "assistants", threadId: "thread_1", run: { id: "run_1", status: "expired" } },
};

describe("settle on the last receive", () => {
  it("writes the real reason and sends a watch_run after a failure that may hide an acceptance", async () => {
    const { io, written } = sinks();
    const settled = await settle(unavailable, message(3, true), { sinks: io, limits });
    expect(settled).toMatchObject({ done: true, reason: "retries_exhausted" });
    expect(written.watches).toBe(1);
    expect(written.dlq[0]).toMatchObject({ reason: "retries_exhausted", http_status: 502 });
  });

  it("keeps the real reason when the watch_run cannot be sent", async () => {
    const { io, written } = sinks({ enqueueWatch: true });
    const settled = await settle(unavailable, message(3, true), { sinks: io, limits });
    expect(settled).toMatchObject({ done: true, reason: "retries_exhausted" });
    expect(written.dlq[0]!.reason).toBe("retries_exhausted");
    expect(written.dlq[0]!.detail).not.toContain("watch_run follows");
  });

  it("sends no watch_run for a watch_run message: a watch never takes outputs, so the chain ends", async () => {
    const { io, written } = sinks();
    await settle(unavailable, message(3, false), { sinks: io, limits });
    expect(written.watches).toBe(0);
    expect(written.dlq).toHaveLength(1);
  });

  it("dead-letters with its own reason when the run state cannot be published, and says so", async () => {
    const { io, written } = sinks({ publishResult: true });
    const settled = await settle(expired, message(3, true), { sinks: io, limits });
    expect(settled).toMatchObject({ done: true, reason: "run_expired" });
    expect(written.dlq[0]!.detail).toContain("could not be published");
  });

  it("before the last receive, hands back a record whose run state could not be published, to try again", async () => {
    const { io, written } = sinks({ publishResult: true });
    const settled = await settle(expired, message(1, true), { sinks: io, limits });
    expect(settled).toMatchObject({ done: false, reason: "results_unavailable" });
    expect(written.dlq).toEqual([]);
    expect(written.delays).toHaveLength(1);
  });

  it("tries a failed publish again before the DLQ: a publish whose answer was lost may have named the message", async () => {
    // The first publish lands but its answer is lost; the second is answered.
    const { io, written } = sinks();
    const events: string[] = [];
    let calls = 0;
    io.publishResult = async (event) => {
      events.push(event.event_id);
      if (++calls === 1) throw Object.assign(new Error("socket hang up"), { name: "TimeoutError" });
    };
    const completed: Outcome = {
      kind: "report",
      via: "submitted",
      state: { api: "assistants", threadId: "thread_1", run: { id: "run_1", status: "completed" } },
    };
    const settled = await settle(completed, message(3, true), { sinks: io, limits });
    expect(settled).toMatchObject({ done: true, result: "reported" });
    expect(written.dlq).toEqual([]);
    // The same event twice (one event id, which a consumer drops as a duplicate), never an event and a DLQ record.
    expect(events).toHaveLength(2);
    expect(new Set(events).size).toBe(1);
  });

  it("after as many failed publishes as it tries, the DLQ record says the results were not published", async () => {
    const { io, written } = sinks({ publishResult: true });
    const completed: Outcome = {
      kind: "report",
      via: "submitted",
      state: { api: "assistants", threadId: "thread_1", run: { id: "run_1", status: "completed" } },
    };
    const settled = await settle(completed, message(3, true), { sinks: io, limits });
    expect(settled).toMatchObject({ done: true, result: "dead_lettered", reason: "results_unpublished" });
    expect(written.dlq).toHaveLength(1);
  });
});

describe("a failed publish's fate, for a collected set's round (rule 2)", () => {
  const completed: Outcome = {
    kind: "report",
    via: "submitted",
    state: { api: "assistants", threadId: "thread_1", run: { id: "run_1", status: "completed" } },
  };
  const failingWith = (error: unknown) => {
    const { io } = sinks();
    io.publishResult = async () => {
      throw error;
    };
    return io;
  };
  const answered = (status: number, attempts = 1) =>
    Object.assign(new Error("refused"), { name: "Refused", $metadata: { httpStatusCode: status, attempts } });

  it("SNS's own refusal (a 4xx on the call's one attempt, or a failed batch entry) is known to have published nothing", async () => {
    for (const error of [
      answered(404),
      answered(429),
      Object.assign(new Error("the entry was refused"), { refusedEntry: { attempts: 1 } }),
    ]) {
      expect(mayHaveLanded(error)).toBe(false);
      const settled = await settle(completed, message(1, true), { sinks: failingWith(error), limits });
      expect(settled).toMatchObject({ done: false, result: "handed_back" });
      expect(settled.publishMayHaveLanded).toBeUndefined();
    }
  });

  it("a lost answer, a 5xx, a call the SDK tried again, or an abort may have published it", async () => {
    const lost = Object.assign(new Error("socket hang up"), { name: "TimeoutError", $metadata: {} });
    const cases = [
      lost,
      answered(500),
      answered(429, 3),
      Object.assign(new Error("x"), { refusedEntry: { attempts: 2 } }),
      new DOMException("stop", "AbortError"),
    ];
    for (const error of cases) {
      expect(mayHaveLanded(error)).toBe(true);
      const settled = await settle(completed, message(1, true), { sinks: failingWith(error), limits });
      expect(settled).toMatchObject({ done: false, result: "handed_back", publishMayHaveLanded: true });
    }
    // On the last receive too (tried three times, one of them of unknown fate): its own DLQ record, the flag kept.
    let calls = 0;
    const { io } = sinks();
    io.publishResult = async () => {
      throw ++calls === 2 ? lost : answered(429);
    };
    const settled = await settle(completed, message(3, true), { sinks: io, limits });
    expect(settled).toMatchObject({ result: "dead_lettered", reason: "results_unpublished", publishMayHaveLanded: true });
  });
});
