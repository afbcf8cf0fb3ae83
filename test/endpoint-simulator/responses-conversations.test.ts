import { describe, expect, it } from "vitest";
import { simulator } from "../helpers/endpoint-simulator/helpers";
import { answerFor, postResponse, request } from "../helpers/endpoint-simulator/response-helpers";

const onConversation = (conversationId: string, callIds: string[], extra: Record<string, unknown> = {}) => ({
  model: "gpt-5-mini",
  conversation: conversationId,
  input: answerFor(callIds),
  store: true,
  background: true,
  ...extra,
});

const listItems = (sim: Awaited<ReturnType<typeof simulator>>, id: string, query = "") =>
  request(sim, "GET", `/conversations/${id}/items${query}`);

describe("POST /conversations and GET /conversations/{id}", () => {
  it("creates a conversation with metadata and items, and reads it back", async () => {
    // Prepare
    const sim = await simulator();

    // Act
    const created = await request(sim, "POST", "/conversations", {
      metadata: { tenant: "acme" },
      items: [{ type: "message", role: "user", content: "Hello" }],
    });
    const read = await request(sim, "GET", `/conversations/${created.body.id}`);
    const items = await listItems(sim, created.body.id);

    // Assess
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^conv_/),
      object: "conversation",
      created_at: expect.any(Number),
      metadata: { tenant: "acme" },
    });
    expect(read.body).toEqual(created.body);
    expect(items.body.data).toEqual([
      {
        type: "message",
        id: expect.stringMatching(/^msg_/),
        status: "completed",
        role: "user",
        content: [{ type: "input_text", text: "Hello" }],
      },
    ]);
  });

  it("answers 404 for an unknown conversation and 400 for unknown fields", async () => {
    // Prepare
    const sim = await simulator();

    // Act
    const unknown = await request(sim, "GET", "/conversations/conv_missing");
    const unknownItems = await listItems(sim, "conv_missing");
    const badBody = await request(sim, "POST", "/conversations", { title: "x" });

    // Assess
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toBe("Conversation with id 'conv_missing' not found.");
    expect(unknownItems.status).toBe(404);
    expect(badBody.body.error.message).toBe("Unknown parameter: 'title'.");
  });
});

describe("a continuation on a conversation", () => {
  it("appends its outputs and output items only once it completes", async () => {
    // Prepare
    let clock = 1_800_000_000_000;
    const sim = await simulator({ now: () => clock, processingMs: 1000 });
    const { responseId, callIds, conversationId } = sim.createResponse({ toolCalls: 2, conversation: true });
    const before = (await listItems(sim, conversationId!)).body.data.map((item: any) => item.type);

    // Act
    const created = await postResponse(sim, onConversation(conversationId!, callIds));
    clock += 999;
    const whileRunning = (await listItems(sim, conversationId!, "?order=desc")).body.data;
    clock += 1;
    const afterwards = (await listItems(sim, conversationId!, "?order=desc")).body.data;

    // Assess
    expect(before).toEqual(["function_call", "function_call", "message"]);
    expect(created.body).toMatchObject({ status: "queued", conversation: { id: conversationId }, previous_response_id: null });
    expect(whileRunning.some((item: any) => item.type === "function_call_output")).toBe(false);
    expect(afterwards.map((item: any) => [item.type, item.call_id ?? item.role])).toEqual([
      ["message", "assistant"],
      ["function_call_output", callIds[1]],
      ["function_call_output", callIds[0]],
      ["function_call", callIds[1]],
      ["function_call", callIds[0]],
      ["message", "user"],
    ]);
    expect(sim.children(responseId)).toEqual([created.body.id]);
    expect(sim.conversationItems(conversationId!)).toEqual([...afterwards].reverse());
    expect(sim.counters.conversationItemLists).toBe(3);
  });

  it("is locked while another response on it is queued or in progress, then open again", async () => {
    // Prepare
    let clock = 1_800_000_000_000;
    const sim = await simulator({ now: () => clock, processingMs: 1000 });
    const { callIds, conversationId } = sim.createResponse({ conversation: true });
    await postResponse(sim, onConversation(conversationId!, callIds));

    // Act
    const locked = await postResponse(sim, onConversation(conversationId!, callIds));
    clock += 600;
    const stillLocked = await postResponse(sim, { model: "gpt-5-mini", conversation: { id: conversationId }, input: "and then?" });
    clock += 400;
    const open = await postResponse(sim, {
      model: "gpt-5-mini",
      conversation: { id: conversationId },
      input: "and then?",
      background: true,
    });

    // Assess
    for (const call of [locked, stillLocked]) {
      expect(call.status).toBe(400);
      expect(call.body).toEqual({
        error: {
          message: "Another process is currently operating on this conversation. Please retry in a few seconds.",
          type: "invalid_request_error",
          param: "conversation",
          code: "conversation_locked",
        },
      });
    }
    expect(open.status).toBe(200);
  });

  it("pairs outputs with the calls waiting at the conversation's tail", async () => {
    // Prepare
    const sim = await simulator();
    const { conversationId } = sim.createResponse({ toolCalls: ["call_A", "call_B"], conversation: "conv_fixed" });

    // Act
    const partial = await postResponse(sim, onConversation(conversationId!, ["call_A"]));
    const stranger = await postResponse(sim, onConversation(conversationId!, ["call_A", "call_B", "call_Z"]));
    const unknown = await postResponse(sim, onConversation("conv_missing", ["call_A"]));

    // Assess
    expect(conversationId).toBe("conv_fixed");
    expect(partial.body.error.message).toBe("No tool output found for function call call_B.");
    expect(stranger.body.error.message).toBe("No tool call found for function call output with call_id call_Z.");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ message: "Conversation with id 'conv_missing' not found.", param: "conversation" });
  });

  it("takes the same outputs again once the first continuation completed: a fork, counted", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 1 });
    const { responseId, callIds, conversationId } = sim.createResponse({ conversation: true });
    await postResponse(sim, onConversation(conversationId!, callIds, { background: false }));

    // Act
    const again = await postResponse(sim, onConversation(conversationId!, callIds, { background: false }));

    // Assess
    expect(again.status).toBe(200);
    expect(sim.children(responseId)).toHaveLength(2);
    expect(sim.counters.forks).toBe(1);
    const outputs = sim.conversationItems(conversationId!)!.filter((item) => item.type === "function_call_output");
    expect(outputs).toHaveLength(2);
  });

  it("never appends the items of a response that failed", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 1 });
    const { callIds, conversationId } = sim.createResponse({ conversation: true, afterOutputs: ["failed"] });

    // Act
    const failed = await postResponse(sim, onConversation(conversationId!, callIds, { background: false }));

    // Assess
    expect(failed.body.status).toBe("failed");
    expect(sim.conversationItems(conversationId!)!.map((item) => item.type)).toEqual(["message", "function_call"]);
  });
});

describe("GET /conversations/{id}/items paging", () => {
  it("pages with order, limit and after, reporting has_more, first_id and last_id", async () => {
    // Prepare
    const sim = await simulator();
    const { conversationId } = sim.createResponse({ toolCalls: 4, conversation: true });
    const ids = sim.conversationItems(conversationId!)!.map((item) => item.id);

    // Act
    const first = (await listItems(sim, conversationId!, "?order=asc&limit=2")).body;
    const second = (await listItems(sim, conversationId!, `?order=asc&limit=2&after=${first.last_id}`)).body;
    const third = (await listItems(sim, conversationId!, `?order=asc&limit=2&after=${second.last_id}`)).body;
    const newest = (await listItems(sim, conversationId!, "?limit=1")).body;

    // Assess
    expect(ids).toHaveLength(5);
    expect([first, second, third].map((page) => page.data.map((item: any) => item.id))).toEqual([
      ids.slice(0, 2),
      ids.slice(2, 4),
      ids.slice(4),
    ]);
    expect([first.has_more, second.has_more, third.has_more]).toEqual([true, true, false]);
    expect([first.first_id, first.last_id]).toEqual([ids[0], ids[1]]);
    expect(newest.data.map((item: any) => item.id)).toEqual([ids[4]]);
  });

  it("an empty conversation lists nothing, with null ids", async () => {
    // Prepare
    const sim = await simulator();
    const { body } = await request(sim, "POST", "/conversations", {});

    // Act
    const page = (await listItems(sim, body.id)).body;

    // Assess
    expect(page).toEqual({ object: "list", data: [], first_id: null, last_id: null, has_more: false });
  });
});
