/**
 * The rows of DESIGN's table "What happens to a Responses message" that end before or at the submission:
 * invalid messages, the previous response's standing, the submission itself and its settings, and the
 * endpoint's 400s. The real handler against the endpoint simulator, fauxqs and the dynalite state table.
 * Refusals, ambiguous failures, duplicates and streams have files of their own.
 */
import { describe, expect, it } from "vitest";
import type { ResponsesResultsEvent } from "../../../functions/submit-tool-outputs/dialects/index";
import { type Harness, responseAnswerFor, startHarness, TEST_API_KEY, TEST_VIRTUAL_KEY, useHarness } from "../../helpers/relay-harness";
import { claimsTable, keyOf } from "../../helpers/responses/claims-table";
import { responsesThrough, startEndpointProxy } from "../../helpers/responses/endpoint-proxy";
import { postsContinuing, readsOf } from "../../helpers/responses/endpoint-requests";

let h: Harness;
useHarness({ maxReceiveCount: 3 }, (started) => (h = started));

const output = (callId: string, text = "21") => ({ tool_call_id: callId, output: text });

describe("invalid message → DLQ invalid_message, every problem listed", () => {
  it("names the fields of a message with ids of both APIs", async () => {
    // Prepare
    const body = { thread_id: "thread_a", run_id: "run_a", response_id: "resp_a", tool_outputs: [output("call_a")] };
    await h.send(body);
    // Act
    const { response } = await h.deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [dead, ...more] = await h.deadLetters();
    expect(more).toEqual([]);
    expect(dead!.record.reason).toBe("invalid_message");
    expect(dead!.record.detail).toContain("more than one API (thread_id, run_id, response_id)");
    expect(dead!.record).toMatchObject({ thread_id: "thread_a", response_id: "resp_a" });
    expect(h.sim.requests).toEqual([]);
  });

  it("says which ids to send when a message names no API, beside its other problems", async () => {
    await h.send({ tool_outputs: [output("call_a")], colour: "blue" });
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record.reason).toBe("invalid_message");
    expect(dead!.record.detail).toContain("names no API: send thread_id and run_id");
    expect(dead!.record.detail).toContain("response_id or conversation_id (Responses API)");
    expect(dead!.record.detail).toContain('unknown field "colour"');
  });

  it("refuses response_id and conversation_id together", async () => {
    await h.send({ response_id: "resp_a", conversation_id: "conv_a", tool_outputs: [output("call_a")] });
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record.detail).toContain("send exactly one of response_id and conversation_id");
    expect(h.sim.requests).toEqual([]);
  });

  it("names an unknown request key, a malformed response_id and a duplicated call id, all at once", async () => {
    const body = ` {"response_id":"resp/../x","tool_outputs":[{"tool_call_id":"call_a","output":"1"},{"tool_call_id":"call_a","output":"2"}],
      "request":{"model":"gpt-5-mini","colour":"blue","metadata":{"k":"v"}}} `;
    await h.send(body);
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record.original).toBe(body);
    expect(dead!.record.detail).toContain('request: unknown field "colour"');
    expect(dead!.record.detail).toMatch(/response_id: /);
    expect(dead!.record.detail).toMatch(/tool_outputs.*call_a/);
    expect(h.sim.requests).toEqual([]);
  });

  it("refuses an output that is neither a string nor the API's content parts", async () => {
    const prev = h.sim.createResponse();
    await h.send({
      response_id: prev.responseId,
      tool_outputs: [{ tool_call_id: prev.callIds[0], output: [{ type: "output_text", text: "x" }] }],
    });
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record.reason).toBe("invalid_message");
    expect(dead!.record.detail).toContain("tool_outputs.0.output");
  });
});

describe("GET /responses/{response_id} → 404, or a POST → 400 previous_response_not_found → DLQ response_not_found", () => {
  it("dead-letters a response the endpoint does not know, without submitting", async () => {
    await h.send({ response_id: "resp_never_was", tool_outputs: [output("call_a")], metadata: { tenant: "acme" } });
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({
      reason: "response_not_found",
      http_status: 404,
      response_id: "resp_never_was",
      metadata: { tenant: "acme" },
    });
    expect(dead!.record.endpoint_error?.message).toContain("resp_never_was");
    expect(h.sim.counters.responsePosts).toBe(0);
  });

  it("dead-letters a response the GET shows but the POST cannot continue (a background response never stored)", async () => {
    // Prepare: a first turn with store:false in background mode: readable for polling, not continuable.
    const created = await fetch(`${h.sim.baseUrl}/responses`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-portkey-api-key": TEST_API_KEY, "x-portkey-virtual-key": TEST_VIRTUAL_KEY },
      body: JSON.stringify({ model: "gpt-5-mini", input: "Weather in Paris?", store: false, background: true }),
    });
    const { id } = (await created.json()) as { id: string };
    await expect.poll(() => h.sim.response(id)?.status, { timeout: 5000 }).toBe("completed");
    const callIds = h.sim.response(id)!.output.flatMap((item) => (item.type === "function_call" ? [item.call_id] : []));
    await h.send(responseAnswerFor({ responseId: id, callIds }));
    // Act
    await h.deliver();
    // Assess
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({ reason: "response_not_found", http_status: 400, response_id: id });
    expect(dead!.record.endpoint_error).toMatchObject({ code: "previous_response_not_found", param: "previous_response_id" });
    expect(postsContinuing(h.sim, id)).toHaveLength(1);
    // Nothing was taken: the claim is given back, so a later copy may claim the turn.
    expect(await claimsTable(h).get(keyOf({ responseId: id }, callIds))).toMatchObject({ phase: "released" });
  });
});

describe("the previous response is queued / in_progress → hand back; still so on the last receive → retries_exhausted", () => {
  it("hands the message back without submitting, and on the last receive says why", async () => {
    // Prepare
    const prev = h.sim.createResponse({ readyAfterMs: 120_000 });
    const messageId = await h.send(responseAnswerFor(prev));
    // Act
    const answers: number[] = [];
    for (let receive = 1; receive <= 3; receive++) answers.push((await h.deliver()).response.batchItemFailures.length);
    // Assess
    expect(answers).toEqual([1, 1, 0]);
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({ reason: "retries_exhausted", source_message_id: messageId, receive_count: 3 });
    expect(dead!.record.detail).toMatch(new RegExp(`response ${prev.responseId} is still (queued|in_progress)`));
    expect(dead!.record.detail).toContain("function calls are not final");
    expect(dead!.record.detail).toContain("receive 3 of 3");
    expect(h.sim.counters.responsePosts).toBe(0);
  });

  it("submits once the previous response has come to rest", async () => {
    const prev = h.sim.createResponse({ readyAfterMs: 1500 });
    const messageId = await h.send(responseAnswerFor(prev));
    const first = await h.deliver();
    expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: messageId }]);
    await expect.poll(() => h.sim.response(prev.responseId)?.status, { timeout: 5000 }).toBe("completed");
    const second = await h.deliver();
    expect(second.response.batchItemFailures).toEqual([]);
    expect(h.sim.children(prev.responseId)).toHaveLength(1);
    const [published] = await h.results<ResponsesResultsEvent>();
    expect(published!.event.previous_response_id).toBe(prev.responseId);
  });
});

describe("the previous response ended failed / cancelled / incomplete, or asks for no function calls → response_not_awaiting_outputs", () => {
  it.each(["failed", "cancelled", "incomplete"] as const)("dead-letters outputs for a response that ended %s", async (status) => {
    const prev = h.sim.createResponse({ status });
    await h.send({ response_id: prev.responseId, tool_outputs: [output("call_a")] });
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({ reason: "response_not_awaiting_outputs", response_id: prev.responseId });
    expect(dead!.record.detail).toContain(`it ended ${status}`);
    expect(h.sim.counters.responsePosts).toBe(0);
  });

  it("dead-letters outputs for a response that answered with text and asks for nothing", async () => {
    const prev = h.sim.createResponse({ toolCalls: 0 });
    await h.send({ response_id: prev.responseId, tool_outputs: [output("call_a")] });
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record.reason).toBe("response_not_awaiting_outputs");
    expect(dead!.record.detail).toContain("it asks for no function calls");
    expect(h.sim.counters.responsePosts).toBe(0);
  });
});

describe("given ids ≠ the previous response's call_ids → tool_call_mismatch, before anything is submitted", () => {
  it.each([
    ["a missing output", ["call_A"]],
    ["an extra output", ["call_A", "call_B", "call_C"]],
    ["other ids", ["call_X", "call_Y"]],
  ])("dead-letters %s with the expected and the given ids, and submits nothing", async (_case, given) => {
    const prev = h.sim.createResponse({ toolCalls: ["call_A", "call_B"] });
    await h.send({ response_id: prev.responseId, tool_outputs: given.map((id) => output(id)) });
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({
      reason: "tool_call_mismatch",
      expected_tool_call_ids: ["call_A", "call_B"],
      given_tool_call_ids: given,
    });
    expect(h.sim.counters.responsePosts).toBe(0);
    expect(h.sim.counters.continuations).toBe(0);
  });

  it("takes the outputs in any order", async () => {
    const prev = h.sim.createResponse({ toolCalls: ["call_A", "call_B"] });
    await h.send({ response_id: prev.responseId, tool_outputs: [output("call_B"), output("call_A")] });
    await h.deliver();
    expect(await h.deadLetters()).toEqual([]);
    expect(h.sim.children(prev.responseId)).toHaveLength(1);
  });
});

describe("submit: POST /responses with background (RESPONSES_BACKGROUND, default true), record the new id, follow it, publish", () => {
  it("submits in background mode, records the new response in the state table, polls it to rest and publishes it", async () => {
    // Prepare
    const prev = h.sim.createResponse({ toolCalls: 2 });
    const messageId = await h.send(responseAnswerFor(prev, { metadata: { tenant: "acme" } }));
    // Act
    const { response } = await h.deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [post, ...more] = postsContinuing(h.sim, prev.responseId);
    expect(more).toEqual([]);
    expect(post).toMatchObject({ background: true, store: true, previous_response_id: prev.responseId });
    expect(post).not.toHaveProperty("stream");
    expect(post!.input).toEqual(
      responseAnswerFor(prev).tool_outputs.map((o) => ({ type: "function_call_output", call_id: o.tool_call_id, output: o.output })),
    );
    const [child] = h.sim.children(prev.responseId);
    expect(readsOf(h.sim, child!).length).toBeGreaterThanOrEqual(1);
    const [published] = await h.results<ResponsesResultsEvent>();
    expect(published!.event).toMatchObject({ response_id: child, status: "completed", source_message_id: messageId });
    const claim = await claimsTable(h).get(keyOf({ responseId: prev.responseId }, prev.callIds));
    expect(claim).toMatchObject({ phase: "submitted", response_id: child, owner: messageId, call_ids: prev.callIds });
    expect(claim!.ttl).toBeGreaterThan(Date.now() / 1000 + 30 * 86_400);
    expect(h.sim.counters.forks).toBe(0);
  });

  it("with RESPONSES_BACKGROUND=false the POST answers at rest, even past ENDPOINT_TIMEOUT_MS (within the follow budget)", async () => {
    // The model takes 1.6 s; the harness's per-call timeout is 1 s, its follow budget 3 s.
    const foreground = await startHarness({ env: { RESPONSES_BACKGROUND: "false" }, simulator: { processingMs: 1600 } });
    try {
      const prev = foreground.sim.createResponse();
      await foreground.send(responseAnswerFor(prev));
      const { response } = await foreground.deliver();
      expect(response.batchItemFailures).toEqual([]);
      const [post] = postsContinuing(foreground.sim, prev.responseId);
      expect(post!.background).toBe(false);
      const [child] = foreground.sim.children(prev.responseId);
      expect(readsOf(foreground.sim, child!)).toEqual([]);
      const [published] = await foreground.results<ResponsesResultsEvent>();
      expect(published!.event).toMatchObject({ response_id: child, status: "completed" });
      expect(await foreground.deadLetters()).toEqual([]);
    } finally {
      await foreground.close();
    }
  });
});

describe("settings repeated from the previous response; request overrides key by key; the message's metadata never sent", () => {
  const REPEATED = [
    "model",
    "instructions",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "reasoning",
    "text",
    "truncation",
    "temperature",
    "top_p",
    "service_tier",
    "metadata",
  ] as const;

  it("repeats model, instructions, tools and the rest as the previous response records them, with store true and no include", async () => {
    const prev = h.sim.createResponse({ model: "gpt-5", instructions: "Answer in French.", metadata: { app: "shop" } });
    await h.send(responseAnswerFor(prev, { metadata: { tenant: "acme" } }));
    await h.deliver();
    const previous = h.sim.response(prev.responseId)!;
    const [post] = postsContinuing(h.sim, prev.responseId);
    for (const field of REPEATED) expect(post![field], field).toEqual(previous[field]);
    expect(post!.metadata).toEqual({ app: "shop" });
    expect(post!.store).toBe(true);
    expect(post).not.toHaveProperty("include");
    // Nulls the previous response carries are left to the endpoint's defaults.
    expect(previous.max_output_tokens).toBeNull();
    expect(post).not.toHaveProperty("max_output_tokens");
    expect(JSON.stringify(post)).not.toContain("acme");
    // The continuation runs with them: the simulator echoes what it was given.
    const child = h.sim.response(h.sim.children(prev.responseId)[0]!)!;
    expect(child.instructions).toBe("Answer in French.");
    expect(child.tools).toEqual(previous.tools);
  });

  it("overrides key by key with request, and passes the allowed fields through unchanged", async () => {
    const prev = h.sim.createResponse({ instructions: "Answer in French.", metadata: { app: "shop" } });
    const request = {
      model: "gpt-5",
      temperature: 0.2,
      max_output_tokens: 256,
      tool_choice: "required",
      include: ["reasoning.encrypted_content"],
      prompt_cache_key: "weather-v1",
      safety_identifier: "user-hash-1",
      user: "u-1",
      service_tier: "flex",
      reasoning: { effort: "low" },
      metadata: { run: "nightly" },
    };
    await h.send(responseAnswerFor(prev, { request, metadata: { tenant: "acme" } }));
    await h.deliver();
    const [post] = postsContinuing(h.sim, prev.responseId);
    expect(post).toMatchObject(request);
    expect(post!.instructions).toBe("Answer in French.");
    expect(post!.tools).toEqual(h.sim.response(prev.responseId)!.tools);
    expect(h.sim.children(prev.responseId)).toHaveLength(1);
    expect(await h.deadLetters()).toEqual([]);
  });
});

describe("400 'No tool output found …' / 'No tool call found …' → tool_call_mismatch", () => {
  it("dead-letters the endpoint's 'No tool output found' (an older call of the conversation left unanswered)", async () => {
    // Prepare: the conversation holds a function call nobody answered before the response the message answers.
    const conversation = await fetch(`${h.sim.baseUrl}/conversations`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-portkey-api-key": TEST_API_KEY, "x-portkey-virtual-key": TEST_VIRTUAL_KEY },
      body: JSON.stringify({ items: [{ type: "function_call", call_id: "call_forgotten", name: "get_weather", arguments: "{}" }] }),
    });
    const { id: conversationId } = (await conversation.json()) as { id: string };
    const prev = h.sim.createResponse({ conversation: conversationId });
    await h.send(responseAnswerFor(prev));
    // Act
    await h.deliver();
    // Assess
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({ reason: "tool_call_mismatch", http_status: 400 });
    expect(dead!.record.endpoint_error!.message).toBe("No tool output found for function call call_forgotten.");
    expect(h.sim.counters.continuations).toBe(0);
    expect(await claimsTable(h).get(keyOf({ conversationId }, prev.callIds))).toMatchObject({ phase: "released" });
  });

  it("dead-letters the endpoint's 'No tool call found' and gives the claim back", async () => {
    const proxy = await startEndpointProxy();
    const proxied = await startHarness({ endpoint: responsesThrough(proxy) });
    try {
      const prev = proxied.sim.createResponse();
      const message = `No tool call found for function call output with call_id ${prev.callIds[0]}.`;
      proxy.intercept({
        method: "POST",
        path: /\/responses$/,
        does: { answer: { status: 400, body: { error: { message, type: "invalid_request_error", param: "input", code: null } } } },
      });
      await proxied.send(responseAnswerFor(prev));
      await proxied.deliver();
      const [dead] = await proxied.deadLetters();
      expect(dead!.record).toMatchObject({ reason: "tool_call_mismatch", http_status: 400, endpoint_error: { message } });
      expect(proxied.sim.counters.continuations).toBe(0);
      expect(await claimsTable(proxied).get(keyOf({ responseId: prev.responseId }, prev.callIds))).toMatchObject({ phase: "released" });
    } finally {
      await proxied.close();
      await proxy.close();
    }
  });
});

describe("other 400 → rejected_by_endpoint", () => {
  it("dead-letters the endpoint's refusal of a request setting, with its error", async () => {
    const prev = h.sim.createResponse();
    await h.send(responseAnswerFor(prev, { request: { service_tier: "turbo" } }));
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({ reason: "rejected_by_endpoint", http_status: 400, endpoint_error: { param: "service_tier" } });
    expect(dead!.record.detail).toContain("submit the outputs");
    expect(h.sim.counters.continuations).toBe(0);
  });
});

describe("the state table is what makes a Responses submission safe: without it, nothing is submitted", () => {
  it("without RELAY_STATE_TABLE the message is handed back (not_configured), and the last receive says why", async () => {
    const bare = await startHarness({ env: { RELAY_STATE_TABLE: "" }, maxReceiveCount: 2 });
    try {
      const prev = bare.sim.createResponse();
      await bare.send(responseAnswerFor(prev));
      const answers = [(await bare.deliver()).response.batchItemFailures.length, (await bare.deliver()).response.batchItemFailures.length];
      expect(answers).toEqual([1, 0]);
      const [dead] = await bare.deadLetters();
      expect(dead!.record.reason).toBe("retries_exhausted");
      expect(dead!.record.detail).toContain("RELAY_STATE_TABLE is not set");
      expect(bare.sim.requests).toEqual([]);
    } finally {
      await bare.close();
    }
  });

  it("with the table unreachable the message is handed back before anything is submitted", async () => {
    const unreachable = await startHarness({ env: { AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:9" } });
    try {
      const prev = unreachable.sim.createResponse();
      const messageId = await unreachable.send(responseAnswerFor(prev));
      const { response } = await unreachable.deliver();
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: messageId }]);
      expect(unreachable.sim.counters.responsePosts).toBe(0);
      expect(await unreachable.deadLetters()).toEqual([]);
    } finally {
      await unreachable.close();
    }
  });
});
