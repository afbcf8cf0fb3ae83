import { describe, expect, it } from "vitest";
import { simulator } from "../helpers/endpoint-simulator/helpers";
import {
  cancelResponse,
  continuation,
  getResponse,
  pollResponse,
  postResponse,
  request,
} from "../helpers/endpoint-simulator/response-helpers";

describe("a response's timeline, computed from the clock on each read", () => {
  it("background: queued, then in_progress after processingMs/2, then completed after processingMs, without timers", async () => {
    // Prepare
    let clock = 1_800_000_000_000;
    const sim = await simulator({ now: () => clock, processingMs: 1000 });
    const { responseId, callIds } = sim.createResponse();
    const created = await postResponse(sim, continuation(responseId, callIds));

    // Act
    const seen: string[] = [];
    for (const step of [0, 499, 1, 499, 1]) {
      clock += step;
      seen.push((await getResponse(sim, created.body.id)).body.status);
    }

    // Assess
    expect(created.body.status).toBe("queued");
    expect(seen).toEqual(["queued", "queued", "in_progress", "in_progress", "completed"]);
    const done = sim.response(created.body.id)!;
    expect(done.completed_at).toBe(Math.floor(clock / 1000));
    expect(done.created_at).toBe(Math.floor((clock - 1000) / 1000));
    expect(done.usage).toEqual(expect.objectContaining({ total_tokens: expect.any(Number) }));
  });

  it("stays in progress longer when the script says so", async () => {
    // Prepare
    let clock = 1_800_000_000_000;
    const sim = await simulator({ now: () => clock, processingMs: 100 });
    const { responseId, callIds } = sim.createResponse({ afterOutputs: [{ stayInProgressMs: 5000 }, { functionCalls: 1 }] });
    const { body } = await postResponse(sim, continuation(responseId, callIds));

    // Act
    clock += 5099;
    const working = sim.response(body.id)!;
    clock += 1;
    const done = sim.response(body.id)!;

    // Assess
    expect(working).toMatchObject({ status: "in_progress", output: [] });
    expect(done.status).toBe("completed");
    expect(done.output).toEqual([expect.objectContaining({ type: "function_call" })]);
  });

  it("GET carries openai-poll-after-ms with the configured value", async () => {
    // Prepare
    const sim = await simulator({ pollAfterMs: 77 });
    const { responseId } = sim.createResponse();

    // Act
    const call = await getResponse(sim, responseId);

    // Assess
    expect(call.headers.get("openai-poll-after-ms")).toBe("77");
    expect(call.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it("a foreground POST (no background, no stream) answers once the response is done", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 150 });
    const { responseId, callIds } = sim.createResponse();

    // Act
    const started = performance.now();
    const call = await postResponse(sim, continuation(responseId, callIds, { background: false }));
    const elapsed = performance.now() - started;

    // Assess
    expect(call.body).toMatchObject({ status: "completed", background: false });
    expect(elapsed).toBeGreaterThanOrEqual(140);
  });

  it("a parent that is still in progress has no calls to answer yet, then completes with them", async () => {
    // Prepare
    let clock = 1_800_000_000_000;
    const sim = await simulator({ now: () => clock });
    const { responseId, callIds } = sim.createResponse({ readyAfterMs: 1000 });

    // Act
    const early = await postResponse(sim, continuation(responseId, callIds));
    const pending = sim.response(responseId)!;
    clock += 1000;
    const ready = sim.response(responseId)!;
    const late = await postResponse(sim, continuation(responseId, callIds));

    // Assess
    expect(pending).toMatchObject({ status: "queued", background: true, output: [] });
    expect(early.body.error.message).toBe(`No tool call found for function call output with call_id ${callIds[0]}.`);
    expect(ready.status).toBe("completed");
    expect(late.status).toBe(200);
  });
});

describe("POST /responses/{id}/cancel", () => {
  it("cancels a background response in progress; cancelling again returns it unchanged", async () => {
    // Prepare
    let clock = 1_800_000_000_000;
    const sim = await simulator({ now: () => clock, processingMs: 1000 });
    const { responseId, callIds } = sim.createResponse();
    const { body } = await postResponse(sim, continuation(responseId, callIds));
    clock += 600;

    // Act
    const cancelled = await cancelResponse(sim, body.id);
    clock += 5000;
    const again = await cancelResponse(sim, body.id);
    const read = await getResponse(sim, body.id);

    // Assess
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: body.id, status: "cancelled", output: [] });
    expect(again.body).toEqual(cancelled.body);
    expect(read.body.status).toBe("cancelled");
    expect(sim.counters.cancels).toBe(2);
  });

  it("leaves a finished background response as it is", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 10 });
    const { responseId, callIds } = sim.createResponse();
    const { body } = await postResponse(sim, continuation(responseId, callIds));
    await pollResponse(sim, body.id);

    // Act
    const call = await cancelResponse(sim, body.id);

    // Assess
    expect(call.status).toBe(200);
    expect(call.body.status).toBe("completed");
  });

  it("refuses a foreground response and answers 404 for an unknown one", async () => {
    // Prepare
    const sim = await simulator();
    const { responseId } = sim.createResponse();

    // Act
    const foreground = await cancelResponse(sim, responseId);
    const unknown = await cancelResponse(sim, "resp_missing");

    // Assess
    expect(foreground.status).toBe(400);
    expect(foreground.body.error.message).toBe("Cannot cancel a synchronous response.");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toBe("Response with id 'resp_missing' not found.");
  });
});

describe("GET /responses/{id}/input_items", () => {
  it("lists the function_call_output items the response was given, newest first, with their call ids", async () => {
    // Prepare
    const sim = await simulator();
    const { responseId } = sim.createResponse({ toolCalls: ["call_A", "call_B", "call_C"] });
    const { body } = await postResponse(sim, continuation(responseId, ["call_A", "call_B", "call_C"]));

    // Act
    const all = await request(sim, "GET", `/responses/${body.id}/input_items`);
    const page = await request(sim, "GET", `/responses/${body.id}/input_items?order=asc&limit=2`);
    const rest = await request(sim, "GET", `/responses/${body.id}/input_items?order=asc&limit=2&after=${page.body.last_id}`);

    // Assess
    expect(all.body.data.map((item: any) => item.call_id)).toEqual(["call_C", "call_B", "call_A"]);
    expect(all.body.data[0]).toEqual({
      type: "function_call_output",
      id: expect.any(String),
      call_id: "call_C",
      output: '{"for":"call_C"}',
      status: "completed",
    });
    expect(page.body).toMatchObject({ has_more: true, first_id: page.body.data[0].id, last_id: page.body.data[1].id });
    expect(rest.body.data.map((item: any) => item.call_id)).toEqual(["call_C"]);
    expect(rest.body.has_more).toBe(false);
    expect(sim.counters.inputItemLists).toBe(3);
  });

  it("refuses a bad order or limit and answers 404 for an unknown response", async () => {
    // Prepare
    const sim = await simulator();
    const { responseId } = sim.createResponse();

    // Act
    const badOrder = await request(sim, "GET", `/responses/${responseId}/input_items?order=sideways`);
    const badLimit = await request(sim, "GET", `/responses/${responseId}/input_items?limit=101`);
    const unknown = await request(sim, "GET", "/responses/resp_missing/input_items");

    // Assess
    expect([badOrder.status, badLimit.status, unknown.status]).toEqual([400, 400, 404]);
    expect(badOrder.body.error.param).toBe("order");
  });
});
