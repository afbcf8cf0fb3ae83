/**
 * DESIGN Part 3, rule 3: a round's fate is decided once, by a conditional write, and a part is never both accepted
 * and dead-lettered. SQS delivers the message that completes a Responses set twice, at once. The first delivery
 * completes the set (its first attempt) and stalls at the endpoint; the second finds the set complete and claimed by
 * its own message, takes it again, submits it and reports it. The first, resumed, finds the turn answered: to a first
 * attempt that means "answered without this collection", and its close is refused (the round is no longer its
 * attempt's). Its conclusion is void then: the round as it stands tells the message (it was submitted, and it reports
 * as its submitter), never a DLQ record beside the event. Found by the explorer (seeds 58335, 65120, 92585). Through
 * the real handler, fauxqs, the local DynamoDB and the endpoint simulator (its `slow` fault holds the first delivery).
 */
import { ChangeMessageVisibilityCommand } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { deleteMessages } from "../../cli/queue-io";
import { scopeOf } from "../../functions/submit-tool-outputs/collect/collector";
import { createHandler } from "../../functions/submit-tool-outputs/create-handler";
import type { ResponsesResultsEvent } from "../../functions/submit-tool-outputs/dialects/index";
import { startDynamodbProxy } from "../../local/dynamodb-proxy";
import { lambdaContext } from "../../local/lambda-shapes";
import { backdateCollection, checkNow, deliverAll, part, pendingChecks } from "../helpers/collect-rig";
import { type Harness, responseAnswerFor, useHarness } from "../helpers/relay-harness";

process.env.POWERTOOLS_LOG_LEVEL = "INFO";
let h: Harness;
useHarness({ maxReceiveCount: 5 }, (started) => (h = started));

async function until(done: () => boolean, withinMs: number): Promise<void> {
  const by = Date.now() + withinMs;
  while (!done()) {
    if (Date.now() > by) throw new Error("the condition never held");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The same message received twice (two receipt handles): SQS delivered it again while the first was in flight. */
async function receivedTwice(id: string): Promise<[SQSEvent, SQSEvent]> {
  const first = await h.receive(1);
  expect(first.Records[0]!.messageId).toBe(id);
  await h.aws.sqs.send(
    new ChangeMessageVisibilityCommand({ QueueUrl: h.aws.input.url, ReceiptHandle: first.Records[0]!.receiptHandle, VisibilityTimeout: 0 }),
  );
  const second = await h.receive(1);
  expect(second.Records[0]!.messageId).toBe(id);
  return [first, second];
}

describe("two deliveries of the completing message, at once", () => {
  it("the one whose close is refused follows the round: reported with the set, not dead-lettered", { timeout: 30_000 }, async () => {
    // Prepare: a two-call turn whose first part is collected; the completing part received twice (two receipt handles).
    const t = h.sim.createResponse({ toolCalls: 2 });
    const full = responseAnswerFor(t);
    const other = await h.send(part(full, [t.callIds[0]!]));
    await deliverAll(h);
    const id = await h.send(part(full, [t.callIds[1]!]));
    const first = await h.receive(1);
    expect(first.Records[0]!.messageId).toBe(id);
    await h.aws.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: h.aws.input.url,
        ReceiptHandle: first.Records[0]!.receiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const second = await h.receive(1);
    expect(second.Records[0]!.messageId).toBe(id);
    // Act: the first delivery completes the set and stalls on its first read of the response; the second runs whole
    // meanwhile; then the first goes on.
    const faults = h.sim.counters.faultsInjected;
    h.sim.inject({ on: "response_get", kind: "slow", delayMs: 1_500, responseId: t.responseId });
    const firstAnswer = createHandler(h.env)(first, lambdaContext(20_000)) as Promise<SQSBatchResponse>;
    await until(() => h.sim.counters.faultsInjected > faults, 10_000);
    let firstSettled = false;
    const settled = () => {
      firstSettled = true;
    };
    firstAnswer.then(settled, settled);
    const secondAnswer = (await createHandler(h.env)(second, lambdaContext(20_000))) as SQSBatchResponse;
    // The interleaving under test: the second delivery ran whole (~0.1 s) while the first was held at the endpoint.
    expect(firstSettled).toBe(false);
    const firstDone = await firstAnswer;
    // Assess: both deliveries succeed; one continuation; no DLQ record; every event names both parts.
    expect(secondAnswer.batchItemFailures).toEqual([]);
    expect(firstDone.batchItemFailures).toEqual([]);
    expect(h.sim.counters).toMatchObject({ continuations: 1, forks: 0 });
    expect(await h.deadLetters()).toEqual([]);
    const events = (await h.results<ResponsesResultsEvent>()).map((r) => r.event);
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) expect(event.source_message_ids).toEqual([id, other].sort());
  });
});

describe("two deliveries of the completing message on its last receive, the other one dying after its POST", () => {
  it("the set the endpoint took is reported by its round, never dead-lettered as collect_incomplete", { timeout: 40_000 }, async () => {
    // Prepare: a two-call turn whose first part is collected; the completing part received twice: its fourth receive
    // (held up before it stored anything) is still in flight when SQS hands out its fifth, the last.
    const t = h.sim.createResponse({ toolCalls: 2 });
    const full = responseAnswerFor(t);
    const other = await h.send(part(full, [t.callIds[0]!]));
    await deliverAll(h);
    const id = await h.send(part(full, [t.callIds[1]!]));
    const [first, second] = await receivedTwice(id);
    first.Records[0]!.attributes.ApproximateReceiveCount = "5";
    second.Records[0]!.attributes.ApproximateReceiveCount = "4";
    // Act 1: the first delivery completes the set and is held on its first read of the response. The second takes the
    // set again, submits it (the endpoint takes it, its claim records the continuation) and dies before it marks the
    // round submitted: its execution environment goes silent at that write (the table, and SQS and SNS from then on:
    // a dead function hands nothing back), and its lease lapses (3 s).
    const faults = h.sim.counters.faultsInjected;
    h.sim.inject({ on: "response_get", kind: "slow", delayMs: 1_500, responseId: t.responseId });
    const firstAnswer = createHandler(h.env)(first, lambdaContext(20_000)) as Promise<SQSBatchResponse>;
    await until(() => h.sim.counters.faultsInjected > faults, 10_000);
    const proxy = await startDynamodbProxy(h.aws.dynamodb.endpoint);
    proxy.stallFrom((r) => r.operation === "UpdateItem" && r.body.includes("SET #status = :status"));
    const cutAt = Date.now();
    // (Its SQS and SNS calls go to the same proxy: none before the cut, each one stalled after it.)
    const cutEnv = { ...h.env, AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint, AWS_ENDPOINT_URL: proxy.endpoint };
    const cut = createHandler(cutEnv)(second, lambdaContext(3_000)) as Promise<unknown>;
    await until(() => proxy.stalled > 0, 10_000);
    await proxy.close();
    await cut.catch(() => undefined);
    // The first goes on: its close (for a first attempt that finds the turn answered) is refused, the round is still
    // open, and on its last receive the round holds it: acknowledged.
    expect((await firstAnswer).batchItemFailures).toEqual([]);
    expect(h.sim.counters).toMatchObject({ continuations: 1, forks: 0 });
    // As the event source mapping does for a record its invocation succeeded for: the message is gone from the queue.
    const deleted = await deleteMessages(h.aws.sqs, h.aws.input.url, [first.Records[0]!.receiptHandle, second.Records[0]!.receiptHandle]);
    expect(deleted.failed.length).toBeLessThan(2);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, cutAt + 3_200 - Date.now())));
    // Act 2: hours later (past COLLECT_TIMEOUT_SECONDS and the window a submitter's receives can take), the round's
    // check finds the complete set still open, its claim lapsed, and nobody coming to settle it.
    await backdateCollection(h, scopeOf("responses", { response_id: t.responseId }), 13_000_000);
    await checkNow(h, pendingChecks(h)[0]!.check);
    // Assess: the endpoint took the set: no part is dead-lettered, and an event names both (the message the dying
    // delivery submitted included: its first delivery was acknowledged because its round holds it).
    expect(await h.deadLetters()).toEqual([]);
    const named = (await h.results<ResponsesResultsEvent>()).flatMap((r) => r.event.source_message_ids ?? []);
    expect([...new Set(named)].sort()).toEqual([id, other].sort());
    expect(h.sim.counters).toMatchObject({ continuations: 1, forks: 0 });
  });
});
