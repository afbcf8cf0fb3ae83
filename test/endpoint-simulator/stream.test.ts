import { describe, expect, it } from "vitest";
import { UNKNOWN_EVENT_NAME } from "../../local/endpoint-simulator";
import { getRun, portkeyHeaders, readEvents, simulator, submitStreaming } from "../helpers/endpoint-simulator/helpers";

const COMMON_ORDER = [
  "thread.run.step.completed",
  "thread.run.queued",
  "thread.run.in_progress",
  "thread.run.step.created",
  "thread.run.step.in_progress",
  "thread.run.step.delta",
  UNKNOWN_EVENT_NAME,
  "thread.message.created",
  "thread.message.in_progress",
  "thread.message.delta",
  "thread.message.delta",
  "thread.message.completed",
  "thread.run.step.completed",
];

describe("submit_tool_outputs with stream: true", () => {
  it("streams the spec's order, ends on the resting run then done, spread over processingMs", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 120 });
    const { threadId, runId, toolCallIds } = sim.createRun();

    // Act
    const started = performance.now();
    const { response, events } = await submitStreaming(sim, threadId, runId, toolCallIds);
    const elapsed = performance.now() - started;

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
    expect(events.map((e) => e.event)).toEqual([...COMMON_ORDER, "thread.run.completed", "done"]);
    expect(events.at(-1)!.data).toBe("[DONE]");
    expect(events.at(-2)!.data).toMatchObject({ id: runId, status: "completed", required_action: null });
    expect(events[1]!.data.status).toBe("queued");
    expect(events[2]!.data.status).toBe("in_progress");
    // The resting event cannot leave before the run rests, processingMs after the submit arrived.
    expect(elapsed).toBeGreaterThanOrEqual(115);
    expect(sim.counters.accepted).toBe(1);
  });

  it("reports the submitted outputs on the completed tool_calls step", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId } = sim.createRun({ toolCalls: ["call_A", "call_B"] });

    // Act
    const { events } = await submitStreaming(sim, threadId, runId, ["call_B", "call_A"]);

    // Assess
    const step = events[0]!.data;
    expect(step).toMatchObject({ object: "thread.run.step", type: "tool_calls", status: "completed", run_id: runId });
    expect(step.step_details.tool_calls.map((c: any) => [c.id, c.function.output])).toEqual([
      ["call_A", "done"],
      ["call_B", "done"],
    ]);
  });

  it.each(["failed", "incomplete", "cancelled", "expired"] as const)("rests on thread.run.%s", async (outcome) => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId, toolCallIds } = sim.createRun({ afterOutputs: [outcome] });

    // Act
    const { events } = await submitStreaming(sim, threadId, runId, toolCallIds);

    // Assess
    expect(events.map((e) => e.event).slice(-2)).toEqual([`thread.run.${outcome}`, "done"]);
    expect(events.at(-2)!.data.status).toBe(outcome);
  });

  it("stops on thread.run.requires_action with the new tool calls, which a GET agrees with", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId, toolCallIds } = sim.createRun({ afterOutputs: [{ requiresAction: 2 }] });

    // Act
    const { events } = await submitStreaming(sim, threadId, runId, toolCallIds);
    const polled = await getRun(sim, threadId, runId);

    // Assess
    expect(events.map((e) => e.event).slice(-4)).toEqual([
      "thread.run.step.completed",
      "thread.run.step.created",
      "thread.run.requires_action",
      "done",
    ]);
    const streamed = events.at(-2)!.data;
    expect(streamed.required_action.submit_tool_outputs.tool_calls).toHaveLength(2);
    expect(polled.body.required_action).toEqual(streamed.required_action);
    expect(events.at(-3)!.data).toMatchObject({ type: "tool_calls", status: "in_progress" });
  });

  it("answers a rejected streaming submit with a JSON error, not a stream", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId } = sim.createRun({ toolCalls: ["call_A"] });

    // Act
    const { response, events } = await submitStreaming(sim, threadId, runId, ["call_Z"]);

    // Assess: no SSE block in a JSON body
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(events).toEqual([]);
  });

  it("streams thread and run creation for POST /threads/runs with stream: true", async () => {
    // Prepare
    const sim = await simulator();

    // Act
    const response = await fetch(`${sim.baseUrl}/threads/runs`, {
      method: "POST",
      headers: portkeyHeaders(),
      body: JSON.stringify({ assistant_id: "asst_demo", stream: true, metadata: { sim_tool_calls: "1" } }),
    });
    const events = await readEvents(response);

    // Assess
    expect(events.map((e) => e.event).slice(0, 4)).toEqual([
      "thread.created",
      "thread.run.created",
      "thread.run.queued",
      "thread.run.in_progress",
    ]);
    expect(events.map((e) => e.event).slice(-2)).toEqual(["thread.run.requires_action", "done"]);
    expect(events.at(-2)!.data.assistant_id).toBe("asst_demo");
  });
});
