/**
 * The tool worker's answer, built from results events of both APIs by the one code path: each must be a message
 * the relay's own parser takes, for the API and ids the event's `reply` names.
 */
import { describe, expect, it } from "vitest";
import type { Run } from "../../functions/submit-tool-outputs/dialects/assistants/run-state";
import { buildResultsEvent, type RestingState } from "../../functions/submit-tool-outputs/dialects/index";
import { parseMessage } from "../../functions/submit-tool-outputs/pipeline/message";
import { answerEvent, asksForTools } from "../../local/tool-worker";

const call = (callId: string, name: string) => ({ type: "function_call", id: `fc_${callId}`, call_id: callId, name, arguments: "{}" });
const run: Run = {
  id: "run_a",
  status: "requires_action",
  required_action: {
    type: "submit_tool_outputs",
    submit_tool_outputs: { tool_calls: [{ id: "call_r1", type: "function", function: { name: "get_weather", arguments: "{}" } }] },
  },
};
const states: Array<[string, RestingState, Record<string, string>]> = [
  ["a run", { api: "assistants", threadId: "thread_a", run }, { thread_id: "thread_a", run_id: "run_a" }],
  [
    "a response",
    {
      api: "responses",
      response: { id: "resp_b", status: "completed", output: [call("call_b1", "get_weather"), call("call_b2", "lookup")] },
    },
    { response_id: "resp_b" },
  ],
  [
    "a conversation whose new response id was not learnt",
    { api: "responses", conversationId: "conv_c", items: [call("call_c1", "convert_currency")] },
    { conversation_id: "conv_c" },
  ],
];

describe("answering an event that asks for tools", () => {
  it.each(states)(
    "%s: the answer carries exactly the reply's ids and one output per call, and the relay parses it",
    (_what, state, ids) => {
      // Prepare
      const event = buildResultsEvent(state, { sourceMessageId: "m-1", metadata: { tenant: "acme" } });
      // Act
      const answer = answerEvent(event, (c) => `out-${c.id}`);
      const parsed = parseMessage(JSON.stringify(answer));
      // Assess
      expect(asksForTools(event)).toBe(true);
      const { tool_outputs, metadata, ...answerIds } = answer;
      expect(answerIds).toEqual(ids);
      expect(tool_outputs).toEqual(event.tool_calls.map((c) => ({ tool_call_id: c.id, output: `out-${c.id}` })));
      expect(metadata).toEqual({ tenant: "acme" });
      expect(parsed.ok && "api" in parsed.message && parsed.message.api).toBe(state.api);
    },
  );

  it("a response that asks for nothing is not answered", () => {
    const event = buildResultsEvent(
      { api: "responses", response: { id: "resp_d", status: "completed", output: [{ type: "message" }] } },
      { sourceMessageId: "m-2" },
    );
    expect(event.type).toBe("response.completed");
    expect(asksForTools(event)).toBe(false);
  });
});
