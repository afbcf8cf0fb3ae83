import { describe, expect, it } from "vitest";
import { getRun, pollUntilResting, simulator, sleep, submit } from "../helpers/endpoint-simulator/helpers";

describe("submit_tool_outputs: a run waiting for tools", () => {
  it("accepts exactly the required outputs once and answers the run queued", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId, toolCallIds } = sim.createRun({ toolCalls: 2 });

    // Act
    const call = await submit(sim, threadId, runId, [...toolCallIds].reverse());

    // Assess
    expect(call.status).toBe(200);
    expect(call.body).toMatchObject({
      id: runId,
      thread_id: threadId,
      object: "thread.run",
      status: "queued",
      required_action: null,
      usage: null,
    });
    expect(sim.counters).toMatchObject({ submits: 1, accepted: 1, rejected: 0, doubleAcceptances: 0 });
  });

  it("rejects a second submission of the same outputs with the status it is in", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 200 });
    const { threadId, runId, toolCallIds } = sim.createRun();
    await submit(sim, threadId, runId, toolCallIds);

    // Act
    const again = await submit(sim, threadId, runId, toolCallIds);

    // Assess
    expect(again.status).toBe(400);
    expect(again.body).toEqual({
      error: { message: 'Runs in status "queued" do not accept tool outputs.', type: "invalid_request_error", param: null, code: null },
    });
    expect(sim.counters).toMatchObject({ submits: 2, accepted: 1, rejected: 1, doubleAcceptances: 0 });
  });

  it("rejects outputs after the run completed, naming the status", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 10 });
    const { threadId, runId, toolCallIds } = sim.createRun();
    await submit(sim, threadId, runId, toolCallIds);
    await pollUntilResting(sim, threadId, runId);

    // Act
    const late = await submit(sim, threadId, runId, toolCallIds);

    // Assess
    expect(late.status).toBe(400);
    expect(late.body.error.message).toBe('Runs in status "completed" do not accept tool outputs.');
  });

  it.each([
    { name: "a missing id", given: (ids: string[]) => [ids[0]!], expectedGiven: (ids: string[]) => [ids[0]!] },
    { name: "an extra id", given: (ids: string[]) => [...ids, "call_extra"], expectedGiven: (ids: string[]) => [...ids, "call_extra"] },
    { name: "a duplicated id", given: (ids: string[]) => [ids[0]!, ids[0]!], expectedGiven: (ids: string[]) => [ids[0]!, ids[0]!] },
  ])("rejects $name with the python-formatted expected and given ids", async ({ given, expectedGiven }) => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId } = sim.createRun({ toolCalls: ["call_A", "call_B"] });
    const ids = ["call_A", "call_B"];

    // Act
    const call = await submit(sim, threadId, runId, given(ids));

    // Assess
    const list = (items: string[]) => `[${items.map((id) => `'${id}'`).join(", ")}]`;
    expect(call.status).toBe(400);
    expect(call.body).toEqual({
      error: {
        message: `Expected tool outputs for call_ids ${list(ids)}, got ${list(expectedGiven(ids))}`,
        type: "invalid_request_error",
        param: null,
        code: null,
      },
    });
    expect(sim.run(threadId, runId)?.status).toBe("requires_action");
  });

  it("words the mismatch exactly as the reference shows it", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId } = sim.createRun({ toolCalls: ["call_A", "call_B"] });

    // Act
    const call = await submit(sim, threadId, runId, ["call_A"]);

    // Assess
    expect(call.body.error.message).toBe("Expected tool outputs for call_ids ['call_A', 'call_B'], got ['call_A']");
  });

  it("answers 404 for an unknown thread and for an unknown run of a known thread", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId } = sim.createRun();

    // Act
    const noThread = await submit(sim, "thread_nope", "run_nope", ["call_A"]);
    const noRun = await submit(sim, threadId, "run_nope", ["call_A"]);

    // Assess
    expect(noThread.status).toBe(404);
    expect(noThread.body.error).toEqual({
      message: "No thread found with id 'thread_nope'.",
      type: "invalid_request_error",
      param: null,
      code: null,
    });
    expect(noRun.status).toBe(404);
    expect(noRun.body.error.message).toBe("No run found with id 'run_nope'.");
  });

  it.each([
    {
      name: "an unknown top-level field",
      body: { tool_outputs: [], strem: true },
      message: "Unrecognized request argument supplied: strem",
    },
    { name: "a missing tool_outputs", body: { stream: false }, message: "Missing required parameter: 'tool_outputs'." },
    {
      name: "tool_outputs not an array",
      body: { tool_outputs: "x" },
      message: "Invalid type for 'tool_outputs': expected an array, but got a string instead.",
    },
    {
      name: "an output that is not a string",
      body: { tool_outputs: [{ tool_call_id: "call_A", output: { a: 1 } }] },
      message: "Invalid type for 'tool_outputs[0].output': expected a string, but got an object instead.",
    },
    {
      name: "an unknown field in an item",
      body: { tool_outputs: [{ tool_call_id: "call_A", output: "", extra: 1 }] },
      message: "Unrecognized request argument supplied: tool_outputs[0].extra",
    },
    {
      name: "stream not a boolean",
      body: { tool_outputs: [], stream: "yes" },
      message: "Invalid type for 'stream': expected a boolean, but got a string instead.",
    },
  ])("rejects $name with 400 naming it", async ({ body, message }) => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId } = sim.createRun({ toolCalls: ["call_A"] });

    // Act
    const call = await submit(sim, threadId, runId, body);

    // Assess
    expect(call.status).toBe(400);
    expect(call.body.error.message).toBe(message);
    expect(Object.keys(call.body.error).sort()).toEqual(["code", "message", "param", "type"]);
    expect(sim.counters.rejected).toBe(1);
  });

  it("accepts stream: null and an empty output string", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId } = sim.createRun({ toolCalls: ["call_A"] });

    // Act
    const call = await submit(sim, threadId, runId, { tool_outputs: [{ tool_call_id: "call_A", output: "" }], stream: null });

    // Assess
    expect(call.status).toBe(200);
    expect(call.body.status).toBe("queued");
  });

  it("answers 400 for a body that is not JSON", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId } = sim.createRun();

    // Act
    const response = await fetch(`${sim.baseUrl}/threads/${threadId}/runs/${runId}/submit_tool_outputs`, {
      method: "POST",
      headers: { "content-type": "application/json", "openai-beta": "assistants=v2" },
      body: "{not json",
    });

    // Assess
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/could not parse the JSON body/);
  });
});

describe("submit_tool_outputs: a run that asks for tools again", () => {
  it("goes back to requires_action with new call ids, then completes after the second round", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 20 });
    const { threadId, runId, toolCallIds } = sim.createRun({
      toolCalls: 1,
      afterOutputs: [{ requiresAction: ["call_second_1", "call_second_2"] }, "completed"],
    });

    // Act
    await submit(sim, threadId, runId, toolCallIds);
    const second = await pollUntilResting(sim, threadId, runId);
    const oldIdsAgain = await submit(sim, threadId, runId, toolCallIds);
    const accepted = await submit(sim, threadId, runId, ["call_second_2", "call_second_1"]);
    const final = await pollUntilResting(sim, threadId, runId);

    // Assess
    expect(second.body.status).toBe("requires_action");
    expect(second.body.required_action.submit_tool_outputs.tool_calls.map((c: { id: string }) => c.id)).toEqual([
      "call_second_1",
      "call_second_2",
    ]);
    expect(oldIdsAgain.status).toBe(400);
    expect(oldIdsAgain.body.error.message).toBe(
      `Expected tool outputs for call_ids ['call_second_1', 'call_second_2'], got ['${toolCallIds[0]}']`,
    );
    expect(accepted.status).toBe(200);
    expect(final.body.status).toBe("completed");
    expect(final.body.usage.total_tokens).toBeGreaterThan(0);
    expect(sim.counters).toMatchObject({ accepted: 2, rejected: 1, doubleAcceptances: 0 });
  });

  it("counts a double acceptance when a call-id set that was accepted is accepted again", async () => {
    // Prepare: a script that asks for the same id twice is the only way to provoke it without a bug
    const sim = await simulator({ processingMs: 10 });
    const { threadId, runId } = sim.createRun({ toolCalls: ["call_same"], afterOutputs: [{ requiresAction: ["call_same"] }] });
    await submit(sim, threadId, runId, ["call_same"]);
    await pollUntilResting(sim, threadId, runId);

    // Act
    await submit(sim, threadId, runId, ["call_same"]);

    // Assess
    expect(sim.counters.doubleAcceptances).toBe(1);
  });
});

describe("submit_tool_outputs: expiry", () => {
  it("reads expired once expires_at passes while waiting, and refuses outputs then", async () => {
    // Prepare
    const sim = await simulator({ runTtlSeconds: 0.15 });
    const { threadId, runId, toolCallIds } = sim.createRun();
    const before = await getRun(sim, threadId, runId);

    // Act
    await sleep(200);
    const after = await getRun(sim, threadId, runId);
    const late = await submit(sim, threadId, runId, toolCallIds);

    // Assess
    expect(before.body.status).toBe("requires_action");
    expect(before.body.expires_at).toBeGreaterThanOrEqual(before.body.created_at);
    expect(after.body).toMatchObject({ status: "expired", expires_at: null, required_action: null });
    expect(late.status).toBe(400);
    expect(late.body.error).toEqual({
      message: 'Runs in status "expired" do not accept tool outputs.',
      type: "invalid_request_error",
      param: null,
      code: null,
    });
  });

  it("expireRun forces expiry now, whatever the clock says", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId, toolCallIds } = sim.createRun();

    // Act
    sim.expireRun(threadId, runId);
    const late = await submit(sim, threadId, runId, toolCallIds);

    // Assess
    expect(sim.run(threadId, runId)?.status).toBe("expired");
    expect(late.body.error.message).toBe('Runs in status "expired" do not accept tool outputs.');
  });

  it("follows an injected clock: expiry happens when the clock says so", async () => {
    // Prepare
    let clock = 1_800_000_000_000;
    const sim = await simulator({ now: () => clock, runTtlSeconds: 600 });
    const { threadId, runId } = sim.createRun();

    // Act
    clock += 599_000;
    const waiting = sim.run(threadId, runId)?.status;
    clock += 1_000;
    const expired = sim.run(threadId, runId);

    // Assess
    expect(waiting).toBe("requires_action");
    expect(expired).toMatchObject({ status: "expired", created_at: 1_800_000_000, expires_at: null });
  });
});
