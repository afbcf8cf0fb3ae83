/**
 * Results events (DESIGN "Results events for the Responses API"): every resting state a continuation can reach,
 * checked field by field with its SNS attributes; the 256 KB limit; `watch_response` follow-ups, the relay's own
 * and anyone's; and the Assistants events' shared fields (`api`, `tool_calls`, `reply`).
 */
import { describe, expect, it } from "vitest";
import type { AssistantsResultsEvent, ResponsesResultsEvent } from "../../../functions/submit-tool-outputs/dialects/index";
import { answerFor, type Harness, responseAnswerFor, startHarness } from "../../helpers/relay-harness";
import { type EndpointProxy, useProxiedHarness } from "../../helpers/responses/endpoint-proxy";
import { releaseInFlight, waitingBodies } from "../../helpers/responses/input-queue";

let h: Harness;
let proxy: EndpointProxy;
useProxiedHarness((started) => ({ h, proxy } = started));

const HEX_ID = /^[0-9a-f]{32}$/;

describe("the event of every resting state a continuation reaches", () => {
  it.each([
    ["function calls in its output", { functionCalls: 2 }, "response.requires_action", "completed"],
    ["text only", "completed", "response.completed", "completed"],
    ["failed", "failed", "response.failed", "failed"],
    ["incomplete", "incomplete", "response.incomplete", "incomplete"],
    ["cancelled", "cancelled", "response.cancelled", "cancelled"],
  ] as const)("%s → %s with status %s", async (_case, script, type, status) => {
    // Prepare
    const prev = h.sim.createResponse({ afterOutputs: [script] });
    const messageId = await h.send(responseAnswerFor(prev, { metadata: { tenant: "acme" } }));
    // Act
    await h.deliver();
    // Assess
    const [published, ...more] = await h.results<ResponsesResultsEvent>();
    expect(more).toEqual([]);
    const [childId] = h.sim.children(prev.responseId);
    const child = h.sim.response(childId!)!;
    const { event, attributes } = published!;
    expect(event).toMatchObject({
      api: "responses",
      type,
      status,
      response_id: childId,
      previous_response_id: prev.responseId,
      conversation_id: null,
      reply: { response_id: childId },
      source_message_id: messageId,
      metadata: { tenant: "acme" },
    });
    expect(event.event_id).toMatch(HEX_ID);
    expect(Date.parse(event.at)).toBeGreaterThan(0);
    // The one tool-call shape: the Responses call_id is the id.
    const calls = child.output.flatMap((item) => (item.type === "function_call" ? [item] : []));
    // tool_names: a String.Array of the tools asked for, each once (SQS gives its value as the JSON text).
    const toolNames = calls.length > 0 ? { tool_names: JSON.stringify([...new Set(calls.map((c) => c.name))]) } : {};
    expect(attributes).toEqual({ type, status, api: "responses", ...toolNames, response_id: childId });
    expect(event.tool_calls).toEqual(
      calls.map((c) => ({ id: c.call_id, type: "function", function: { name: c.name, arguments: c.arguments } })),
    );
    expect(event.tool_calls.length > 0).toBe(type === "response.requires_action");
    // What a consumer needs, without the bulky settings.
    expect(event.response).toMatchObject({ id: childId, status, model: child.model, usage: child.usage, output: child.output });
    expect(event.response.error).toEqual(child.error);
    expect(event.response.incomplete_details).toEqual(child.incomplete_details);
    expect(event.response).not.toHaveProperty("instructions");
    expect(event.response).not.toHaveProperty("tools");
    expect(event).not.toHaveProperty("output_truncated");
  });

  it("a continuation on a conversation names it, and is filtered by its response_id", async () => {
    const prev = h.sim.createResponse({ conversation: true, afterOutputs: [{ functionCalls: 1 }] });
    await h.send(responseAnswerFor(prev));
    await h.deliver();
    const [published] = await h.results<ResponsesResultsEvent>();
    const [childId] = h.sim.children(prev.responseId);
    expect(published!.event).toMatchObject({
      type: "response.requires_action",
      response_id: childId,
      previous_response_id: prev.responseId,
      conversation_id: prev.conversationId,
      reply: { response_id: childId },
    });
    expect(published!.event.response.conversation).toEqual({ id: prev.conversationId });
    expect(published!.attributes).toEqual({
      type: "response.requires_action",
      status: "completed",
      api: "responses",
      tool_names: JSON.stringify(published!.event.tool_calls.map((c) => c.function.name)),
      response_id: childId,
    });
  });

  it("an event that would pass SNS's 256 KB drops message text first, keeps the function calls, and says so", async () => {
    // Prepare: the continuation's output, as the endpoint answers it, holds 300 KB of text before its call.
    const prev = h.sim.createResponse();
    const huge = "x".repeat(300 * 1024);
    const call = {
      type: "function_call",
      id: "fc_after_text",
      call_id: "call_after_text",
      name: "get_weather",
      arguments: '{"city":"Paris"}',
    };
    proxy.intercept({
      method: "GET",
      path: /\/responses\/resp_[A-Za-z0-9]+$/,
      times: 100,
      does: {
        rewrite: (body) =>
          body.status === "completed" && body.id !== prev.responseId
            ? {
                ...body,
                output: [{ type: "message", id: "msg_huge", role: "assistant", content: [{ type: "output_text", text: huge }] }, call],
              }
            : body,
      },
    });
    await h.send(responseAnswerFor(prev));
    // Act
    const { response } = await h.deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [published] = await h.results<ResponsesResultsEvent>();
    const { event } = published!;
    expect(event.output_truncated).toBe(true);
    expect(event.type).toBe("response.requires_action");
    expect(event.tool_calls.map((c) => c.id)).toEqual(["call_after_text"]);
    expect(event.response.output).toEqual([{ type: "message", id: "msg_huge", role: "assistant", content: [] }, call]);
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(256 * 1024);
  });
});

describe("watch_response follow-ups", () => {
  it("a response still moving at the end of the follow budget is watched, and the watch reports it once it rests", async () => {
    const watched = await startHarness({ env: { FOLLOW_BUDGET_MS: "50" }, simulator: { processingMs: 1500 } });
    try {
      // Prepare
      const prev = watched.sim.createResponse();
      const messageId = await watched.send(responseAnswerFor(prev, { metadata: { tenant: "acme" } }));
      // Act
      await watched.deliver();
      // Assess: nothing published yet, a follow-up for the new response.
      const [childId] = watched.sim.children(prev.responseId);
      expect(await watched.results()).toEqual([]);
      expect(await waitingBodies(watched)).toEqual([{ type: "watch_response", response_id: childId, metadata: { tenant: "acme" } }]);
      let published: Awaited<ReturnType<typeof watched.results<ResponsesResultsEvent>>> = [];
      for (let round = 0; round < 100 && published.length === 0; round++) {
        await watched.deliver();
        published = await watched.results<ResponsesResultsEvent>();
        await releaseInFlight(watched);
      }
      expect(published[0]!.event).toMatchObject({
        type: "response.completed",
        response_id: childId,
        previous_response_id: prev.responseId,
        metadata: { tenant: "acme" },
      });
      expect(published[0]!.event.source_message_id).not.toBe(messageId);
      expect(watched.sim.counters.continuations).toBe(1);
      expect(await watched.deadLetters()).toEqual([]);
    } finally {
      await watched.close();
    }
  });

  it("a watch sent by anyone reports the response's resting state, submitting nothing", async () => {
    const prev = h.sim.createResponse({ toolCalls: ["call_w"] });
    await h.send({ type: "watch_response", response_id: prev.responseId, metadata: { by: "ops" } });
    await h.deliver();
    const [published] = await h.results<ResponsesResultsEvent>();
    expect(published!.event).toMatchObject({
      type: "response.requires_action",
      response_id: prev.responseId,
      previous_response_id: null,
      reply: { response_id: prev.responseId },
      metadata: { by: "ops" },
    });
    expect(published!.event.tool_calls.map((c) => c.id)).toEqual(["call_w"]);
    expect(h.sim.counters.responsePosts).toBe(0);
  });

  it("a watch of an unknown response is dead-lettered response_not_found, and a malformed one invalid_message", async () => {
    await h.send({ type: "watch_response", response_id: "resp_unknown" });
    await h.send({ type: "watch_response", response_id: "resp_x", conversation_id: "conv_y" });
    await h.deliver();
    const reasons = (await h.deadLetters()).map((d) => d.record.reason).sort();
    expect(reasons).toEqual(["invalid_message", "response_not_found"]);
  });

  it("the same resting state watched twice has one event id; another state, another id", async () => {
    const prev = h.sim.createResponse();
    await h.send({ type: "watch_response", response_id: prev.responseId });
    await h.send({ type: "watch_response", response_id: prev.responseId });
    await h.deliver();
    await h.send(responseAnswerFor(prev));
    await h.deliver();
    const events = (await h.results<ResponsesResultsEvent>()).map((r) => r.event);
    const watchedIds = events.filter((e) => e.response_id === prev.responseId).map((e) => e.event_id);
    expect(watchedIds).toHaveLength(2);
    expect(new Set(watchedIds).size).toBe(1);
    const continued = events.find((e) => e.response_id !== prev.responseId)!;
    expect(continued.event_id).not.toBe(watchedIds[0]);
  });
});

describe("the Assistants API's events carry the shared fields too", () => {
  it("has api, tool_calls in the one shape, and reply {thread_id, run_id}", async () => {
    const run = h.sim.createRun({ toolCalls: ["call_r1"], afterOutputs: [{ requiresAction: ["call_r2a", "call_r2b"] }] });
    await h.send(answerFor(run));
    await h.deliver();
    const [published] = await h.results<AssistantsResultsEvent>();
    const { event, attributes } = published!;
    expect(event).toMatchObject({ api: "assistants", type: "run.requires_action", reply: { thread_id: run.threadId, run_id: run.runId } });
    const required = h.sim.run(run.threadId, run.runId)!.required_action!.submit_tool_outputs.tool_calls;
    expect(event.tool_calls).toEqual(
      required.map((c) => ({ id: c.id, type: "function", function: { name: c.function.name, arguments: c.function.arguments } })),
    );
    expect(event.tool_calls.map((c) => c.id)).toEqual(["call_r2a", "call_r2b"]);
    expect(attributes).toEqual({
      type: "run.requires_action",
      status: "requires_action",
      api: "assistants",
      tool_names: JSON.stringify([...new Set(required.map((c) => c.function.name))]),
      thread_id: run.threadId,
    });
  });
});
