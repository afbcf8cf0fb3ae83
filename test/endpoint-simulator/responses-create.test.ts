import { describe, expect, it } from "vitest";
import { simulator } from "../helpers/endpoint-simulator/helpers";
import {
  answerFor,
  callIdsOf,
  continuation,
  getResponse,
  pollResponse,
  postResponse,
  request,
} from "../helpers/endpoint-simulator/response-helpers";

const invalid = (message: string, param: string | null = null, code: string | null = null) => ({
  error: { message, type: "invalid_request_error", param, code },
});

describe("POST /responses: a continuation that answers the previous response's function calls", () => {
  it("creates a new queued background response on the parent, echoing the request's settings", async () => {
    // Prepare
    const sim = await simulator();
    const { responseId, callIds } = sim.createResponse({ toolCalls: 2, metadata: { tenant: "acme" } });
    const parent = (await getResponse(sim, responseId)).body;
    const settings = {
      model: parent.model,
      instructions: parent.instructions,
      tools: parent.tools,
      tool_choice: parent.tool_choice,
      parallel_tool_calls: parent.parallel_tool_calls,
      reasoning: parent.reasoning,
      text: parent.text,
      truncation: parent.truncation,
      max_output_tokens: parent.max_output_tokens,
      temperature: parent.temperature,
      top_p: parent.top_p,
      service_tier: parent.service_tier,
      metadata: parent.metadata,
    };

    // Act
    const call = await postResponse(sim, continuation(responseId, [...callIds].reverse(), settings));

    // Assess
    expect(call.status).toBe(200);
    expect(call.body).toMatchObject({
      ...settings,
      object: "response",
      status: "queued",
      background: true,
      previous_response_id: responseId,
      conversation: null,
      output: [],
      usage: null,
      store: true,
    });
    expect(call.body.id).toMatch(/^resp_[A-Za-z0-9]+$/);
    expect(sim.children(responseId)).toEqual([call.body.id]);
    expect(sim.counters).toMatchObject({ responsePosts: 1, responsesCreated: 1, continuations: 1, forks: 0, responsesRejected: 0 });
  });

  it("the parent asks for tools as completed function_call items with call_…, fc_… ids and JSON-string arguments", async () => {
    // Prepare
    const sim = await simulator();
    const { responseId, callIds } = sim.createResponse({ toolCalls: ["call_A", "call_B"] });

    // Act
    const { body } = await getResponse(sim, responseId);

    // Assess
    expect(body.status).toBe("completed");
    expect(body.output.map((item: any) => [item.type, item.call_id, item.status])).toEqual([
      ["function_call", "call_A", "completed"],
      ["function_call", "call_B", "completed"],
    ]);
    expect(body.output.map((item: any) => item.name)).toEqual(["get_weather", "lookup_order"]);
    for (const item of body.output) {
      expect(item.id).toMatch(/^fc_/);
      expect(JSON.parse(item.arguments)).toEqual(expect.any(Object));
    }
    expect(callIds).toEqual(["call_A", "call_B"]);
  });

  it("follows afterOutputs down the chain: more function calls, then a text message", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 10 });
    const { responseId, callIds } = sim.createResponse({ afterOutputs: [{ functionCalls: 2 }, "completed"] });

    // Act
    const first = await postResponse(sim, continuation(responseId, callIds));
    const firstDone = (await pollResponse(sim, first.body.id)).body;
    const second = await postResponse(sim, continuation(firstDone.id, callIdsOf(firstDone)));
    const secondDone = (await pollResponse(sim, second.body.id)).body;

    // Assess
    expect(callIdsOf(firstDone)).toHaveLength(2);
    expect(secondDone.status).toBe("completed");
    expect(secondDone.output).toEqual([
      {
        type: "message",
        id: expect.stringMatching(/^msg_/),
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text: expect.any(String), annotations: [], logprobs: [] }],
      },
    ]);
    expect(secondDone.usage.total_tokens).toBeGreaterThan(firstDone.usage.total_tokens);
  });

  it.each([
    {
      outcome: "failed" as const,
      check: { status: "failed", error: { code: "server_error", message: "The model failed to generate a response." } },
    },
    { outcome: "incomplete" as const, check: { status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, error: null } },
    { outcome: "cancelled" as const, check: { status: "cancelled", error: null, usage: null } },
  ])("ends $outcome as scripted, with no output", async ({ outcome, check }) => {
    // Prepare
    const sim = await simulator({ processingMs: 10 });
    const { responseId, callIds } = sim.createResponse({ afterOutputs: [outcome] });

    // Act
    const created = await postResponse(sim, continuation(responseId, callIds));
    const final = await pollResponse(sim, created.body.id);

    // Assess
    expect(final.body).toMatchObject({ ...check, output: [], completed_at: null });
  });
});

describe("POST /responses: the errors the real API gives, word for word", () => {
  it("Previous response with id '…' not found. (400 previous_response_not_found), also for a response stored with store: false", async () => {
    // Prepare
    const sim = await simulator();
    const unstored = await postResponse(sim, { model: "gpt-5-mini", input: "hi", store: false, metadata: { sim_tool_calls: "0" } });

    // Act
    const unknown = await postResponse(sim, continuation("resp_missing", ["call_A"]));
    const notStored = await postResponse(sim, continuation(unstored.body.id, ["call_A"]));

    // Assess
    for (const [call, id] of [
      [unknown, "resp_missing"],
      [notStored, unstored.body.id],
    ] as const) {
      expect(call.status).toBe(400);
      expect(call.body).toEqual(
        invalid(`Previous response with id '${id}' not found.`, "previous_response_id", "previous_response_not_found"),
      );
    }
    expect(sim.counters).toMatchObject({ responsesRejected: 2, continuations: 0 });
  });

  it("No tool output found for function call call_X. when a call of the parent is left unanswered", async () => {
    // Prepare
    const sim = await simulator();
    const { responseId } = sim.createResponse({ toolCalls: ["call_A", "call_B"] });

    // Act
    const partial = await postResponse(sim, continuation(responseId, ["call_A"]));
    const userTurn = await postResponse(sim, { model: "gpt-5-mini", previous_response_id: responseId, input: "and now?" });

    // Assess
    expect(partial.status).toBe(400);
    expect(partial.body).toEqual(invalid("No tool output found for function call call_B.", "input"));
    expect(userTurn.body).toEqual(invalid("No tool output found for function call call_A.", "input"));
    expect(sim.children(responseId)).toEqual([]);
  });

  it("No tool call found for function call output with call_id call_X. for an output the chain has no call for", async () => {
    // Prepare
    const sim = await simulator();
    const { responseId } = sim.createResponse({ toolCalls: ["call_A"] });

    // Act
    const call = await postResponse(sim, continuation(responseId, ["call_A", "call_Z"]));

    // Assess
    expect(call.status).toBe(400);
    expect(call.body).toEqual(invalid("No tool call found for function call output with call_id call_Z.", "input"));
  });

  it("Duplicate item found with id fc_…. when the input re-sends the parent's function_call item", async () => {
    // Prepare
    const sim = await simulator();
    const { responseId, callIds } = sim.createResponse();
    const functionCall = sim.response(responseId)!.output[0]!;

    // Act
    const call = await postResponse(sim, { ...continuation(responseId, callIds), input: [functionCall, ...answerFor(callIds)] });

    // Assess
    expect(call.status).toBe(400);
    expect(call.body).toEqual(
      invalid(`Duplicate item found with id ${functionCall.id}. Remove duplicate items from your input and try again.`, "input"),
    );
  });

  it("Invalid 'input[N].id' when a function_call item's id does not begin with fc", async () => {
    // Prepare
    const sim = await simulator();
    const { responseId, callIds } = sim.createResponse();
    const resent = { type: "function_call", id: callIds[0], call_id: callIds[0], name: "get_weather", arguments: "{}" };

    // Act
    const call = await postResponse(sim, { ...continuation(responseId, callIds), input: [resent, ...answerFor(callIds)] });

    // Assess
    expect(call.body).toEqual(
      invalid(`Invalid 'input[0].id': '${callIds[0]}'. Expected an ID that begins with 'fc'.`, "input[0].id", "invalid_value"),
    );
  });

  it("a malformed previous_response_id is refused before any lookup", async () => {
    // Prepare
    const sim = await simulator();

    // Act
    const call = await postResponse(sim, continuation("resp_a/b c", ["call_A"]));

    // Assess
    expect(call.status).toBe(400);
    expect(call.body.error.message).toBe(
      "Invalid 'previous_response_id': 'resp_a/b c'. Expected an ID that contains letters, numbers, underscores, or dashes, but this value contained additional characters.",
    );
  });

  it("requires model, refuses unknown fields by name and previous_response_id with conversation", async () => {
    // Prepare
    const sim = await simulator();
    const { responseId, callIds } = sim.createResponse();
    const { model: _, ...withoutModel } = continuation(responseId, callIds);

    // Act
    const noModel = await postResponse(sim, withoutModel);
    const unknownField = await postResponse(sim, continuation(responseId, callIds, { tool_outputs: [] }));
    const unknownItemField = await postResponse(sim, {
      ...continuation(responseId, callIds),
      input: [{ ...answerFor(callIds)[0], tool_call_id: callIds[0] }],
    });
    const both = await postResponse(sim, continuation(responseId, callIds, { conversation: "conv_x" }));

    // Assess
    expect(noModel.body).toEqual(invalid("Missing required parameter: 'model'.", "model", "missing_required_parameter"));
    expect(unknownField.body).toEqual(invalid("Unknown parameter: 'tool_outputs'.", "tool_outputs", "unknown_parameter"));
    expect(unknownItemField.body.error).toMatchObject({
      message: "Unknown parameter: 'input[0].tool_call_id'.",
      code: "unknown_parameter",
    });
    expect(both.status).toBe(400);
    expect(both.body.error.message).toMatch(/previous_response_id.*conversation/);
    expect(sim.children(responseId)).toEqual([]);
    expect(sim.counters.responsesRejected).toBe(4);
  });

  it.each([
    { body: { model: 7 }, message: "Invalid type for 'model': expected a string, but got a number instead." },
    { body: { model: "m", background: "yes" }, message: "Invalid type for 'background': expected a boolean, but got a string instead." },
    { body: { model: "m", temperature: 3 }, message: "Invalid 'temperature': expected a number from 0 to 2, but got 3 instead." },
    {
      body: { model: "m", input: [{ type: "function_call_output", call_id: "call_A" }] },
      message: "Missing required parameter: 'input[0].output'.",
    },
    { body: { model: "m", metadata: { n: 1 } }, message: "Invalid type for 'metadata.n': expected a string, but got a number instead." },
  ])("refuses a badly typed body: $message", async ({ body, message }) => {
    // Prepare
    const sim = await simulator();

    // Act
    const call = await postResponse(sim, body);

    // Assess
    expect(call.status).toBe(400);
    expect(call.body.error.message).toBe(message);
  });

  it("GET answers 404 Response with id '…' not found. for an unknown id, and a malformed one 400", async () => {
    // Prepare
    const sim = await simulator();

    // Act
    const missing = await getResponse(sim, "resp_missing");
    const malformed = await request(sim, "GET", "/responses/resp%20x");

    // Assess
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual(invalid("Response with id 'resp_missing' not found."));
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.param).toBe("response_id");
    expect(sim.counters.responseGets).toBe(2);
  });
});

describe("no guard against a second submission, as in the real API", () => {
  it("the same outputs sent again after the first continuation failed: a retry of the turn, not a fork", async () => {
    // Prepare: the continuation fails; a second one is sent once it has.
    const sim = await simulator({ processingMs: 5 });
    const { responseId, callIds } = sim.createResponse({ afterOutputs: ["failed"] });
    const first = await postResponse(sim, continuation(responseId, callIds));
    const ended = await pollResponse(sim, first.body.id);

    // Act
    const second = await postResponse(sim, continuation(responseId, callIds));

    // Assess
    expect(ended.body.status).toBe("failed");
    expect(second.status).toBe(200);
    expect(sim.children(responseId)).toHaveLength(2);
    expect(sim.counters).toMatchObject({ continuations: 2, forks: 0, retriesAfterFailure: 1 });
  });

  it("the same outputs sent twice on one previous_response_id create two sibling responses, counted as a fork", async () => {
    // Prepare
    const sim = await simulator();
    const { responseId, callIds } = sim.createResponse({ toolCalls: 2 });

    // Act
    const first = await postResponse(sim, continuation(responseId, callIds));
    const second = await postResponse(sim, continuation(responseId, callIds));

    // Assess
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.body.id).not.toBe(second.body.id);
    expect(sim.children(responseId)).toEqual([first.body.id, second.body.id]);
    expect(sim.counters).toMatchObject({ responsesCreated: 2, continuations: 2, forks: 1 });
  });

  it("a chain continued once per response keeps forks at 0", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 10 });
    const { responseId, callIds } = sim.createResponse({ afterOutputs: [{ functionCalls: 1 }] });

    // Act
    const first = await postResponse(sim, continuation(responseId, callIds));
    const done = (await pollResponse(sim, first.body.id)).body;
    await postResponse(sim, continuation(done.id, callIdsOf(done)));

    // Assess
    expect(sim.counters).toMatchObject({ continuations: 2, forks: 0 });
    expect(sim.children(done.id)).toHaveLength(1);
  });
});

describe("a first turn over plain HTTP, scripted by metadata like POST /threads/runs", () => {
  it("sim_tool_calls and sim_then script the chain the local stack starts", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 10 });

    // Act
    const created = await postResponse(sim, {
      model: "gpt-5-mini",
      input: "What is the weather?",
      background: true,
      metadata: { sim_tool_calls: "2", sim_then: "function_calls:1,failed" },
    });
    const first = (await pollResponse(sim, created.body.id)).body;
    const next = await postResponse(sim, continuation(first.id, callIdsOf(first)));
    const second = (await pollResponse(sim, next.body.id)).body;
    const last = await postResponse(sim, continuation(second.id, callIdsOf(second)));
    const third = (await pollResponse(sim, last.body.id)).body;

    // Assess
    expect(created.body.status).toBe("queued");
    expect(callIdsOf(first)).toHaveLength(2);
    expect(callIdsOf(second)).toHaveLength(1);
    expect(third.status).toBe("failed");
    expect(sim.counters).toMatchObject({ responsesCreated: 3, continuations: 2 });
  });

  it("refuses a bad script in metadata", async () => {
    // Prepare
    const sim = await simulator();

    // Act
    const call = await postResponse(sim, { model: "m", input: "hi", metadata: { sim_then: "requires_action:2" } });

    // Assess
    expect(call.status).toBe(400);
    expect(call.body.error.param).toBe("metadata.sim_then");
  });
});
