/**
 * The loop closed over several rounds the way a tool worker closes it: each `response.requires_action` event is
 * answered with `{ ...event.reply, tool_outputs }` for its `tool_calls`, and nothing else (the worker knows
 * neither the API nor the ids' meaning). Done inline here; local/tool-worker.ts does the same for the local stack.
 */
import { describe, expect, it } from "vitest";
import type { ResponsesResultsEvent } from "../../../functions/submit-tool-outputs/dialects/index";
import { type Harness, useHarness } from "../../helpers/relay-harness";

let h: Harness;
useHarness({ maxReceiveCount: 3 }, (started) => (h = started));

/** What a tool worker sends for an event: the reply's ids and an output per tool call. */
const workerAnswer = (event: ResponsesResultsEvent) => ({
  ...event.reply,
  tool_outputs: event.tool_calls.map((call) => ({ tool_call_id: call.id, output: JSON.stringify({ for: call.function.name }) })),
});

/** Answers every requires_action event until the chain rests; the events in order. */
async function driveChain(first: ResponsesResultsEvent, rounds: number): Promise<ResponsesResultsEvent[]> {
  const events = [first];
  for (let round = 0; round < rounds && events.at(-1)!.type === "response.requires_action"; round++) {
    await h.send(workerAnswer(events.at(-1)!));
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toEqual([]);
    const published = await h.results<ResponsesResultsEvent>();
    expect(published).toHaveLength(1);
    events.push(published[0]!.event);
  }
  return events;
}

describe("a two-round chain driven by event.reply and event.tool_calls", () => {
  it("previous_response_id mode: each round continues the response the last event reported", async () => {
    // Prepare: the model asks for one call, then for two more, then answers.
    const prev = h.sim.createResponse({ afterOutputs: [{ functionCalls: 2 }, "completed"] });
    await h.send({ response_id: prev.responseId, tool_outputs: prev.callIds.map((id) => ({ tool_call_id: id, output: "1" })) });
    await h.deliver();
    const [first] = await h.results<ResponsesResultsEvent>();
    // Act
    const events = await driveChain(first!.event, 3);
    // Assess
    expect(events.map((e) => e.type)).toEqual(["response.requires_action", "response.completed"]);
    expect(events[0]!.tool_calls).toHaveLength(2);
    expect(events[1]!.previous_response_id).toBe(events[0]!.response_id);
    expect(h.sim.children(events[0]!.response_id!)).toEqual([events[1]!.response_id]);
    expect(h.sim.counters.continuations).toBe(2);
    expect(h.sim.counters.forks).toBe(0);
    expect(await h.deadLetters()).toEqual([]);
  });

  it("on a conversation: the replies name responses, and each round continues the conversation", async () => {
    const prev = h.sim.createResponse({ conversation: true, afterOutputs: [{ functionCalls: 1 }, { functionCalls: 1 }, "completed"] });
    await h.send({ response_id: prev.responseId, tool_outputs: prev.callIds.map((id) => ({ tool_call_id: id, output: "1" })) });
    await h.deliver();
    const [first] = await h.results<ResponsesResultsEvent>();
    const events = await driveChain(first!.event, 4);
    expect(events.map((e) => e.type)).toEqual(["response.requires_action", "response.requires_action", "response.completed"]);
    for (const event of events) expect(event.conversation_id).toBe(prev.conversationId);
    const posts = h.sim.requests.filter((r) => r.method === "POST" && r.path === "/v1/responses");
    expect(posts.map((p) => (p.body as { conversation?: string }).conversation)).toEqual(Array(3).fill(prev.conversationId));
    expect(h.sim.counters.forks).toBe(0);
  });

  it("a round whose new response id was never learnt (reply {conversation_id}) is answered the same way", async () => {
    // Prepare: round one's POST is taken but answered 500; the conversation shows what it did.
    const prev = h.sim.createResponse({ conversation: true, afterOutputs: [{ functionCalls: 1 }, "completed"] });
    h.sim.inject({ on: "response_create", kind: "accept_then_500", conversationId: prev.conversationId });
    await h.send({ response_id: prev.responseId, tool_outputs: prev.callIds.map((id) => ({ tool_call_id: id, output: "1" })) });
    await h.deliver();
    const [first] = await h.results<ResponsesResultsEvent>();
    expect(first!.event.reply).toEqual({ conversation_id: prev.conversationId });
    // Act
    const events = await driveChain(first!.event, 2);
    // Assess
    expect(events.map((e) => e.type)).toEqual(["response.requires_action", "response.completed"]);
    expect(h.sim.counters.continuations).toBe(2);
    expect(h.sim.counters.forks).toBe(0);
    // The second round repeated the settings of the response the first round continued.
    const posts = h.sim.requests.filter((r) => r.method === "POST" && r.path === "/v1/responses");
    expect((posts[1]!.body as { instructions?: string }).instructions).toBe(h.sim.response(prev.responseId)!.instructions);
  });
});
