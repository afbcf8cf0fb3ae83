import { describe, expect, it } from "vitest";
import { API_KEY, simulator, submit, VIRTUAL_KEY } from "../helpers/endpoint-simulator/helpers";
import { continuation, postResponse } from "../helpers/endpoint-simulator/response-helpers";

describe("restingSince: the instant a run or response came to rest, on the simulator's clock", () => {
  it("a run: when it entered requires_action, nothing while it moves, then the exact instant it completed", async () => {
    // Prepare
    let clock = 1_800_000_000_250.5;
    const sim = await simulator({ now: () => clock, processingMs: 1000, apiKey: API_KEY, virtualKey: VIRTUAL_KEY });
    const created = clock;
    const run = sim.createRun({ afterOutputs: [{ stayInProgressMs: 300 }, "completed"] });
    const ids = { threadId: run.threadId, runId: run.runId };
    const waiting = sim.restingSince(ids);
    clock += 10;
    const accepted = await submit(sim, run.threadId, run.runId, run.toolCallIds);

    // Act
    const moving = sim.restingSince(ids);
    clock += 1299;
    const justBefore = sim.restingSince(ids);
    clock += 5;
    const rested = sim.restingSince(ids);

    // Assess
    expect(accepted.status).toBe(200);
    expect(waiting).toBe(created);
    expect(moving).toBeUndefined();
    expect(justBefore).toBeUndefined();
    expect(rested).toBe(created + 10 + 1300);
  });

  it("a response: nothing while queued or in progress, then the instant it completed; unknown ids have none", async () => {
    // Prepare
    let clock = 1_800_000_000_000;
    const sim = await simulator({ now: () => clock, processingMs: 400 });
    const { responseId, callIds } = sim.createResponse();
    const { body } = await postResponse(sim, continuation(responseId, callIds));

    // Act
    const queued = sim.restingSince({ responseId: body.id });
    clock += 399;
    const inProgress = sim.restingSince({ responseId: body.id });
    clock += 50;
    const done = sim.restingSince({ responseId: body.id });

    // Assess
    expect(body.status).toBe("queued");
    expect(queued).toBeUndefined();
    expect(inProgress).toBeUndefined();
    expect(done).toBe(1_800_000_000_400);
    expect(sim.restingSince({ responseId: "resp_unknown" })).toBeUndefined();
    expect(sim.restingSince({ threadId: "thread_x", runId: "run_x" })).toBeUndefined();
  });
});
