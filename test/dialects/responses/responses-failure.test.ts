/**
 * How a refused Responses-API call is sorted into its row, with the endpoint's real error messages
 * (reference notes, "Errors seen in practice").
 */
import { describe, expect, it } from "vitest";
import { classifyResponsesFailure } from "../../../functions/submit-tool-outputs/dialects/responses/failure";
import { classifyHttpFailure, networkFailure } from "../../../functions/submit-tool-outputs/endpoint/endpoint-failure";

const openAi = (message: string, code: string | null = null, param: string | null = null, type = "invalid_request_error") => ({
  error: { message, type, param, code },
});
const classify = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  classifyResponsesFailure(classifyHttpFailure(status, body, new Headers(headers)));

describe("classifyResponsesFailure sorts the endpoint's answers into the rows of the Responses table", () => {
  it.each([
    [
      400,
      openAi("Previous response with id 'resp_x' not found.", "previous_response_not_found", "previous_response_id"),
      "previous_not_found",
    ],
    // The same refusal as some Codex-backed gateways word it, without the code.
    [400, openAi("Previous response with id 'resp_x' not found."), "previous_not_found"],
    [400, openAi("No tool output found for function call call_X.", null, "input"), "tool_call_mismatch"],
    [400, openAi("No tool call found for function call output with call_id call_X.", null, "input"), "tool_call_mismatch"],
    [400, openAi("Duplicate item found with id fc_1. Remove duplicate items from your input and try again.", null, "input"), "rejected"],
    [
      400,
      openAi(
        "Invalid 'previous_response_id': 'r/x'. Expected an ID that contains letters, numbers, underscores, or dashes, but this value contained additional characters.",
      ),
      "rejected",
    ],
    [400, openAi("Invalid 'input[0].id': 'call_1'. Expected an ID that begins with 'fc'."), "rejected"],
    [404, openAi("Response with id 'resp_x' not found."), "not_found"],
    [401, openAi("Incorrect API key provided", "invalid_api_key"), "unauthorized"],
    [403, openAi("Project does not have access to model gpt-5"), "unauthorized"],
    [429, openAi("You exceeded your current quota", "insufficient_quota", null, "insufficient_quota"), "quota_exceeded"],
    [400, { status: "failure", message: "Either x-portkey-provider or x-portkey-virtual-key is required" }, "misconfigured"],
  ])("HTTP %i %j → %s", (status, body, kind) => {
    expect(classify(status, body).kind).toBe(kind);
  });

  it("reads the call id a pairing refusal names", () => {
    expect(classify(400, openAi("No tool output found for function call call_X."))).toMatchObject({
      kind: "tool_call_mismatch",
      callId: "call_X",
    });
    expect(classify(400, openAi("No tool call found for function call output with call_id call_Y."))).toMatchObject({ callId: "call_Y" });
  });

  it.each([
    [
      "conversation_locked (a 400 openai-node does not retry)",
      400,
      openAi(
        "Another process is currently operating on this conversation. Please retry in a few seconds.",
        "conversation_locked",
        "conversation",
      ),
    ],
    ["a 409", 409, openAi("Conflict")],
    ["a 429 rate limit", 429, openAi("Rate limit reached for gpt-5 … Please try again in 644ms.", "rate_limit_exceeded", null, "tokens")],
  ])("%s is a definite refusal: transient and not ambiguous", (_case, status, body) => {
    expect(classify(status, body)).toMatchObject({ kind: "transient", ambiguous: false });
  });

  it.each([
    ["a 500", 500, openAi("The server had an error while processing your request.", null, null, "server_error")],
    ["a 503 overloaded", 503, openAi("The engine is currently overloaded", "server_is_overloaded")],
    ["a gateway's 502", 502, { status: "failure", message: "upstream failed" }],
    ["a 408 (rule 5: a gateway may answer it after forwarding the POST)", 408, openAi("Request timed out")],
  ])("%s may have been acted on: transient and ambiguous", (_case, status, body) => {
    expect(classify(status, body)).toMatchObject({ kind: "transient", ambiguous: true });
  });

  it("keeps the wait a 429 asks for", () => {
    expect(classify(429, openAi("Rate limit", "rate_limit_exceeded"), { "retry-after": "2" })).toMatchObject({ retryAfterMs: 2000 });
    expect(classify(429, openAi("Rate limit", "rate_limit_exceeded"), { "retry-after-ms": "644" })).toMatchObject({ retryAfterMs: 644 });
  });

  it("a refused connection was never sent; a reset may have been", () => {
    const refused = Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
    const reset = Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNRESET" } });
    expect(classifyResponsesFailure(networkFailure(refused))).toMatchObject({ kind: "transient", ambiguous: false, notSent: true });
    expect(classifyResponsesFailure(networkFailure(reset))).toMatchObject({ kind: "transient", ambiguous: true });
  });
});
