/**
 * A collected part on its last receive (DESIGN Part 3, rules 2 and 3: a part is never both reported and
 * dead-lettered). Its round already holds it (an earlier receive stored it; that answer to SQS was lost); this last
 * receive fails (the state table loses a write's answer). Its fate is its round's: the set's event names it, so it
 * is acknowledged rather than dead-lettered on its own as well. Found by the explorer (seed 645 and kin: the part
 * was dead-lettered `retries_exhausted` while another environment's event named it). Through the real handler,
 * fauxqs and the local DynamoDB, with the table behind the test proxy for the one lost answer.
 */
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { ChangeMessageVisibilityCommand } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { deleteMessages } from "../../cli/queue-io";
import { scopeOf } from "../../functions/submit-tool-outputs/collect/collector";
import { createHandler } from "../../functions/submit-tool-outputs/create-handler";
import { startDynamodbProxy } from "../../local/dynamodb-proxy";
import { lambdaContext } from "../../local/lambda-shapes";
import { deliverAll, part } from "../helpers/collect-rig";
import { answerFor, type Harness, responseAnswerFor, useHarness } from "../helpers/relay-harness";

let h: Harness;
useHarness({ maxReceiveCount: 5 }, (started) => (h = started));

/** Receives the one message again until SQS counts `count` receives (each earlier one "died": made visible again). */
async function receiveUntil(first: SQSEvent, count: number): Promise<SQSEvent> {
  let last = first;
  while (Number(last.Records[0]!.attributes.ApproximateReceiveCount) < count) {
    const { receiptHandle } = last.Records[0]!;
    await h.aws.sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: h.aws.input.url, ReceiptHandle: receiptHandle, VisibilityTimeout: 0 }),
    );
    last = await h.receive(1);
  }
  return last;
}

/** A two-call run whose first part is collected and whose completing part's first receive submits the set. */
async function submittedBy() {
  const run = h.sim.createRun({ toolCalls: 2 });
  const [c0, c1] = run.toolCallIds as [string, string];
  const full = answerFor(run);
  const other = await h.send(part(full, [c0]));
  await deliverAll(h);
  const id = await h.send(part(full, [c1]));
  const first = await h.receive(1);
  expect(first.Records[0]!.messageId).toBe(id);
  expect(((await createHandler(h.env)(first, lambdaContext(10_000))) as SQSBatchResponse).batchItemFailures).toEqual([]);
  return { run, id, other, first };
}

/** Invokes a fresh handler on `event` with its DynamoDB calls through a proxy that stalls the matching requests. */
async function invokeWithStalls(
  event: SQSEvent,
  timeoutMs: number,
  ...stall: Parameters<Awaited<ReturnType<typeof startDynamodbProxy>>["stallFrom"]>
): Promise<SQSBatchResponse> {
  const proxy = await startDynamodbProxy(h.aws.dynamodb.endpoint);
  proxy.stallFrom(...stall);
  try {
    return (await createHandler({ ...h.env, AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint })(
      event,
      lambdaContext(timeoutMs),
    )) as SQSBatchResponse;
  } finally {
    await proxy.close();
  }
}

describe("a collected part's last receive fails while its round holds it", () => {
  it("is acknowledged, not dead-lettered: the set's event names it", { timeout: 40_000 }, async () => {
    // Prepare: a run of two calls; the first part is stored by its first receive, whose answer to SQS is lost.
    const run = h.sim.createRun({ toolCalls: 2 });
    const [c0, c1] = run.toolCallIds as [string, string];
    const full = answerFor(run);
    const id = await h.send(part(full, [c0]));
    const first = await h.receive(1);
    expect(first.Records[0]!.messageId).toBe(id);
    const stored = (await createHandler(h.env)(first, lambdaContext(10_000))) as SQSBatchResponse;
    expect(stored.batchItemFailures).toEqual([]);
    const last = await receiveUntil(first, 5);
    // Act: its last receive, while the state table loses the answer of every write that adds it again (each tried
    // until the state table's call timeout, three times).
    const answer = await invokeWithStalls(last, 25_000, (r) => r.operation === "UpdateItem" && r.body.includes("first_at = :first"), {
      after: true,
      answered: false,
      only: true,
    });
    const failed = new Set(answer.batchItemFailures.map((f) => f.itemIdentifier));
    if (!failed.has(id)) await deleteMessages(h.aws.sqs, h.aws.input.url, [last.Records[0]!.receiptHandle]);
    // Assess: acknowledged; no record of its own. The other part completes the set; its event names both.
    expect(answer.batchItemFailures).toEqual([]);
    expect(await h.deadLetters()).toEqual([]);
    const other = await h.send(part(full, [c1]));
    await deliverAll(h);
    const named = (await h.results()).flatMap((r) => r.event.source_message_ids ?? []);
    expect(named).toEqual(expect.arrayContaining([id, other]));
    expect(await h.deadLetters()).toEqual([]);
    expect(h.sim.counters.submits).toBe(1);
  });

  it("the set's submitter, whose own event named it, is acknowledged too, not dead-lettered", async () => {
    // Prepare: the completing part submits the set and publishes its event (naming both), and that answer to SQS is lost.
    const { id, other, first } = await submittedBy();
    expect((await h.results()).map((r) => r.event.source_message_ids)).toEqual([[id, other].sort()]);
    const last = await receiveUntil(first, 5);
    // Act: its last receive, while the state table does not answer its first read.
    let reads = 0;
    const answer = await invokeWithStalls(last, 10_000, (r) => r.operation === "GetItem" && ++reads === 1, { only: true });
    // Assess: acknowledged, nothing dead-lettered, one submission.
    expect(answer.batchItemFailures).toEqual([]);
    expect(await h.deadLetters()).toEqual([]);
    expect(h.sim.counters.submits).toBe(1);
  });

  it("the submitter whose event went out but was never recorded as named: its last receive tries the table again, and reports", async () => {
    // Prepare: as above, then the table as a crash right after the publish leaves it (the round not marked named).
    const { id, other, first, run } = await submittedBy();
    await h.results();
    const dynamodb = new DynamoDBClient({ endpoint: h.aws.dynamodb.endpoint, region: h.aws.region });
    const scope = scopeOf("assistants", { thread_id: run.threadId, run_id: run.runId });
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: h.aws.stateTableName,
        Key: { pk: { S: `collect#${scope}` }, sk: { S: "collection" } },
        UpdateExpression: "REMOVE named, named_by",
      }),
    );
    dynamodb.destroy();
    const last = await receiveUntil(first, 5);
    // Act: its last receive, while the state table does not answer its first read.
    let reads = 0;
    const answer = await invokeWithStalls(last, 10_000, (r) => r.operation === "GetItem" && ++reads === 1, { only: true });
    // Assess: it reported (its event names both again), nothing dead-lettered, one submission.
    expect(answer.batchItemFailures).toEqual([]);
    expect((await h.results()).map((r) => r.event.source_message_ids)).toEqual([[id, other].sort()]);
    expect(await h.deadLetters()).toEqual([]);
    expect(h.sim.counters.submits).toBe(1);
  });
});

describe("the completing message's last receive, while another delivery of it holds the set's claim", () => {
  it("is acknowledged as the round's kept owner: told by the round, never twice", { timeout: 40_000 }, async () => {
    // Prepare: a two-call run, its first part stored. The completing part is delivered twice (explorer seed 31482): one
    // delivery claims the set and then hangs (its environment dies before it submits or writes anything more).
    const run = h.sim.createRun({ toolCalls: 2 });
    const [c0, c1] = run.toolCallIds as [string, string];
    const full = answerFor(run);
    await h.send(part(full, [c0]));
    await deliverAll(h);
    const id = await h.send(part(full, [c1]));
    const first = await h.receive(1);
    expect(first.Records[0]!.messageId).toBe(id);
    const hung = await startDynamodbProxy(h.aws.dynamodb.endpoint);
    hung.stallFrom((r) => r.operation === "UpdateItem" && r.body.includes("attempt = :attempt"), { after: true, answered: false });
    const claimed = createHandler({ ...h.env, AWS_ENDPOINT_URL_DYNAMODB: hung.endpoint })(first, lambdaContext(30_000));
    try {
      for (const end = Date.now() + 10_000; hung.stalled === 0; ) {
        if (Date.now() > end) throw new Error("the first delivery never claimed the set");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // Act 1: its last receive, while the state table loses the answer of its first write (the add of its output).
      const last = await receiveUntil(first, 5);
      let updates = 0;
      const answer = await invokeWithStalls(last, 25_000, (r) => r.operation === "UpdateItem" && ++updates === 1, {
        after: true,
        answered: false,
        only: true,
      });
      // Assess 1: acknowledged, its fate now the round's (the other delivery may yet submit: it must not be told twice).
      expect(answer.batchItemFailures).toEqual([]);
      expect(await h.results()).toEqual([]);
      expect(await h.deadLetters()).toEqual([]);
      // The round took on telling it (its `kept_owner`): should the claimed delivery never come back, the round's check
      // looks at the run and tells every part's fate, this message's with the rest (decided-once.test.ts, second case).
      const scope = scopeOf("assistants", { thread_id: run.threadId, run_id: run.runId });
      const item = await new DynamoDBClient({ endpoint: h.aws.dynamodb.endpoint, region: h.aws.region }).send(
        new GetItemCommand({ TableName: h.aws.stateTableName, Key: { pk: { S: `collect#${scope}` }, sk: { S: "collection" } } }),
      );
      expect(item.Item?.kept_owner?.S).toBe(id);
      expect(h.sim.counters.submits).toBe(0);
    } finally {
      await hung.close();
      await claimed.catch(() => undefined);
    }
  });
});

describe("any message's last receive, while the state table fails once", () => {
  it("tries the decision again within the invocation: submitted and reported, not dead-lettered", { timeout: 40_000 }, async () => {
    // Prepare: a plain Responses message on its last receive (explorer seed 14903: its claim write was throttled on
    // the last receive after an earlier receive's publish had landed, and it was dead-lettered beside that event).
    const prev = h.sim.createResponse();
    const id = await h.send(responseAnswerFor(prev));
    const last = await receiveUntil(await h.receive(1), 5);
    // Act: the state table does not answer the first write of the claim.
    let puts = 0;
    const answer = await invokeWithStalls(last, 20_000, (r) => r.operation === "PutItem" && ++puts === 1, { only: true });
    // Assess
    expect(answer.batchItemFailures).toEqual([]);
    expect(await h.deadLetters()).toEqual([]);
    expect((await h.results()).map((r) => r.event.source_message_id)).toEqual([id]);
    expect(h.sim.counters.forks).toBe(0);
  });
});
