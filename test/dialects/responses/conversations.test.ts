/**
 * Messages that name a conversation (`conversation_id`) instead of a response: the function calls waiting at
 * the conversation's tail, settings from `request` or from the conversation's last response the state table
 * knows, and the rows that end such a message before anything is submitted.
 */
import { describe, expect, it } from "vitest";
import type { ResponsesResultsEvent } from "../../../functions/submit-tool-outputs/dialects/index";
import { type Harness, responseAnswerFor, TEST_API_KEY, TEST_VIRTUAL_KEY, useHarness } from "../../helpers/relay-harness";
import { claimsTable } from "../../helpers/responses/claims-table";
import { listingsOf, postsOnConversation } from "../../helpers/responses/endpoint-requests";

let h: Harness;
useHarness({ maxReceiveCount: 3 }, (started) => (h = started));

const latestOf = async (conversationId: string) => (await claimsTable(h).get({ pk: `conv#${conversationId}`, sk: "latest" }))?.response_id;

/** Someone else answers a call on the conversation, straight at the endpoint: no claim in the state table. */
async function answerOutsideTheRelay(conversationId: string, callId: string, output = "done elsewhere"): Promise<void> {
  const direct = await fetch(`${h.sim.baseUrl}/responses`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-portkey-api-key": TEST_API_KEY, "x-portkey-virtual-key": TEST_VIRTUAL_KEY },
    body: JSON.stringify({
      model: "gpt-5-mini",
      conversation: conversationId,
      input: [{ type: "function_call_output", call_id: callId, output }],
    }),
  });
  expect(direct.status).toBe(200);
}

describe("a conversation_id message answers the calls waiting at the conversation's tail", () => {
  it("with request.model: continues the conversation with those settings only, and remembers the new response", async () => {
    // Prepare
    const prev = h.sim.createResponse({ conversation: true, toolCalls: 2 });
    const conversationId = prev.conversationId!;
    await h.send(responseAnswerFor(prev, { conversation: true, request: { model: "gpt-5", instructions: "Be brief." } }));
    // Act
    const { response } = await h.deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [post, ...more] = postsOnConversation(h.sim, conversationId);
    expect(more).toEqual([]);
    expect(post).toMatchObject({ model: "gpt-5", instructions: "Be brief.", store: true, background: true, conversation: conversationId });
    expect(post).not.toHaveProperty("previous_response_id");
    expect(post).not.toHaveProperty("tools");
    const [published] = await h.results<ResponsesResultsEvent>();
    const childId = published!.event.response_id;
    expect(published!.event).toMatchObject({ status: "completed", conversation_id: conversationId, previous_response_id: null });
    expect(h.sim.children(prev.responseId)).toEqual([childId]);
    expect(await latestOf(conversationId)).toBe(childId);
  });

  it("without request: takes the settings from the conversation's last response the relay created", async () => {
    // Prepare: round one by response_id (settings repeated), which the relay remembers for the conversation.
    const prev = h.sim.createResponse({ conversation: true, instructions: "Answer in French.", afterOutputs: [{ functionCalls: 1 }] });
    const conversationId = prev.conversationId!;
    await h.send(responseAnswerFor(prev));
    await h.deliver();
    const [round1] = await h.results<ResponsesResultsEvent>();
    // Act: round two names only the conversation.
    const calls = round1!.event.tool_calls.map((c) => ({ tool_call_id: c.id, output: "sunny" }));
    await h.send({ conversation_id: conversationId, tool_outputs: calls });
    await h.deliver();
    // Assess
    const posts = postsOnConversation(h.sim, conversationId);
    expect(posts).toHaveLength(2);
    expect(posts[1]).toMatchObject({ instructions: "Answer in French.", tools: h.sim.response(prev.responseId)!.tools });
    expect(posts[1]!.input).toEqual([{ type: "function_call_output", call_id: calls[0]!.tool_call_id, output: "sunny" }]);
    const [round2] = await h.results<ResponsesResultsEvent>();
    expect(round2!.event).toMatchObject({ type: "response.completed", conversation_id: conversationId });
  });

  it("without request and with no response of the conversation known: invalid_message naming request.model", async () => {
    const prev = h.sim.createResponse({ conversation: true });
    await h.send(responseAnswerFor(prev, { conversation: true }));
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({ reason: "invalid_message", conversation_id: prev.conversationId });
    expect(dead!.record.detail).toContain("name request.model or send response_id");
    expect(h.sim.counters.responsePosts).toBe(0);
  });
});

describe("the rows that end a conversation_id message before it is submitted", () => {
  it("a conversation that waits for no function calls → response_not_awaiting_outputs", async () => {
    const prev = h.sim.createResponse({ conversation: true, toolCalls: 0 });
    await h.send({
      conversation_id: prev.conversationId,
      tool_outputs: [{ tool_call_id: "call_a", output: "1" }],
      request: { model: "m" },
    });
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record.reason).toBe("response_not_awaiting_outputs");
    expect(dead!.record.detail).toContain(`conversation ${prev.conversationId} waits for no function calls`);
    expect(h.sim.counters.responsePosts).toBe(0);
  });

  it("other ids than the tail's calls → tool_call_mismatch with the expected and the given ids", async () => {
    const prev = h.sim.createResponse({ conversation: true, toolCalls: ["call_A", "call_B"] });
    await h.send({
      conversation_id: prev.conversationId,
      tool_outputs: [{ tool_call_id: "call_A", output: "1" }],
      request: { model: "m" },
    });
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({
      reason: "tool_call_mismatch",
      given_tool_call_ids: ["call_A"],
    });
    expect([...dead!.record.expected_tool_call_ids!].sort()).toEqual(["call_A", "call_B"]);
    expect(h.sim.counters.responsePosts).toBe(0);
  });

  it("an unknown conversation → response_not_found", async () => {
    await h.send({ conversation_id: "conv_never_was", tool_outputs: [{ tool_call_id: "call_a", output: "1" }], request: { model: "m" } });
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({ reason: "response_not_found", http_status: 404, conversation_id: "conv_never_was" });
  });

  it("outputs the conversation already holds (taken earlier, even outside the relay) are published from it, not sent again", async () => {
    // Prepare: someone else answered the calls on the conversation with these same outputs, and that response completed.
    const prev = h.sim.createResponse({ conversation: true });
    const conversationId = prev.conversationId!;
    const message = responseAnswerFor(prev, { conversation: true, request: { model: "gpt-5-mini" } });
    await answerOutsideTheRelay(conversationId, prev.callIds[0]!, message.tool_outputs[0]!.output as string);
    // Act
    await h.send(message);
    const { response } = await h.deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(postsOnConversation(h.sim, conversationId)).toHaveLength(1);
    expect(listingsOf(h.sim, conversationId).length).toBeGreaterThanOrEqual(1);
    const [published] = await h.results<ResponsesResultsEvent>();
    expect(published!.event).toMatchObject({ type: "response.completed", response_id: null, reply: { conversation_id: conversationId } });
    expect(h.sim.counters.forks).toBe(0);
  });

  it("outputs the conversation already holds are not sent again when the message names the response either", async () => {
    // Prepare: the calls were answered on the conversation outside the relay (no claim in the table), the same way.
    const prev = h.sim.createResponse({ conversation: true });
    const conversationId = prev.conversationId!;
    const message = responseAnswerFor(prev);
    await answerOutsideTheRelay(conversationId, prev.callIds[0]!, message.tool_outputs[0]!.output as string);
    // Act
    await h.send(message);
    const { response } = await h.deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(postsOnConversation(h.sim, conversationId)).toHaveLength(1);
    expect(h.sim.counters.forks).toBe(0);
    const [published] = await h.results<ResponsesResultsEvent>();
    expect(published!.event).toMatchObject({
      type: "response.completed",
      response_id: null,
      previous_response_id: prev.responseId,
      reply: { conversation_id: conversationId },
    });
  });

  it.each([
    ["conversation_id", true],
    ["response_id", false],
  ] as const)(
    "other outputs for ids already answered: the conversation holds others (%s): conflicting_output, nothing sent (rule 12)",
    async (_m, byConversation) => {
      const prev = h.sim.createResponse({ conversation: true });
      const conversationId = prev.conversationId!;
      await answerOutsideTheRelay(conversationId, prev.callIds[0]!, "done elsewhere");
      const sent = await h.send(
        byConversation ? responseAnswerFor(prev, { conversation: true, request: { model: "gpt-5-mini" } }) : responseAnswerFor(prev),
      );
      const { response } = await h.deliver();
      expect(response.batchItemFailures).toEqual([]);
      expect(postsOnConversation(h.sim, conversationId)).toHaveLength(1);
      expect((await h.deadLetters()).map((d) => [d.sourceMessageId, d.reason])).toEqual([[sent, "conflicting_output"]]);
      expect(await h.results()).toEqual([]);
    },
  );

  it("a stale round-one copy during round two republishes round one's state with its event id, not round two's items", async () => {
    // Prepare: round one and round two accepted on the conversation.
    const prev = h.sim.createResponse({ conversation: true, afterOutputs: [{ functionCalls: 1 }, "completed"] });
    const conversationId = prev.conversationId!;
    const roundOne = responseAnswerFor(prev, { conversation: true, request: { model: "gpt-5-mini" } });
    await h.send(roundOne);
    await h.deliver();
    const [first] = await h.results<ResponsesResultsEvent>();
    await h.send({ ...first!.event.reply, tool_outputs: first!.event.tool_calls.map((c) => ({ tool_call_id: c.id, output: "2" })) });
    await h.deliver();
    expect((await h.results<ResponsesResultsEvent>())[0]!.event.type).toBe("response.completed");
    // Act: round one's message again.
    await h.send(roundOne);
    await h.deliver();
    // Assess
    const [stale] = await h.results<ResponsesResultsEvent>();
    expect(stale!.event.event_id).toBe(first!.event.event_id);
    expect(stale!.event.tool_calls).toEqual(first!.event.tool_calls);
    expect(stale!.event.response.output).toEqual(first!.event.response.output);
    expect(postsOnConversation(h.sim, conversationId)).toHaveLength(2);
    expect(h.sim.counters.forks).toBe(0);
  });
});
