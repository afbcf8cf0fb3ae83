/**
 * Keys and tool outputs never reach the logs: every byte the process writes during a varied run is
 * captured (logs at DEBUG, metrics on) and searched for them.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type CapturedOutput, captureProcessOutput, logEverything } from "../helpers/process-output";
import type { Harness } from "../helpers/relay-harness";

let h: Harness;
let helpers: typeof import("../helpers/relay-harness");
let stdio: CapturedOutput;

beforeAll(async () => {
  logEverything();
  helpers = await import("../helpers/relay-harness");
  h = await helpers.startHarness({ maxReceiveCount: 2 });
  stdio = captureProcessOutput();
});

afterAll(async () => {
  stdio.restore();
  await h.close();
});

it("logs ids, outcomes and timings, emits the metrics, and shows neither the API key, the virtual key nor any output text", async () => {
  // Prepare: success, stream, retry, mismatch, invalid, unauthorized on the last receive.
  const secretOutputs: string[] = [];
  const message = (run: { threadId: string; runId: string; toolCallIds: string[] }, extra = {}) => {
    const body = helpers.answerFor(run, extra);
    secretOutputs.push(...body.tool_outputs.map((o) => o.output));
    return body;
  };
  const ok = h.sim.createRun({ toolCalls: 2 });
  const streamed = h.sim.createRun({ afterOutputs: [{ requiresAction: 1 }] });
  const retried = h.sim.createRun();
  const refused = h.sim.createRun();
  h.sim.inject(
    { on: "submit", kind: "server_error", runId: retried.runId },
    { on: "any", kind: "unauthorized", times: 100, runId: refused.runId },
  );
  const ids = [
    await h.send(message(ok)),
    await h.send(message(streamed, { stream: true })),
    await h.send(message(retried)),
    await h.send(message(refused)),
    await h.send({
      thread_id: ok.threadId,
      run_id: ok.runId,
      tool_outputs: [{ tool_call_id: "call_wrong", output: "tool-output-text-mismatch" }],
    }),
    await h.send('{"thread_id":"t","tool_outputs":[{"tool_call_id":"c","output":"tool-output-text-invalid"}],"extra":1}'),
  ];
  secretOutputs.push("tool-output-text-mismatch", "tool-output-text-invalid");

  // Act: two receives, so the refused one reaches its last receive.
  await h.deliver();
  await h.deliver();

  // Assess
  const output = stdio.chunks.join("");
  expect(output).toContain("message settled");
  expect(output).toContain("message dead-lettered");
  for (const id of ids) expect(output).toContain(id);
  // The EMF metrics documents: accepted, DLQ by reason, retries, endpoint latency.
  for (const metric of ["Accepted", "DeadLettered", "Retries", "EndpointLatency", "HandedBack"])
    expect(output).toContain(`"Name":"${metric}"`);
  expect(output).toContain('"reason":"invalid_message"');
  expect(output).toContain('"Namespace":"ToolOutputRelay"');
  expect(output).not.toContain(helpers.TEST_API_KEY);
  expect(output).not.toContain(helpers.TEST_VIRTUAL_KEY);
  expect(output).not.toContain("tool-output-text");
  for (const secret of secretOutputs) expect(output).not.toContain(secret);
});

it("logs no key and no tool output for Responses-API messages either (outputs as text and as content parts)", async () => {
  // Prepare: success, stream, conversation, an unconfirmed POST, a mismatch, an invalid message, a 401 on the last receive.
  stdio.chunks.length = 0;
  const secretOutputs: string[] = [];
  const message = (response: { responseId: string; callIds: string[]; conversationId?: string }, extra = {}) => {
    const body = helpers.responseAnswerFor(response, extra);
    secretOutputs.push(...body.tool_outputs.map((o) => String(o.output)));
    return body;
  };
  const ok = h.sim.createResponse({ toolCalls: 2 });
  const streamed = h.sim.createResponse({ afterOutputs: [{ functionCalls: 1 }] });
  const chat = h.sim.createResponse({ conversation: true });
  const unconfirmed = h.sim.createResponse();
  const refused = h.sim.createResponse();
  h.sim.inject(
    { on: "response_create", kind: "accept_then_500", responseId: unconfirmed.responseId },
    { on: "response_create", kind: "unauthorized", times: 100, responseId: refused.responseId },
  );
  const parts = [{ type: "input_text", text: "tool-output-text-as-parts" }];
  const ids = [
    await h.send(message(ok)),
    await h.send(message(streamed, { stream: true })),
    await h.send(message(chat, { conversation: true, request: { model: "gpt-5-mini" } })),
    await h.send(message(unconfirmed)),
    await h.send(message(refused)),
    await h.send({ response_id: ok.responseId, tool_outputs: [{ tool_call_id: "call_wrong", output: parts }] }),
    await h.send('{"response_id":"resp_x","tool_outputs":[{"tool_call_id":"c","output":"tool-output-text-invalid-r"}],"request":{"x":1}}'),
  ];
  secretOutputs.push("tool-output-text-as-parts", "tool-output-text-invalid-r");

  // Act: two receives, so the refused one reaches its last receive.
  await h.deliver();
  await h.deliver();

  // Assess
  const output = stdio.chunks.join("");
  for (const id of ids) expect(output).toContain(id);
  expect(output).toContain('"api":"responses"');
  expect(output).toContain('"reason":"submission_unconfirmed"');
  expect(output).toContain('"reason":"unauthorized"');
  expect(output).not.toContain(helpers.TEST_API_KEY);
  expect(output).not.toContain(helpers.TEST_VIRTUAL_KEY);
  expect(output).not.toContain("tool-output-text");
  for (const secret of secretOutputs) expect(output).not.toContain(secret);
});

it("writes a metric for every invocation: one of only collected messages, one of only a dead-lettered message", async () => {
  // Prepare: a part of a two-call turn (stored, acknowledged), then a message the relay refuses at once.
  stdio.chunks.length = 0;
  const run = h.sim.createRun({ toolCalls: 2 });
  const [first] = helpers.answerFor(run).tool_outputs;
  await h.send({ thread_id: run.threadId, run_id: run.runId, tool_outputs: [first], collect: true });
  await h.deliver();
  await h.send({ thread_id: "thread_unknown", run_id: "run_unknown", tool_outputs: [{ tool_call_id: "c", output: "1" }] });
  await h.deliver();

  // Assess: no empty metrics document warned of; each invocation's metric written.
  const output = stdio.chunks.join("");
  expect(output).toContain('"Name":"Collected"');
  expect(output).toMatch(/"DeadLettered":1[,}](?![^\n]*"reason")/);
  expect(output).not.toContain("No application metrics to publish");
});

it("adds each count once per invocation: a batch of three accepted messages writes Accepted 3, not three ones", async () => {
  // Prepare
  stdio.chunks.length = 0;
  const runs = [h.sim.createRun(), h.sim.createRun(), h.sim.createRun()];
  for (const run of runs) await h.send(helpers.answerFor(run));

  // Act: one receive, one batch.
  await h.deliver();

  // Assess: the invocation's metrics document holds the totals; the latencies stay one value per endpoint call.
  const documents = stdio.chunks
    .join("")
    .split("\n")
    .filter((line) => line.includes('"CloudWatchMetrics"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const withAccepted = documents.filter((document) => "Accepted" in document);
  expect(withAccepted).toHaveLength(1);
  expect(withAccepted[0]).toMatchObject({ Accepted: 3, ResultsPublished: 3 });
  expect(withAccepted[0]?.EndpointLatency).toEqual(expect.arrayContaining([expect.any(Number)]));
  expect(String(withAccepted[0]?.EndpointLatency).split(",").length).toBeGreaterThanOrEqual(3);
});

it("counts each acceptance once when two invocations run at once in one process (the local stack)", async () => {
  // Prepare: two batches of one accepted message each, received apart.
  stdio.chunks.length = 0;
  await h.send(helpers.answerFor(h.sim.createRun()));
  const first = await h.receive();
  await h.send(helpers.answerFor(h.sim.createRun()));
  const second = await h.receive();

  // Act: both invocations at once.
  await Promise.all([h.invoke(first), h.invoke(second)]);

  // Assess: both acceptances counted once. Outside Lambda Powertools keeps one document for the process, so which
  // invocation's flush writes each may vary (and the later flush may find the document empty): only the total is fixed.
  const output = stdio.chunks.join("");
  const accepted = output
    .split("\n")
    .filter((line) => line.includes('"CloudWatchMetrics"'))
    .flatMap((line) => [(JSON.parse(line) as { Accepted?: number | number[] }).Accepted ?? []].flat());
  expect(accepted.reduce((sum, n) => sum + n, 0)).toBe(2);
});
