/** The results event of a Responses-API resting state (DESIGN "Results events for the Responses API"). */
import { describe, expect, it } from "vitest";
import {
  buildResultsEvent,
  type ResponsesResultsEvent,
  resultAttributes,
  resultGroupOf,
} from "../../../functions/submit-tool-outputs/dialects/index";
import type { ConversationItem, ResponseObject } from "../../../functions/submit-tool-outputs/dialects/responses/response-state";

const call = (callId: string, id = `fc_${callId}`) => ({
  type: "function_call",
  id,
  call_id: callId,
  name: "get_weather",
  arguments: '{"city":"Paris"}',
});
const text = (id: string, words: string) => ({ type: "message", id, role: "assistant", content: [{ type: "output_text", text: words }] });
const response = (fields: Partial<ResponseObject> & Record<string, unknown> = {}): ResponseObject => ({
  id: "resp_new",
  status: "completed",
  previous_response_id: "resp_prev",
  conversation: null,
  output: [text("msg_1", "Sunny.")],
  instructions: "long instructions",
  tools: [{ type: "function", name: "get_weather" }],
  model: "gpt-5-mini",
  usage: { total_tokens: 10 },
  ...fields,
});
const source = { sourceMessageId: "m-1", metadata: { tenant: "acme" } };
const eventOf = (state: Parameters<typeof buildResultsEvent>[0]) => buildResultsEvent(state, source) as ResponsesResultsEvent;

describe("the event of a response", () => {
  it("is response.requires_action with the calls in the one shape when its output holds function calls; status stays the API's", () => {
    const event = eventOf({ api: "responses", response: response({ output: [text("msg_pre", "Checking."), call("call_a")] }) });
    expect(event).toMatchObject({
      api: "responses",
      type: "response.requires_action",
      status: "completed",
      response_id: "resp_new",
      previous_response_id: "resp_prev",
      conversation_id: null,
      reply: { response_id: "resp_new" },
      tool_calls: [{ id: "call_a", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
      source_message_id: "m-1",
      metadata: { tenant: "acme" },
    });
    expect(resultAttributes(event)).toEqual({
      type: "response.requires_action",
      status: "completed",
      api: "responses",
      tool_names: ["get_weather"],
      response_id: "resp_new",
    });
  });

  it.each(["completed", "failed", "incomplete", "cancelled"])("is response.%s without calls", (status) => {
    const event = eventOf({ api: "responses", response: response({ status, output: status === "completed" ? [text("m", "x")] : [] }) });
    expect(event).toMatchObject({ type: `response.${status}`, status, tool_calls: [] });
  });

  it("drops instructions and tools, keeps what a consumer needs", () => {
    const event = eventOf({ api: "responses", response: response() });
    expect(event.response).not.toHaveProperty("instructions");
    expect(event.response).not.toHaveProperty("tools");
    expect(event.response).toMatchObject({ id: "resp_new", status: "completed", model: "gpt-5-mini", usage: { total_tokens: 10 } });
  });

  it("names the response the outputs answered over the response's own previous_response_id (a conversation has none)", () => {
    const onConversation = response({ previous_response_id: null, conversation: { id: "conv_1" } });
    const event = eventOf({ api: "responses", response: onConversation, answered: "resp_asked" });
    expect(event).toMatchObject({ previous_response_id: "resp_asked", conversation_id: "conv_1", reply: { response_id: "resp_new" } });
    expect(resultGroupOf(event)).toBe("conv_1");
  });
});

describe("the event of outputs a conversation took, the new response's id unknown", () => {
  const items: ConversationItem[] = [call("call_b"), text("msg_pre", "Checking.")]; // newest first, as listed
  it("tells the items in the order they happened, with response_id null and reply {conversation_id}", () => {
    const event = eventOf({ api: "responses", conversationId: "conv_1", items });
    expect(event).toMatchObject({
      type: "response.requires_action",
      status: "completed",
      response_id: null,
      previous_response_id: null,
      conversation_id: "conv_1",
      reply: { conversation_id: "conv_1" },
      response: { id: null, status: "completed", conversation: { id: "conv_1" } },
    });
    expect(event.response.output?.map((item) => item.id)).toEqual(["msg_pre", "fc_call_b"]);
    expect(event.tool_calls.map((c) => c.id)).toEqual(["call_b"]);
    expect(resultAttributes(event)).toEqual({
      type: "response.requires_action",
      status: "completed",
      api: "responses",
      tool_names: ["get_weather"],
      conversation_id: "conv_1",
    });
  });
});

describe("event ids", () => {
  it("are stable for the same state, and differ with the status or the response", () => {
    const state = { api: "responses" as const, response: response() };
    expect(eventOf(state).event_id).toBe(eventOf(structuredClone(state)).event_id);
    expect(eventOf(state).event_id).toMatch(/^[0-9a-f]{32}$/);
    expect(eventOf({ api: "responses", response: response({ status: "failed", output: [] }) }).event_id).not.toBe(eventOf(state).event_id);
    expect(eventOf({ api: "responses", response: response({ id: "resp_other" }) }).event_id).not.toBe(eventOf(state).event_id);
  });

  it("are the same for a completed response on a conversation learnt by GET and learnt from the conversation's items", () => {
    const output = [text("msg_pre", "Checking."), call("call_b")];
    const byGet = eventOf({ api: "responses", response: response({ conversation: { id: "conv_1" }, output }) });
    const byItems = eventOf({ api: "responses", conversationId: "conv_1", items: [...output].reverse() });
    expect(byItems.event_id).toBe(byGet.event_id);
    const otherItems = eventOf({ api: "responses", conversationId: "conv_1", items: [call("call_c")] });
    expect(otherItems.event_id).not.toBe(byGet.event_id);
  });

  it("do not depend on when the event was built or who sent the message", () => {
    const state = { api: "responses" as const, response: response() };
    const other = buildResultsEvent(state, { sourceMessageId: "m-2" });
    expect(other.event_id).toBe(eventOf(state).event_id);
  });
});

describe("SNS's 256 KB", () => {
  it("an event that would pass it loses its message text first, keeps its calls, and says output_truncated", () => {
    const huge = "x".repeat(300 * 1024);
    const event = eventOf({ api: "responses", response: response({ output: [text("msg_big", huge), call("call_a")] }) });
    expect(event.output_truncated).toBe(true);
    expect(event.response.output).toEqual([{ type: "message", id: "msg_big", role: "assistant", content: [] }, call("call_a")]);
    expect(event.tool_calls.map((c) => c.id)).toEqual(["call_a"]);
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(256 * 1024);
  });

  it("an event under it is left whole", () => {
    const event = eventOf({ api: "responses", response: response({ output: [text("msg_ok", "x".repeat(200 * 1024))] }) });
    expect(event).not.toHaveProperty("output_truncated");
    expect(JSON.stringify(event.response.output)).toContain("x".repeat(200 * 1024));
  });
});

describe("the tool_names attribute", () => {
  it("names each tool an event asks for once, and is absent when it asks for none", () => {
    // Prepare
    const asking = eventOf({
      api: "responses",
      response: response({ output: [call("call_a"), call("call_b"), { ...call("call_c"), name: "lookup_order" }] }),
    });
    const done = eventOf({ api: "responses", response: response() });

    // Assess
    expect(resultAttributes(asking).tool_names).toEqual(["get_weather", "lookup_order"]);
    expect(resultAttributes(done)).not.toHaveProperty("tool_names");
  });
});
