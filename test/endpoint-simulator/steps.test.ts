import { describe, expect, it } from "vitest";
import type { EndpointSimulator } from "../../local/endpoint-simulator";
import { pollUntilResting, portkeyHeaders, simulator, sleep, submit, submitStreaming } from "../helpers/endpoint-simulator/helpers";
import { ListRunStepsResponse } from "../helpers/schemas/openai-assistants";

async function listSteps(sim: EndpointSimulator, threadId: string, runId: string, query = "") {
  const response = await fetch(`${sim.baseUrl}/threads/${threadId}/runs/${runId}/steps${query}`, { headers: portkeyHeaders() });
  return { status: response.status, body: (await response.json()) as any };
}

const callIdsOf = (step: any): string[] => step.step_details.tool_calls.map((call: { id: string }) => call.id);

describe("GET run steps: what the run has already taken", () => {
  it("shows the waiting round as an in_progress tool_calls step without outputs", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId, toolCallIds } = sim.createRun({ toolCalls: 2 });

    // Act
    const { status, body } = await listSteps(sim, threadId, runId);

    // Assess
    expect(status).toBe(200);
    expect(ListRunStepsResponse.safeParse(body).error?.issues).toBeUndefined();
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({ type: "tool_calls", status: "in_progress", run_id: runId, completed_at: null });
    expect(callIdsOf(body.data[0])).toEqual(toolCallIds);
    expect(body.data[0].step_details.tool_calls.map((c: any) => c.function.output)).toEqual([null, null]);
    expect(sim.counters.stepLists).toBe(1);
  });

  it("after two rounds lists newest first, the answered rounds completed with their outputs", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 10 });
    const { threadId, runId } = sim.createRun({ toolCalls: ["call_r1"], afterOutputs: [{ requiresAction: ["call_r2"] }] });
    await submit(sim, threadId, runId, { tool_outputs: [{ tool_call_id: "call_r1", output: "first" }] });
    await pollUntilResting(sim, threadId, runId);

    // Act
    const desc = await listSteps(sim, threadId, runId, "?order=desc&limit=100");
    const asc = await listSteps(sim, threadId, runId, "?order=asc");

    // Assess
    expect(ListRunStepsResponse.safeParse(desc.body).error?.issues).toBeUndefined();
    expect(desc.body.data.map((s: any) => [s.type, s.status])).toEqual([
      ["tool_calls", "in_progress"],
      ["message_creation", "completed"],
      ["tool_calls", "completed"],
    ]);
    expect(callIdsOf(desc.body.data[2])).toEqual(["call_r1"]);
    expect(desc.body.data[2].step_details.tool_calls[0].function.output).toBe("first");
    expect(callIdsOf(desc.body.data[0])).toEqual(["call_r2"]);
    expect(asc.body.data.map((s: any) => s.id)).toEqual([...desc.body.data].reverse().map((s: any) => s.id));
    expect(desc.body).toMatchObject({ first_id: desc.body.data[0].id, last_id: desc.body.data[2].id, has_more: false });
  });

  it("pages with limit and after", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 10 });
    const { threadId, runId, toolCallIds } = sim.createRun({ afterOutputs: [{ requiresAction: 1 }] });
    await submit(sim, threadId, runId, toolCallIds);
    await pollUntilResting(sim, threadId, runId);
    const all = (await listSteps(sim, threadId, runId)).body.data.map((s: any) => s.id);

    // Act
    const first = await listSteps(sim, threadId, runId, "?limit=1");
    const rest = await listSteps(sim, threadId, runId, `?limit=1&after=${first.body.last_id}`);

    // Assess
    expect(first.body).toMatchObject({ has_more: true, first_id: all[0], last_id: all[0] });
    expect(rest.body.data.map((s: any) => s.id)).toEqual([all[1]]);
    expect(rest.body.has_more).toBe(true);
  });

  it("names the same steps the stream announced", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId, toolCallIds } = sim.createRun({ afterOutputs: [{ requiresAction: 1 }] });

    // Act
    const { events } = await submitStreaming(sim, threadId, runId, toolCallIds);
    const { body } = await listSteps(sim, threadId, runId, "?order=asc");

    // Assess
    const streamedStepIds = [
      ...new Set(events.filter((e) => e.event.startsWith("thread.run.step.") && e.data.object === "thread.run.step").map((e) => e.data.id)),
    ];
    expect(body.data.map((s: any) => s.id)).toEqual(streamedStepIds);
  });

  it("marks the waiting step expired once the run expired", async () => {
    // Prepare
    const sim = await simulator({ runTtlSeconds: 0.05 });
    const { threadId, runId } = sim.createRun();

    // Act
    await sleep(80);
    const { body } = await listSteps(sim, threadId, runId);

    // Assess
    expect(body.data[0]).toMatchObject({ status: "expired", expired_at: expect.any(Number) });
  });

  it("answers 404 for unknown runs, 400 for a bad limit, and takes `get` faults", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId } = sim.createRun();
    sim.inject({ on: "get", kind: "server_error", runId });

    // Act
    const faulted = await listSteps(sim, threadId, runId);
    const unknown = await listSteps(sim, threadId, "run_nope");
    const badLimit = await listSteps(sim, threadId, runId, "?limit=500");

    // Assess
    expect(faulted.status).toBe(500);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toBe("No run found with id 'run_nope'.");
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.error.param).toBe("limit");
  });
});
