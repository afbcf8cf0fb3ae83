/**
 * Every AWS call the bundled function makes is allowed by its role, and nothing more: the bundle `cdk synth`
 * produces runs with its template's environment against loopback AWS behind a recording proxy, through the main
 * scenarios; each recorded call, each call AWS services make with the role on the function's behalf, and each call
 * of the paths still without a scenario is evaluated against the role's synthesized policies by a real IAM policy
 * evaluator; and every grant of the role must be used by one of them.
 *
 * To add a scenario: append to SCENARIOS (what it does, and the actions it must make the bundle call). When a
 * scenario exercises a call of USED_BY_RESPONSES_AND_COLLECT_PATHS_SCENARIOS_TO_BE_ADDED, move it out of that list.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outputsFor } from "../helpers/relay-harness";
import type { RecordedCall } from "./helpers/recording-proxy";
import { LOOPBACK_API_KEY, type LoopbackRelay, startRelayOnLoopbackAws } from "./helpers/relay-on-loopback-aws";
import { type AwsCall, type Evaluation, grantsOf, type RoleEvaluator, roleEvaluator } from "./helpers/role-evaluation";

/** Short budgets and backoffs so that the scenarios run in seconds; set through the documented relayTuning option. */
const RELAY_TUNING = {
  FOLLOW_BUDGET_MS: 1000,
  POLL_INTERVAL_MS: 20,
  ENDPOINT_TIMEOUT_MS: 2000,
  RETRY_BASE_DELAY_MS: 10,
  RETRY_MAX_DELAY_MS: 50,
  WATCH_DELAY_SECONDS: 0,
};

interface Scenario {
  name: string;
  /** Actions the bundle must call in it (evidence that the scenario did what it says). */
  calls: string[];
  /** Count the calls from the cold start on (the secret is read while the bundle initializes). */
  fromColdStart?: boolean;
  run(relay: LoopbackRelay): Promise<void>;
}

const SCENARIOS: Scenario[] = [
  {
    name: "a message accepted and its run reported, with the endpoint secret read at cold start",
    calls: ["secretsmanager:GetSecretValue", "sns:Publish"],
    fromColdStart: true,
    async run(relay) {
      const run = relay.sim.createRun();
      const messageId = await relay.send(outputsFor(run));
      const { response } = await relay.deliver();
      expect(response.batchItemFailures).toEqual([]);
      expect(await relay.results()).toEqual([
        expect.objectContaining({ type: "run.completed", run_id: run.runId, source_message_id: messageId }),
      ]);
      // The keys came from the secret: the template sets no key in the environment.
      const submits = relay.sim.requests.filter((request) => request.method === "POST");
      expect(submits.map((request) => request.headers["x-portkey-api-key"])).toEqual([LOOPBACK_API_KEY]);
    },
  },
  {
    name: "a run still moving when the follow budget ends gets a watch_run follow-up on the input queue",
    calls: ["sqs:SendMessage"],
    async run(relay) {
      const run = relay.sim.createRun({ afterOutputs: [{ stayInProgressMs: 60_000 }, "completed"] });
      await relay.send(outputsFor(run));
      const { response } = await relay.deliver();
      expect(response.batchItemFailures).toEqual([]);
      const follow = await relay.receive(relay.inputQueueUrl);
      expect(follow.map((message) => JSON.parse(message.Body!))).toEqual([
        expect.objectContaining({ type: "watch_run", thread_id: run.threadId, run_id: run.runId }),
      ]);
      await relay.remove(relay.inputQueueUrl, follow);
    },
  },
  {
    name: "a message that is not JSON gets a reasoned DLQ record",
    calls: ["sqs:SendMessage"],
    async run(relay) {
      const messageId = await relay.send("{not json");
      const { response } = await relay.deliver();
      expect(response.batchItemFailures).toEqual([]);
      const records = await relay.receive(relay.deadLetterQueueUrl);
      expect(records.map((message) => JSON.parse(message.Body!))).toEqual([
        expect.objectContaining({ reason: "invalid_message", original: "{not json", source_message_id: messageId }),
      ]);
      await relay.remove(relay.deadLetterQueueUrl, records);
    },
  },
  {
    name: "a message the endpoint refuses (401) is handed back with a longer visibility",
    calls: ["sqs:ChangeMessageVisibility"],
    async run(relay) {
      relay.sim.inject({ on: "submit", kind: "unauthorized" });
      await relay.send(outputsFor(relay.sim.createRun()));
      const { event, response } = await relay.deliver();
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
      // The relay's first hand-back delay: RETRY_VISIBILITY_BASE_SECONDS (10 s) ± 20 %, instead of the queue's 360 s.
      const queue = relay.fauxqs.inspectQueue(relay.inputQueueUrl.split("/").pop()!)!;
      const hidden = (queue.messages.inflight[0]!.visibilityDeadline - Date.now()) / 1000;
      expect(hidden).toBeGreaterThan(5);
      expect(hidden).toBeLessThan(13);
      await relay.remove(relay.inputQueueUrl, event.Records);
    },
  },
];

/**
 * Calls AWS services make with the function's role on its behalf: the bundle does not make them, so the proxy
 * cannot see them (Lambda's event source mapping polling the queue, Lambda writing the function's logs and X-Ray
 * segments, SNS encrypting a published result with the topic's key).
 */
function onBehalfOfTheFunction(relay: LoopbackRelay): Array<AwsCall & { by: string }> {
  const { region, account } = relay.environment;
  const inputQueue = arnOfQueue(relay, relay.inputQueueUrl);
  const logGroup = relay.resolver.resolve(relay.template.Resources[relay.functionId]!.Properties!.LoggingConfig.LogGroup) as string;
  const logStream = `arn:aws:logs:${region}:${account}:log-group:${logGroup}:log-stream:2026/01/01/[$LATEST]0123456789abcdef`;
  const topicKey = relay.resolver.resolve(relay.template.Resources[topicIdOf(relay)]!.Properties!.KmsMasterKeyId) as string;
  const throughSns = { "kms:ViaService": `sns.${region}.amazonaws.com`, "kms:CallerAccount": account };
  return [
    { by: "Lambda's SQS event source mapping", action: "sqs:ReceiveMessage", resource: inputQueue },
    { by: "Lambda's SQS event source mapping", action: "sqs:DeleteMessage", resource: inputQueue },
    { by: "Lambda's SQS event source mapping", action: "sqs:GetQueueAttributes", resource: inputQueue },
    { by: "Lambda, writing the function's logs", action: "logs:CreateLogStream", resource: logStream },
    { by: "Lambda, writing the function's logs", action: "logs:PutLogEvents", resource: logStream },
    { by: "Lambda's active tracing", action: "xray:PutTraceSegments", resource: "*" },
    { by: "Lambda's active tracing", action: "xray:PutTelemetryRecords", resource: "*" },
    { by: "SNS, encrypting a result the function publishes", action: "kms:GenerateDataKey", resource: topicKey, context: throughSns },
    { by: "SNS, encrypting a result the function publishes", action: "kms:Decrypt", resource: topicKey, context: throughSns },
  ];
}

/** Used by the Responses/collect paths, scenarios to be added: the bundle cannot exercise these calls yet. */
function USED_BY_RESPONSES_AND_COLLECT_PATHS_SCENARIOS_TO_BE_ADDED(relay: LoopbackRelay): AwsCall[] {
  const { region, account } = relay.environment;
  const table = `arn:aws:dynamodb:${region}:${account}:table/${relay.functionEnvironment.RELAY_STATE_TABLE}`;
  const payload = `arn:aws:s3:::${relay.functionEnvironment.RELAY_PAYLOAD_BUCKET}/collect/resp_abc123/call_abc123`;
  return [
    { action: "dynamodb:GetItem", resource: table },
    { action: "dynamodb:PutItem", resource: table },
    { action: "dynamodb:UpdateItem", resource: table },
    { action: "dynamodb:Query", resource: table },
    { action: "s3:PutObject", resource: payload },
    { action: "s3:GetObject", resource: payload },
  ];
}

/** What the relay never needs: each must be refused, which also shows that the evaluator does refuse. */
function neverNeeded(relay: LoopbackRelay): AwsCall[] {
  const { region, account } = relay.environment;
  const env = relay.functionEnvironment;
  const table = `arn:aws:dynamodb:${region}:${account}:table/${env.RELAY_STATE_TABLE}`;
  return [
    { action: "sqs:SendMessage", resource: `arn:aws:sqs:${region}:${account}:someone-elses-queue` },
    { action: "sqs:ReceiveMessage", resource: arnOfQueue(relay, relay.deadLetterQueueUrl) },
    { action: "sqs:PurgeQueue", resource: arnOfQueue(relay, relay.inputQueueUrl) },
    { action: "sqs:GetQueueUrl", resource: arnOfQueue(relay, relay.inputQueueUrl) },
    { action: "sns:Publish", resource: `arn:aws:sns:${region}:${account}:someone-elses-topic` },
    { action: "secretsmanager:DescribeSecret", resource: env.ENDPOINT_SECRET_ARN! },
    { action: "secretsmanager:GetSecretValue", resource: `arn:aws:secretsmanager:${region}:${account}:secret:other-AbCdEf` },
    { action: "dynamodb:Scan", resource: table },
    { action: "dynamodb:DeleteItem", resource: table },
    { action: "dynamodb:Query", resource: `${table}/index/any` },
    { action: "s3:DeleteObject", resource: `arn:aws:s3:::${env.RELAY_PAYLOAD_BUCKET}/collect/x` },
    { action: "s3:ListBucket", resource: `arn:aws:s3:::${env.RELAY_PAYLOAD_BUCKET}` },
    { action: "kms:Decrypt", resource: `arn:aws:kms:${region}:${account}:key/11111111-2222-4333-8444-555555555555` },
  ];
}

function arnOfQueue(relay: LoopbackRelay, url: string): string {
  return `arn:aws:sqs:${relay.environment.region}:${relay.environment.account}:${url.split("/").pop()}`;
}

function topicIdOf(relay: LoopbackRelay): string {
  const arn = relay.functionEnvironment.RESULTS_TOPIC_ARN;
  return Object.keys(relay.physical).find((id) => relay.physical[id]!.attributes.TopicArn === arn)!;
}

let relay: LoopbackRelay;
let evaluator: RoleEvaluator;
const evaluations: Evaluation[] = [];

beforeAll(async () => {
  relay = await startRelayOnLoopbackAws({ context: { relayTuning: RELAY_TUNING } });
  evaluator = roleEvaluator(relay.template, relay.resolver, relay.environment, relay.roleId, (id) => relay.physical[id]!.attributes.Arn!);
}, 180_000);

afterAll(async () => {
  await relay?.close();
});

describe("the bundled relay on loopback AWS, in its template's environment", () => {
  it.each(SCENARIOS)("handles $name", async (scenario) => {
    // Prepare
    const before = scenario.fromColdStart ? 0 : relay.proxy.calls.length;

    // Act
    await scenario.run(relay);

    // Assess
    const calls = relay.proxy.calls.slice(before).map((call) => call.action);
    expect(calls).toEqual(expect.arrayContaining(scenario.calls));
  });

  it("read the secret once, for all the scenarios", () => {
    expect(relay.proxy.calls.filter((call) => call.action === "secretsmanager:GetSecretValue")).toEqual([
      {
        action: "secretsmanager:GetSecretValue",
        resource: relay.functionEnvironment.ENDPOINT_SECRET_ARN,
        region: relay.environment.region,
        status: 200,
      },
    ]);
  });
});

describe("the function's role, evaluated with a real IAM policy evaluator", () => {
  const unique = (calls: RecordedCall[]) => [...new Map(calls.map((call) => [`${call.action} ${call.resource}`, call])).values()];

  it("allows every AWS call the bundle made, each answered, in the stack's region", async () => {
    // Prepare
    const calls = unique(relay.proxy.calls);

    // Act
    const decided = await Promise.all(calls.map((call) => evaluator.evaluate(call)));
    evaluations.push(...decided);

    // Assess
    expect(calls.length).toBeGreaterThanOrEqual(5);
    expect(
      decided
        .filter((evaluation) => evaluation.decision !== "Allowed")
        .map(({ call, decision }) => `${call.action} on ${call.resource}: ${decision}`),
    ).toEqual([]);
    expect(relay.proxy.calls.filter((call) => call.status >= 400 || call.region !== relay.environment.region)).toEqual([]);
  });

  it("allows what AWS services call with it on the function's behalf", async () => {
    // Act
    const decided = await Promise.all(onBehalfOfTheFunction(relay).map((call) => evaluator.evaluate(call)));
    evaluations.push(...decided);

    // Assess
    expect(
      decided.filter((evaluation) => evaluation.decision !== "Allowed").map(({ call }) => `${call.action} on ${call.resource}`),
    ).toEqual([]);
  });

  it("allows the calls of the Responses and collect paths (scenarios to be added)", async () => {
    // Act
    const decided = await Promise.all(
      USED_BY_RESPONSES_AND_COLLECT_PATHS_SCENARIOS_TO_BE_ADDED(relay).map((call) => evaluator.evaluate(call)),
    );
    evaluations.push(...decided);

    // Assess
    expect(
      decided.filter((evaluation) => evaluation.decision !== "Allowed").map(({ call }) => `${call.action} on ${call.resource}`),
    ).toEqual([]);
  });

  it("grants nothing that none of those calls uses", () => {
    // Act
    const used = new Set(evaluations.flatMap((evaluation) => evaluation.used));

    // Assess
    expect(evaluations.length).toBeGreaterThan(SCENARIOS.length);
    expect(grantsOf(evaluator.statements).filter((grant) => !used.has(grant))).toEqual([]);
  });

  it("refuses what the relay never needs", async () => {
    // Act
    const decided = await Promise.all(neverNeeded(relay).map((call) => evaluator.evaluate(call)));

    // Assess
    expect(
      decided.filter((evaluation) => evaluation.decision === "Allowed").map(({ call }) => `${call.action} on ${call.resource}`),
    ).toEqual([]);
  });

  it("refuses even an allowed call without TLS, as the queue's own policy says", async () => {
    // Act
    const evaluation = await evaluator.evaluate({
      action: "sqs:SendMessage",
      resource: arnOfQueue(relay, relay.deadLetterQueueUrl),
      context: { "aws:SecureTransport": "false" },
    });

    // Assess
    expect(evaluation.decision).toBe("ExplicitlyDenied");
  });
});
