/**
 * The simulator's objects against strict schemas built from the official OpenAPI definitions, so a
 * relay that passes against the simulator meets spec-shaped data, not the simulator's own idea of it.
 */
import { describe, expect, it } from "vitest";
import { type RunScript, UNKNOWN_EVENT_NAME } from "../../local/endpoint-simulator";
import {
  getRun,
  portkeyHeaders,
  readEvents,
  type SseEvent,
  simulator,
  submit,
  submitStreaming,
} from "../helpers/endpoint-simulator/helpers";
import { AssistantStreamEvent, ErrorResponse, RunObject } from "../helpers/schemas/openai-assistants";

function expectValidEvents(events: SseEvent[]): void {
  expect(events.length).toBeGreaterThan(0);
  for (const { event, data } of events) {
    if (event === UNKNOWN_EVENT_NAME) continue; // deliberately outside the spec
    const result = AssistantStreamEvent.safeParse({ event, data });
    expect(result.error?.issues, `event ${event}`).toBeUndefined();
  }
}

describe("Run objects match openai-openapi RunObject in every status the simulator produces", () => {
  it("queued, in_progress, requires_action and each terminal status", async () => {
    // Prepare
    let clock = 1_800_000_000_000;
    const sim = await simulator({ now: () => clock, processingMs: 1000 });
    const outcomes: RunScript[] = ["completed", "failed", "incomplete", "cancelled", "expired", { requiresAction: 2 }];
    const runs = outcomes.map((outcome) => sim.createRun({ toolCalls: 2, afterOutputs: [outcome], metadata: { tenant: "acme" } }));
    const seen = new Map<string, unknown>();
    const look = async (threadId: string, runId: string) => {
      const { body } = await getRun(sim, threadId, runId);
      seen.set(body.status, body);
    };

    // Act
    for (const run of runs) {
      await look(run.threadId, run.runId);
      const accepted = await submit(sim, run.threadId, run.runId, run.toolCallIds);
      seen.set(`answer:${accepted.body.status}`, accepted.body);
    }
    await look(runs[0]!.threadId, runs[0]!.runId);
    clock += 600;
    await look(runs[0]!.threadId, runs[0]!.runId);
    clock += 600;
    for (const run of runs) await look(run.threadId, run.runId);
    const forced = sim.createRun();
    sim.expireRun(forced.threadId, forced.runId);
    seen.set("forced-expired", sim.run(forced.threadId, forced.runId));

    // Assess
    expect([...seen.keys()].sort()).toEqual(
      [
        "answer:queued",
        "cancelled",
        "completed",
        "expired",
        "failed",
        "forced-expired",
        "in_progress",
        "incomplete",
        "queued",
        "requires_action",
      ].sort(),
    );
    for (const [status, body] of seen) {
      const result = RunObject.safeParse(body);
      expect(result.error?.issues, status).toBeUndefined();
    }
  });

  it("the schema is strict enough to catch a missing required field or an extra one", () => {
    // Prepare
    const valid = { ...RunObject.parse(validRun()) };
    const { usage: _, ...missing } = valid;

    // Act / Assess
    expect(RunObject.safeParse(missing).success).toBe(false);
    expect(RunObject.safeParse({ ...valid, surprise: 1 }).success).toBe(false);
    expect(RunObject.safeParse({ ...valid, status: "sleeping" }).success).toBe(false);
  });
});

describe("error bodies match openai-openapi ErrorResponse", () => {
  it("for 400, 404 and fault answers in OpenAI shape", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId } = sim.createRun({ toolCalls: ["call_A"] });
    sim.inject(
      { on: "get", kind: "rate_limit", retryAfterMs: 5 },
      { on: "get", kind: "server_error" },
      { on: "get", kind: "insufficient_quota" },
    );

    // Act
    const bodies = [
      (await submit(sim, threadId, runId, ["call_B"])).body,
      (await submit(sim, "thread_x", runId, ["call_A"])).body,
      (await submit(sim, threadId, runId, { tool_outputs: [], bogus: 1 })).body,
      (await getRun(sim, threadId, runId)).body,
      (await getRun(sim, threadId, runId)).body,
      (await getRun(sim, threadId, runId)).body,
    ];

    // Assess
    for (const body of bodies) expect(ErrorResponse.safeParse(body).error?.issues).toBeUndefined();
  });
});

describe("stream events match openai-openapi AssistantStreamEvent", () => {
  it.each<RunScript>(["completed", "failed", "incomplete", "cancelled", "expired", { requiresAction: 3 }])(
    "for a submit ending %j",
    async (outcome) => {
      // Prepare
      const sim = await simulator();
      const { threadId, runId, toolCallIds } = sim.createRun({ toolCalls: 2, afterOutputs: [outcome] });

      // Act
      const { events } = await submitStreaming(sim, threadId, runId, toolCallIds);

      // Assess
      expectValidEvents(events);
      expect(events.some((e) => e.event === UNKNOWN_EVENT_NAME)).toBe(true);
    },
  );

  it("for create-thread-and-run and for a stream that errors", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId, toolCallIds } = sim.createRun();
    sim.inject({ on: "submit", kind: "stream_error" });

    // Act
    const created = await fetch(`${sim.baseUrl}/threads/runs`, {
      method: "POST",
      headers: portkeyHeaders(),
      body: JSON.stringify({ assistant_id: "asst_demo", stream: true }),
    });
    const createEvents = await readEvents(created);
    const { events: errorEvents } = await submitStreaming(sim, threadId, runId, toolCallIds);

    // Assess
    expectValidEvents(createEvents);
    expectValidEvents(errorEvents);
    expect(errorEvents.at(-1)!.event).toBe("error");
  });
});

function validRun(): Record<string, unknown> {
  return {
    id: "run_abc123",
    object: "thread.run",
    created_at: 1698107661,
    assistant_id: "asst_abc123",
    thread_id: "thread_abc123",
    status: "completed",
    required_action: null,
    started_at: 1699073476,
    expires_at: null,
    cancelled_at: null,
    failed_at: null,
    completed_at: 1699073498,
    last_error: null,
    model: "gpt-4o",
    instructions: "",
    tools: [{ type: "file_search" }, { type: "code_interpreter" }],
    metadata: {},
    incomplete_details: null,
    usage: { prompt_tokens: 123, completion_tokens: 456, total_tokens: 579 },
    temperature: 1.0,
    top_p: 1.0,
    max_prompt_tokens: 1000,
    max_completion_tokens: 1000,
    truncation_strategy: { type: "auto", last_messages: null },
    response_format: "auto",
    tool_choice: "auto",
    parallel_tool_calls: true,
  };
}
