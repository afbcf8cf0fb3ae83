import { describe, expect, it } from "vitest";
import {
  continuationSettings,
  functionCalls,
  isFinal,
  type ResponseObject,
  standing,
} from "../../../functions/submit-tool-outputs/dialects/responses/response-state";

const call = (callId: string) => ({ type: "function_call", id: `fc_${callId}`, call_id: callId, name: "get_weather", arguments: "{}" });
const response = (status: string | undefined, output: ResponseObject["output"] = []): ResponseObject => ({
  id: "resp_1",
  ...(status === undefined ? {} : { status }),
  output,
});

describe("standing: where a previous response stands for a message's outputs", () => {
  it.each([
    ["queued", [call("a")], ["a"], "moving"],
    ["in_progress", [], ["a"], "moving"],
    ["failed", [], ["a"], "not_awaiting"],
    ["cancelled", [], ["a"], "not_awaiting"],
    ["incomplete", [call("a")], ["a"], "not_awaiting"],
    ["completed", [{ type: "message", content: [] }], ["a"], "not_awaiting"],
    ["completed", [call("a"), call("b")], ["a"], "other_ids"],
    ["completed", [call("a")], ["a", "b"], "other_ids"],
    ["completed", [call("a")], ["z"], "other_ids"],
    ["completed", [call("a"), call("b")], ["b", "a"], "awaiting"],
    [undefined, [call("a")], ["a"], "awaiting"],
  ] as const)("status %s with %j answered by %j → %s", (status, output, given, expected) => {
    expect(standing(response(status, [...output]), given).kind).toBe(expected);
  });

  it("says why a response takes no outputs, and which ids it expects", () => {
    expect(standing(response("failed"), ["a"])).toEqual({ kind: "not_awaiting", why: "it ended failed" });
    expect(standing(response("completed", [{ type: "message" }]), ["a"])).toEqual({
      kind: "not_awaiting",
      why: "it asks for no function calls",
    });
    expect(standing(response("completed", [call("a"), call("b")]), ["a"])).toEqual({ kind: "other_ids", expected: ["a", "b"] });
  });

  it("treats a status it does not know as final (a status added later must not be polled forever)", () => {
    expect(isFinal(response("paused"))).toBe(true);
    expect(standing(response("paused", [call("a")]), ["a"])).toEqual({ kind: "not_awaiting", why: "it ended paused" });
  });

  it("counts only function_call items with a call_id as calls to answer", () => {
    const output = [call("a"), { type: "function_call", name: "no_call_id", arguments: "{}" }, { type: "reasoning", summary: [] }];
    expect(functionCalls(response("completed", output)).map((c) => c.call_id)).toEqual(["a"]);
  });
});

describe("continuationSettings: the previous response's settings, request overriding key by key", () => {
  const previous = {
    id: "resp_1",
    status: "completed",
    model: "gpt-5",
    instructions: "Answer in French.",
    tools: [{ type: "function", name: "get_weather" }],
    tool_choice: "auto",
    parallel_tool_calls: true,
    reasoning: { effort: "low", summary: null },
    text: { format: { type: "text" } },
    truncation: "disabled",
    max_output_tokens: null,
    temperature: 1,
    top_p: 1,
    service_tier: "default",
    metadata: { app: "shop" },
    // Not repeated: per-request, or the relay's own business.
    include: ["reasoning.encrypted_content"],
    background: true,
    store: false,
    user: "u-1",
    prompt_cache_key: "k",
    previous_response_id: "resp_0",
    output: [call("a")],
  } as ResponseObject;

  it("repeats model, instructions, tools and the rest, leaves nulls out, always stores, never repeats include", () => {
    expect(continuationSettings(previous)).toEqual({
      store: true,
      model: "gpt-5",
      instructions: "Answer in French.",
      tools: [{ type: "function", name: "get_weather" }],
      tool_choice: "auto",
      parallel_tool_calls: true,
      reasoning: { effort: "low", summary: null },
      text: { format: { type: "text" } },
      truncation: "disabled",
      temperature: 1,
      top_p: 1,
      service_tier: "default",
      metadata: { app: "shop" },
    });
  });

  it("lets request override key by key, and ignores its undefined keys", () => {
    const settings = continuationSettings(previous, { model: "gpt-5-mini", temperature: 0.2, metadata: { run: "n" }, tools: undefined });
    expect(settings).toMatchObject({ model: "gpt-5-mini", temperature: 0.2, metadata: { run: "n" }, instructions: "Answer in French." });
    expect(settings.tools).toEqual(previous.tools);
  });

  it("with no previous response (conversation mode with request), is request plus store", () => {
    expect(continuationSettings(undefined, { model: "gpt-5-mini" })).toEqual({ store: true, model: "gpt-5-mini" });
  });
});
