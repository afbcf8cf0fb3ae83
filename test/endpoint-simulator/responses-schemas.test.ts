/**
 * Every object and event the simulator's Responses and Conversations routes emit, against strict schemas
 * written from the official OpenAPI definitions, so a relay that passes against the simulator meets
 * spec-shaped data, not the simulator's own idea of it.
 */
import { describe, expect, it } from "vitest";
import type { ResponseScript } from "../../local/endpoint-simulator";
import type { SseEvent } from "../helpers/endpoint-simulator/helpers";
import { simulator } from "../helpers/endpoint-simulator/helpers";
import {
  answerFor,
  cancelResponse,
  continuation,
  getResponse,
  postResponse,
  request,
  streamEvents,
} from "../helpers/endpoint-simulator/response-helpers";
import {
  ConversationItemList,
  ConversationResource,
  CreateResponse,
  ErrorResponse,
  FunctionCallOutputItemParam,
  Response,
  ResponseItemList,
  ResponseStreamEvent,
} from "../helpers/schemas/openai-responses";

function expectValid(schema: { safeParse(value: unknown): { error?: { issues: unknown } } }, value: unknown, label: string): void {
  expect(schema.safeParse(value).error?.issues, label).toBeUndefined();
}

function expectValidEvents(events: SseEvent[]): void {
  expect(events.length).toBeGreaterThan(0);
  for (const { event, data } of events) {
    expect(data.type, "event name = data.type").toBe(event);
    expectValid(ResponseStreamEvent, data, event);
  }
}

const SETTINGS = {
  instructions: "Be brief.",
  tools: [{ type: "function", name: "get_weather", parameters: { type: "object", properties: {} } }],
  tool_choice: { type: "function", name: "get_weather" },
  reasoning: { effort: "low" },
  text: { verbosity: "low" },
  temperature: 0.5,
  top_p: 0.9,
  max_output_tokens: 500,
  truncation: "auto",
  service_tier: "auto",
  metadata: { tenant: "acme" },
};

describe("Response objects match the spec's Response in every status the simulator produces", () => {
  it("queued, in_progress, each ending, as answered by POST, GET, cancel and the test side", async () => {
    // Prepare
    let clock = 1_800_000_000_000;
    const sim = await simulator({ now: () => clock, processingMs: 1000 });
    // The first one is cancelled by hand while in progress; the others reach their scripted end.
    const outcomes: ResponseScript[] = ["completed", "completed", "failed", "incomplete", "cancelled", { functionCalls: 2 }];
    const parents = outcomes.map((outcome) => sim.createResponse({ toolCalls: 2, afterOutputs: [outcome], metadata: { tenant: "acme" } }));
    const seen = new Map<string, unknown>();

    // Act
    const ids: string[] = [];
    for (const parent of parents) {
      seen.set(`parent:${parent.responseId}`, (await getResponse(sim, parent.responseId)).body);
      const created = await postResponse(sim, continuation(parent.responseId, parent.callIds, SETTINGS));
      seen.set(`post:${created.body.status}`, created.body);
      ids.push(created.body.id);
    }
    clock += 600;
    seen.set("in_progress", (await getResponse(sim, ids[0]!)).body);
    seen.set("cancel", (await cancelResponse(sim, ids[0]!)).body);
    clock += 600;
    for (const id of ids.slice(1)) {
      const { body } = await getResponse(sim, id);
      seen.set(`${body.status}:${body.output.length}`, body);
    }
    const conversation = sim.createResponse({ conversation: true });
    seen.set("conversation", sim.response(conversation.responseId));
    seen.set("seeded-failed", sim.response(sim.createResponse({ status: "failed" }).responseId));
    seen.set("seeded-pending", sim.response(sim.createResponse({ readyAfterMs: 5000 }).responseId));

    // Assess
    const statuses = [...seen.values()].map((body) => (body as { status: string }).status);
    expect(new Set(statuses)).toEqual(new Set(["queued", "in_progress", "completed", "failed", "incomplete", "cancelled"]));
    for (const [label, body] of seen) expectValid(Response, body, label);
  });

  it("the schema is strict enough to catch a missing required field, an extra one or a bad status", async () => {
    // Prepare
    const sim = await simulator();
    const valid = sim.response(sim.createResponse().responseId)!;
    const { tool_choice: _, ...missing } = valid;

    // Act / Assess
    expect(Response.safeParse(valid).success).toBe(true);
    expect(Response.safeParse(missing).success).toBe(false);
    expect(Response.safeParse({ ...valid, surprise: 1 }).success).toBe(false);
    expect(Response.safeParse({ ...valid, status: "requires_action" }).success).toBe(false);
    expect(Response.safeParse({ ...valid, output: [{ ...valid.output[0], extra: true }] }).success).toBe(false);
  });
});

describe("lists and conversations match the spec's ResponseItemList, ConversationResource and ConversationItemList", () => {
  it("input items of a continuation and of a first turn that re-sends its own call", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 1 });
    const { responseId, callIds } = sim.createResponse({ toolCalls: 2 });
    const replay = [
      { type: "message", role: "user", content: [{ type: "input_text", text: "hi" }] },
      { type: "function_call", id: "fc_replayed", call_id: "call_Q", name: "get_weather", arguments: "{}" },
      { type: "function_call_output", call_id: "call_Q", output: [{ type: "input_text", text: "sunny" }] },
    ];

    // Act
    const answer = await postResponse(sim, continuation(responseId, callIds));
    const first = await postResponse(sim, { model: "gpt-5-mini", input: replay, background: true });
    const lists = [
      (await request(sim, "GET", `/responses/${answer.body.id}/input_items`)).body,
      (await request(sim, "GET", `/responses/${first.body.id}/input_items?order=asc`)).body,
      (await request(sim, "GET", `/responses/${responseId}/input_items?limit=1`)).body,
    ];

    // Assess
    expect(lists[1].data.map((item: any) => item.type)).toEqual(["message", "function_call", "function_call_output"]);
    for (const [index, list] of lists.entries()) expectValid(ResponseItemList, list, `list ${index}`);
  });

  it("a conversation, its items before and after a continuation completed, and an empty one", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 1 });
    const { callIds, conversationId } = sim.createResponse({ toolCalls: 2, conversation: true });
    const created = await request(sim, "POST", "/conversations", {
      metadata: { a: "b" },
      items: [{ type: "message", role: "assistant", content: "hello" }, ...answerFor(["call_old"])],
    });

    // Act
    const before = (await request(sim, "GET", `/conversations/${conversationId}/items`)).body;
    await postResponse(sim, { model: "gpt-5-mini", conversation: conversationId, input: answerFor(callIds) });
    const after = (await request(sim, "GET", `/conversations/${conversationId}/items?order=asc`)).body;
    const given = (await request(sim, "GET", `/conversations/${created.body.id}/items`)).body;
    const empty = (await request(sim, "GET", `/conversations/${(await request(sim, "POST", "/conversations")).body.id}/items`)).body;

    // Assess
    expectValid(ConversationResource, created.body, "created");
    expectValid(ConversationResource, (await request(sim, "GET", `/conversations/${conversationId}`)).body, "read");
    for (const [label, list] of Object.entries({ before, after, given, empty })) expectValid(ConversationItemList, list, label);
    expect(after.data.map((item: any) => item.type)).toEqual([
      "message",
      "function_call",
      "function_call",
      "function_call_output",
      "function_call_output",
      "message",
    ]);
  });
});

describe("error bodies match the spec's ErrorResponse", () => {
  it("for the pairing errors, 404s, validation errors and fault answers in OpenAI shape", async () => {
    // Prepare
    const sim = await simulator();
    const { responseId, callIds } = sim.createResponse({ toolCalls: 2, conversation: true });
    sim.inject(
      { on: "response_get", kind: "rate_limit", retryAfterMs: 5 },
      { on: "response_get", kind: "server_error" },
      { on: "response_get", kind: "insufficient_quota" },
      { on: "response_get", kind: "unauthorized" },
    );

    // Act
    const bodies = [
      (await postResponse(sim, continuation(responseId, callIds.slice(1)))).body,
      (await postResponse(sim, continuation(responseId, [...callIds, "call_Z"]))).body,
      (await postResponse(sim, continuation("resp_gone", callIds))).body,
      (await postResponse(sim, continuation(responseId, callIds, { bogus: 1 }))).body,
      (await postResponse(sim, { input: "hi" })).body,
      (await cancelResponse(sim, responseId)).body,
      (await request(sim, "GET", "/conversations/conv_gone")).body,
      ...(await Promise.all([1, 2, 3, 4].map(async () => (await getResponse(sim, responseId)).body))),
      (await getResponse(sim, "resp_gone")).body,
    ];

    // Assess
    for (const [index, body] of bodies.entries()) expectValid(ErrorResponse, body, `body ${index}`);
  });
});

describe("stream events match the spec's ResponseStreamEvent", () => {
  it.each<ResponseScript>(["completed", "failed", "incomplete", { functionCalls: 3 }])(
    "for a continuation ending %j, foreground and background",
    async (outcome) => {
      // Prepare
      const sim = await simulator({ processingMs: 20 });
      const { responseId, callIds } = sim.createResponse({ afterOutputs: [outcome] });

      // Act
      const foreground = await streamEvents(sim, {
        body: continuation(responseId, callIds, { ...SETTINGS, stream: true, background: false }),
      });
      const background = await streamEvents(sim, { body: continuation(responseId, callIds, { stream: true, background: true }) });
      const resumed = await streamEvents(sim, {
        path: `/responses/${background.events[0]!.data.response.id}?stream=true&starting_after=1`,
      });

      // Assess
      expectValidEvents(foreground.events);
      expectValidEvents(background.events);
      expectValidEvents(resumed.events);
    },
  );

  it("for a stream that errors and one that is cut after response.created", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 20 });
    const { responseId, callIds } = sim.createResponse();
    sim.inject({ on: "response_create", kind: "stream_error" }, { on: "response_create", kind: "stream_cut_after_created" });

    // Act
    const errored = await streamEvents(sim, { body: continuation(responseId, callIds, { stream: true }) });
    const cut = await streamEvents(sim, { body: continuation(responseId, callIds, { stream: true }) });

    // Assess
    expectValidEvents(errored.events);
    expectValidEvents(cut.events);
    expect(errored.events.at(-1)!.event).toBe("error");
  });
});

describe("the request schemas accept what a relay sends", () => {
  it("the tests' continuation body is a valid CreateResponse with FunctionCallOutputItemParam items; a typo is not", () => {
    // Prepare
    const body = continuation("resp_abc", ["call_A", "call_B"], SETTINGS);

    // Act / Assess
    expectValid(CreateResponse, body, "continuation");
    for (const item of body.input as unknown[]) expectValid(FunctionCallOutputItemParam, item, "output item");
    expect(CreateResponse.safeParse({ ...body, tool_outputs: [] }).success).toBe(false);
    expect(FunctionCallOutputItemParam.safeParse({ type: "function_call_output", tool_call_id: "call_A", output: "x" }).success).toBe(
      false,
    );
  });
});
