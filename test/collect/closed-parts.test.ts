import { ChangeMessageVisibilityCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { deleteMessages } from "../../cli/queue-io";
import type { CollectCheck } from "../../functions/submit-tool-outputs/collect/check-message";
import { scopeOf } from "../../functions/submit-tool-outputs/collect/collector";
import { createHandler } from "../../functions/submit-tool-outputs/create-handler";
import { startDynamodbProxy } from "../../local/dynamodb-proxy";
import { lambdaContext } from "../../local/lambda-shapes";
import { backdateCollection, checkNow, deliverAll, invokeAndDelete, part, pendingChecks, setInCollection } from "../helpers/collect-rig";
import { answerFor, type Harness, useHarness } from "../helpers/relay-harness";

let h: Harness;
useHarness({ maxReceiveCount: 5 }, (started) => (h = started));

/** A two-call run whose first part was collected (its message delivered); `sendSecond` sends the other part. */
async function firstPartCollected() {
  const run = h.sim.createRun({ toolCalls: 2 });
  const full = answerFor(run);
  const [c0, c1] = run.toolCallIds as [string, string];
  const first = await h.send(part(full, [c0]));
  await deliverAll(h);
  const scope = scopeOf("assistants", { thread_id: run.threadId, run_id: run.runId });
  return { run, first, scope, sendSecond: () => h.send(part(full, [c1])) };
}

/** A two-call run whose parts were collected, one message each, and whose set was submitted and reported. */
async function submittedSet() {
  const { sendSecond, ...set } = await firstPartCollected();
  const completing = await sendSecond();
  await deliverAll(h);
  return { ...set, completing };
}

/** Moves the collection's first output `ms` into the past (what the collect timeout's wait would leave in the table). */
const backdate = (scope: string, ms: number) => backdateCollection(h, scope, ms);

describe("rule 3: a part closed into the DLQ while its message is in flight", () => {
  it("when it comes back is acknowledged as already dead-lettered, never taken by a new round of the turn nor reported", async () => {
    // Prepare: part 0 stored by an invocation whose answer never came (its message stays in flight), then the
    // collection times out and its check dead-letters part 0.
    const run = h.sim.createRun({ toolCalls: 2 });
    const full = answerFor(run);
    const [c0, c1] = run.toolCallIds as [string, string];
    const first = await h.send(part(full, [c0]));
    const inFlight = await h.receive(1);
    expect(inFlight.Records.map((r) => r.messageId)).toEqual([first]);
    await h.invoke(inFlight);
    await backdate(scopeOf("assistants", { thread_id: run.threadId, run_id: run.runId }), 3_601_000);
    await checkNow(h, pendingChecks(h)[0]!.check);
    expect((await h.deadLetters()).map((d) => [d.sourceMessageId, d.reason])).toEqual([[first, "collect_incomplete"]]);
    // Act: the other part arrives, and part 0's message comes back (its redelivery).
    const second = await h.send(part(full, [c1]));
    const arrives = await h.receive(1);
    expect(arrives.Records.map((r) => r.messageId)).toEqual([second]);
    await invokeAndDelete(h, arrives);
    await invokeAndDelete(h, inFlight);
    await deliverAll(h);
    // Assess: nothing submitted or reported; part 0 in the DLQ once (above), the other part still waiting for it.
    expect(h.sim.counters.submits).toBe(0);
    expect(await h.results()).toEqual([]);
    const dead = await h.deadLetters();
    expect(dead).toEqual([]);
  });
});

describe("rule 2: a submitted set whose event was never published", () => {
  it("the round's check publishes an event naming the other parts (the completing message keeps its own fate)", async () => {
    // Prepare: a set submitted and reported, then the table as a crash between the submission and the event leaves it
    // (no event recorded as published, the completing invocation's claim lapsed); its event is not counted.
    const { first, completing, scope } = await submittedSet();
    expect(h.sim.counters.submits).toBe(1);
    await setInCollection(h, scope, "REMOVE named SET lease_until = :zero", { ":zero": 0 });
    await h.results();
    // Act: the round's check comes.
    const [pending] = pendingChecks(h);
    await checkNow(h, pending!.check);
    // Assess: one event names the other part (not the completing message), nothing dead-lettered, no second submission.
    const events = (await h.results()).map((r) => r.event);
    expect(events.map((e) => e.source_message_ids)).toEqual([[first]]);
    expect(events[0]!.source_message_id).not.toBe(completing);
    expect(await h.deadLetters()).toEqual([]);
    expect(h.sim.counters.submits).toBe(1);
    // A second look finds the parts told: nothing more.
    await checkNow(h, pending!.check);
    expect(await h.results()).toEqual([]);
  });

  it("on the check's last receive too: it names them again, never dead-letters them for want of a publish that failed", async () => {
    // Prepare: as above (the completing invocation published, then died before the round recorded it), and the check
    // comes on its last receive (its earlier receives died).
    const { first, scope } = await submittedSet();
    await setInCollection(h, scope, "REMOVE named SET lease_until = :zero", { ":zero": 0 });
    await h.results();
    const [pending] = pendingChecks(h);
    await h.aws.sqs.send(
      new SendMessageCommand({ QueueUrl: h.aws.input.url, MessageBody: JSON.stringify({ ...pending!.check, due: Date.now() }) }),
    );
    let last = await h.receive(1);
    while (Number(last.Records[0]!.attributes.ApproximateReceiveCount) < 5) {
      const { receiptHandle } = last.Records[0]!;
      await h.aws.sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: h.aws.input.url, ReceiptHandle: receiptHandle, VisibilityTimeout: 0 }),
      );
      last = await h.receive(1);
    }
    // Act
    await invokeAndDelete(h, last);
    // Assess: an event names the other part again; nothing dead-lettered.
    expect((await h.results()).map((r) => r.event.source_message_ids)).toEqual([[first]]);
    expect(await h.deadLetters()).toEqual([]);
    expect(h.sim.counters.submits).toBe(1);
  });
});

/** What SNS answers every publish with while a check runs: no such topic (a 404, on the call's one attempt). */
const refusingTopic = "arn:aws:sns:us-east-1:000000000000:no-such-topic";

/** Runs the round's check `times` times with SNS refusing its publish: each is handed back, then taken off the queue. */
async function checksRefusedBySns(check: CollectCheck, times: number) {
  const refusing = createHandler({ ...h.env, RESULTS_TOPIC_ARN: refusingTopic });
  for (let refused = 0; refused < times; refused++) {
    const body = JSON.stringify({ ...check, due: Date.now() });
    await h.aws.sqs.send(new SendMessageCommand({ QueueUrl: h.aws.input.url, MessageBody: body }));
    const event = await h.receive(1);
    expect(event.Records.map((r) => r.body)).toEqual([body]);
    const answered = (await refusing(event, lambdaContext(10_000))) as SQSBatchResponse;
    expect(answered.batchItemFailures).toHaveLength(1); // handed back: its publish was refused
    // Handed back for a moment (the harness's hand-back delay is 0): taken off the queue, as if its receives ran out.
    const back = await h.receive(1);
    expect(back.Records.map((r) => r.body)).toEqual([body]);
    await deleteMessages(
      h.aws.sqs,
      h.aws.input.url,
      back.Records.map((r) => r.receiptHandle),
    );
  }
}

/** The set's event, the only one published so far: it names both parts. */
async function expectSetEventNaming(first: string) {
  const [setEvent, ...more] = (await h.results()).map((r) => r.event.source_message_ids ?? []);
  expect(more).toEqual([]);
  expect(setEvent).toHaveLength(2);
  expect(setEvent).toContain(first);
}

/**
 * SNS refuses the round's check as many times as a message has receives: nothing is dead-lettered. Then the check
 * again, SNS taking publishes: an event names the other part again, nothing dead-lettered beside the set's event, and
 * the set was submitted once.
 */
async function expectRefusedChecksThenNaming(first: string) {
  const [pending] = pendingChecks(h);
  await checksRefusedBySns(pending!.check, 5);
  expect(await h.deadLetters()).toEqual([]);
  await checkNow(h, pending!.check);
  expect((await h.results()).map((r) => r.event.source_message_ids)).toEqual([[first]]);
  expect(await h.deadLetters()).toEqual([]);
  expect(h.sim.counters.submits).toBe(1);
}

describe("rule 2: an event that may have named the parts is never followed by their DLQ records", () => {
  it("the submitter's event went out but its mark did not: refused publishes of the check never dead-letter the parts", async () => {
    // Prepare: a set submitted and reported; the write marking the round named failed (what the explorer's seed 49966
    // played: throttled), so the round knows only that its submitter's publish was begun. Then SNS refuses the check's
    // publishes as many times as a message has receives.
    const { first, scope } = await submittedSet();
    await setInCollection(h, scope, "REMOVE named, named_by SET lease_until = :zero", { ":zero": 0 });
    await expectSetEventNaming(first);
    // Act and assess
    await expectRefusedChecksThenNaming(first);
  });

  it("the submitter's publish landed but its answer was lost: not counted as refused, the parts never dead-lettered", async () => {
    // Prepare: the completing message's invocation submits the set; its PublishBatch reaches SNS, whose answer never
    // comes back before the invocation's cutoff (the explorer's seed 34287 lost such answers and counted them as
    // failed publishes). Its lease then passes; SNS refuses the check's publishes as many times as a message has receives.
    const { first, scope, sendSecond } = await firstPartCollected();
    const completing = await sendSecond();
    const event = await h.receive(1);
    expect(event.Records.map((r) => r.messageId)).toEqual([completing]);
    const proxy = await startDynamodbProxy(h.aws.endpoint);
    proxy.stallFrom((request) => request.body.includes("Action=PublishBatch"), { after: true, answered: false, only: true });
    try {
      const lostAnswer = createHandler({ ...h.env, AWS_ENDPOINT_URL: proxy.endpoint });
      const answered = (await lostAnswer(event, lambdaContext(6_000))) as SQSBatchResponse;
      expect(answered.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([completing]);
    } finally {
      await proxy.close();
    }
    await expectSetEventNaming(first);
    await setInCollection(h, scope, "SET lease_until = :zero", { ":zero": 0 });
    // Act and assess
    await expectRefusedChecksThenNaming(first);
  }, 30_000);
});

describe("rule 2: the one case the relay cannot decide", () => {
  it("a publish of unknown fate never confirmed for 12 h: the parts go to the DLQ, their record saying so", async () => {
    // Prepare: as above, the submitter's publish begun and never confirmed (no named mark), and 12 h and more since the
    // submission (SNS refusing every publish meanwhile: what the check would have met).
    const { completing, first, scope } = await submittedSet();
    const ms = 13 * 3_600_000;
    await setInCollection(h, scope, "REMOVE named, named_by SET lease_until = :zero, submitted_at = submitted_at - :ms", {
      ":zero": 0,
      ":ms": ms,
    });
    await h.results();
    // Act
    await checkNow(h, pendingChecks(h)[0]!.check);
    // Assess: the other part in the DLQ (the completing message's fate is its own), the record saying what is unknown.
    expect(await h.results()).toEqual([]);
    const dead = await h.deadLetters();
    expect(dead.map((d) => [d.sourceMessageId, d.reason])).toEqual([[first, "results_unpublished"]]);
    expect(dead[0]!.record.detail).toContain("may have named it");
    expect(dead.map((d) => d.sourceMessageId)).not.toContain(completing);
  });
});
