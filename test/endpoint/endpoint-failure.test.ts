import { describe, expect, it } from "vitest";
import { classifyAssistantsFailure } from "../../functions/submit-tool-outputs/dialects/assistants/failure";
import {
  classifyHttpFailure as classifyByStatus,
  networkFailure,
  retryAfterMs,
} from "../../functions/submit-tool-outputs/endpoint/endpoint-failure";

/** An Assistants-API answer sorted as the client sorts it: by status, then by the endpoint's message. */
const classifyHttpFailure = (status: number, body: unknown, headers: Headers) =>
  classifyAssistantsFailure(classifyByStatus(status, body, headers));

const openAi = (message: string, code: string | null = null, type = "invalid_request_error") => ({
  error: { message, type, param: null, code },
});

describe("classifyHttpFailure sorts answers into the table's rows", () => {
  it.each([
    [400, openAi('Runs in status "queued" do not accept tool outputs.'), "not_accepting"],
    [400, openAi("Expected tool outputs for call_ids ['call_A', 'call_B'], got ['call_A']"), "tool_call_mismatch"],
    [400, openAi("Invalid type for 'tool_outputs[0].output'"), "rejected"],
    [400, { status: "failure", message: "Either x-portkey-provider or x-portkey-virtual-key is required" }, "misconfigured"],
    [422, openAi("Unprocessable"), "rejected"],
    [404, openAi("No run found with id 'run_x'."), "not_found"],
    [401, openAi("Incorrect API key provided", "invalid_api_key"), "unauthorized"],
    [403, openAi("Forbidden"), "unauthorized"],
    [429, openAi("You exceeded your current quota", "insufficient_quota", "insufficient_quota"), "quota_exceeded"],
    [429, openAi("Rate limit reached", "rate_limit_exceeded", "requests"), "transient"],
    [408, openAi("timeout"), "transient"],
    [409, openAi("conflict"), "transient"],
    [500, openAi("server error", null, "server_error"), "transient"],
    [502, { status: "failure", message: "upstream failed" }, "transient"],
    [503, "not json at all", "transient"],
  ])("HTTP %i %j → %s", (status, body, kind) => {
    expect(classifyHttpFailure(status, body, new Headers()).kind).toBe(kind);
  });

  it("reads the expected and the given ids of a mismatch", () => {
    const failure = classifyHttpFailure(
      400,
      openAi("Expected tool outputs for call_ids ['call_A', 'call_B'], got ['call_A']"),
      new Headers(),
    );
    expect(failure).toMatchObject({ expectedIds: ["call_A", "call_B"], givenIds: ["call_A"] });
  });

  it("reads Portkey's failure shape as an endpoint error", () => {
    const failure = classifyHttpFailure(502, { status: "failure", message: "upstream failed" }, new Headers());
    expect(failure.error).toEqual({ message: "upstream failed", type: "gateway_failure", code: null, param: null });
  });

  it("calls a 5xx or 408 ambiguous (the call may have gone upstream) and a 429 or 409 not", () => {
    expect(classifyHttpFailure(500, {}, new Headers())).toMatchObject({ ambiguous: true });
    expect(classifyHttpFailure(408, {}, new Headers())).toMatchObject({ ambiguous: true });
    expect(classifyHttpFailure(429, {}, new Headers())).toMatchObject({ ambiguous: false });
    expect(classifyHttpFailure(409, {}, new Headers())).toMatchObject({ ambiguous: false });
  });

  it("retries what x-should-retry: true asks for, and still reconciles a 5xx that says false", () => {
    expect(classifyHttpFailure(400, openAi("odd"), new Headers({ "x-should-retry": "true" })).kind).toBe("transient");
    expect(classifyHttpFailure(500, openAi("odd"), new Headers({ "x-should-retry": "false" }))).toMatchObject({
      kind: "transient",
      ambiguous: true,
    });
  });

  it("calls a failure below HTTP transient and ambiguous", () => {
    const failure = networkFailure(Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNRESET" } }));
    expect(failure).toEqual({ kind: "transient", ambiguous: true, detail: "TypeError ECONNRESET" });
  });
});

describe("a gateway's own 500 when the upstream fails below HTTP", () => {
  const refused = "Message: fetch failed Cause: Error: connect ECONNREFUSED 127.0.0.1:45123 Name: TypeError";
  const dropped = "Message: fetch failed Cause: SocketError: other side closed Name: TypeError";
  const plain = new Headers({ "content-type": "text/plain;charset=UTF-8" });

  it("reads a refused connection to the upstream as not sent: nothing went upstream", () => {
    // Act
    const failure = classifyByStatus(500, undefined, plain, refused);

    // Assess
    expect(failure).toEqual({
      kind: "transient",
      httpStatus: 500,
      ambiguous: false,
      notSent: true,
      detail: "HTTP 500: the gateway could not connect to the upstream (ECONNREFUSED)",
    });
  });

  it("reads the same words wrapped in JSON (its explicit /v1/responses routes) the same way", () => {
    // Prepare
    const body = { "html-message": refused, provider: "openai" };

    // Act
    const failure = classifyByStatus(500, body, new Headers({ "content-type": "application/json" }), JSON.stringify(body));

    // Assess
    expect(failure).toMatchObject({ kind: "transient", ambiguous: false, notSent: true });
  });

  it.each([
    ["a connection the upstream dropped after the request went out", dropped],
    ["a body that only mentions the words", `upstream said: ${refused}`],
  ])("keeps %s ambiguous", (_, text) => {
    expect(classifyByStatus(500, undefined, plain, text)).toMatchObject({ kind: "transient", ambiguous: true });
  });

  it("keeps a JSON 500 ambiguous whatever its message says", () => {
    const body = openAi(refused, null, "server_error");
    expect(classifyByStatus(500, body, new Headers(), JSON.stringify(body))).toMatchObject({ ambiguous: true });
  });
});

describe("Azure AI Foundry's error shapes (AgentV1Error: every inner field nullable, none required)", () => {
  it("reads a PermissionDenied 401 with only code and message as unauthorized, keeping the message", () => {
    // Prepare
    const message = "The principal `app-1` lacks the required data action `…/agents/write` to perform `POST …` operation.";

    // Act
    const failure = classifyHttpFailure(401, { error: { code: "PermissionDenied", message } }, new Headers());

    // Assess
    expect(failure).toEqual({
      kind: "unauthorized",
      httpStatus: 401,
      error: { message, type: null, code: "PermissionDenied", param: null },
    });
  });

  it("reads the gateway-style 401 for a bad token ({statusCode, message}) as unauthorized without an endpoint error", () => {
    const body = { statusCode: 401, message: "Unauthorized. Access token is missing, invalid, audience is incorrect, or have expired." };
    expect(classifyHttpFailure(401, body, new Headers())).toEqual({ kind: "unauthorized", httpStatus: 401, error: undefined });
  });

  it("reads a 400 with message and type only, and sorts it by its message", () => {
    const body = { error: { message: 'Runs in status "completed" do not accept tool outputs.', type: "invalid_request_error" } };
    expect(classifyHttpFailure(400, body, new Headers()).kind).toBe("not_accepting");
  });

  it.each([
    ["a missing api-version (classic agents)", { code: "BadRequest", message: "Missing required query parameter: api-version" }],
    ["an api-version on /openai/v1", { code: "BadRequest", message: "api-version query parameter is not allowed when using /v1 path" }],
    [
      "an unknown api-version",
      { code: "UnsupportedApiVersionValue", message: "Unsupported api version 'v9'. The supported versions are 'v1'" },
    ],
  ])("reads the 400 for %s as configuration (misconfigured), not the message's fault", (_, error) => {
    expect(classifyHttpFailure(400, { error }, new Headers())).toMatchObject({ kind: "misconfigured", httpStatus: 400 });
  });

  it("reads an error whose fields are all null as an error without words: rejected", () => {
    const body = { error: { message: null, type: null, param: null, code: null } };
    expect(classifyHttpFailure(400, body, new Headers())).toMatchObject({ kind: "rejected", error: { message: null } });
  });
});

describe("Amazon Bedrock's answers", () => {
  const aws = (code: string, message: string) => ({
    body: { message },
    headers: new Headers({ "x-amzn-errortype": `${code}:http://internal.amazon.com/coral/com.amazon.coral.service/` }),
  });
  const mantle = (code: string, type: string, message: string) => ({ error: { code, message, param: null, type } });

  it.each([
    [
      "a signature for another service",
      403,
      aws("InvalidSignatureException", "Credential should be scoped to correct service: 'bedrock'. "),
    ],
    ["a signature for another region", 403, aws("InvalidSignatureException", "Credential should be scoped to a valid region. ")],
    [
      "a Mantle model under the wrong prefix (400)",
      400,
      {
        body: mantle("validation_error", "invalid_request_error", "model `openai.gpt-5.5` isn't supported on this route"),
        headers: new Headers(),
      },
    ],
    [
      "the same (404)",
      404,
      {
        body: mantle("not_found", "invalid_request_error", "model `openai.gpt-5.5` isn't supported on this route"),
        headers: new Headers(),
      },
    ],
    [
      "the same (401, misleading)",
      401,
      { body: mantle("access_denied", "permission_denied_error", "Berm is not enabled for this account"), headers: new Headers() },
    ],
  ])("reads %s as the deployment's setup (misconfigured)", (_, status, { body, headers }) => {
    expect(classifyByStatus(status, body, headers)).toMatchObject({ kind: "misconfigured", httpStatus: status });
  });

  it("keeps an IAM denial, a bad signature and an unknown key as refused credentials, with AWS's code and words", () => {
    const denied = aws("AccessDeniedException", "User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: bedrock:GetInvoke");
    expect(classifyByStatus(403, denied.body, denied.headers)).toEqual({
      kind: "unauthorized",
      httpStatus: 403,
      error: { message: denied.body.message, type: "aws", code: "AccessDeniedException", param: null },
    });
    const signature = aws("InvalidSignatureException", "The request signature we calculated does not match the signature you provided.");
    expect(classifyByStatus(403, signature.body, signature.headers).kind).toBe("unauthorized");
    const token = aws("UnrecognizedClientException", "The security token included in the request is invalid.");
    expect(classifyByStatus(403, token.body, token.headers).kind).toBe("unauthorized");
  });

  it("reads `{message}` as AWS's only with x-amzn-ErrorType (Azure's 401 body stays without an endpoint error)", () => {
    expect(classifyByStatus(401, { statusCode: 401, message: "Unauthorized." }, new Headers())).toEqual({
      kind: "unauthorized",
      httpStatus: 401,
    });
  });

  it("leaves a 404 about a response (not a route) to the API", () => {
    const body = mantle("not_found", "invalid_request_error", "Response with id 'resp_1' not found.");
    expect(classifyByStatus(404, body, new Headers()).kind).toBe("not_found");
  });
});

describe("retryAfterMs", () => {
  it.each([
    [{ "retry-after-ms": "644" }, 644],
    [{ "retry-after-ms": "250", "retry-after": "9" }, 250],
    [{ "retry-after": "2" }, 2000],
    [{ "retry-after": "0.5" }, 500],
    [{}, undefined],
    [{ "retry-after": "soon" }, undefined],
  ])("%j → %s", (headers, expected) => {
    expect(retryAfterMs(new Headers(headers as Record<string, string>))).toBe(expected);
  });

  it("reads an HTTP date", () => {
    const inThree = new Date(Date.now() + 3000).toUTCString();
    const ms = retryAfterMs(new Headers({ "retry-after": inThree }))!;
    expect(ms).toBeGreaterThan(1000);
    expect(ms).toBeLessThanOrEqual(3000);
  });
});
