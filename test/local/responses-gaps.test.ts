/**
 * Two gaps of the Responses dialect that the soak found (bench/soak.ts, KNOWN_GAPS), each reproduced with one injected
 * fault on the local stack. Each test states what should happen and fails today, so it is marked `it.fails`: when the
 * dialect closes a gap, vitest reports "expected to fail" for it — turn it into `it` and drop its KNOWN_GAPS entry.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../../local/local-stack";
import { startToolWorker } from "../../local/tool-worker";
import { ended, responseAnswerFor } from "./helpers";

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
  it.fails("the event published from the conversation's items carries a reply the tool worker can answer", async () => {
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
      // Assess. Today: the worker's {conversation_id, tool_outputs} ends in the DLQ as invalid_message,
      // "request.model: is required when the relay knows no response of conversation …".
      expect(worker.sent).toHaveLength(1);
      expect(ended(accounting)).toEqual({ accepted: 2, deadLettered: [], lost: 0 });
    } finally {
      await worker.stop();
    }
  });

  it.fails("is submitted again when the POST was not taken (a 500 that created nothing), not handed back until the DLQ", async () => {
    // Prepare: one plain 500 on the continuation; nothing was created, nothing runs on the conversation.
    const sim = stack.sim!;
    const turn = sim.createResponse({ toolCalls: 1, conversation: true });
    sim.inject({ on: "response_create", kind: "server_error", conversationId: turn.conversationId });
    // Act
    const id = await stack.send(responseAnswerFor(turn));
    const accounting = await stack.settle([id], SETTLE);
    // Assess. Today: every receive lists the conversation, finds no outputs and hands back; the last one writes
    // retries_exhausted "the POST failed ambiguously (…) and conversation … does not show these outputs yet".
    expect(ended(accounting)).toEqual({ accepted: 1, deadLettered: [], lost: 0 });
    expect(sim.children(turn.responseId)).toHaveLength(1);
    expect(sim.counters.forks).toBe(0);
  });
});
