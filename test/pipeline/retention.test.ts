/**
 * DESIGN Part 3, rule 1: no message outlives the input queue's retention. A hand-back delay (a `retry-after` asking
 * for a day included) is cut to what is left of INPUT_RETENTION_SECONDS, counted from the message's SentTimestamp,
 * less one receive (INPUT_VISIBILITY_TIMEOUT_SECONDS plus the function's timeout); when no further receive fits, the
 * relay writes the DLQ record now (`retries_exhausted`, saying why) rather than let SQS delete the message unseen.
 * Through the real handler and fauxqs, with a 429 asking for a day.
 */
import { describe, expect, it } from "vitest";
import { answerFor, type Harness, startHarness } from "../helpers/relay-harness";

async function withHarness(env: Record<string, string>, test: (h: Harness) => Promise<void>) {
  const h = await startHarness({ maxReceiveCount: 10, env });
  try {
    await test(h);
  } finally {
    await h.close();
  }
}

describe("rule 1: a hand-back never outlasts the input queue's retention", () => {
  it("a retry-after of a day is cut to what the retention leaves, less one receive", async () => {
    await withHarness({ INPUT_RETENTION_SECONDS: "600", INPUT_VISIBILITY_TIMEOUT_SECONDS: "60" }, async (h) => {
      const run = h.sim.createRun({ toolCalls: 1 });
      h.sim.inject({ on: "submit", kind: "rate_limit", retryAfterSeconds: 86_400, times: 10 });
      await h.send(answerFor(run));
      const { response } = await h.deliver(30_000);
      expect(response.batchItemFailures).toHaveLength(1);
      const [inflight] = h.aws.server.inspectQueue(h.aws.input.name)!.messages.inflight;
      // 600 s of retention, less 60 s of visibility and 30 s of function timeout: at most 510 s from now.
      const delaySeconds = (inflight!.visibilityDeadline - Date.now()) / 1000;
      expect(delaySeconds).toBeGreaterThan(400);
      expect(delaySeconds).toBeLessThanOrEqual(510);
      expect(await h.deadLetters()).toEqual([]);
    });
  });

  it("when no further receive fits, the DLQ record is written now, on receive 1 of 10, saying why", async () => {
    await withHarness({ INPUT_RETENTION_SECONDS: "60", INPUT_VISIBILITY_TIMEOUT_SECONDS: "60" }, async (h) => {
      const run = h.sim.createRun({ toolCalls: 1 });
      h.sim.inject({ on: "submit", kind: "rate_limit", retryAfterSeconds: 86_400, times: 10 });
      const sent = await h.send(answerFor(run));
      const { response } = await h.deliver(30_000);
      expect(response.batchItemFailures).toEqual([]);
      const dead = await h.deadLetters();
      expect(dead.map((d) => [d.sourceMessageId, d.reason])).toEqual([[sent, "retries_exhausted"]]);
      expect(dead[0]!.record.detail).toContain("retention (60 s from when the message was sent)");
    });
  });
});
