/**
 * The IAM evaluation (iam-evaluation.test.ts) over the Amazon Bedrock selections: a Bedrock-only deployment at
 * runtime and at Mantle, synthesized and bundled as `cdk synth` does, run in its template's environment (no secret, no
 * ENDPOINT_BASE_URL, the service implied by the host) against loopback AWS and the simulator playing that Bedrock
 * endpoint (the bundle's calls to the real host name are redirected to it; the simulator verifies each signature and
 * records the IAM action and resources each call names). Every AWS call the bundle made and every Bedrock check is
 * allowed by the role's synthesized policies; every Bedrock grant is used; what the relay never needs is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { onBehalfOfTheFunction } from "../helpers/infra/calls-beyond-the-bundle";
import { type LoopbackRelay, startRelayOnLoopbackAws } from "../helpers/infra/relay-on-loopback-aws";
import { type AwsCall, type Evaluation, grantsOf, type RoleEvaluator, roleEvaluator } from "../helpers/infra/role-evaluation";
import { answerFor, responseAnswerFor } from "../helpers/relay-harness";

const RELAY_TUNING = {
  FOLLOW_BUDGET_MS: 1000,
  POLL_INTERVAL_MS: 20,
  ENDPOINT_TIMEOUT_MS: 2000,
  RETRY_BASE_DELAY_MS: 10,
  WATCH_DELAY_SECONDS: 0,
};

const DEPLOYMENTS = [
  {
    name: "a Bedrock runtime deployment",
    context: { responsesBaseUrl: "https://bedrock-runtime.us-east-1.amazonaws.com/openai/v1", bedrockModels: "us.openai.gpt-5.6-sol" },
    model: "us.openai.gpt-5.6-sol",
    // Runtime checks InvokeModelWithResponseStream for a streamed inference: a stream exercises that grant.
    stream: true,
    neverNeeded: (account: string): AwsCall[] => [
      { action: "bedrock:InvokeModel", resource: `arn:aws:bedrock:us-east-1:${account}:inference-profile/us.anthropic.claude-opus-4-7` },
      { action: "bedrock:InvokeModel", resource: "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-opus-4-7" },
      { action: "bedrock:InvokeModel", resource: `arn:aws:bedrock:us-east-1:${account}:project/other` },
      { action: "bedrock:CancelInvoke", resource: `arn:aws:bedrock:us-east-1:${account}:project/default` },
      { action: "bedrock:DeleteInvoke", resource: `arn:aws:bedrock:us-east-1:${account}:project/default` },
      { action: "bedrock:GetInvoke", resource: `arn:aws:bedrock:eu-west-1:${account}:project/default` },
      { action: "bedrock:CallWithBearerToken", resource: "*" },
      { action: "bedrock-mantle:CreateInference", resource: `arn:aws:bedrock-mantle:us-east-1:${account}:project/default` },
    ],
  },
  {
    name: "a Bedrock Mantle deployment",
    context: { responsesBaseUrl: "https://bedrock-mantle.eu-west-1.api.aws/v1", bedrockModels: "openai.gpt-oss-120b" },
    model: "openai.gpt-oss-120b",
    stream: false,
    neverNeeded: (account: string): AwsCall[] => [
      { action: "bedrock-mantle:CreateInference", resource: `arn:aws:bedrock-mantle:us-east-1:${account}:project/default` },
      { action: "bedrock-mantle:DeleteInference", resource: `arn:aws:bedrock-mantle:eu-west-1:${account}:project/default` },
      { action: "bedrock-mantle:CancelInference", resource: `arn:aws:bedrock-mantle:eu-west-1:${account}:project/default` },
      { action: "bedrock-mantle:CreateProject", resource: `arn:aws:bedrock-mantle:eu-west-1:${account}:project/new` },
      { action: "bedrock-mantle:CallWithBearerToken", resource: "*" },
      { action: "bedrock:InvokeModel", resource: "arn:aws:bedrock:eu-west-1::foundation-model/openai.gpt-oss-120b" },
    ],
  },
];

describe.each(DEPLOYMENTS)("$name (Bedrock only)", (deployment) => {
  let relay: LoopbackRelay;
  let evaluator: RoleEvaluator;
  const evaluations: Evaluation[] = [];

  beforeAll(async () => {
    relay = await startRelayOnLoopbackAws({ context: { ...deployment.context, relayTuning: RELAY_TUNING } });
    evaluator = roleEvaluator(relay.template, relay.resolver, relay.environment, relay.roleId, (id) => relay.physical[id]!.attributes.Arn!);
  }, 180_000);

  afterAll(async () => {
    await relay?.close();
  });

  describe("the bundled relay, in its template's environment", () => {
    it("has no secret and no Assistants endpoint to read", () => {
      expect(relay.functionEnvironment).not.toHaveProperty("ENDPOINT_SECRET_ARN");
      expect(relay.functionEnvironment).not.toHaveProperty("ENDPOINT_BASE_URL");
      expect(relay.functionEnvironment.RESPONSES_BASE_URL).toBe(deployment.context.responsesBaseUrl);
    });

    it("continues a response, every call signed with the role's session and verified", async () => {
      const previous = relay.sim.createResponse({ model: deployment.model, toolCalls: 1 });
      await relay.send(responseAnswerFor(previous));
      const { response } = await relay.deliver();
      expect(response.batchItemFailures).toEqual([]);
      expect((await relay.results()).map((event) => event.type)).toEqual(["response.completed"]);
      expect(relay.sim.counters.signaturesRejected).toBe(0);
      expect(relay.sim.counters.signaturesVerified).toBeGreaterThanOrEqual(2);
    });

    it.runIf(deployment.stream)("streams a continuation when the message asks", async () => {
      const previous = relay.sim.createResponse({ model: deployment.model, toolCalls: 1 });
      await relay.send(responseAnswerFor(previous, { stream: true }));
      const { response } = await relay.deliver();
      expect(response.batchItemFailures).toEqual([]);
      expect(relay.sim.bedrock!.calls.map((call) => call.action)).toContain("bedrock:InvokeModelWithResponseStream");
    });

    it("dead-letters an Assistants message at once as api_not_configured", async () => {
      const before = relay.sim.requests.length;
      await relay.send(answerFor({ threadId: "thread_1", runId: "run_1", toolCallIds: ["call_1"] }));
      expect((await relay.deliver()).response.batchItemFailures).toEqual([]);
      const records = await relay.receive(relay.deadLetterQueueUrl);
      expect(records.map((message) => JSON.parse(message.Body!).reason)).toEqual(["api_not_configured"]);
      await relay.remove(relay.deadLetterQueueUrl, records);
      expect(relay.sim.requests.length).toBe(before);
    });
  });

  describe("the function's role, evaluated with a real IAM policy evaluator", () => {
    it("allows every AWS call the bundle made and every Bedrock check of its calls, and reads no secret", async () => {
      const bedrockCalls = relay.sim.bedrock!.calls.map(({ action, resource }) => ({ action, resource }));
      const calls = [...new Map([...relay.proxy.calls, ...bedrockCalls].map((call) => [`${call.action} ${call.resource}`, call])).values()];
      const decided = await Promise.all(calls.map((call) => evaluator.evaluate(call)));
      evaluations.push(...decided);
      expect(bedrockCalls.length).toBeGreaterThanOrEqual(3);
      expect(
        decided.filter((evaluation) => evaluation.decision !== "Allowed").map(({ call }) => `${call.action} on ${call.resource}`),
      ).toEqual([]);
      expect(relay.proxy.calls.filter((call) => call.action.startsWith("secretsmanager:"))).toEqual([]);
    });

    it("allows what AWS services call with it on the function's behalf", async () => {
      const decided = await Promise.all(
        onBehalfOfTheFunction(relay, { name: deployment.name, context: deployment.context }).map((call) => evaluator.evaluate(call)),
      );
      evaluations.push(...decided);
      expect(
        decided.filter((evaluation) => evaluation.decision !== "Allowed").map(({ call }) => `${call.action} on ${call.resource}`),
      ).toEqual([]);
    });

    it("grants nothing of Bedrock that none of those calls uses", () => {
      const used = new Set(evaluations.flatMap((evaluation) => evaluation.used));
      const bedrockGrants = grantsOf(evaluator.statements).filter((grant) => grant.includes("| bedrock"));
      expect(bedrockGrants.length).toBeGreaterThanOrEqual(2);
      expect(bedrockGrants.filter((grant) => !used.has(grant))).toEqual([]);
    });

    it("refuses what the relay never needs of Bedrock, and any secret", async () => {
      const { account, region } = relay.environment;
      const never = [
        ...deployment.neverNeeded(account),
        { action: "secretsmanager:GetSecretValue", resource: `arn:aws:secretsmanager:${region}:${account}:secret:relay-AbCdEf` },
      ];
      const decided = await Promise.all(never.map((call) => evaluator.evaluate(call)));
      expect(
        decided.filter((evaluation) => evaluation.decision === "Allowed").map(({ call }) => `${call.action} on ${call.resource}`),
      ).toEqual([]);
    });
  });
});
