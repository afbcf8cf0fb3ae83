/**
 * The cost benchmark's arithmetic (bench/lib/cost-model.ts): how a message's phases compose, with made-up phases
 * whose figures make each share visible.
 */
import { describe, expect, it } from "vitest";
import { type Assumptions, composeCollected, composeMessage, type PhaseSet, resultDelayMs } from "../../bench/lib/cost-model";
import type { PhaseFigures } from "../../bench/lib/cost-phases";
import { PRICES } from "../../bench/lib/prices";

const assumptions: Assumptions = {
  memoryMb: 1024,
  pollIntervalMs: 1000,
  endpointMs: 200,
  followBudgetMs: 20_000,
  watchDelaySeconds: 10,
  coldStartShare: 0,
  initMs: 0,
  platformLogBytes: 0,
  fifo: false,
};

/** One invocation of `messages` messages billed `billedMs`, with the given requests. */
function phase(billedMs: number, requests: PhaseFigures["requests"] = {}, messages = 10): PhaseFigures {
  return { messages, billedMs, localWallMs: billedMs, cpuMs: 0, requests, logBytes: 0, endpointCalls: messages, invocations: 1 };
}

const phases: PhaseSet = {
  restPoll: phase(300, { "sns.PublishBatch": { calls: 1, units: 1 } }),
  restStream: phase(300, { "sns.PublishBatch": { calls: 1, units: 1 } }),
  leaveWatch: phase(250, { "sqs.SendMessage": { calls: 10, units: 10 } }),
  watchMoving: phase(240, { "sqs.SendMessage": { calls: 10, units: 10 } }),
  watchRest: phase(260, { "sns.PublishBatch": { calls: 1, units: 1 } }),
  collect: {
    figures: {
      ...phase(900, { "dynamodb.PutItem": { calls: 30, units: 30 }, "sns.PublishBatch": { calls: 1, units: 1 } }, 10),
      invocations: 3,
    },
    turnsPerUnit: 10,
  },
  check: phase(40, { "dynamodb.GetItem": { calls: 10, units: 10 } }),
};

describe("a message's cost, composed from its phases", () => {
  it("stream mode within the follow budget: one tenth of a submission billed for the rest time as well", () => {
    // Act
    const usage = composeMessage(phases, "stream", 10_000, assumptions);

    // Assess
    expect(usage.billedMs).toBeCloseTo((300 + 10_000) / 10);
    expect(usage.gbSeconds).toBeCloseTo(((300 + 10_000) / 1000 / 10) * 1);
    expect(usage.invocations).toBeCloseTo(0.1);
    // The mapping's receive and delete (0.2), the producer's send (1); one publish for ten.
    expect(usage.sqsRequests).toBeCloseTo(1.2);
    expect(usage.snsPublishes).toBeCloseTo(0.1);
    expect(usage.dollars().sns).toBeCloseTo(0.1 * PRICES.snsStandardPublish.usd);
  });

  it("poll mode sees the rest half a poll interval and a GET late", () => {
    const poll = composeMessage(phases, "poll", 10_000, assumptions);
    const stream = composeMessage(phases, "stream", 10_000, assumptions);
    expect(poll.billedMs - stream.billedMs).toBeCloseTo((500 + 200) / 10);
    expect(resultDelayMs("poll", 10_000, assumptions)).toBe(10_700);
  });

  it("watch only: the submission leaves a watch, and a watch every 10 s looks again until the run rests", () => {
    // Act
    const shortRun = composeMessage(phases, "watch", 2_000, assumptions);
    const longRun = composeMessage(phases, "watch", 30_000, assumptions);

    // Assess
    expect(shortRun.billedMs).toBeCloseTo((250 + 260) / 10);
    expect(longRun.billedMs).toBeCloseTo((250 + 240 + 240 + 260) / 10);
    expect(longRun.invocations).toBeCloseTo(0.4);
    expect(resultDelayMs("watch", 2_000, assumptions)).toBe(10_000);
    expect(resultDelayMs("watch", 30_000, assumptions)).toBe(30_000);
  });

  it("a run resting past the follow budget is followed for the budget, then watched", () => {
    const usage = composeMessage(phases, "stream", 30_000, assumptions);
    expect(usage.billedMs).toBeCloseTo((250 + 20_000 + 260) / 10);
    expect(resultDelayMs("stream", 30_000, assumptions)).toBe(30_000);
    expect(resultDelayMs("stream", 45_000, assumptions)).toBe(45_000);
  });

  it("a collected message carries a third of its turn: the submission, the storing less a plain submission, the check", () => {
    // Act
    const usage = composeCollected(phases, "stream", 2_000, assumptions);

    // Assess
    const submission = (300 + 2_000) / 10;
    const turn = 900 / 10;
    const plain = 300 / 10;
    const check = 40 / 10;
    expect(usage.billedMs).toBeCloseTo((submission + turn - plain + check) / 3);
    expect(usage.writeUnits).toBeCloseTo(30 / 10 / 3);
    expect(usage.readUnits).toBeCloseTo(10 / 10 / 3);
    // Each of the three messages was sent by its producer.
    expect(usage.sqsRequests).toBeCloseTo((1.2 + 3 * 2 * 0.1 - 0.2 + 0.2 + 2) / 3);
  });
});
