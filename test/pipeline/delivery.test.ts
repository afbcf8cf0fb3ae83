/**
 * How messages are delivered around the table: at-least-once duplicates, SNS envelopes, streams,
 * polling, follow-ups, and the invocation's deadline.
 */
import { ChangeMessageVisibilityCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { answerFor, type Harness, startHarness, useHarness } from "../helpers/relay-harness";

let h: Harness;
useHarness({ maxReceiveCount: 5 }, (started) => (h = started));

const requestsFor = (runId: string) => h.sim.requests.filter((r) => r.path.includes(`/runs/${runId}`));
const submitsFor = (runId: string) => requestsFor(runId).filter((r) => r.method === "POST");

describe("duplicate deliveries", () => {
  it("two copies of one message in one batch: submitted once, both acknowledged, nothing dead-lettered", async () => {
    const run = h.sim.createRun({ toolCalls: 2 });
    await h.send(answerFor(run));
    await h.send(answerFor(run));
    const { event, response } = await h.deliver();
    expect(event.Records).toHaveLength(2);
    expect(response.batchItemFailures).toEqual([]);
    expect(h.sim.counters.accepted).toBe(1);
    expect(h.sim.counters.doubleAcceptances).toBe(0);
    expect(await h.deadLetters()).toEqual([]);
    const results = await h.results();
    expect(results.length).toBeGreaterThanOrEqual(1);
    expect(new Set(results.map((r) => r.event.event_id)).size).toBe(1);
  });

  it("a redelivery after a crash that followed the submit looks at the run and does not submit again", async () => {
    const run = h.sim.createRun();
    await h.send(answerFor(run));
    // First receive: the submit goes out, then the function dies before SQS hears of it.
    const first = await h.receive();
    await h.invoke(first);
    await h.results();
    await h.aws.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: h.aws.input.url,
        ReceiptHandle: first.Records[0]!.receiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    // Second receive (ApproximateReceiveCount 2).
    const { event, response } = await h.deliver();
    expect(event.Records[0]!.attributes.ApproximateReceiveCount).toBe("2");
    expect(response.batchItemFailures).toEqual([]);
    expect(submitsFor(run.runId)).toHaveLength(1);
    expect(h.sim.counters.doubleAcceptances).toBe(0);
    const [again] = await h.results();
    expect(again!.event.status).toBe("completed");
  });

  it("a stale copy of a first-round message arriving during the second round is recognised from the run's steps", async () => {
    const run = h.sim.createRun({ toolCalls: ["call_r1"], afterOutputs: [{ requiresAction: ["call_r2"] }] });
    await h.send(answerFor(run));
    await h.deliver();
    expect((await h.results())[0]!.event.status).toBe("requires_action");
    // The same first-round message again (a producer retry): the run now wants call_r2.
    await h.send(answerFor(run));
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toEqual([]);
    expect(await h.deadLetters()).toEqual([]);
    expect(h.sim.counters.accepted).toBe(1);
  });
});

describe("SNS-enveloped input (SNS → SQS without raw delivery)", () => {
  it("unwraps the envelope and keeps the envelope byte for byte when dead-lettering", async () => {
    h.aws.server.createTopic("tool-outputs-in");
    h.aws.server.subscribe({ topic: "tool-outputs-in", queue: h.aws.input.name });
    const run = h.sim.createRun();
    h.aws.server.publish("tool-outputs-in", JSON.stringify(answerFor(run)));
    h.aws.server.publish("tool-outputs-in", "not json inside");
    const { event } = await h.deliver();
    expect(event.Records).toHaveLength(2);
    expect((await h.results())[0]!.event.status).toBe("completed");
    const [dead] = await h.deadLetters();
    expect(dead!.record.detail).toMatch(/SNS envelope's Message is not JSON/);
    expect(JSON.parse(dead!.record.original).Message).toBe("not json inside");
  });
});

describe("following the run", () => {
  it("stream: true reads the event stream to the resting state (no polling needed)", async () => {
    const run = h.sim.createRun({ afterOutputs: [{ requiresAction: ["call_next"] }] });
    await h.send(answerFor(run, { stream: true }));
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toEqual([]);
    expect(submitsFor(run.runId)[0]!.body).toMatchObject({ stream: true });
    expect(requestsFor(run.runId).filter((r) => r.method === "GET")).toEqual([]);
    const [published] = await h.results();
    expect(published!.event.status).toBe("requires_action");
  });

  it("an `event: error` in the stream makes the relay look at the run instead of trusting the stream", async () => {
    const run = h.sim.createRun();
    h.sim.inject({ on: "submit", kind: "stream_error", runId: run.runId });
    await h.send(answerFor(run, { stream: true }));
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toEqual([]);
    expect(submitsFor(run.runId)).toHaveLength(1);
    expect(requestsFor(run.runId).some((r) => r.method === "GET")).toBe(true);
    expect((await h.results())[0]!.event.status).toBe("completed");
  });

  it("polls no faster than openai-poll-after-ms asks", async () => {
    const paced = await startHarness({ simulator: { pollAfterMs: 120, processingMs: 400 } });
    try {
      const run = paced.sim.createRun();
      await paced.send(answerFor(run));
      await paced.deliver();
      const gets = paced.sim.requests.filter((r) => r.method === "GET" && r.path.endsWith(run.runId));
      expect(gets.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < gets.length; i++) expect(gets[i]!.at - gets[i - 1]!.at).toBeGreaterThanOrEqual(110);
      expect((await paced.results())[0]!.event.status).toBe("completed");
    } finally {
      await paced.close();
    }
  });

  it("hands a run still moving at the end of the follow budget to a watch_run message, which reports it later", async () => {
    const watched = await startHarness({ env: { FOLLOW_BUDGET_MS: "50" }, simulator: { processingMs: 500 } });
    try {
      const run = watched.sim.createRun();
      await watched.send(answerFor(run, { metadata: { tenant: "acme" } }));
      await watched.deliver();
      expect(await watched.results()).toEqual([]);
      const follow = (await watched.receive()).Records;
      expect(JSON.parse(follow[0]!.body)).toEqual({
        type: "watch_run",
        thread_id: run.threadId,
        run_id: run.runId,
        metadata: { tenant: "acme" },
      });
      await watched.aws.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: watched.aws.input.url,
          ReceiptHandle: follow[0]!.receiptHandle,
          VisibilityTimeout: 0,
        }),
      );
      // Watches repeat until the run rests.
      let published: Awaited<ReturnType<Harness["results"]>> = [];
      for (let round = 0; round < 40 && published.length === 0; round++) {
        await watched.deliver();
        published = await watched.results();
      }
      expect(published[0]!.event).toMatchObject({ type: "run.completed", metadata: { tenant: "acme" } });
      expect(watched.sim.counters.accepted).toBe(1);
    } finally {
      await watched.close();
    }
  });

  it("a watch_run for an unknown run is dead-lettered run_not_found", async () => {
    await h.send({ type: "watch_run", thread_id: "thread_x", run_id: "run_unknown" });
    await h.deliver();
    expect((await h.deadLetters())[0]!.record.reason).toBe("run_not_found");
  });
});

describe("the invocation's deadline", () => {
  it("stops taking work before the deadline and reports only unfinished records as failed", async () => {
    const tight = await startHarness({ env: { BATCH_CONCURRENCY: "1", DEADLINE_RESERVE_MS: "300" } });
    try {
      const quick = tight.sim.createRun();
      const stuck = tight.sim.createRun();
      const waiting = tight.sim.createRun();
      tight.sim.inject({ on: "submit", kind: "slow", delayMs: 1500, runId: stuck.runId });
      const ids = [await tight.send(answerFor(quick)), await tight.send(answerFor(stuck)), await tight.send(answerFor(waiting))];
      const event = await tight.receive();
      expect(event.Records.map((r) => r.messageId)).toEqual(ids);

      const started = Date.now();
      const response = await tight.invoke(event, 1200);
      const elapsed = Date.now() - started;

      expect(elapsed).toBeLessThan(1200);
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: ids[1] }, { itemIdentifier: ids[2] }]);
      expect((await tight.results()).map((r) => r.event.run_id)).toEqual([quick.runId]);
      expect(tight.sim.requests.filter((r) => r.path.includes(waiting.runId))).toEqual([]);
    } finally {
      await tight.close();
    }
  });

  it("works with an odd DEADLINE_RESERVE_MS (the cutoff is half of it, rounded)", async () => {
    const odd = await startHarness({ env: { DEADLINE_RESERVE_MS: "301" } });
    try {
      const run = odd.sim.createRun();
      await odd.send(answerFor(run));
      const { response } = await odd.deliver();
      expect(response.batchItemFailures).toEqual([]);
      expect((await odd.results())[0]!.event.status).toBe("completed");
    } finally {
      await odd.close();
    }
  });
});
