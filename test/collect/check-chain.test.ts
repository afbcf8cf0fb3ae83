/**
 * DESIGN Part 3, rule 9: a collection's check chain is never lost, whatever fails around it. A live check whose
 * first receive died with its invocation (a crash, a timeout: nothing the relay could catch) comes back late; on
 * that receive it passes the chain to a fresh copy before it could run out of receives (and be moved raw to the
 * DLQ), needing only the queue (here the state table hangs meanwhile), and the fresh copy is the one the collection
 * waits for. Through the real handler, fauxqs and the local DynamoDB.
 */

import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { ChangeMessageVisibilityCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { deleteMessages } from "../../cli/queue-io";
import { scopeOf } from "../../functions/submit-tool-outputs/collect/collector";
import { createHandler } from "../../functions/submit-tool-outputs/create-handler";
import { startDynamodbProxy } from "../../local/dynamodb-proxy";
import { lambdaContext } from "../../local/lambda-shapes";
import { deliverAll, invokeAndDelete, part, pendingChecks } from "../helpers/collect-rig";
import { answerFor, type Harness, useHarness } from "../helpers/relay-harness";

let h: Harness;
useHarness({ maxReceiveCount: 5 }, (started) => (h = started));

async function checkDueOf(scope: string, set?: number): Promise<number> {
  const dynamodb = new DynamoDBClient({ endpoint: h.aws.dynamodb.endpoint, region: h.aws.region });
  const Key = { pk: { S: `collect#${scope}` }, sk: { S: "collection" } };
  try {
    if (set !== undefined)
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: h.aws.stateTableName,
          Key,
          UpdateExpression: "SET check_due = :due",
          ExpressionAttributeValues: { ":due": { N: String(set) } },
        }),
      );
    const item = await dynamodb.send(new GetItemCommand({ TableName: h.aws.stateTableName, Key, ConsistentRead: true }));
    return Number(item.Item?.check_due?.N);
  } finally {
    dynamodb.destroy();
  }
}

/** One of a two-call run's outputs collected, its live check's `due` set to `due`, the queue emptied of the relay's copy. */
async function oneOfTwoCollected(due: number) {
  const run = h.sim.createRun({ toolCalls: 2 });
  await h.send(part(answerFor(run), [run.toolCallIds[0]!]));
  await deliverAll(h);
  const [pending] = pendingChecks(h);
  const scope = scopeOf("assistants", { thread_id: run.threadId, run_id: run.runId });
  await checkDueOf(scope, due);
  h.aws.server.reset(); // the relay's own (delayed) copy goes; the one the test sends stands for it
  return { check: pending!.check, scope };
}

/** Sends `body` and receives it `times` times (each earlier receive given up at once, as one that died): the last receive. */
async function receivedTimes(body: string, times: number) {
  await h.aws.sqs.send(new SendMessageCommand({ QueueUrl: h.aws.input.url, MessageBody: body }));
  let event = await h.receive(1);
  expect(event.Records[0]!.body).toBe(body);
  for (let receive = 1; receive < times; receive++) {
    const { receiptHandle } = event.Records[0]!;
    await h.aws.sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: h.aws.input.url, ReceiptHandle: receiptHandle, VisibilityTimeout: 0 }),
    );
    event = await h.receive(1);
  }
  expect(event.Records[0]!.attributes.ApproximateReceiveCount).toBe(String(times));
  return event;
}

/** Invokes the handler with `event` while the state table hangs; deletes what it did not hand back, as the mapping does. */
async function invokeWithTableHung(event: SQSEvent) {
  const proxy = await startDynamodbProxy(h.aws.dynamodb.endpoint);
  proxy.stallFrom(() => true);
  try {
    const answer = (await createHandler({ ...h.env, AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint })(
      event,
      lambdaContext(3_000),
    )) as SQSBatchResponse;
    const handedBack = new Set(answer.batchItemFailures.map((f) => f.itemIdentifier));
    if (!handedBack.has(event.Records[0]!.messageId)) await deleteMessages(h.aws.sqs, h.aws.input.url, [event.Records[0]!.receiptHandle]);
    return { answer, tableRequests: proxy.stalled };
  } finally {
    await proxy.close();
  }
}

describe("rule 9: the check chain survives a receive that died with its invocation", () => {
  it("the late receive passes the chain to a fresh copy, which becomes the live check", async () => {
    // Prepare: one of two outputs collected; its live check, due a minute ago, was received once by an invocation that died.
    const due = Date.now() - 60_000;
    const { check, scope } = await oneOfTwoCollected(due);
    // Act: its second receive, while the state table hangs.
    const again = await receivedTimes(JSON.stringify({ ...check, due }), 2);
    const { answer } = await invokeWithTableHung(again);
    // Assess: acknowledged; a fresh copy is on the queue and the collection waits for it.
    expect(answer.batchItemFailures).toEqual([]);
    const fresh = pendingChecks(h).map((p) => p.check);
    expect(fresh).toHaveLength(1);
    expect(fresh[0]).toEqual({ ...check, due });
    expect(await checkDueOf(scope)).toBe(due);
    expect(await h.deadLetters()).toEqual([]);
    // The fresh copy, live, looks (the run still waits) and moves the chain on to the next one.
    const next = await h.receive(1);
    expect((await invokeAndDelete(h, next)).batchItemFailures).toEqual([]);
    const [following] = pendingChecks(h);
    expect(following!.check.due).toBeGreaterThan(Date.now());
    expect(await checkDueOf(scope)).toBe(following!.check.due);
  });

  it("a receive after one that failed on time passes the chain on first, though it comes back within seconds", async () => {
    // Prepare: one of two outputs collected; its live check, due now, received on time once by a look that failed (explorer
    // seed 73725: a DLQ write's answer lost) and handed back for a few seconds, less than the 30 s that mark a check overdue.
    const due = Date.now() - 1_000;
    const { check, scope } = await oneOfTwoCollected(due);
    const again = await receivedTimes(JSON.stringify({ ...check, due }), 2);
    // Act: its second receive, while the state table hangs (as a look that dies with its invocation would).
    const { answer, tableRequests } = await invokeWithTableHung(again);
    // Assess: acknowledged without a look (no state-table request); a fresh copy of the live check is on the queue.
    expect(answer.batchItemFailures).toEqual([]);
    expect(tableRequests).toBe(0);
    expect(pendingChecks(h).map((p) => p.check)).toEqual([{ ...check, due }]);
    expect(await checkDueOf(scope)).toBe(due);
  });

  it("its last receive passes the chain on before it looks: a look that dies with the invocation leaves a live copy", async () => {
    // Prepare: one of two outputs collected; its live check, due now, received four times already (each died).
    const due = Date.now() - 1_000;
    const { check, scope } = await oneOfTwoCollected(due);
    const last = await receivedTimes(JSON.stringify({ ...check, due }), 5);
    // Act: the last receive, while the state table hangs past the invocation's deadline (as a look that dies would).
    await invokeWithTableHung(last);
    // Assess: whatever became of this receive (it has no receive left), a fresh copy of the live check is on the queue.
    const queue = h.aws.server.inspectQueue(h.aws.input.name)!;
    const { ready, delayed, inflight } = queue.messages;
    const copies = [...ready, ...delayed, ...inflight.map((i) => i.message)].filter(
      (m) => m.messageId !== last.Records[0]!.messageId && m.body.includes('"type":"collect_check"'),
    );
    expect(copies.map((m) => JSON.parse(m.body))).toEqual([{ ...check, due }]);
    expect(await checkDueOf(scope)).toBe(due);
    expect((await h.deadLetters()).filter((d) => d.original.includes("collect_check"))).toEqual([]);
  });

  it("a guard that finds the live check long overdue (every receive of it died) takes the chain over", async () => {
    // Prepare: one of two outputs collected; the live check was due 90 s ago and never passed the chain on.
    const overdue = Date.now() - 90_000;
    const { check, scope } = await oneOfTwoCollected(overdue);
    // Act: its guard (another copy, due now) comes.
    await h.aws.sqs.send(new SendMessageCommand({ QueueUrl: h.aws.input.url, MessageBody: JSON.stringify({ ...check, due: Date.now() }) }));
    expect((await invokeAndDelete(h, await h.receive(1))).batchItemFailures).toEqual([]);
    // Assess: the chain moved on from the overdue due: a next check (and its guard) on the queue, the live one now.
    const next = pendingChecks(h).map((p) => p.check);
    expect(next).toHaveLength(1);
    expect(pendingChecks(h, { guards: true }).map((p) => p.check)).toContainEqual({
      ...next[0]!,
      due: next[0]!.due + 120_000,
      guard: true,
    });
    expect(await checkDueOf(scope)).toBe(next[0]!.due);
    expect(await h.deadLetters()).toEqual([]);
  });
});
