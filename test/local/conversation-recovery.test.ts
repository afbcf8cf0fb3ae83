/**
 * A conversation turn whose POST failed ambiguously, end to end on the local stack (found by the soak): the relay's
 * own `{conversation_id}` reply is answerable, and a POST that was never taken is submitted again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../../local/local-stack";
import { startToolWorker } from "../../local/tool-worker";
import { ended, responseAnswerFor } from "../helpers/local/helpers";

const SETTLE = { timeoutMs: 30_000 };
let stack: LocalStack;
beforeAll(async () => {
  // Short leases and follow budgets: a message that cannot be confirmed uses up its three receives in seconds.
  stack = await startLocalStack({
    maxReceiveCount: 3,
    visibilityTimeoutSeconds: 2,
    functionTimeoutMs: 2_000,
    env: { FOLLOW_BUDGET_MS: "300", DEADLINE_RESERVE_MS: "300" },
    poller: { pollers: 2 },
  });
});
afterAll(async () => stack.close());

describe("a conversation turn whose POST failed ambiguously", () => {
  it("the event published from the conversation's items carries a reply the tool worker can answer", async () => {
    // Prepare: the first POST is taken, then answered 500; the relay confirms it by listing the conversation and
    // publishes response.requires_action with reply {conversation_id} (it never learnt the new response's id).
    const sim = stack.sim!;
    const first = sim.createResponse({ toolCalls: 1, conversation: true, afterOutputs: [{ functionCalls: 1 }, "completed"] });
    sim.inject({ on: "response_create", kind: "accept_then_500", conversationId: first.conversationId });
    const worker = startToolWorker(stack);
    try {
      // Act
      const id = await stack.send(responseAnswerFor(first));
      await stack.settle([id], SETTLE);
      await worker.caughtUp();
      const accounting = await stack.settle([id, ...worker.sent], SETTLE);
      // Assess: the worker's {conversation_id, tool_outputs} continues with the settings the first turn was sent with.
      expect(worker.sent).toHaveLength(1);
      expect(ended(accounting)).toEqual({ accepted: 2, deadLettered: [], lost: 0 });
    } finally {
      await worker.stop();
    }
  });

  it("is submitted again when the POST was not taken (a 500 that created nothing), not handed back until the DLQ", async () => {
    // Prepare: one plain 500 on the continuation; nothing was created, nothing runs on the conversation.
    const sim = stack.sim!;
    const turn = sim.createResponse({ toolCalls: 1, conversation: true });
    sim.inject({ on: "response_create", kind: "server_error", conversationId: turn.conversationId });
    // Act
    const id = await stack.send(responseAnswerFor(turn));
    const accounting = await stack.settle([id], SETTLE);
    // Assess: the next receive found the outputs still absent, the first attempt's invocation over, and submitted again.
    expect(ended(accounting)).toEqual({ accepted: 1, deadLettered: [], lost: 0 });
    expect(sim.children(turn.responseId)).toHaveLength(1);
    expect(sim.counters.forks).toBe(0);
  });
});
