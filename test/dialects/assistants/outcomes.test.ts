/**
 * One scenario per row of docs/contract.md's table "What happens to each message", run through the real
 * handler against the loopback endpoint simulator and the SQS/SNS emulator.
 */
import { describe, expect, it } from "vitest";
import { answerFor, type Harness, startHarness, TEST_API_KEY, TEST_VIRTUAL_KEY, useHarness } from "../../helpers/relay-harness";

let h: Harness;
useHarness({ maxReceiveCount: 3 }, (started) => (h = started));

const submitsFor = (runId: string) =>
  h.sim.requests.filter((r) => r.method === "POST" && r.path.includes(`/runs/${runId}/submit_tool_outputs`));

describe("body not JSON, or not the contract", () => {
  it("writes one invalid_message DLQ record listing every problem, keeps the body byte for byte, and does not retry", async () => {
    // Prepare
    const body = ' {"thread_id":"thread/../x","run_id":"run_1","tool_outputs":[],"stream":"yes","colour":"blue"} ';
    const messageId = await h.send(body);
    // Act
    const { response } = await h.deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [dead, ...more] = await h.deadLetters();
    expect(more).toEqual([]);
    expect(dead!.attributes.reason).toBe("invalid_message");
    expect(dead!.record.reason).toBe("invalid_message");
    expect(dead!.record.original).toBe(body);
    expect(dead!.record.source_message_id).toBe(messageId);
    expect(dead!.record.receive_count).toBe(1);
    expect(dead!.record.detail).toContain("thread_id");
    expect(dead!.record.detail).toContain("tool_outputs");
    expect(dead!.record.detail).toContain("stream");
    expect(dead!.record.detail).toContain('unknown field "colour"');
    expect(h.sim.counters.submits).toBe(0);
  });

  it("says when the body is not JSON at all", async () => {
    await h.send("{not json");
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record.detail).toMatch(/^body is not JSON/);
    expect(dead!.record.original).toBe("{not json");
  });
});

describe("endpoint 2xx with a run", () => {
  it("submits with the Portkey headers, follows the run to rest, and publishes it with filterable attributes", async () => {
    // Prepare
    const run = h.sim.createRun({ toolCalls: 2, afterOutputs: ["completed"] });
    const messageId = await h.send(answerFor(run, { metadata: { tenant: "acme" } }));
    // Act
    const { response } = await h.deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [submit] = submitsFor(run.runId);
    expect(submit!.headers["x-portkey-api-key"]).toBe(TEST_API_KEY);
    expect(submit!.headers["x-portkey-virtual-key"]).toBe(TEST_VIRTUAL_KEY);
    expect(submit!.headers["openai-beta"]).toBe("assistants=v2");
    expect(submit!.headers["x-portkey-trace-id"]).toBe(messageId);
    expect(submit!.body).toEqual({ tool_outputs: answerFor(run).tool_outputs });
    const [published, ...more] = await h.results();
    expect(more).toEqual([]);
    expect(published!.event).toMatchObject({
      type: "run.completed",
      status: "completed",
      thread_id: run.threadId,
      run_id: run.runId,
      source_message_id: messageId,
      metadata: { tenant: "acme" },
    });
    expect(published!.event.event_id).toMatch(/^[0-9a-f]{32}$/);
    expect(published!.event.run).not.toHaveProperty("instructions");
    expect(published!.event.run).not.toHaveProperty("tools");
    expect(published!.attributes).toEqual({ type: "run.completed", api: "assistants", status: "completed", thread_id: run.threadId });
    expect(await h.deadLetters()).toEqual([]);
  });

  it("publishes run.requires_action with the next round's tool calls, so workers can answer them", async () => {
    const run = h.sim.createRun({ toolCalls: ["call_first"], afterOutputs: [{ requiresAction: ["call_second_a", "call_second_b"] }] });
    await h.send(answerFor(run));
    await h.deliver();
    const [published] = await h.results();
    expect(published!.event.type).toBe("run.requires_action");
    const calls = (published!.event.run.required_action as { submit_tool_outputs: { tool_calls: Array<{ id: string }> } })
      .submit_tool_outputs.tool_calls;
    expect(calls.map((c) => c.id)).toEqual(["call_second_a", "call_second_b"]);
  });
});

describe("400 'do not accept tool outputs', or an ambiguous failure: GET the run first", () => {
  it("submits again when the run still waits for these ids (the connection dropped before the call went through)", async () => {
    const run = h.sim.createRun();
    h.sim.inject({ on: "submit", kind: "drop", runId: run.runId });
    await h.send(answerFor(run));
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toEqual([]);
    const order = h.sim.requests
      .filter((r) => r.path.includes(run.runId))
      .map((r) => `${r.method} ${r.path.endsWith("submit_tool_outputs") ? "submit" : "run"}`);
    expect(order.slice(0, 3)).toEqual(["POST submit", "GET run", "POST submit"]);
    expect(h.sim.counters.accepted).toBe(1);
    expect((await h.results())[0]!.event.status).toBe("completed");
  });

  it("acknowledges without submitting again when the run moved on (accepted, then a 500)", async () => {
    const run = h.sim.createRun();
    h.sim.inject({ on: "submit", kind: "accept_then_500", runId: run.runId });
    await h.send(answerFor(run));
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toEqual([]);
    expect(submitsFor(run.runId)).toHaveLength(1);
    expect(h.sim.counters.doubleAcceptances).toBe(0);
    expect((await h.results())[0]!.event.status).toBe("completed");
    expect(await h.deadLetters()).toEqual([]);
  });

  it("dead-letters run_expired and publishes run.expired when the run expired", async () => {
    const run = h.sim.createRun();
    h.sim.expireRun(run.threadId, run.runId);
    await h.send(answerFor(run, { metadata: { tenant: "acme" } }));
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toEqual([]);
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({ reason: "run_expired", thread_id: run.threadId, run_id: run.runId, metadata: { tenant: "acme" } });
    const [published] = await h.results();
    expect(published!.event.type).toBe("run.expired");
  });
});

describe("400 'Expected tool outputs for call_ids …'", () => {
  it("dead-letters tool_call_mismatch with the expected and the given ids", async () => {
    const run = h.sim.createRun({ toolCalls: ["call_A", "call_B"] });
    await h.send({ thread_id: run.threadId, run_id: run.runId, tool_outputs: [{ tool_call_id: "call_A", output: "1" }] });
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({
      reason: "tool_call_mismatch",
      http_status: 400,
      expected_tool_call_ids: ["call_A", "call_B"],
      given_tool_call_ids: ["call_A"],
    });
    expect(h.sim.counters.accepted).toBe(0);
  });
});

describe("other 400, and 404", () => {
  it("hands back a refusal in Portkey's own shape (its configuration, not the message); endpoint_misconfigured on the last receive", async () => {
    const bare = await startHarness({ env: { PORTKEY_VIRTUAL_KEY: "" }, maxReceiveCount: 2 });
    try {
      const run = bare.sim.createRun();
      const messageId = await bare.send(answerFor(run));
      const first = await bare.deliver();
      expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: messageId }]);
      expect(await bare.deadLetters()).toEqual([]);
      await bare.deliver();
      const [dead] = await bare.deadLetters();
      expect(dead!.record.reason).toBe("endpoint_misconfigured");
      expect(dead!.record.http_status).toBe(400);
      expect(dead!.record.endpoint_error).toMatchObject({ type: "gateway_failure" });
      expect(dead!.record.endpoint_error!.message).toBeTruthy();
    } finally {
      await bare.close();
    }
  });

  it("dead-letters run_not_found for an unknown run", async () => {
    const run = h.sim.createRun();
    await h.send({ ...answerFor(run), run_id: "run_that_never_was" });
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({ reason: "run_not_found", http_status: 404 });
  });
});

describe("408/409/429/5xx, network error, timeout: retry inside the invocation", () => {
  it("honours retry-after-ms on a 429 and then succeeds", async () => {
    const run = h.sim.createRun();
    h.sim.inject({ on: "submit", kind: "rate_limit", retryAfterMs: 150, times: 2, runId: run.runId });
    await h.send(answerFor(run));
    const started = Date.now();
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toEqual([]);
    const posts = submitsFor(run.runId);
    expect(posts).toHaveLength(3);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(140);
    expect(posts[2]!.at - posts[1]!.at).toBeGreaterThanOrEqual(140);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect((await h.results())[0]!.event.status).toBe("completed");
  });

  it("gives up on a call that takes longer than the timeout, and succeeds on the next", async () => {
    const run = h.sim.createRun();
    h.sim.inject({ on: "get", kind: "slow", delayMs: 1500, runId: run.runId });
    await h.send(answerFor(run, { stream: false }));
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toEqual([]);
    expect((await h.results())[0]!.event.status).toBe("completed");
  });

  it("hands the message back with a visibility delay that grows with each receive", async () => {
    const slow = await startHarness({ env: { ENDPOINT_MAX_ATTEMPTS: "2", RETRY_VISIBILITY_BASE_SECONDS: "10" }, maxReceiveCount: 5 });
    try {
      const run = slow.sim.createRun();
      slow.sim.inject({ on: "submit", kind: "server_error", times: 100, runId: run.runId });
      const messageId = await slow.send(answerFor(run));
      const delays: number[] = [];
      for (let receive = 1; receive <= 2; receive++) {
        const { response } = await slow.deliver();
        expect(response.batchItemFailures).toEqual([{ itemIdentifier: messageId }]);
        const inflight = slow.aws.server.inspectQueue(slow.aws.input.name)!.messages.inflight;
        delays.push((inflight[0]!.visibilityDeadline - Date.now()) / 1000);
        // Make it visible again at once, as time passing would.
        const { ChangeMessageVisibilityCommand } = await import("@aws-sdk/client-sqs");
        await slow.aws.sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: slow.aws.input.url,
            ReceiptHandle: inflight[0]!.receiptHandle,
            VisibilityTimeout: 0,
          }),
        );
      }
      expect(delays[0]).toBeGreaterThan(7); // 10 s ± 20 %
      expect(delays[0]).toBeLessThan(12.5);
      expect(delays[1]).toBeGreaterThan(15); // 20 s ± 20 %
      expect(delays[1]).toBeLessThan(24.5);
      expect(await slow.deadLetters()).toEqual([]);
    } finally {
      await slow.close();
    }
  });
});

describe("401, 403, 429 insufficient_quota: configuration, not the message", () => {
  it.each([
    ["unauthorized", "unauthorized"],
    ["insufficient_quota", "quota_exceeded"],
  ] as const)("hands the message back on %s without dead-lettering it (%s on the last receive)", async (kind, _lastReason) => {
    const run = h.sim.createRun();
    h.sim.inject({ on: "submit", kind, runId: run.runId });
    const messageId = await h.send(answerFor(run));
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: messageId }]);
    expect(submitsFor(run.runId)).toHaveLength(1);
    expect(await h.deadLetters()).toEqual([]);
    // The next receive, with the cause gone, goes through.
    const second = await h.deliver();
    expect(second.response.batchItemFailures).toEqual([]);
    expect((await h.results())[0]!.event.status).toBe("completed");
  });
});

describe("the last permitted receive fails", () => {
  it.each([
    ["server_error", "retries_exhausted"],
    ["unauthorized", "unauthorized"],
  ] as const)("after %s the relay writes the DLQ record itself (%s) and acknowledges", async (kind, reason) => {
    const run = h.sim.createRun();
    h.sim.inject({ on: "any", kind, times: 1000, runId: run.runId });
    const messageId = await h.send(answerFor(run));
    const answers = [];
    for (let receive = 1; receive <= 3; receive++) answers.push((await h.deliver()).response.batchItemFailures.length);
    expect(answers).toEqual([1, 1, 0]);
    const [dead, ...more] = await h.deadLetters();
    expect(more).toEqual([]);
    expect(dead!.record).toMatchObject({ reason, source_message_id: messageId, receive_count: 3 });
    expect(dead!.attributes.reason).toBe(reason);
    expect(dead!.record.detail).toContain("receive 3 of 3");
    // After a failure that may hide an acceptance (a 5xx), a watch_run follows the run; after a 401, none.
    const follow = (await h.receive()).Records.map((r) => JSON.parse(r.body));
    expect(follow).toEqual(kind === "server_error" ? [{ type: "watch_run", thread_id: run.threadId, run_id: run.runId }] : []);
  });
});

describe("a crash the relay could not catch", () => {
  it("ends in the DLQ through SQS's own redrive after the max receive count, body unchanged", async () => {
    // Credentials missing: the handler throws before it can judge any message.
    const broken = await startHarness({ env: { PORTKEY_API_KEY: "" }, maxReceiveCount: 2 });
    try {
      const body = JSON.stringify(answerFor(broken.sim.createRun()));
      await broken.send(body);
      for (let receive = 1; receive <= 2; receive++) {
        const event = await broken.receive();
        await expect(broken.invoke(event)).rejects.toThrow(/PORTKEY_API_KEY/);
        const { ChangeMessageVisibilityCommand } = await import("@aws-sdk/client-sqs");
        await broken.aws.sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: broken.aws.input.url,
            ReceiptHandle: event.Records[0]!.receiptHandle,
            VisibilityTimeout: 0,
          }),
        );
      }
      // The third receive attempt finds the message moved by the redrive.
      expect((await broken.receive()).Records).toEqual([]);
      const [dead] = await broken.deadLetters();
      expect(dead!.body).toBe(body);
    } finally {
      await broken.close();
    }
  });
});

describe("the results topic refuses the event", () => {
  it("hands the message back, and on the last receive dead-letters it as results_unpublished", async () => {
    const lost = await startHarness({ maxReceiveCount: 2, env: { RESULTS_TOPIC_ARN: "arn:aws:sns:us-east-1:000000000000:no-such-topic" } });
    try {
      const run = lost.sim.createRun();
      const messageId = await lost.send(answerFor(run));
      const first = await lost.deliver();
      expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: messageId }]);
      const second = await lost.deliver();
      expect(second.event.Records.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(["2"]);
      expect(second.response.batchItemFailures).toEqual([]);
      const [dead] = await lost.deadLetters();
      expect(dead!.record).toMatchObject({ reason: "results_unpublished", receive_count: 2 });
      // The second receive looked at the run and did not submit again.
      expect(lost.sim.counters.accepted).toBe(1);
      expect(lost.sim.requests.filter((r) => r.method === "POST")).toHaveLength(1);
    } finally {
      await lost.close();
    }
  });
});

describe("a DLQ record moved back to the input queue whole (SQS's message-move task)", () => {
  it("is read as its original message and accepted once the cause is fixed", async () => {
    // Prepare: a message for a run the endpoint does not know yet ends in the DLQ.
    const run = { threadId: "thread_later", runId: "run_later", toolCallIds: ["call_later"] };
    const original = JSON.stringify(answerFor(run));
    await h.send(original);
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record.reason).toBe("run_not_found");
    // Act: the run appears; the record is moved back as it is.
    h.sim.createRun({ threadId: run.threadId, runId: run.runId, toolCalls: run.toolCallIds });
    await h.send(dead!.body);
    const { response } = await h.deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect((await h.results())[0]!.event).toMatchObject({ run_id: "run_later", status: "completed" });
    expect(await h.deadLetters()).toEqual([]);
  });
});

describe("outputs for ids the run never asked for, after it moved on", () => {
  it("are dead-lettered rejected_by_endpoint (the run's steps show they were never taken), not acknowledged", async () => {
    const run = h.sim.createRun({ toolCalls: ["call_real"] });
    await h.send(answerFor(run));
    await h.deliver();
    await h.results();
    // A message with made-up ids for the now completed run.
    await h.send({ thread_id: run.threadId, run_id: run.runId, tool_outputs: [{ tool_call_id: "call_made_up", output: "x" }] });
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toEqual([]);
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({ reason: "rejected_by_endpoint", run_id: run.runId });
    expect(dead!.record.detail).toContain("never took outputs for [call_made_up]");
  });
});
