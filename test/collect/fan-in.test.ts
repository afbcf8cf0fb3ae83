/**
 * Collecting outputs (fan-in), the happy path under at-least-once delivery: several workers each answer some of
 * a turn's calls with `"collect": true`, in random order, with duplicates (the same message twice, and the same
 * output again in another message). The relay stores each output, acknowledges each message, and the message
 * that completes the set submits it in ONE request; the event names that message and every collected one.
 */
import type { SQSBatchResponse } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { createHandler } from "../../functions/submit-tool-outputs/create-handler";
import type { ResponsesResultsEvent } from "../../functions/submit-tool-outputs/dialects/index";
import { startDynamodbProxy } from "../../local/dynamodb-proxy";
import { lambdaContext } from "../../local/lambda-shapes";
import { deliverAll, invokeAndDelete, part, shuffled } from "../helpers/collect-rig";
import { answerFor, type Harness, responseAnswerFor, useHarness } from "../helpers/relay-harness";

let h: Harness;
useHarness({ maxReceiveCount: 5 }, (started) => (h = started));

/** What one worker sends for a turn: some of its outputs, with the worker named in `metadata`. */
interface Sent {
  turn: string;
  worker: string;
  messageId: string;
}

/**
 * The workers' messages for one turn of four calls: w1 answers c0+c1, w2 answers c2 (and is delivered twice),
 * w3 answers c3, w4 answers c1+c2 again with the same outputs (a retrying worker that took two calls).
 */
function workerParts<M extends { tool_outputs: Array<{ tool_call_id: string; output: unknown }> }>(full: M, turn: string) {
  const [c0, c1, c2, c3] = full.tool_outputs.map((o) => o.tool_call_id) as [string, string, string, string];
  const meta = (worker: string) => ({ metadata: { turn, worker } });
  return [
    { worker: "w1", body: part(full, [c0, c1], meta("w1")) },
    { worker: "w2", body: part(full, [c2], meta("w2")) },
    { worker: "w2", body: part(full, [c2], meta("w2")) },
    { worker: "w3", body: part(full, [c3], meta("w3")) },
    { worker: "w4", body: part(full, [c1, c2], meta("w4")) },
  ];
}

async function sendAll(bodies: Array<{ turn: string; worker: string; body: unknown }>, seed: number): Promise<Sent[]> {
  const sent: Sent[] = [];
  for (const { turn, worker, body } of shuffled(bodies, seed)) sent.push({ turn, worker, messageId: await h.send(body) });
  return sent;
}

/** The turn's one event that carries the collected set, and every other event about it (late duplicates' reports). */
function eventsOf<E extends { source_message_id: string; source_message_ids?: string[]; metadata?: Record<string, string> }>(
  events: E[],
  turn: string,
  sent: Sent[],
) {
  const ids = new Set(sent.filter((s) => s.turn === turn).map((s) => s.messageId));
  const mine = events.filter((e) => ids.has(e.source_message_id));
  return {
    set: mine.filter((e) => e.source_message_ids !== undefined),
    others: mine.filter((e) => e.source_message_ids === undefined),
    ids,
  };
}

/** Every message of the turn is accounted for: carried by the set's event, or reported by an event of its own. */
function expectEveryMessageReported(
  set: { source_message_id: string; source_message_ids?: string[]; metadata?: Record<string, string> },
  others: Array<{ source_message_id: string }>,
  ids: Set<string>,
  sent: Sent[],
) {
  expect(set.source_message_ids).toContain(set.source_message_id);
  const completing = sent.find((s) => s.messageId === set.source_message_id)!;
  expect(set.metadata).toEqual({ turn: completing.turn, worker: completing.worker });
  const reported = new Set([...set.source_message_ids!, ...others.map((o) => o.source_message_id)]);
  expect([...reported].sort()).toEqual([...ids].sort());
}

describe("collecting a turn from several workers (Assistants runs)", () => {
  it.each([1, 2, 3])("submits each run's set exactly once, whatever the order (seed %i)", async (seed) => {
    // Prepare: three runs of four calls each, their 15 worker messages shuffled together.
    const runs = [0, 1, 2].map(() => h.sim.createRun({ toolCalls: 4 }));
    const bodies = runs.flatMap((run) => workerParts(answerFor(run), run.runId).map((p) => ({ turn: run.runId, ...p })));
    const sent = await sendAll(bodies, seed);
    // Act
    await deliverAll(h);
    // Assess: one submission per run, carrying all four outputs as the workers gave them.
    expect(h.sim.counters).toMatchObject({ submits: 3, accepted: 3, doubleAcceptances: 0 });
    for (const run of runs) {
      const posts = h.sim.requests.filter((r) => r.method === "POST" && r.path.includes(`/runs/${run.runId}/submit_tool_outputs`));
      expect(posts).toHaveLength(1);
      expect(posts[0]!.body).toEqual({ tool_outputs: answerFor(run).tool_outputs });
    }
    expect(await h.deadLetters()).toEqual([]);
    const events = (await h.results()).map((r) => r.event);
    for (const run of runs) {
      const { set, others, ids } = eventsOf(events, run.runId, sent);
      expect(set).toHaveLength(1);
      expect(set[0]!.status).toBe("completed");
      expectEveryMessageReported(set[0]!, others, ids, sent);
    }
  });
});

describe("collecting a turn from several workers (Responses API)", () => {
  it.each([
    ["previous_response_id", false],
    ["conversation", true],
  ] as const)("submits the set once in %s mode, one continuation, no fork", async (_mode, conversation) => {
    // Prepare: two responses waiting for four function calls each.
    const turns = [0, 1].map(() => h.sim.createResponse({ toolCalls: 4, ...(conversation ? { conversation: true as const } : {}) }));
    const bodies = turns.flatMap((t) =>
      // A conversation names no response to repeat settings from: each worker names the model.
      workerParts(responseAnswerFor(t, { conversation, ...(conversation ? { request: { model: "gpt-5-mini" } } : {}) }), t.responseId).map(
        (p) => ({ turn: t.responseId, ...p }),
      ),
    );
    const sent = await sendAll(bodies, 7);
    // Act
    await deliverAll(h);
    // Assess
    expect(h.sim.counters.forks).toBe(0);
    expect(h.sim.counters.continuations).toBe(2);
    for (const t of turns) {
      const [child, ...more] = h.sim.children(t.responseId);
      expect(more).toEqual([]);
      const posts = h.sim.requests.filter(
        (r) =>
          r.method === "POST" &&
          r.path.endsWith("/responses") &&
          JSON.stringify(r.body).includes(t.callIds[0]!) &&
          (r.body as { input?: unknown[] }).input !== undefined,
      );
      expect(posts).toHaveLength(1);
      expect((posts[0]!.body as { input: Array<{ call_id: string }> }).input.map((i) => i.call_id).sort()).toEqual([...t.callIds].sort());
      expect(child).toBeDefined();
    }
    expect(await h.deadLetters()).toEqual([]);
    const events = (await h.results<ResponsesResultsEvent>()).map((r) => r.event);
    for (const t of turns) {
      const { set, others, ids } = eventsOf(events, t.responseId, sent);
      expect(set).toHaveLength(1);
      expect(set[0]!.response_id).toBe(h.sim.children(t.responseId)[0]);
      expectEveryMessageReported(set[0]!, others, ids, sent);
    }
  });
});

describe("the parts of one turn in one batch", () => {
  it("are stored one after another: the turn's calls read once, the same table requests as one part per invocation", async () => {
    // Prepare: the handler's table behind a proxy that counts each request by operation.
    const proxy = await startDynamodbProxy(h.aws.dynamodb.endpoint);
    const handler = createHandler({ ...h.env, AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint });
    const counted: Harness = {
      ...h,
      invoke: async (event, timeoutMs = 30_000) => (await handler(event, lambdaContext(timeoutMs))) as SQSBatchResponse,
    };
    /** One run of three calls answered by three messages, in `batches`; what the table and the endpoint saw. */
    const collectRun = async (batches: number[]) => {
      const run = h.sim.createRun({ toolCalls: 3 });
      const full = answerFor(run);
      const bodies = full.tool_outputs.map((o) => part(full, [o.tool_call_id]));
      proxy.resetCounts();
      const firstRequest = h.sim.requests.length;
      for (const size of batches) {
        for (const body of bodies.splice(0, size)) await h.send(body);
        const event = await h.receive(10);
        expect(event.Records).toHaveLength(size);
        expect((await invokeAndDelete(counted, event)).batchItemFailures).toEqual([]);
      }
      const requests = h.sim.requests.slice(firstRequest);
      const submitAt = requests.findIndex((r) => r.method === "POST" && r.path.endsWith(`/runs/${run.runId}/submit_tool_outputs`));
      const runPath = `/v1/threads/${run.threadId}/runs/${run.runId}`;
      return {
        table: proxy.counts(),
        runReadsBeforeSubmit: requests.slice(0, submitAt).filter((r) => r.method === "GET" && r.path === runPath).length,
        submits: requests.filter((r) => r.method === "POST" && r.path.endsWith("/submit_tool_outputs")).length,
      };
    };
    try {
      // Act
      const oneByOne = await collectRun([1, 1, 1]);
      const together = await collectRun([3]);

      // Assess: together, no part's write refused another's, and no part asked the endpoint for the calls again.
      expect(oneByOne).toMatchObject({ runReadsBeforeSubmit: 1, submits: 1 });
      expect(together).toEqual(oneByOne);
      expect(h.sim.counters.doubleAcceptances).toBe(0);
    } finally {
      await proxy.close();
    }
  });
});

describe("late copies of outputs after their set was submitted", () => {
  it("are acknowledged and reported with the run's state, never submitted again nor dead-lettered", async () => {
    // Prepare: a run's two outputs collected and submitted.
    const run = h.sim.createRun({ toolCalls: 2 });
    const full = answerFor(run);
    const [c0, c1] = run.toolCallIds as [string, string];
    await h.send(part(full, [c0]));
    await h.send(part(full, [c1]));
    await deliverAll(h);
    const [setEvent] = (await h.results()).map((r) => r.event);
    // Act: the same message again, and the same output inside another message.
    const lateIds = [await h.send(part(full, [c0])), await h.send(part(full, [c0, c1], { metadata: { worker: "late" } }))];
    await deliverAll(h);
    // Assess
    expect(h.sim.counters).toMatchObject({ submits: 1, accepted: 1, doubleAcceptances: 0 });
    expect(await h.deadLetters()).toEqual([]);
    const late = (await h.results()).map((r) => r.event);
    expect(late.map((e) => e.source_message_id).sort()).toEqual([...lateIds].sort());
    for (const event of late) {
      expect(event.status).toBe("completed");
      expect(event.event_id).toBe(setEvent!.event_id);
      expect(event.source_message_ids).toBeUndefined();
    }
  });

  it("a late copy of a run's first round, while its second round collects, is harmless to both", async () => {
    // Prepare: round one collected and submitted; the run asks for round two.
    const run = h.sim.createRun({ toolCalls: ["call_a1", "call_a2"], afterOutputs: [{ requiresAction: ["call_b1", "call_b2"] }] });
    const first = answerFor(run);
    const second = answerFor({ ...run, toolCallIds: ["call_b1", "call_b2"] });
    await h.send(part(first, ["call_a1"]));
    await h.send(part(first, ["call_a2"]));
    await deliverAll(h);
    expect((await h.results()).map((r) => r.event.status)).toEqual(["requires_action"]);
    await h.send(part(second, ["call_b1"]));
    await deliverAll(h);
    // Act: a first-round output again, then the rest of round two.
    const lateId = await h.send(part(first, ["call_a2"]));
    await deliverAll(h);
    await h.send(part(second, ["call_b2"]));
    await deliverAll(h);
    // Assess: two submissions (one per round), nothing dead-lettered, the late copy reported on its own.
    expect(h.sim.counters).toMatchObject({ submits: 2, accepted: 2, doubleAcceptances: 0 });
    expect(await h.deadLetters()).toEqual([]);
    const events = (await h.results()).map((r) => r.event);
    expect(events.find((e) => e.source_message_id === lateId)).toMatchObject({ status: "requires_action" });
    const completed = events.filter((e) => e.source_message_ids !== undefined);
    expect(completed.map((e) => e.status)).toEqual(["completed"]);
  });

  it("in a conversation, a late copy of the first turn's output is harmless while the next turn collects", async () => {
    // Prepare: a conversation whose continuation asks for two more calls.
    const t = h.sim.createResponse({ toolCalls: 2, conversation: true, afterOutputs: [{ functionCalls: 2 }, "completed"] });
    const request = { request: { model: "gpt-5-mini" } };
    const first = responseAnswerFor(t, { conversation: true, ...request });
    await h.send(part(first, [t.callIds[0]!]));
    await h.send(part(first, [t.callIds[1]!]));
    await deliverAll(h);
    const [turnOne] = (await h.results<ResponsesResultsEvent>()).map((r) => r.event);
    expect(turnOne!.type).toBe("response.requires_action");
    const next = turnOne!.tool_calls.map((c) => c.id);
    const second = {
      conversation_id: t.conversationId!,
      ...request,
      tool_outputs: next.map((id) => ({ tool_call_id: id, output: `out-${id}` })),
    };
    await h.send(part(second, [next[0]!]));
    await deliverAll(h);
    // Act
    const lateId = await h.send(part(first, [t.callIds[0]!]));
    await deliverAll(h);
    await h.send(part(second, [next[1]!]));
    await deliverAll(h);
    // Assess
    expect(h.sim.counters).toMatchObject({ continuations: 2, forks: 0 });
    expect(await h.deadLetters()).toEqual([]);
    const events = (await h.results<ResponsesResultsEvent>()).map((r) => r.event);
    expect(events.some((e) => e.source_message_id === lateId)).toBe(true);
    expect(events.filter((e) => e.source_message_ids !== undefined).map((e) => e.type)).toEqual(["response.completed"]);
  });
});
