/**
 * FIFO queues: records of one message group in order, a failure hands back the rest of its group,
 * other groups go on. Results topic and DLQ are FIFO in the emulator. The batches themselves are built
 * as Lambda delivers them (several records of one group): fauxqs hands out one in-flight message per
 * group, so a received batch never holds two of one group.
 */
import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { toSqsRecord } from "../../local/lambda-shapes";
import { answerFor, type Harness, startHarness } from "../helpers/relay-harness";

let sequence = 0;
/** A FIFO batch as Lambda's event source mapping hands it over. */
function fifoBatch(...messages: Array<{ body: unknown; groupId: string }>): SQSEvent {
  return {
    Records: messages.map(({ body, groupId }) =>
      toSqsRecord(
        {
          MessageId: crypto.randomUUID(),
          ReceiptHandle: `handle-${++sequence}`,
          Body: typeof body === "string" ? body : JSON.stringify(body),
          Attributes: { ApproximateReceiveCount: "1", MessageGroupId: groupId, SequenceNumber: String(sequence).padStart(20, "0") },
        },
        h.aws.input.arn,
        h.aws.region,
      ),
    ),
  };
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ fifo: true, env: { ENDPOINT_MAX_ATTEMPTS: "1" } });
});
afterAll(async () => h.close());
beforeEach(async () => {
  h.sim.reset();
  await h.results();
  await h.deadLetters();
});

const submitOrder = () => h.sim.requests.filter((r) => r.method === "POST").map((r) => r.path.split("/")[5]);

describe("a FIFO batch", () => {
  it("submits one group's records in order while another group goes on beside it", async () => {
    // Prepare: the first record of group A is slow; B must not wait for it, A2 must.
    const a1 = h.sim.createRun({ threadId: "thread_A" });
    const a2 = h.sim.createRun({ threadId: "thread_A" });
    const b1 = h.sim.createRun({ threadId: "thread_B" });
    h.sim.inject({ on: "submit", kind: "slow", delayMs: 300, runId: a1.runId });
    const event = fifoBatch(
      { body: answerFor(a1), groupId: "thread_A" },
      { body: answerFor(a2), groupId: "thread_A" },
      { body: answerFor(b1), groupId: "thread_B" },
    );
    // Act
    const response = await h.invoke(event);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const order = submitOrder();
    expect(order.indexOf(a1.runId)).toBeLessThan(order.indexOf(a2.runId));
    expect(order.indexOf(b1.runId)).toBeLessThan(order.indexOf(a2.runId));
    const a1Answered = h.sim.requests.find((r) => r.method === "POST" && r.path.includes(a1.runId))!.at + 300;
    const a2Sent = h.sim.requests.find((r) => r.method === "POST" && r.path.includes(a2.runId))!.at;
    expect(a2Sent).toBeGreaterThanOrEqual(a1Answered - 5);
    const published = await h.results();
    expect(published.map((p) => p.event.run_id).sort()).toEqual([a1.runId, a2.runId, b1.runId].sort());
  });

  it("after a failure hands back the rest of that group untouched, and finishes the other groups", async () => {
    const a1 = h.sim.createRun({ threadId: "thread_A" });
    const a2 = h.sim.createRun({ threadId: "thread_A" });
    const b1 = h.sim.createRun({ threadId: "thread_B" });
    h.sim.inject({ on: "submit", kind: "server_error", times: 10, runId: a1.runId });
    const event = fifoBatch(
      { body: answerFor(a1), groupId: "thread_A" },
      { body: answerFor(a2), groupId: "thread_A" },
      { body: answerFor(b1), groupId: "thread_B" },
    );
    const ids = event.Records.map((r) => r.messageId);
    const response = await h.invoke(event);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: ids[0] }, { itemIdentifier: ids[1] }]);
    expect(submitOrder()).not.toContain(a2.runId);
    expect((await h.results()).map((p) => p.event.run_id)).toEqual([b1.runId]);
    expect(await h.deadLetters()).toEqual([]);
  });

  it("publishes FIFO results and writes FIFO DLQ records", async () => {
    const run = h.sim.createRun({ threadId: "thread_C" });
    await h.send(answerFor(run), { groupId: "thread_C" });
    await h.send("{broken", { groupId: "thread_D" });
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toEqual([]);
    const [dead] = await h.deadLetters();
    expect(dead!.record.reason).toBe("invalid_message");
    const [published] = await h.results();
    expect(published!.event.thread_id).toBe("thread_C");
  });
});
