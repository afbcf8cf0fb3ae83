import { describe, expect, it } from "vitest";
import {
  API_KEY,
  createThreadAndRun,
  getRun,
  pollUntilResting,
  portkeyHeaders,
  simulator,
  submit,
} from "../helpers/endpoint-simulator/helpers";

describe("gateway checks before a request reaches a run", () => {
  it("answers 401 in OpenAI shape without the right x-portkey-api-key", async () => {
    // Prepare
    const sim = await simulator({ apiKey: API_KEY });
    const { threadId, runId, toolCallIds } = sim.createRun();
    const { "x-portkey-api-key": _, ...withoutKey } = portkeyHeaders();

    // Act
    const missing = await submit(sim, threadId, runId, toolCallIds, withoutKey);
    const wrong = await submit(sim, threadId, runId, toolCallIds, portkeyHeaders({ "x-portkey-api-key": "pk-wrong" }));
    const right = await submit(sim, threadId, runId, toolCallIds);

    // Assess
    expect(missing.status).toBe(401);
    expect(missing.body.error).toEqual({
      message: expect.any(String),
      type: "invalid_request_error",
      param: null,
      code: "invalid_api_key",
    });
    expect(wrong.status).toBe(401);
    expect(right.status).toBe(200);
    expect(sim.counters).toMatchObject({ submits: 3, accepted: 1, rejected: 0 });
  });

  it("checks a Bearer key instead when configured as a direct OpenAI-compatible server", async () => {
    // Prepare
    const sim = await simulator({ apiKey: "sk-direct", apiKeyHeader: "authorization" });
    const { threadId, runId } = sim.createRun();

    // Act
    const portkeyStyle = await getRun(sim, threadId, runId, portkeyHeaders({ "x-portkey-api-key": "sk-direct" }));
    const bearer = await getRun(sim, threadId, runId, { "openai-beta": "assistants=v2", authorization: "Bearer sk-direct" });

    // Assess
    expect(portkeyStyle.status).toBe(401);
    expect(bearer.status).toBe(200);
  });

  it("answers 400 in Portkey shape without a virtual key or provider", async () => {
    // Prepare
    const sim = await simulator({ virtualKey: "vk-test" });
    const { threadId, runId } = sim.createRun();
    const { "x-portkey-virtual-key": _, ...withoutProvider } = portkeyHeaders();

    // Act
    const missing = await getRun(sim, threadId, runId, withoutProvider);
    const provider = await getRun(sim, threadId, runId, { ...withoutProvider, "x-portkey-provider": "openai" });

    // Assess
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ status: "failure", message: expect.stringContaining("x-portkey-provider") });
    expect(provider.status).toBe(200);
  });

  it("requires OpenAI-Beta: assistants=v2 unless told not to", async () => {
    // Prepare
    const strict = await simulator();
    const lenient = await simulator({ requireBetaHeader: false });
    const a = strict.createRun();
    const b = lenient.createRun();
    const { "openai-beta": _, ...withoutBeta } = portkeyHeaders();

    // Act
    const refused = await getRun(strict, a.threadId, a.runId, withoutBeta);
    const v1 = await getRun(strict, a.threadId, a.runId, portkeyHeaders({ "openai-beta": "assistants=v1" }));
    const allowed = await getRun(lenient, b.threadId, b.runId, withoutBeta);

    // Assess
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain("OpenAI-Beta");
    expect(v1.status).toBe(400);
    expect(allowed.status).toBe(200);
  });

  it("answers unknown paths and methods with 404 in OpenAI shape", async () => {
    // Prepare
    const sim = await simulator();

    // Act
    const unknownPath = await fetch(`${sim.baseUrl}/assistants`, { headers: portkeyHeaders() });
    const wrongMethod = await fetch(`${sim.baseUrl}/threads/thread_a/runs/run_a`, { method: "DELETE", headers: portkeyHeaders() });

    // Assess
    expect(unknownPath.status).toBe(404);
    expect(await unknownPath.json()).toEqual({
      error: { message: "Invalid URL (GET /v1/assistants)", type: "invalid_request_error", param: null, code: null },
    });
    expect(wrongMethod.status).toBe(404);
  });
});

describe("response headers and request records", () => {
  it("gives every response a unique x-request-id and echoes x-portkey-trace-id", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId } = sim.createRun();

    // Act
    const traced = await getRun(sim, threadId, runId, portkeyHeaders({ "x-portkey-trace-id": "trace-123" }));
    const untraced = await getRun(sim, threadId, runId);
    const notFound = await fetch(`${sim.baseUrl}/nowhere`);

    // Assess
    expect(traced.headers.get("x-portkey-trace-id")).toBe("trace-123");
    expect(untraced.headers.get("x-portkey-trace-id")).toBeNull();
    const ids = [traced.headers.get("x-request-id"), untraced.headers.get("x-request-id"), notFound.headers.get("x-request-id")];
    expect(ids.every((id) => /^req_[A-Za-z0-9]+$/.test(id ?? ""))).toBe(true);
    expect(new Set(ids).size).toBe(3);
  });

  it("records method, path, lower-cased headers and parsed body of each request", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId, toolCallIds } = sim.createRun();

    // Act
    await submit(sim, threadId, runId, toolCallIds, portkeyHeaders({ "X-Portkey-Trace-Id": "t-1" }));

    // Assess
    expect(sim.requests).toHaveLength(1);
    const [recorded] = sim.requests;
    expect(recorded).toMatchObject({
      method: "POST",
      path: `/v1/threads/${threadId}/runs/${runId}/submit_tool_outputs`,
      headers: { "openai-beta": "assistants=v2", "x-portkey-trace-id": "t-1", "x-portkey-api-key": API_KEY },
      body: { tool_outputs: [{ tool_call_id: toolCallIds[0] }] },
    });
    expect(typeof recorded!.at).toBe("number");
  });

  it("rejects unknown simulator options so typos fail loudly", async () => {
    // Act / Assess
    await expect(simulator({ pollAfter: 5 } as never)).rejects.toThrow(/unknown option\(s\) pollAfter/);
  });
});

describe("POST /threads/runs (the local demo's way to start a run)", () => {
  it("starts queued and reaches requires_action with the tool calls metadata asks for", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 20 });

    // Act
    const created = await createThreadAndRun(sim, { assistant_id: "asst_demo", metadata: { sim_tool_calls: "3", tenant: "acme" } });
    const paused = await pollUntilResting(sim, created.body.thread_id, created.body.id);

    // Assess
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ status: "queued", assistant_id: "asst_demo", metadata: { tenant: "acme" }, started_at: null });
    expect(created.body.thread_id).toMatch(/^thread_[A-Za-z0-9_]+$/);
    expect(created.body.id).toMatch(/^run_[A-Za-z0-9_]+$/);
    expect(paused.body.status).toBe("requires_action");
    const ids = paused.body.required_action.submit_tool_outputs.tool_calls.map((c: { id: string }) => c.id);
    expect(ids).toHaveLength(3);
    for (const id of ids) expect(id).toMatch(/^call_[A-Za-z0-9_]+$/);
  });

  it("follows sim_then after the first round", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 10 });
    const created = await createThreadAndRun(sim, {
      assistant_id: "asst_demo",
      metadata: { sim_tool_calls: "1", sim_then: "requires_action:2, failed" },
    });
    const { thread_id: threadId, id: runId } = created.body;

    // Act
    const first = await pollUntilResting(sim, threadId, runId);
    await submit(
      sim,
      threadId,
      runId,
      first.body.required_action.submit_tool_outputs.tool_calls.map((c: { id: string }) => c.id),
    );
    const second = await pollUntilResting(sim, threadId, runId);
    await submit(
      sim,
      threadId,
      runId,
      second.body.required_action.submit_tool_outputs.tool_calls.map((c: { id: string }) => c.id),
    );
    const final = await pollUntilResting(sim, threadId, runId);

    // Assess
    expect(second.body.required_action.submit_tool_outputs.tool_calls).toHaveLength(2);
    expect(final.body.status).toBe("failed");
  });

  it("rejects a missing assistant_id and a bad sim_then", async () => {
    // Prepare
    const sim = await simulator();

    // Act
    const noAssistant = await createThreadAndRun(sim, { metadata: {} });
    const badScript = await createThreadAndRun(sim, { assistant_id: "asst_demo", metadata: { sim_then: "explode" } });

    // Assess
    expect(noAssistant.status).toBe(400);
    expect(noAssistant.body.error).toMatchObject({ message: "Missing required parameter: 'assistant_id'.", param: "assistant_id" });
    expect(badScript.status).toBe(400);
    expect(badScript.body.error.param).toBe("metadata.sim_then");
  });
});
