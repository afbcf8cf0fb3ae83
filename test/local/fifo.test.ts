/**
 * The FIFO variant of the whole stack (FIFO input queue, DLQ and results topic, as `fifo=true` deploys):
 * messages grouped by thread, a run still moving left to a watch_run on the FIFO queue, a poison message.
 * Every message ends accepted or in the DLQ.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../../local/local-stack";
import { answerFor, ended } from "../helpers/local/helpers";

let stack: LocalStack;
beforeAll(async () => {
  // A short follow budget and a slow run: one message needs a watch_run, which FIFO sends without delay.
  stack = await startLocalStack({ fifo: true, maxReceiveCount: 3, poller: { pollers: 2 }, env: { FOLLOW_BUDGET_MS: "100" } });
});
afterAll(async () => stack.close());

it("delivers grouped messages in order, follows a slow run through a FIFO watch_run, and dead-letters the poison one", async () => {
  // Prepare: two runs in one thread, one slow run in another, and a poison message.
  const first = stack.sim!.createRun({ threadId: "thread_fifo_a" });
  const second = stack.sim!.createRun({ threadId: "thread_fifo_a" });
  const slow = stack.sim!.createRun({ threadId: "thread_fifo_b", afterOutputs: [{ stayInProgressMs: 600 }, "completed"] });
  // Act
  const ids = [
    await stack.send(answerFor(first)),
    await stack.send(answerFor(second)),
    await stack.send(answerFor(slow)),
    await stack.send('{"thread_id":"thread_fifo_c"}', { groupId: "thread_fifo_c" }),
  ];
  const accounting = await stack.settle(ids, { timeoutMs: 45_000 });
  // Assess
  expect(ended(accounting)).toEqual({ accepted: 3, deadLettered: ["invalid_message"], lost: 0 });
  const submits = stack.sim!.requests.filter((r) => r.method === "POST").map((r) => r.path.split("/")[5]);
  expect(submits.indexOf(first.runId)).toBeLessThan(submits.indexOf(second.runId));
  // The slow run is reported once it completes, from a watch_run.
  const deadline = Date.now() + 20_000;
  while (
    !stack.ledger.results.some((r) => r.event.api === "assistants" && r.event.run_id === slow.runId && r.event.status === "completed") &&
    Date.now() < deadline
  ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(
    stack.ledger.results.filter((r) => r.event.api === "assistants" && r.event.run_id === slow.runId).map((r) => r.event.type),
  ).toContain("run.completed");
  expect(stack.sim!.counters.doubleAcceptances).toBe(0);
});
