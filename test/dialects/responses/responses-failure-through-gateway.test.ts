/**
 * The Responses API's failure rows, as the endpoint words them and as a Portkey gateway passes them on: its explicit
 * POST /v1/responses route puts "openai error: " before an upstream message and adds `provider`
 * (test/gateway/responses-routes.test.ts); its own failures come as {status: "failure"} or as text/plain.
 */
import { describe, expect, it } from "vitest";
import { classifyResponsesFailure } from "../../../functions/submit-tool-outputs/dialects/responses/failure";
import { classifyHttpFailure } from "../../../functions/submit-tool-outputs/endpoint/endpoint-failure";

const openAi = (message: string, code: string | null = null, param: string | null = null) => ({
  error: { message, type: "invalid_request_error", param, code },
});
/** What the gateway's explicit route makes of an upstream error. */
const throughGateway = (body: ReturnType<typeof openAi>) => ({
  error: { ...body.error, message: `openai error: ${body.error.message}` },
  provider: "openai",
});
const classify = (status: number, body: unknown, text = JSON.stringify(body)) =>
  classifyResponsesFailure(classifyHttpFailure(status, body, new Headers(), text));

const NO_OUTPUT = openAi("No tool output found for function call call_AbC-1.", null, "input");
const NO_CALL = openAi("No tool call found for function call output with call_id call_x_9.", null, "input");
const PREVIOUS = openAi("Previous response with id 'resp_gone' not found.", "previous_response_not_found", "previous_response_id");
const PREVIOUS_WITHOUT_CODE = openAi("Previous response with id 'resp_gone' not found.");
const LOCKED = openAi("Another process is currently operating on this conversation. Please retry in a few seconds.", "conversation_locked");

describe("the endpoint's refusals, directly and through the gateway's explicit route", () => {
  it.each([
    ["No tool output found", NO_OUTPUT, { kind: "tool_call_mismatch", callId: "call_AbC-1" }],
    ["No tool call found", NO_CALL, { kind: "tool_call_mismatch", callId: "call_x_9" }],
    ["previous_response_not_found", PREVIOUS, { kind: "previous_not_found" }],
    ["a previous response not found, named by its message only", PREVIOUS_WITHOUT_CODE, { kind: "previous_not_found" }],
    ["conversation_locked", LOCKED, { kind: "transient", ambiguous: false }],
    ["any other 400", openAi("Unknown parameter: 'x'."), { kind: "rejected" }],
  ])("%s", (_, body, expected) => {
    // Act
    const direct = classify(400, body);
    const relayed = classify(400, throughGateway(body));

    // Assess
    expect(direct).toMatchObject(expected);
    expect(relayed).toMatchObject(expected);
    expect(relayed.error?.message).toBe(`openai error: ${body.error.message}`);
  });
});

describe("the gateway's own failures", () => {
  it("a 4xx {status: failure} is the gateway's configuration: misconfigured, not the message's fault", () => {
    expect(classify(400, { status: "failure", message: "Invalid provider passed" })).toMatchObject({
      kind: "misconfigured",
      error: { message: "Invalid provider passed", type: "gateway_failure" },
    });
  });

  it("its text/plain 500 for a refused upstream connection is a definite refusal: retried freely, no fork possible", () => {
    // Prepare
    const text = "Message: fetch failed Cause: Error: connect ECONNREFUSED 127.0.0.1:9 Name: TypeError";

    // Act
    const failure = classify(500, undefined, text);

    // Assess
    expect(failure).toMatchObject({ kind: "transient", ambiguous: false, notSent: true, httpStatus: 500 });
  });

  it("its JSON-wrapped 500 on POST /v1/responses for a refused upstream connection is the same definite refusal", () => {
    // Prepare
    const body = {
      "html-message": "Message: fetch failed Cause: Error: connect ECONNREFUSED 127.0.0.1:9 Name: TypeError",
      provider: "openai",
    };

    // Act
    const failure = classify(500, body);

    // Assess
    expect(failure).toMatchObject({ kind: "transient", ambiguous: false, notSent: true });
  });

  it("its text/plain 500 for a dropped upstream connection stays ambiguous: the POST may have been taken", () => {
    const failure = classify(500, undefined, "Message: fetch failed Cause: SocketError: other side closed Name: TypeError");
    expect(failure).toMatchObject({ kind: "transient", ambiguous: true });
  });
});
