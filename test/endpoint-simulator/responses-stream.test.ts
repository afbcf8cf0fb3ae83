import { describe, expect, it } from "vitest";
import { simulator } from "../helpers/endpoint-simulator/helpers";
import { callIdsOf, cancelResponse, continuation, getResponse, streamEvents } from "../helpers/endpoint-simulator/response-helpers";

const FUNCTION_CALL_EVENTS = [
  "response.output_item.added",
  "response.function_call_arguments.delta",
  "response.function_call_arguments.delta",
  "response.function_call_arguments.done",
  "response.output_item.done",
];

describe("POST /responses with stream: true", () => {
  it("streams created → in_progress → function call items → completed, numbered 0, 1, 2, … and no [DONE]", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 60 });
    const { responseId, callIds } = sim.createResponse({ afterOutputs: [{ functionCalls: 2 }] });

    // Act
    const { status, contentType, events } = await streamEvents(sim, {
      body: continuation(responseId, callIds, { background: false, stream: true }),
    });

    // Assess
    expect(status).toBe(200);
    expect(contentType).toMatch(/^text\/event-stream/);
    expect(events.map((e) => e.event)).toEqual([
      "response.created",
      "response.in_progress",
      ...FUNCTION_CALL_EVENTS,
      ...FUNCTION_CALL_EVENTS,
      "response.completed",
    ]);
    expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, index) => index));
    for (const { event, data } of events) expect(data.type).toBe(event);
    expect(events[0]!.data.response).toMatchObject({ status: "in_progress", output: [], previous_response_id: responseId });
    const completed = events.at(-1)!.data.response;
    expect(completed.status).toBe("completed");
    expect(callIdsOf(completed)).toHaveLength(2);
    expect(events.some((e) => e.data === "[DONE]")).toBe(false);
  });

  it("the deltas join to the arguments, and output_item.done carries the call that a later GET shows", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 30 });
    const { responseId, callIds } = sim.createResponse({ afterOutputs: [{ functionCalls: ["call_next"] }] });

    // Act
    const { events } = await streamEvents(sim, { body: continuation(responseId, callIds, { stream: true, background: false }) });
    const id = events[0]!.data.response.id;
    const read = await getResponse(sim, id);

    // Assess
    const deltas = events.filter((e) => e.event === "response.function_call_arguments.delta").map((e) => e.data.delta);
    const done = events.find((e) => e.event === "response.function_call_arguments.done")!.data;
    const added = events.find((e) => e.event === "response.output_item.added")!.data.item;
    const item = events.find((e) => e.event === "response.output_item.done")!.data.item;
    expect(deltas.join("")).toBe(done.arguments);
    expect(added).toMatchObject({ status: "in_progress", arguments: "", call_id: "call_next" });
    expect(item).toMatchObject({ type: "function_call", call_id: "call_next", arguments: done.arguments, status: "completed" });
    expect(done.item_id).toBe(item.id);
    expect(read.body.output).toEqual([item]);
  });

  it("a text answer streams its content part and text deltas", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 30 });
    const { responseId, callIds } = sim.createResponse();

    // Act
    const { events } = await streamEvents(sim, { body: continuation(responseId, callIds, { stream: true, background: false }) });

    // Assess
    expect(events.map((e) => e.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const text = events.filter((e) => e.event === "response.output_text.delta").map((e) => e.data.delta);
    expect(text.join("")).toBe(events.find((e) => e.event === "response.output_text.done")!.data.text);
  });

  it.each([
    ["failed", "response.failed"],
    ["incomplete", "response.incomplete"],
  ] as const)("ends %s on %s", async (outcome, terminal) => {
    // Prepare
    const sim = await simulator({ processingMs: 20 });
    const { responseId, callIds } = sim.createResponse({ afterOutputs: [outcome] });

    // Act
    const { events } = await streamEvents(sim, { body: continuation(responseId, callIds, { stream: true, background: false }) });

    // Assess
    expect(events.map((e) => e.event)).toEqual(["response.created", "response.in_progress", terminal]);
    expect(events.at(-1)!.data.response.status).toBe(outcome);
  });

  it("a background stream starts queued and sends response.queued", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 20 });
    const { responseId, callIds } = sim.createResponse();

    // Act
    const { events } = await streamEvents(sim, { body: continuation(responseId, callIds, { stream: true, background: true }) });

    // Assess
    expect(events.slice(0, 3).map((e) => [e.event, e.data.response.status])).toEqual([
      ["response.created", "queued"],
      ["response.queued", "queued"],
      ["response.in_progress", "in_progress"],
    ]);
    expect(events.at(-1)!.event).toBe("response.completed");
  });

  it("a refused streaming POST answers a JSON error, not a stream", async () => {
    // Prepare
    const sim = await simulator();
    const { responseId } = sim.createResponse({ toolCalls: ["call_A"] });

    // Act
    const { status, contentType, events } = await streamEvents(sim, { body: continuation(responseId, ["call_Z"], { stream: true }) });

    // Assess
    expect(status).toBe(400);
    expect(contentType).toBe("application/json");
    expect(events).toEqual([]);
  });
});

describe("GET /responses/{id}?stream=true: resuming a background stream", () => {
  it("sends the same events again after starting_after, with the same sequence numbers", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 30 });
    const { responseId, callIds } = sim.createResponse({ afterOutputs: [{ functionCalls: 1 }] });
    const original = await streamEvents(sim, { body: continuation(responseId, callIds, { stream: true, background: true }) });
    const id = original.events[0]!.data.response.id;

    // Act
    const resumed = await streamEvents(sim, { path: `/responses/${id}?stream=true&starting_after=3` });

    // Assess
    expect(resumed.events.map((e) => e.data.sequence_number)).toEqual(original.events.slice(4).map((e) => e.data.sequence_number));
    expect(resumed.events.map((e) => e.event)).toEqual(original.events.slice(4).map((e) => e.event));
    expect(resumed.events.at(-1)!.data.response.status).toBe("completed");
  });

  it("answers 404 for a foreground response, whose stream cannot be re-read", async () => {
    // Prepare
    const sim = await simulator();
    const { responseId } = sim.createResponse();

    // Act
    const { status, events } = await streamEvents(sim, { path: `/responses/${responseId}?stream=true` });

    // Assess
    expect(status).toBe(404);
    expect(events).toEqual([]);
  });
});

describe("a cancel while streaming", () => {
  it("ends the stream without a terminal event; GET then reads cancelled", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 5000 });
    const { responseId, callIds } = sim.createResponse();
    const reading = streamEvents(sim, { body: continuation(responseId, callIds, { stream: true, background: true }) });
    let id: string | undefined;
    for (let i = 0; i < 100 && id === undefined; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      id = sim.children(responseId)[0];
    }

    // Act
    const cancelled = await cancelResponse(sim, id!);
    const { events, cut } = await reading;
    const read = await getResponse(sim, id!);

    // Assess
    expect(cancelled.body.status).toBe("cancelled");
    expect(cut).toBeUndefined();
    expect(events[0]!.event).toBe("response.created");
    expect(events.some((e) => ["response.completed", "response.failed", "response.incomplete"].includes(e.event))).toBe(false);
    expect(read.body.status).toBe("cancelled");
  });
});
