import { describe, expect, it } from "vitest";
import { isLoopbackHost, loadConfig, loadEndpointConfig, withSigV4Service } from "../../functions/submit-tool-outputs/config/config";
import { ConfigurationError } from "../../functions/submit-tool-outputs/config/errors";

const required = {
  RESULTS_TOPIC_ARN: "arn:aws:sns:us-east-1:000000000000:results",
  DLQ_URL: "http://127.0.0.1:1/000000000000/dlq",
  INPUT_QUEUE_URL: "http://127.0.0.1:1/000000000000/in",
};

describe("loadConfig", () => {
  it("fills every optional setting with its default", () => {
    const config = loadConfig(required);
    expect(config.endpointBaseUrl?.href).toBe("https://api.portkey.ai/v1");
    expect(config).toMatchObject({
      maxReceiveCount: 5,
      endpointTimeoutMs: 10_000,
      maxAttempts: 4,
      batchConcurrency: 10,
      followBudgetMs: 20_000,
    });
  });

  it.each([
    [{ ...required, RESULTS_TOPIC_ARN: undefined }, "RESULTS_TOPIC_ARN", /is required/],
    [{ ...required, DLQ_URL: "" }, "DLQ_URL", /is required/],
    [{ ...required, ENDPOINT_BASE_URL: "http://api.example.com/v1" }, "ENDPOINT_BASE_URL", /must use https/],
    [{ ...required, ENDPOINT_BASE_URL: "not a url" }, "ENDPOINT_BASE_URL", /absolute URL/],
    [{ ...required, MAX_RECEIVE_COUNT: "five" }, "MAX_RECEIVE_COUNT", /whole number/],
    [{ ...required, BATCH_CONCURRENCY: "0" }, "BATCH_CONCURRENCY", /at least 1/],
    [{ ...required, ENDPOINT_TIMEOUT_MS: "1.5" }, "ENDPOINT_TIMEOUT_MS", /whole number/],
    [{ ...required, MAX_RECEIVE_COUNT: "1001" }, "MAX_RECEIVE_COUNT", /at most 1000/],
    [{ ...required, RESPONSES_BACKGROUND: "yes" }, "RESPONSES_BACKGROUND", /must be "true" or "false"/],
    [{ ...required, RESPONSES_UNCONFIRMED: "retry" }, "RESPONSES_UNCONFIRMED", /must be "dead_letter" or "resubmit"/],
    [{ ...required, RELAY_STATE_TABLE: "a b" }, "RELAY_STATE_TABLE", /DynamoDB table name/],
    [{ ...required, RELAY_PAYLOAD_BUCKET: "Bucket" }, "RELAY_PAYLOAD_BUCKET", /S3 bucket name/],
  ])("names the wrong variable (%#: %s)", (env, variable, problem) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).variable).toBe(variable);
    expect((error as Error).message).toMatch(new RegExp(`^${variable}: `));
    expect((error as Error).message).toMatch(problem);
  });

  it.each(["http://127.0.0.1:4010/v1", "http://localhost:8787/v1", "http://[::1]:9/v1", "https://gateway.internal/v1"])(
    "accepts %s",
    (url) => {
      expect(loadConfig({ ...required, ENDPOINT_BASE_URL: url }).endpointBaseUrl?.protocol).toMatch(/^https?:$/);
    },
  );

  it("reads every kind of variable by its rule", () => {
    const config = loadConfig({
      ...required,
      ENDPOINT_BASE_URL: "https://gateway.internal/v1///",
      MAX_RECEIVE_COUNT: "12",
      RESPONSES_BACKGROUND: "false",
      RESPONSES_UNCONFIRMED: "resubmit",
      RELAY_STATE_TABLE: "relay-state",
    });
    expect(config.endpointBaseUrl?.href).toBe("https://gateway.internal/v1");
    expect(config).toMatchObject({
      maxReceiveCount: 12,
      responsesBackground: false,
      responsesUnconfirmed: "resubmit",
      stateTableName: "relay-state",
    });
  });

  it("knows loopback hosts", () => {
    expect(["127.0.0.1", "127.1.2.3", "localhost", "[::1]"].every(isLoopbackHost)).toBe(true);
    expect(["10.0.0.1", "example.com", "localhost.example.com"].some(isLoopbackHost)).toBe(false);
  });
});

describe("loadEndpointConfig: the endpoint's variables alone, by loadConfig's rules", () => {
  it("needs nothing else, and sends the Responses API to ENDPOINT_BASE_URL unless RESPONSES_BASE_URL says otherwise", () => {
    // Act
    const shared = loadEndpointConfig({ ENDPOINT_BASE_URL: "https://api.openai.com/v1/" });
    const azure = loadEndpointConfig({
      ENDPOINT_BASE_URL: "https://acme.services.ai.azure.com/api/projects/p",
      ENDPOINT_API_VERSION: "v1",
      RESPONSES_BASE_URL: "https://acme.services.ai.azure.com/api/projects/p/openai/v1",
    });

    // Assess
    expect(shared.responsesBaseUrl.href).toBe("https://api.openai.com/v1");
    expect(shared.endpointApiVersion).toBeUndefined();
    expect(azure).toMatchObject({ endpointApiVersion: "v1", responsesApiVersion: undefined });
    expect(azure.responsesBaseUrl.pathname).toBe("/api/projects/p/openai/v1");
  });

  it.each([
    [{ RESPONSES_BASE_URL: "http://responses.example/v1" }, "RESPONSES_BASE_URL", /must use https/],
    [{ ENDPOINT_API_VERSION: "v1&x=1" }, "ENDPOINT_API_VERSION", /must be an api-version such as v1/],
  ])("refuses what loadConfig refuses, naming the variable (%#)", (env, variable, problem) => {
    expect(() => loadEndpointConfig(env)).toThrow(ConfigurationError);
    expect(() => loadEndpointConfig(env)).toThrow(new RegExp(`^${variable}: ${problem.source}`));
  });

  it("reads an empty value as unset", () => {
    expect(loadEndpointConfig({ RESPONSES_API_VERSION: "", ENDPOINT_BASE_URL: "" }).endpointBaseUrl?.href).toBe(
      "https://api.portkey.ai/v1",
    );
  });
});

describe("Amazon Bedrock runtime answers synchronously only", () => {
  const RUNTIME = "https://bedrock-runtime.us-east-1.amazonaws.com/openai/v1";
  const MANTLE = "https://bedrock-mantle.us-east-1.api.aws/v1";

  it.each([
    ["a runtime host", { RESPONSES_BASE_URL: RUNTIME }],
    [
      "SigV4 for service bedrock at another name",
      { RESPONSES_BASE_URL: "http://127.0.0.1:9/openai/v1", ENDPOINT_SIGV4_SERVICE: "bedrock" },
    ],
  ])("never submits in the background at %s", (_, env) => {
    expect(loadConfig({ ...required, ...env }).responsesBackground).toBe(false);
    expect(loadConfig({ ...required, ...env, RESPONSES_BACKGROUND: "false" }).responsesBackground).toBe(false);
  });

  it("refuses an explicit RESPONSES_BACKGROUND=true there at cold start, naming the variable", () => {
    const act = () => loadConfig({ ...required, RESPONSES_BASE_URL: RUNTIME, RESPONSES_BACKGROUND: "true" });
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(/^RESPONSES_BACKGROUND: must not be true at Amazon Bedrock runtime/);
  });

  it("keeps background mode at Mantle, which has it", () => {
    expect(loadConfig({ ...required, RESPONSES_BASE_URL: MANTLE }).responsesBackground).toBe(true);
    expect(loadConfig({ ...required, RESPONSES_BASE_URL: MANTLE, ENDPOINT_SIGV4_SERVICE: "bedrock-mantle" }).responsesBackground).toBe(
      true,
    );
  });
});

describe("withSigV4Service: ENDPOINT_SIGV4_SERVICE kept in the secret, known once the credentials are read", () => {
  const loopback = { ...required, RESPONSES_BASE_URL: "http://127.0.0.1:9/openai/v1" };

  it("turns background mode off for bedrock, and leaves it for bedrock-mantle or no service", () => {
    const config = loadConfig(loopback);
    expect(config.responsesBackground).toBe(true);
    expect(withSigV4Service(config, loopback, "bedrock").responsesBackground).toBe(false);
    expect(withSigV4Service(config, loopback, "bedrock-mantle").responsesBackground).toBe(true);
    expect(withSigV4Service(config, loopback, undefined)).toBe(config);
  });

  it("refuses an explicit RESPONSES_BACKGROUND=true then, naming the variable", () => {
    const env = { ...loopback, RESPONSES_BACKGROUND: "true" };
    expect(() => withSigV4Service(loadConfig(env), env, "bedrock")).toThrow(
      /^RESPONSES_BACKGROUND: must not be true at Amazon Bedrock runtime/,
    );
  });
});
