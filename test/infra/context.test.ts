import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InvalidContextError, parseContext } from "../../infra/context";
import { relayApp } from "../helpers/infra/relay-stack";

describe("context options", () => {
  it("applies a default to every option that is not given", () => {
    // Act
    const config = parseContext({});

    // Assess
    expect(config).toEqual({
      stackName: "ToolOutputRelay",
      endpointBaseUrl: "https://api.portkey.ai/v1",
      fifo: false,
      maxReceiveCount: 5,
      functionTimeoutSeconds: 60,
      functionMemoryMb: 512,
      batchSize: 10,
      batchingWindowSeconds: 0,
      maxConcurrency: 10,
      logRetentionDays: 30,
      logLevel: "INFO",
      oldestMessageAlarmSeconds: 1800,
      payloadExpiryDays: 7,
      relayTuning: {},
    });
  });

  it.each([
    ["an object in cdk.json", { FOLLOW_BUDGET_MS: 30000, BATCH_CONCURRENCY: "5" }],
    ["JSON after -c", '{"FOLLOW_BUDGET_MS": 30000, "BATCH_CONCURRENCY": "5"}'],
  ])("reads relayTuning as %s, values as the strings the environment holds", (_, relayTuning) => {
    expect(parseContext({ relayTuning }).relayTuning).toEqual({ FOLLOW_BUDGET_MS: "30000", BATCH_CONCURRENCY: "5" });
  });

  it.each([
    [{ FOLLOW_BUDGET: 1 }, /knows ENDPOINT_TIMEOUT_MS, .*; not FOLLOW_BUDGET/],
    [{ RESULTS_TOPIC_ARN: "x" }, /not RESULTS_TOPIC_ARN/],
    [{ BATCH_CONCURRENCY: 0 }, /BATCH_CONCURRENCY: must be at least 1/],
    [{ POLL_INTERVAL_MS: "soon" }, /POLL_INTERVAL_MS: must be a whole number/],
    [{ DEADLINE_RESERVE_MS: 60000 }, /DEADLINE_RESERVE_MS must be below the function's timeout \(60 s\)/],
    ["{not json", /must be an object of variables/],
  ])("rejects relayTuning %j with the relay's own reason", (relayTuning, problem) => {
    expect(() => parseContext({ relayTuning })).toThrow(InvalidContextError);
    expect(() => parseContext({ relayTuning })).toThrow(problem);
  });

  it("reads `-c name=value` strings as the numbers, booleans and lists they spell", () => {
    // Prepare
    const fromCommandLine = {
      fifo: "true",
      maxReceiveCount: "3",
      resultsSubscriptionQueueArn: "arn:aws:sqs:eu-west-1:123456789012:run-results.fifo",
      resultsSubscriptionTypes: "run.requires_action, run.failed",
    };

    // Act
    const config = parseContext(fromCommandLine);

    // Assess
    expect(config).toMatchObject({
      fifo: true,
      maxReceiveCount: 3,
      resultsSubscriptionTypes: ["run.requires_action", "run.failed"],
    });
  });

  it("takes the event types of both APIs in a subscription's type filter", () => {
    // Act
    const config = parseContext({
      resultsSubscriptionQueueArn: "arn:aws:sqs:eu-west-1:123456789012:tool-workers",
      resultsSubscriptionTypes: "run.requires_action,response.requires_action",
    });
    // Assess
    expect(config.resultsSubscriptionTypes).toEqual(["run.requires_action", "response.requires_action"]);
  });

  it("ignores CDK's own context keys (feature flags, aws:cdk:…, kebab-case)", () => {
    // Act
    const config = parseContext({
      "@aws-cdk/aws-iam:minimizePolicies": true,
      "aws:cdk:bundling-stacks": [],
      "acknowledged-issue-numbers": [32775],
    });

    // Assess
    expect(config.stackName).toBe("ToolOutputRelay");
  });

  it.each([
    { option: "stackName", value: "1-starts-with-a-digit", says: "must start with a letter" },
    { option: "endpointBaseUrl", value: "http://api.portkey.ai/v1", says: "https" },
    { option: "endpointBaseUrl", value: "not a url", says: "https" },
    { option: "responsesBaseUrl", value: "http://acme.services.ai.azure.com/api/projects/p/openai/v1", says: "https" },
    { option: "endpointApiVersion", value: "v1&debug=1", says: "must be an api-version such as v1" },
    { option: "responsesApiVersion", value: "x".repeat(65), says: "must be an api-version such as v1" },
    { option: "endpointApiVersion", value: 1, says: "must be an api-version" },
    { option: "fifo", value: "yes", says: "true or false" },
    { option: "maxReceiveCount", value: "0", says: "at least 1" },
    { option: "maxReceiveCount", value: "five", says: "whole number" },
    { option: "maxReceiveCount", value: 2.5, says: "whole number" },
    { option: "functionTimeoutSeconds", value: 901, says: "at most 900" },
    { option: "functionMemoryMb", value: 64, says: "at least 128" },
    { option: "batchSize", value: 0, says: "at least 1" },
    { option: "batchingWindowSeconds", value: 301, says: "at most 300" },
    { option: "maxConcurrency", value: 1, says: "at least 2" },
    { option: "logRetentionDays", value: 31, says: "must be one of" },
    { option: "logLevel", value: "TRACE", says: "DEBUG, INFO, WARN or ERROR" },
    { option: "secretArn", value: "portkey", says: "must be an ARN" },
    { option: "secretArn", value: "arn:aws:sqs:eu-west-1:123456789012:q", says: "must be an ARN" },
    { option: "resultsSubscriptionQueueArn", value: "https://sqs.eu-west-1.amazonaws.com/1/q", says: "must be an ARN" },
    { option: "resultsSubscriptionEmail", value: "ops-at-example.com", says: "e-mail" },
    { option: "resultsSubscriptionTypes", value: "run.done", says: "run.requires_action" },
    { option: "alarmTopicArn", value: "arn:aws:sns:eu-west-1:123456789012:alarms.fifo", says: "must be an ARN" },
    { option: "alarmEmail", value: "@example.com", says: "e-mail" },
    { option: "oldestMessageAlarmSeconds", value: 10, says: "at least 60" },
    { option: "payloadExpiryDays", value: 0, says: "at least 1" },
    { option: "payloadExpiryDays", value: "a week", says: "whole number" },
  ])("rejects $option=$value naming the option", ({ option, value, says }) => {
    // Prepare
    const context = {
      ...(option === "resultsSubscriptionTypes" ? { resultsSubscriptionEmail: "ops@example.com" } : {}),
      [option]: value,
    };

    // Act
    const act = () => parseContext(context);

    // Assess
    expect(act).toThrow(InvalidContextError);
    expect(act).toThrow(`context option "${option}"`);
    expect(act).toThrow(says);
  });

  it.each([
    {
      combination: "a batching window on a FIFO queue",
      context: { fifo: true, batchingWindowSeconds: 5 },
      option: "batchingWindowSeconds",
    },
    { combination: "more than 10 messages a batch from a FIFO queue", context: { fifo: true, batchSize: 20 }, option: "batchSize" },
    {
      combination: "a payload bucket that expires bodies before a collection can end",
      context: { payloadExpiryDays: 7, relayTuning: { COLLECT_TIMEOUT_SECONDS: 7 * 86_400 } },
      option: "payloadExpiryDays",
    },
    { combination: "more than 10 messages a batch without a batching window", context: { batchSize: 100 }, option: "batchSize" },
    {
      combination: "an e-mail subscription on a FIFO topic",
      context: { fifo: true, resultsSubscriptionEmail: "ops@example.com" },
      option: "resultsSubscriptionEmail",
    },
    {
      combination: "a type filter without a subscription",
      context: { resultsSubscriptionTypes: ["run.completed"] },
      option: "resultsSubscriptionTypes",
    },
    {
      combination: "a secret key without an imported secret",
      context: { secretKmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" },
      option: "secretKmsKeyArn",
    },
  ])("rejects $combination, naming $option", ({ context, option }) => {
    // Act
    const act = () => parseContext(context);

    // Assess
    expect(act).toThrow(`context option "${option}"`);
  });

  it("takes an Azure AI Foundry project's two base URLs and api-version, as the relay reads them", () => {
    // Prepare
    const project = "https://acme.services.ai.azure.com/api/projects/relay";

    // Act
    const config = parseContext({ endpointBaseUrl: project, endpointApiVersion: "v1", responsesBaseUrl: `${project}/openai/v1` });

    // Assess
    expect(config).toMatchObject({ endpointBaseUrl: project, endpointApiVersion: "v1", responsesBaseUrl: `${project}/openai/v1` });
    expect(config.responsesApiVersion).toBeUndefined();
  });

  it("accepts more than 10 messages a batch on a standard queue with a batching window", () => {
    // Act
    const config = parseContext({ batchSize: "100", batchingWindowSeconds: "5" });

    // Assess
    expect(config).toMatchObject({ batchSize: 100, batchingWindowSeconds: 5 });
  });

  it("names every bad option at once", () => {
    // Act
    const error = catchError(() => parseContext({ maxReceiveCount: -1, logLevel: "LOUD" }));

    // Assess
    expect(error.options).toEqual(["maxReceiveCount", "logLevel"]);
  });

  it("rejects an unknown option that looks like one of ours, listing the known ones", () => {
    // Act
    const error = catchError(() => parseContext({ maxRecieveCount: 3 }));

    // Assess
    expect(error.options).toEqual(["maxRecieveCount"]);
    expect(error.message).toContain('Unknown context option "maxRecieveCount"');
    expect(error.message).toContain("maxReceiveCount");
  });

  it("fails the app's synth with the option's name", () => {
    // Act
    const act = () => relayApp({ maxReceiveCount: "lots" });

    // Assess
    expect(act).toThrow('context option "maxReceiveCount" must be a whole number (got "lots")');
  });
});

function catchError(act: () => unknown): InvalidContextError {
  try {
    act();
  } catch (error) {
    if (error instanceof InvalidContextError) return error;
    throw error;
  }
  throw new Error("expected an InvalidContextError");
}

describe("a wrong option at synth, as `cdk synth` runs the app", () => {
  it("prints its complaint once, alone (no stack trace), and exits non-zero", () => {
    // Act: the CDK CLI hands the app its context in CDK_CONTEXT_JSON.
    const run = spawnSync(process.execPath, [join(process.cwd(), "node_modules", "tsx", "dist", "cli.mjs"), "infra/app.ts"], {
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ endpointBaseUrl: "http://example.com/v1" }),
        CDK_OUTDIR: mkdtempSync(join(tmpdir(), "synth-")),
      },
      encoding: "utf8",
    });

    // Assess
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split("\n")).toEqual([
      'Invalid context: context option "endpointBaseUrl" must be an https URL such as https://api.portkey.ai/v1 (got "http://example.com/v1")',
    ]);
  });

  it("names an option once however many of its checks fail", () => {
    const error = (() => {
      try {
        parseContext({ endpointBaseUrl: "http://example.com/v1" });
      } catch (thrown) {
        return thrown as InvalidContextError;
      }
    })();
    expect(error?.options).toEqual(["endpointBaseUrl"]);
  });
});
