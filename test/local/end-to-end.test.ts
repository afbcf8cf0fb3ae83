/**
 * The relay's whole job through the local event-source poller: messages go onto the emulator's input
 * queue, the poller drives the real handler as Lambda would, and every message ends accepted or in the
 * DLQ. Each test counts: none lost.
 */
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { redriveDeadLetters } from "../../cli/dlq-commands";
import { type LocalStack, startLocalStack } from "../../local/local-stack";
import { startToolWorker } from "../../local/tool-worker";
import { answerFor, crashingOn, ended, responseAnswerFor } from "../helpers/local/helpers";

const SETTLE = { timeoutMs: 45_000 };
let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({ maxReceiveCount: 3, poller: { pollers: 2 } });
});
afterAll(async () => stack.close());
beforeEach(async () => {
  await stack.settle([], SETTLE);
  stack.sim!.reset();
});

const resultsFor = (runId: string) =>
  stack.ledger.results.filter((r) => r.event.api === "assistants" && r.event.run_id === runId).map((r) => r.event.type);
/** The types of the events that report a continuation of this response (the response its outputs answered). */
const continuationsOf = (responseId: string) =>
  stack.ledger.results.filter((r) => r.event.api === "responses" && r.event.previous_response_id === responseId).map((r) => r.event.type);
/** Settles until the tool worker has answered everything it read and nothing moves any more. */
async function settleWithWorker(worker: ReturnType<typeof startToolWorker>, first: string[]) {
  let answered: number;
  do {
    answered = worker.sent.length;
    await stack.settle([...first, ...worker.sent], SETTLE);
    await worker.caughtUp();
  } while (worker.sent.length !== answered);
  return stack.settle([...first, ...worker.sent], SETTLE);
}

describe("happy path", () => {
  it("several runs answered at once are each submitted once and published as run.completed", async () => {
    // Prepare
    const runs = Array.from({ length: 12 }, (_, i) => stack.sim!.createRun({ toolCalls: 1 + (i % 3) }));
    // Act
    const ids = await stack.sendMany(runs.map((run, i) => answerFor(run, { stream: i % 2 === 0, metadata: { tenant: "acme" } })));
    const accounting = await stack.settle(ids, SETTLE);
    // Assess
    expect(ended(accounting)).toEqual({ accepted: 12, deadLettered: [], lost: 0 });
    for (const run of runs) expect(resultsFor(run.runId)).toEqual(["run.completed"]);
    expect(stack.ledger.resultsOf(ids[0]!)[0]!.attributes).toMatchObject({ type: "run.completed", status: "completed" });
    expect(stack.sim!.counters.accepted).toBe(12);
    expect(stack.sim!.counters.doubleAcceptances).toBe(0);
  });
});

describe("second round of tools", () => {
  it("a tool worker answers run.requires_action from the results topic, and the run completes", async () => {
    // Prepare
    const run = stack.sim!.createRun({ toolCalls: 1, afterOutputs: [{ requiresAction: 2 }, "completed"] });
    const worker = startToolWorker(stack);
    try {
      // Act
      const first = await stack.send(answerFor(run));
      await stack.settle([first], SETTLE);
      await worker.caughtUp();
      const accounting = await stack.settle([first, ...worker.sent], SETTLE);
      // Assess
      expect(worker.sent).toHaveLength(1);
      expect(ended(accounting)).toEqual({ accepted: 2, deadLettered: [], lost: 0 });
      expect(resultsFor(run.runId)).toEqual(["run.requires_action", "run.completed"]);
      expect(stack.sim!.run(run.threadId, run.runId)!.status).toBe("completed");
    } finally {
      await worker.stop();
    }
  });
});

describe("second round of tools, Responses API", () => {
  it("the same tool worker answers response.requires_action with the event's reply, and the chain completes without a fork", async () => {
    // Prepare
    const sim = stack.sim!;
    const first = sim.createResponse({ toolCalls: 1, afterOutputs: [{ functionCalls: 2 }, "completed"] });
    const worker = startToolWorker(stack);
    try {
      // Act
      const id = await stack.send(responseAnswerFor(first, { metadata: { tenant: "acme" } }));
      const accounting = await settleWithWorker(worker, [id]);
      // Assess
      expect(worker.sent).toHaveLength(1);
      expect(ended(accounting)).toEqual({ accepted: 2, deadLettered: [], lost: 0 });
      const [second] = sim.children(first.responseId);
      expect(continuationsOf(first.responseId)).toEqual(["response.requires_action"]);
      expect(continuationsOf(second!)).toEqual(["response.completed"]);
      const [third] = sim.children(second!);
      expect(sim.response(third!)!.status).toBe("completed");
      expect(stack.ledger.resultsOf(worker.sent[0]!)[0]!.event.metadata).toEqual({ tenant: "acme" });
      expect(sim.counters.forks).toBe(0);
      expect(sim.counters.continuations).toBe(2);
    } finally {
      await worker.stop();
    }
  });

  it("one worker answers runs and responses side by side, and a conversation's second round continues the conversation", async () => {
    // Prepare
    const sim = stack.sim!;
    const run = sim.createRun({ toolCalls: 1, afterOutputs: [{ requiresAction: 1 }, "completed"] });
    const chat = sim.createResponse({ toolCalls: 2, conversation: true, afterOutputs: [{ functionCalls: 1 }, "completed"] });
    const replies: Array<Record<string, string>> = [];
    const worker = startToolWorker(stack, { onAnswer: (a) => replies.push(a.reply as Record<string, string>) });
    try {
      // Act
      const ids = await stack.sendMany([answerFor(run), responseAnswerFor(chat)]);
      const accounting = await settleWithWorker(worker, ids);
      // Assess
      expect(ended(accounting)).toEqual({ accepted: 4, deadLettered: [], lost: 0 });
      expect(replies.map((r) => Object.keys(r).sort().join("+")).sort()).toEqual(["response_id", "run_id+thread_id"]);
      expect(resultsFor(run.runId)).toEqual(["run.requires_action", "run.completed"]);
      const items = sim.conversationItems(chat.conversationId!)!;
      expect(items.filter((item) => item.type === "function_call_output")).toHaveLength(3);
      expect(items.at(-1)!.type).toBe("message");
      expect(sim.counters.forks).toBe(0);
      expect(sim.counters.doubleAcceptances).toBe(0);
    } finally {
      await worker.stop();
    }
  });
});

describe("a parallel turn answered by separate workers (collect: true)", () => {
  it("the tool worker runs a second round's calls as separate workers in random order; the relay submits them once", async () => {
    // Prepare: a run whose second round asks for three calls at once, and a worker that answers each call alone.
    const sim = stack.sim!;
    const run = sim.createRun({ toolCalls: 1, afterOutputs: [{ requiresAction: 3 }, "completed"] });
    const worker = startToolWorker(stack, { collect: true });
    try {
      // Act
      const first = await stack.send(answerFor(run));
      const accounting = await settleWithWorker(worker, [first]);
      // Assess: three messages for the second round, one submission of all three, one event naming them all.
      expect(worker.sent).toHaveLength(3);
      expect(ended(accounting)).toEqual({ accepted: 4, deadLettered: [], lost: 0 });
      const submits = sim.requests.filter((r) => r.method === "POST" && r.path.includes(`/runs/${run.runId}/submit_tool_outputs`));
      expect(submits).toHaveLength(2);
      expect((submits[1]!.body as { tool_outputs: unknown[] }).tool_outputs).toHaveLength(3);
      const completed = stack.ledger.results.find(
        (r) => r.event.api === "assistants" && r.event.run_id === run.runId && r.event.type === "run.completed",
      );
      expect([...(completed!.event.source_message_ids ?? [])].sort()).toEqual([...worker.sent].sort());
      expect(sim.counters.doubleAcceptances).toBe(0);
    } finally {
      await worker.stop();
    }
  });
});

describe("poison message", () => {
  it("is dead-lettered at once as invalid_message, its body kept byte for byte, next to a valid one that goes through", async () => {
    const run = stack.sim!.createRun();
    const poison = '{"thread_id":"thread_1","run_id":"run 1","tool_outputs":"none"}';
    const [poisonId, validId] = await stack.sendMany([poison, answerFor(run)]);
    const accounting = await stack.settle([poisonId!, validId!], SETTLE);
    expect(ended(accounting)).toEqual({ accepted: 1, deadLettered: ["invalid_message"], lost: 0 });
    const letter = stack.ledger.deadLetterOf(poisonId!)!;
    expect(letter.original).toBe(poison);
    expect(letter.record.receive_count).toBe(1);
    expect(stack.sim!.counters.submits).toBe(1);
  });
});

describe("transient faults", () => {
  it("429s, 5xx, dropped connections and an accepted-then-500 all end in one acceptance and a result", async () => {
    // Prepare: more submit failures than one invocation's attempts, so the message goes back to SQS at least once.
    const [a, b, c] = [stack.sim!.createRun(), stack.sim!.createRun(), stack.sim!.createRun()];
    stack.sim!.inject(
      { on: "submit", kind: "server_error", times: 5, runId: a.runId },
      { on: "submit", kind: "rate_limit", retryAfterMs: 50, times: 2, runId: b.runId },
      { on: "submit", kind: "drop", runId: b.runId },
      { on: "submit", kind: "accept_then_500", runId: c.runId },
    );
    // Act
    const ids = await stack.sendMany([answerFor(a), answerFor(b), answerFor(c)]);
    const accounting = await stack.settle(ids, SETTLE);
    // Assess
    expect(ended(accounting)).toEqual({ accepted: 3, deadLettered: [], lost: 0 });
    for (const run of [a, b, c]) expect(resultsFor(run.runId)).toContain("run.completed");
    expect(stack.sim!.counters.faultsInjected).toBe(9);
    expect(stack.sim!.counters.accepted).toBe(3);
    expect(stack.sim!.counters.doubleAcceptances).toBe(0);
  });
});

describe("an expired run", () => {
  it("a late submission ends in the DLQ as run_expired and run.expired is published", async () => {
    const run = stack.sim!.createRun();
    stack.sim!.expireRun(run.threadId, run.runId);
    const id = await stack.send(answerFor(run, { metadata: { tenant: "acme" } }));
    const accounting = await stack.settle([id], SETTLE);
    expect(ended(accounting)).toEqual({ accepted: 0, deadLettered: ["run_expired"], lost: 0 });
    expect(resultsFor(run.runId)).toEqual(["run.expired"]);
    expect(stack.ledger.deadLetterOf(id)!.record).toMatchObject({
      thread_id: run.threadId,
      run_id: run.runId,
      metadata: { tenant: "acme" },
    });
  });
});

describe("redrive from the DLQ after the cause is fixed", () => {
  it("a message dead-lettered for refused credentials goes back with the CLI's redrive and is accepted", async () => {
    // Prepare: the endpoint refuses the key for exactly as many receives as the queue allows.
    const run = stack.sim!.createRun();
    stack.sim!.inject({ on: "any", kind: "unauthorized", times: 3 });
    const original = await stack.send(answerFor(run));
    const before = await stack.settle([original], SETTLE);
    expect(ended(before)).toEqual({ accepted: 0, deadLettered: ["unauthorized"], lost: 0 });
    const letter = stack.ledger.deadLetterOf(original)!;
    // Put it back on the DLQ as the relay wrote it (the stack's reader took it off), then fix and redrive.
    await stack.aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.aws.dlq.url,
        MessageBody: letter.body,
        MessageAttributes: { reason: { DataType: "String", StringValue: letter.reason } },
      }),
    );
    // Act
    const redriven = await redriveDeadLetters({
      sqs: stack.aws.sqs,
      dlqUrl: stack.aws.dlq.url,
      inputQueueUrl: stack.aws.input.url,
      reasons: ["unauthorized"],
    });
    const after = await stack.settle(redriven.messageIds, SETTLE);
    // Assess
    expect(redriven).toMatchObject({ moved: 1, skipped: 0 });
    expect(ended(after)).toEqual({ accepted: 1, deadLettered: [], lost: 0 });
    expect(resultsFor(run.runId)).toEqual(["run.completed"]);
    expect(stack.sim!.counters.accepted).toBe(1);
  });
});

describe("a crash inside the handler", () => {
  let crashing: LocalStack;
  beforeAll(async () => {
    crashing = await startLocalStack({
      maxReceiveCount: 2,
      visibilityTimeoutSeconds: 1,
      functionTimeoutMs: 1_000,
      env: { DEADLINE_RESERVE_MS: "300", FOLLOW_BUDGET_MS: "500" },
      poller: { pollers: 1, batchSize: 1 },
      wrapHandler: crashingOn("crash-me"),
    });
  });
  afterAll(async () => crashing.close());

  it("ends in the DLQ through the emulator's redrive, body unchanged, while other messages go through", async () => {
    // Prepare
    const run = crashing.sim!.createRun();
    const body = JSON.stringify({ ...answerFor(run), metadata: { note: "crash-me" } });
    const healthyRun = crashing.sim!.createRun();
    // Act
    const [crashId, healthyId] = await crashing.sendMany([body, answerFor(healthyRun)]);
    const accounting = await crashing.settle([crashId!, healthyId!], SETTLE);
    // Assess
    expect(ended(accounting)).toEqual({ accepted: 1, deadLettered: ["redriven_by_sqs"], lost: 0 });
    const letter = crashing.ledger.deadLetterOf(crashId!)!;
    expect(letter.writtenBy).toBe("redrive");
    expect(letter.original).toBe(body);
    expect(crashing.poller.stats.invocationErrors).toBe(2);
  });
});
