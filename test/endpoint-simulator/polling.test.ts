import { describe, expect, it } from "vitest";
import type { RunScript } from "../../local/endpoint-simulator";
import { getRun, pollUntilResting, simulator, submit } from "../helpers/endpoint-simulator/helpers";

describe("GET run: following a run by polling", () => {
  it("carries openai-poll-after-ms with the configured value", async () => {
    // Prepare
    const sim = await simulator({ pollAfterMs: 123 });
    const { threadId, runId } = sim.createRun();

    // Act
    const call = await getRun(sim, threadId, runId);

    // Assess
    expect(call.status).toBe(200);
    expect(call.headers.get("openai-poll-after-ms")).toBe("123");
    expect(call.body.status).toBe("requires_action");
    expect(sim.counters.gets).toBe(1);
  });

  it("moves queued → in_progress → completed by the clock alone, without timers", async () => {
    // Prepare
    let clock = 1_800_000_000_000;
    const sim = await simulator({ now: () => clock, processingMs: 1000 });
    const { threadId, runId, toolCallIds } = sim.createRun();
    await submit(sim, threadId, runId, toolCallIds);

    // Act
    const seen: string[] = [];
    for (const step of [0, 499, 1, 499, 1]) {
      clock += step;
      seen.push((await getRun(sim, threadId, runId)).body.status);
    }

    // Assess
    expect(seen).toEqual(["queued", "queued", "in_progress", "in_progress", "completed"]);
    const done = sim.run(threadId, runId)!;
    expect(done.completed_at).toBe(Math.floor(clock / 1000));
    expect(done.started_at).not.toBeNull();
    expect(done.expires_at).toBeNull();
  });

  it("stays in progress longer when the script says so", async () => {
    // Prepare
    let clock = 1_800_000_000_000;
    const sim = await simulator({ now: () => clock, processingMs: 100 });
    const { threadId, runId, toolCallIds } = sim.createRun({ afterOutputs: [{ stayInProgressMs: 5000 }, "completed"] });
    await submit(sim, threadId, runId, toolCallIds);

    // Act
    clock += 5099;
    const stillWorking = sim.run(threadId, runId)?.status;
    clock += 1;
    const done = sim.run(threadId, runId)?.status;

    // Assess
    expect(stillWorking).toBe("in_progress");
    expect(done).toBe("completed");
  });

  it.each<{ outcome: RunScript; check: Record<string, unknown> }>([
    { outcome: "completed", check: { status: "completed", last_error: null, incomplete_details: null } },
    {
      outcome: "failed",
      check: { status: "failed", last_error: { code: "server_error", message: expect.any(String) }, completed_at: null },
    },
    { outcome: "incomplete", check: { status: "incomplete", incomplete_details: { reason: "max_completion_tokens" } } },
    { outcome: "cancelled", check: { status: "cancelled", cancelled_at: expect.any(Number) } },
    { outcome: "expired", check: { status: "expired", expires_at: null } },
  ])("ends $outcome as scripted, with usage filled", async ({ outcome, check }) => {
    // Prepare
    const sim = await simulator({ processingMs: 10 });
    const { threadId, runId, toolCallIds } = sim.createRun({ afterOutputs: [outcome] });
    await submit(sim, threadId, runId, toolCallIds);

    // Act
    const final = await pollUntilResting(sim, threadId, runId);

    // Assess
    expect(final.body).toMatchObject({ ...check, required_action: null, expires_at: null });
    expect(final.body.usage).toEqual({
      prompt_tokens: expect.any(Number),
      completion_tokens: expect.any(Number),
      total_tokens: expect.any(Number),
    });
  });

  it("answers 404 for unknown thread and run", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId } = sim.createRun();

    // Act
    const noThread = await getRun(sim, "thread_x", "run_x");
    const noRun = await getRun(sim, threadId, "run_x");

    // Assess
    expect(noThread.status).toBe(404);
    expect(noThread.body.error.message).toBe("No thread found with id 'thread_x'.");
    expect(noRun.body.error.message).toBe("No run found with id 'run_x'.");
  });

  it("reset forgets runs, counters and requests", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId } = sim.createRun();
    await getRun(sim, threadId, runId);

    // Act
    sim.reset();
    const after = await getRun(sim, threadId, runId);

    // Assess
    expect(after.status).toBe(404);
    expect(sim.counters.gets).toBe(1);
    expect(sim.requests).toHaveLength(1);
  });
});
