/**
 * Collecting outputs when invocations fail or die part-way: nothing stored is lost, nothing is submitted twice.
 * A "cut" invocation runs in an execution environment of its own whose state table sits behind a proxy
 * (local/dynamodb-proxy.ts) that stops answering from a chosen write on: nothing after that point reaches the table,
 * as when Lambda freezes or kills the function. Its answer to SQS is treated as lost (the message is not deleted)
 * and the message comes back to the healthy environment, as it would after its visibility timeout.
 */
import { ChangeMessageVisibilityCommand } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { deleteMessages } from "../../cli/queue-io";
import { scopeOf } from "../../functions/submit-tool-outputs/collect/collector";
import { createHandler } from "../../functions/submit-tool-outputs/create-handler";
import type { ResponsesResultsEvent } from "../../functions/submit-tool-outputs/dialects/index";
import { type ProxiedRequest, startDynamodbProxy } from "../../local/dynamodb-proxy";
import { lambdaContext } from "../../local/lambda-shapes";
import { backdateCollection, checkNow, deliverAll, invokeAndDelete, part, pendingChecks } from "../helpers/collect-rig";
import { answerFor, type Harness, responseAnswerFor, useHarness } from "../helpers/relay-harness";

let h: Harness;
useHarness({ maxReceiveCount: 5 }, (started) => (h = started));

/** The state-table writes a cut is placed at (matched on the request's own update expression). */
const AT = {
  /** The write that stores the completing output also claims the set (collection-store.ts). */
  collectionClaim: (r: ProxiedRequest) => r.operation === "UpdateItem" && r.body.includes("attempt = :attempt"),
  collectionFinish: (r: ProxiedRequest) => r.operation === "UpdateItem" && r.body.includes("SET #status = :status"),
  responsesRecord: (r: ProxiedRequest) => r.operation === "UpdateItem" && r.body.includes("SET phase = :submitted"),
};

/** The Lambda timeout of a cut invocation: short, so the leases it leaves lapse soon. */
const CUT_TIMEOUT_MS = 3_000;

/**
 * Invokes `event` in an execution environment of its own whose table goes silent at `at` (`after`: that write
 * still lands); waits until the invocation is stuck there, then cuts it. Returns once its leases have lapsed.
 * `silent`: its SQS and SNS calls go to the same proxy (none before the cut, each stalled after it), so that a cut
 * last receive writes no DLQ record of its own, as a function that died would not.
 */
async function invokeCut(
  event: SQSEvent,
  at: (r: ProxiedRequest) => boolean,
  o: { after?: boolean; answered?: boolean; silent?: boolean } = {},
): Promise<void> {
  const proxy = await startDynamodbProxy(h.aws.dynamodb.endpoint);
  proxy.stallFrom(at, o);
  const handler = createHandler({
    ...h.env,
    AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
    ...(o.silent ? { AWS_ENDPOINT_URL: proxy.endpoint } : {}),
  });
  const startedAt = Date.now();
  const answer = handler(event, lambdaContext(CUT_TIMEOUT_MS)) as Promise<SQSBatchResponse>;
  await until(() => proxy.stalled > 0, 20_000);
  await proxy.close();
  await answer;
  // The answer is lost: the message comes back once the cut invocation's Lambda would have ended.
  await sleep(Math.max(0, startedAt + CUT_TIMEOUT_MS + 200 - Date.now()));
  await makeVisible(event.Records);
}

/** The records come back at once (the cut invocation's own hand-back may have made them visible already). */
async function makeVisible(records: SQSEvent["Records"]): Promise<void> {
  for (const record of records) {
    await h.aws.sqs
      .send(new ChangeMessageVisibilityCommand({ QueueUrl: h.aws.input.url, ReceiptHandle: record.receiptHandle, VisibilityTimeout: 0 }))
      .catch(() => undefined);
  }
}

/** Receives until `count` records are in hand. */
async function receiveAll(count: number): Promise<SQSEvent> {
  const records: SQSEvent["Records"] = [];
  for (let tries = 0; records.length < count && tries < 10; tries++) records.push(...(await h.receive(count - records.length)).Records);
  expect(records).toHaveLength(count);
  return { Records: records };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(condition: () => boolean, withinMs: number): Promise<void> {
  const end = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error("the condition never held");
    await sleep(20);
  }
}

/** A run of two calls with its first output collected; the completing message is sent and received (not invoked). */
async function runWithCompletingMessage() {
  const run = h.sim.createRun({ toolCalls: 2 });
  const full = answerFor(run);
  const firstId = await h.send(part(full, [run.toolCallIds[0]!]));
  await deliverAll(h);
  const completingId = await h.send(part(full, [run.toolCallIds[1]!], { metadata: { worker: "completing" } }));
  const event = await h.receive(1);
  expect(event.Records.map((r) => r.messageId)).toEqual([completingId]);
  return { run, full, ids: [firstId, completingId], event };
}

const eventsOfRun = async (runId: string) => (await h.results()).map((r) => r.event).filter((e) => e.run_id === runId);

describe("a failure or crash between storing the outputs and submitting them", () => {
  it("the completing invocation's endpoint calls all fail: the message comes back, claims the set again and submits it once", async () => {
    // Prepare: the first invocation's four submit attempts (ENDPOINT_MAX_ATTEMPTS) answer 500.
    const run = h.sim.createRun({ toolCalls: 2 });
    const full = answerFor(run);
    const ids = [await h.send(part(full, [run.toolCallIds[0]!]))];
    await deliverAll(h);
    h.sim.inject({ on: "submit", kind: "server_error", runId: run.runId, times: 4 });
    ids.push(await h.send(part(full, [run.toolCallIds[1]!])));
    // Act
    const deliveries = await deliverAll(h);
    // Assess: handed back once, then submitted; nothing dead-lettered.
    expect(deliveries.flatMap((d) => d.response.batchItemFailures)).toHaveLength(1);
    expect(h.sim.counters).toMatchObject({ accepted: 1, doubleAcceptances: 0 });
    expect(await h.deadLetters()).toEqual([]);
    const [event, ...more] = await eventsOfRun(run.runId);
    expect(more).toEqual([]);
    expect(event).toMatchObject({ status: "completed", source_message_id: ids[1], source_message_ids: [...ids].sort() });
  });

  it("the completing invocation dies as its output is stored (and the set claimed): the redelivery claims again and submits once", async () => {
    // Prepare
    const { run, ids, event } = await runWithCompletingMessage();
    // Act: the write that stores the last output and claims the set lands, its answer never reaches the function.
    await invokeCut(event, AT.collectionClaim, { after: true, answered: false });
    expect(h.sim.counters.submits).toBe(0);
    await deliverAll(h);
    // Assess
    expect(h.sim.counters).toMatchObject({ submits: 1, accepted: 1, doubleAcceptances: 0 });
    expect(await h.deadLetters()).toEqual([]);
    const [published, ...more] = await eventsOfRun(run.runId);
    expect(more).toEqual([]);
    expect(published).toMatchObject({ source_message_id: ids[1], source_message_ids: [...ids].sort(), metadata: { worker: "completing" } });
  });
  it("a copy of a stored output, arriving once the dead invocation's claim lapsed, takes the set over and submits it once", async () => {
    // Prepare: the completing invocation dies as its output is stored; its lease has passed.
    const { run, full, ids, event } = await runWithCompletingMessage();
    await invokeCut(event, AT.collectionClaim, { after: true, answered: false });
    // Act: another worker's copy of the first output comes first, then the completing message's redelivery.
    const copyId = await h.send(part(full, [run.toolCallIds[0]!]));
    const both = await receiveAll(2);
    await invokeAndDelete(h, { Records: both.Records.filter((r) => r.messageId === copyId) });
    await makeVisible(both.Records.filter((r) => r.messageId !== copyId));
    await deliverAll(h);
    // Assess: one submission; its event names all three messages (the redelivery, late, reported on its own).
    expect(h.sim.counters).toMatchObject({ submits: 1, accepted: 1, doubleAcceptances: 0 });
    expect(await h.deadLetters()).toEqual([]);
    const events = await eventsOfRun(run.runId);
    const set = events.filter((e) => e.source_message_ids !== undefined);
    expect(set).toHaveLength(1);
    expect(set[0]!.source_message_id).toBe(copyId);
    expect(new Set([...set[0]!.source_message_ids!, ...events.map((e) => e.source_message_id)])).toEqual(new Set([...ids, copyId]));
  });
});

describe("a crash between submitting the set and recording it", () => {
  it("Assistants: the run reconciles; the redelivery looks before it submits and reports the set once", async () => {
    // Prepare
    const { run, ids, event } = await runWithCompletingMessage();
    // Act: the submission reaches the endpoint; the cut falls on recording it as submitted.
    await invokeCut(event, AT.collectionFinish);
    expect(h.sim.counters.accepted).toBe(1);
    await deliverAll(h);
    // Assess
    expect(h.sim.counters).toMatchObject({ submits: 1, accepted: 1, doubleAcceptances: 0 });
    expect(await h.deadLetters()).toEqual([]);
    const [published, ...more] = await eventsOfRun(run.runId);
    expect(more).toEqual([]);
    expect(published).toMatchObject({ status: "completed", source_message_id: ids[1], source_message_ids: [...ids].sort() });
  });

  it.each([
    ["previous_response_id", false],
    ["conversation", true],
  ] as const)(
    "Responses, %s mode: the claim recorded the continuation; the redelivery follows it, no second POST",
    async (_mode, conversation) => {
      // Prepare
      const t = h.sim.createResponse({ toolCalls: 2, ...(conversation ? { conversation: true as const } : {}) });
      const full = responseAnswerFor(t, { conversation, ...(conversation ? { request: { model: "gpt-5-mini" } } : {}) });
      const ids = [await h.send(part(full, [t.callIds[0]!]))];
      await deliverAll(h);
      ids.push(await h.send(part(full, [t.callIds[1]!])));
      const event = await h.receive(1);
      // Act: the POST and the claim's record land; the cut falls on the collection's own record.
      await invokeCut(event, AT.collectionFinish);
      await deliverAll(h);
      // Assess
      expect(h.sim.counters).toMatchObject({ continuations: 1, forks: 0 });
      expect(await h.deadLetters()).toEqual([]);
      const [published, ...more] = (await h.results<ResponsesResultsEvent>()).map((r) => r.event);
      expect(more).toEqual([]);
      expect(published).toMatchObject({ source_message_id: ids[1], source_message_ids: [...ids].sort() });
      // A conversation that already lists the outputs is reported from its items (the new response's id unknown there).
      if (conversation) expect(published!.conversation_id).toBe(t.conversationId);
      else expect(published!.response_id).toBe(h.sim.children(t.responseId)[0]);
    },
  );

  it("Responses, previous_response_id mode, cut before the claim recorded the POST: no second POST; every message dead-lettered submission_unconfirmed", async () => {
    // Prepare
    const t = h.sim.createResponse({ toolCalls: 2 });
    const full = responseAnswerFor(t);
    const bodies = [part(full, [t.callIds[0]!]), part(full, [t.callIds[1]!])];
    const ids = [await h.send(bodies[0])];
    await deliverAll(h);
    ids.push(await h.send(bodies[1]));
    const event = await h.receive(1);
    // Act: the POST goes out, the claim never hears its answer.
    await invokeCut(event, AT.responsesRecord);
    expect(h.sim.counters.continuations).toBe(1);
    await deliverAll(h);
    // Assess: RESPONSES_UNCONFIRMED=dead_letter (the default): the API cannot say, so nothing is sent again.
    expect(h.sim.counters).toMatchObject({ continuations: 1, forks: 0 });
    const dead = await h.deadLetters();
    expect(dead.map((d) => [d.sourceMessageId, d.reason]).sort()).toEqual(
      [
        [ids[0], "submission_unconfirmed"],
        [ids[1], "submission_unconfirmed"],
      ].sort(),
    );
    for (const d of dead) expect(d.original).toBe(JSON.stringify(bodies[ids.indexOf(d.sourceMessageId)]));
  });

  it("Responses, conversation mode, cut before the claim recorded the POST: the conversation shows the outputs; reported once", async () => {
    // Prepare
    const t = h.sim.createResponse({ toolCalls: 2, conversation: true });
    const full = responseAnswerFor(t, { conversation: true, request: { model: "gpt-5-mini" } });
    const ids = [await h.send(part(full, [t.callIds[0]!]))];
    await deliverAll(h);
    ids.push(await h.send(part(full, [t.callIds[1]!])));
    const event = await h.receive(1);
    // Act
    await invokeCut(event, AT.responsesRecord);
    await deliverAll(h);
    // Assess
    expect(h.sim.counters).toMatchObject({ continuations: 1, forks: 0 });
    expect(await h.deadLetters()).toEqual([]);
    const [published, ...more] = (await h.results<ResponsesResultsEvent>()).map((r) => r.event);
    expect(more).toEqual([]);
    expect(published).toMatchObject({ conversation_id: t.conversationId, source_message_id: ids[1], source_message_ids: [...ids].sort() });
  });
});

describe("a crash between submitting the set and recording it, on the completing message's last receive", () => {
  /**
   * The completing message's last receive (of 5) is cut where `at` says; SQS then moves the message raw to the DLQ
   * (received and deleted here), so no copy of it comes back to settle the set. Hours later (past the timeout and the
   * window its receives could take) the round's check ends the complete set, its claim lapsed.
   */
  async function lastReceiveCut(event: SQSEvent, at: (r: ProxiedRequest) => boolean, scope: string): Promise<void> {
    event.Records[0]!.attributes.ApproximateReceiveCount = "5";
    await invokeCut(event, at, { silent: true });
    const raw = await receiveAll(1);
    expect(raw.Records[0]!.messageId).toBe(event.Records[0]!.messageId);
    await deleteMessages(h.aws.sqs, h.aws.input.url, [raw.Records[0]!.receiptHandle]);
    await backdateCollection(h, scope, 13_000_000);
    await checkNow(h, pendingChecks(h)[0]!.check);
  }

  it("Assistants, the run took the set: the check asks the run's steps, marks the round submitted and reports the other parts", async () => {
    // Prepare
    const { run, ids, event } = await runWithCompletingMessage();
    // Act
    await lastReceiveCut(event, AT.collectionFinish, scopeOf("assistants", { thread_id: run.threadId, run_id: run.runId }));
    // Assess: not collect_incomplete; the other part is named by an event (the completing message's fate is its own:
    // SQS moved it raw); one submission.
    expect(await h.deadLetters()).toEqual([]);
    const events = await eventsOfRun(run.runId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ status: "completed", source_message_ids: [ids[0]] });
    expect(h.sim.counters).toMatchObject({ submits: 1, accepted: 1, doubleAcceptances: 0 });
  });

  it("Responses, previous_response_id mode, the POST unrecorded: every part submission_unconfirmed, not collect_incomplete", async () => {
    // Prepare
    const t = h.sim.createResponse({ toolCalls: 2 });
    const full = responseAnswerFor(t);
    const bodies = [part(full, [t.callIds[0]!]), part(full, [t.callIds[1]!])];
    const ids = [await h.send(bodies[0])];
    await deliverAll(h);
    ids.push(await h.send(bodies[1]));
    const event = await h.receive(1);
    // Act
    await lastReceiveCut(event, AT.responsesRecord, scopeOf("responses", { response_id: t.responseId }));
    // Assess: the response cannot show whether it took the set; nothing is sent again, nothing reported.
    expect(h.sim.counters).toMatchObject({ continuations: 1, forks: 0 });
    expect(await h.results()).toEqual([]);
    const dead = await h.deadLetters();
    expect(dead.map((d) => [d.sourceMessageId, d.reason]).sort()).toEqual(
      [
        [ids[0], "submission_unconfirmed"],
        [ids[1], "submission_unconfirmed"],
      ].sort(),
    );
    for (const d of dead) expect(d.original).toBe(JSON.stringify(bodies[ids.indexOf(d.sourceMessageId)]));
  });
});

describe("two invocations completing the set at once", () => {
  it("exactly one submits; both messages are acknowledged and reported", async () => {
    // Prepare: c0 and c1 collected; two copies of c2 (one worker's retry) received by two execution environments.
    const run = h.sim.createRun({ toolCalls: 3 });
    const full = answerFor(run);
    const ids = [await h.send(part(full, [run.toolCallIds[0]!, run.toolCallIds[1]!]))];
    await deliverAll(h);
    h.sim.inject({ on: "submit", kind: "slow", delayMs: 300, runId: run.runId });
    ids.push(await h.send(part(full, [run.toolCallIds[2]!])));
    const first = await h.receive(1);
    ids.push(await h.send(part(full, [run.toolCallIds[2]!])));
    const second = await h.receive(1);
    const other = createHandler(h.env);
    // Act
    const answers = await Promise.all([h.invoke(first), other(second, lambdaContext(30_000)) as Promise<SQSBatchResponse>]);
    // Assess
    expect(answers.flatMap((a) => a.batchItemFailures)).toEqual([]);
    expect(h.sim.counters).toMatchObject({ submits: 1, accepted: 1, doubleAcceptances: 0 });
    const events = await eventsOfRun(run.runId);
    const set = events.filter((e) => e.source_message_ids !== undefined);
    expect(set).toHaveLength(1);
    const reported = new Set([...set[0]!.source_message_ids!, ...events.map((e) => e.source_message_id)]);
    expect([...reported].sort()).toEqual([...ids].sort());
  });
});
