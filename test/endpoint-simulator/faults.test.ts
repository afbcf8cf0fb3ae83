import { describe, expect, it } from "vitest";
import { type EndpointSimulator, FAULT_KINDS, type Fault } from "../../local/endpoint-simulator";
import { getRun, pollUntilResting, portkeyHeaders, readEvents, simulator, submit, submitUrl } from "../helpers/endpoint-simulator/helpers";

describe("injected faults that answer instead of the endpoint", () => {
  it.each<{ kind: Fault["kind"]; status: number; body: unknown }>([
    {
      kind: "insufficient_quota",
      status: 429,
      body: {
        error: {
          message: expect.stringContaining("exceeded your current quota"),
          type: "insufficient_quota",
          param: null,
          code: "insufficient_quota",
        },
      },
    },
    { kind: "server_error", status: 500, body: { error: { message: expect.any(String), type: "server_error", param: null, code: null } } },
    { kind: "gateway_failure", status: 502, body: { status: "failure", message: expect.any(String) } },
    {
      kind: "unauthorized",
      status: 401,
      body: { error: { message: expect.any(String), type: "invalid_request_error", param: null, code: "invalid_api_key" } },
    },
  ])("$kind answers $status and leaves the run untouched", async ({ kind, status, body }) => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId, toolCallIds } = sim.createRun();
    sim.inject({ on: "submit", kind });

    // Act
    const faulted = await submit(sim, threadId, runId, toolCallIds);
    const retried = await submit(sim, threadId, runId, toolCallIds);

    // Assess
    expect(faulted.status).toBe(status);
    expect(faulted.body).toEqual(body);
    expect(faulted.headers.get("retry-after")).toBeNull();
    expect(retried.status).toBe(200);
    expect(sim.counters).toMatchObject({ submits: 2, accepted: 1, faultsInjected: 1 });
  });

  it("rate_limit sends retry-after-ms and retry-after when asked, for `times` requests", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId, toolCallIds } = sim.createRun();
    sim.inject({ on: "submit", kind: "rate_limit", retryAfterMs: 250, retryAfterSeconds: 1, times: 2 });

    // Act
    const first = await submit(sim, threadId, runId, toolCallIds);
    const second = await submit(sim, threadId, runId, toolCallIds);
    const third = await submit(sim, threadId, runId, toolCallIds);

    // Assess
    for (const call of [first, second]) {
      expect(call.status).toBe(429);
      expect(call.headers.get("retry-after-ms")).toBe("250");
      expect(call.headers.get("retry-after")).toBe("1");
      expect(call.body.error).toMatchObject({ type: "requests", code: "rate_limit_exceeded", param: null });
    }
    expect(third.status).toBe(200);
  });

  it("rate_limit without retry values sends no retry-after headers (the spec allows omitting them)", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId, toolCallIds } = sim.createRun();
    sim.inject({ on: "any", kind: "rate_limit" });

    // Act
    const call = await submit(sim, threadId, runId, toolCallIds);

    // Assess
    expect(call.status).toBe(429);
    expect(call.headers.get("retry-after")).toBeNull();
    expect(call.headers.get("retry-after-ms")).toBeNull();
  });

  it("drop destroys the socket: fetch rejects and nothing is applied", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId, toolCallIds } = sim.createRun();
    sim.inject({ on: "submit", kind: "drop" });

    // Act
    const attempt = submit(sim, threadId, runId, toolCallIds);

    // Assess
    await expect(attempt).rejects.toThrow(TypeError);
    expect(sim.run(threadId, runId)?.status).toBe("requires_action");
    expect(sim.counters).toMatchObject({ submits: 1, accepted: 0, faultsInjected: 1 });
  });

  it("slow answers normally after delayMs, and a client timeout does not stop the submission from applying", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId, toolCallIds } = sim.createRun();
    sim.inject({ on: "submit", kind: "slow", delayMs: 150, times: 2 });
    const body = JSON.stringify({ tool_outputs: toolCallIds.map((id) => ({ tool_call_id: id, output: "x" })) });

    // Act
    const timedOut = fetch(submitUrl(sim, threadId, runId), {
      method: "POST",
      headers: portkeyHeaders(),
      body,
      signal: AbortSignal.timeout(30),
    });
    await expect(timedOut).rejects.toThrow();
    const started = performance.now();
    const slowGet = await submit(sim, threadId, runId, toolCallIds);
    const elapsed = performance.now() - started;

    // Assess: the timed-out submission was applied, so the second one finds the run queued
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(slowGet.status).toBe(400);
    expect(slowGet.body.error.message).toMatch(/^Runs in status "(queued|in_progress|completed)" do not accept tool outputs\.$/);
    expect(sim.counters.accepted).toBe(1);
  });

  it("accept_then_500 applies the submission, then answers 500", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 10 });
    const { threadId, runId, toolCallIds } = sim.createRun();
    sim.inject({ on: "any", kind: "accept_then_500" });

    // Act
    const get = await getRun(sim, threadId, runId);
    const call = await submit(sim, threadId, runId, toolCallIds);
    const final = await pollUntilResting(sim, threadId, runId);

    // Assess: GETs do not consume it; the submit does
    expect(get.status).toBe(200);
    expect(call.status).toBe(500);
    expect(call.body.error.type).toBe("server_error");
    expect(final.body.status).toBe("completed");
    expect(sim.counters).toMatchObject({ accepted: 1, faultsInjected: 1 });
  });

  it("stream_error accepts, sends a few events, then event: error and no done", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 10 });
    const { threadId, runId, toolCallIds } = sim.createRun();
    sim.inject({ on: "submit", kind: "stream_error" });

    // Act
    const plain = await submit(sim, threadId, runId, ["call_wrong"]);
    const response = await fetch(submitUrl(sim, threadId, runId), {
      method: "POST",
      headers: portkeyHeaders(),
      body: JSON.stringify({ tool_outputs: toolCallIds.map((id) => ({ tool_call_id: id, output: "x" })), stream: true }),
    });
    const events = await readEvents(response);
    const final = await pollUntilResting(sim, threadId, runId);

    // Assess: a non-stream submit does not consume it
    expect(plain.status).toBe(400);
    expect(events.map((e) => e.event)).toEqual(["thread.run.step.completed", "thread.run.queued", "thread.run.in_progress", "error"]);
    expect(events.at(-1)!.data).toEqual({ message: expect.any(String), type: "server_error", param: null, code: null });
    expect(final.body.status).toBe("completed");
  });

  it("applies only to the named run and the named route", async () => {
    // Prepare
    const sim = await simulator();
    const a = sim.createRun();
    const b = sim.createRun();
    sim.inject({ on: "get", kind: "server_error", runId: b.runId });

    // Act
    const submitB = await submit(sim, b.threadId, b.runId, b.toolCallIds);
    const getA = await getRun(sim, a.threadId, a.runId);
    const getB = await getRun(sim, b.threadId, b.runId);
    const getBAgain = await getRun(sim, b.threadId, b.runId);

    // Assess
    expect([submitB.status, getA.status, getB.status, getBAgain.status]).toEqual([200, 200, 500, 200]);
  });

  it("rejects an unknown fault kind or option loudly", async () => {
    // Prepare
    const sim = await simulator();

    // Act
    const badKind = () => sim.inject({ on: "submit", kind: "explode" as Fault["kind"] });
    const typo = () => sim.inject({ on: "submit", kind: "slow", delay: 5 } as unknown as Fault);

    // Assess
    expect(badKind).toThrow(/unknown fault kind explode/);
    expect(typo).toThrow(/unknown option\(s\) delay/);
  });
});

describe("random fault mode", () => {
  async function statusesWith(seed: number): Promise<number[]> {
    const sim: EndpointSimulator = await simulator();
    const { threadId, runId } = sim.createRun();
    sim.setRandomFaults({ probability: 0.5, kinds: ["server_error", "gateway_failure", "rate_limit"], seed, on: "get" });
    const statuses: number[] = [];
    for (let i = 0; i < 40; i += 1) statuses.push((await getRun(sim, threadId, runId)).status);
    return statuses;
  }

  it("gives the same faults for the same seed and request order", async () => {
    // Act
    const first = await statusesWith(42);
    const second = await statusesWith(42);
    const other = await statusesWith(7);

    // Assess
    expect(second).toEqual(first);
    expect(other).not.toEqual(first);
    const faulted = first.filter((s) => s !== 200).length;
    expect(faulted).toBeGreaterThan(8);
    expect(faulted).toBeLessThan(32);
    expect(new Set(first)).toEqual(new Set([200, 500, 502, 429]));
  });

  it("never faults with probability 0 and always with 1; turns off with undefined", async () => {
    // Prepare
    const sim = await simulator();
    const { threadId, runId } = sim.createRun();

    // Act
    sim.setRandomFaults({ probability: 0, kinds: [...FAULT_KINDS] });
    const never = await getRun(sim, threadId, runId);
    sim.setRandomFaults({ probability: 1, kinds: ["server_error"] });
    const always = await getRun(sim, threadId, runId);
    sim.setRandomFaults(undefined);
    const off = await getRun(sim, threadId, runId);

    // Assess
    expect([never.status, always.status, off.status]).toEqual([200, 500, 200]);
    expect(() => sim.setRandomFaults({ probability: 2, kinds: ["drop"] })).toThrow(RangeError);
  });
});
