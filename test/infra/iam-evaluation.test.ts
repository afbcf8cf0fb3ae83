/**
 * Every AWS call the bundled function makes is allowed by its role, and nothing more: the bundle `cdk synth`
 * produces runs with its template's environment against loopback AWS behind a recording proxy, through the main
 * scenarios; each recorded call, each call AWS services make with the role on the function's behalf, and each call
 * of the paths still without a scenario is evaluated against the role's synthesized policies by a real IAM policy
 * evaluator; and every grant of the role must be used by one of them.
 *
 * To add a scenario: append to SCENARIOS in helpers/relay-scenarios.ts (what it does, and the actions it must make the
 * bundle call). To add a deployment: DEPLOYMENTS in helpers/calls-beyond-the-bundle.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  arnOfQueue,
  DEPLOYMENTS,
  neverNeeded,
  onBehalfOfTheFunction,
  secretRegionOf,
  theOtherReadingOfTheSecretArn,
} from "../helpers/infra/calls-beyond-the-bundle";
import type { RecordedCall } from "../helpers/infra/recording-proxy";
import { type LoopbackRelay, startRelayOnLoopbackAws } from "../helpers/infra/relay-on-loopback-aws";
import { SCENARIOS } from "../helpers/infra/relay-scenarios";
import { type Evaluation, grantsOf, type RoleEvaluator, roleEvaluator } from "../helpers/infra/role-evaluation";

/** Short budgets and backoffs so that the scenarios run in seconds; set through the documented relayTuning option. */
const RELAY_TUNING = {
  FOLLOW_BUDGET_MS: 1000,
  POLL_INTERVAL_MS: 20,
  ENDPOINT_TIMEOUT_MS: 2000,
  RETRY_BASE_DELAY_MS: 10,
  RETRY_MAX_DELAY_MS: 50,
  WATCH_DELAY_SECONDS: 0,
};

describe.each(DEPLOYMENTS)("$name", (deployment) => {
  let relay: LoopbackRelay;
  let evaluator: RoleEvaluator;
  const evaluations: Evaluation[] = [];

  beforeAll(async () => {
    relay = await startRelayOnLoopbackAws({ context: { ...deployment.context, relayTuning: RELAY_TUNING } });
    evaluator = roleEvaluator(
      relay.template,
      relay.resolver,
      relay.environment,
      relay.roleId,
      (id) => relay.physical[id]!.attributes.Arn!,
      {
        ...(deployment.secretKey ? { [deployment.secretKey.arn]: deployment.secretKey.policy } : {}),
      },
    );
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
          region: secretRegionOf(relay),
          status: 200,
        },
      ]);
    });
  });

  describe("the function's role, evaluated with a real IAM policy evaluator", () => {
    const unique = (calls: RecordedCall[]) => [...new Map(calls.map((call) => [`${call.action} ${call.resource}`, call])).values()];

    it("allows every AWS call the bundle made, each answered, in the stack's region (the secret's, for the secret)", async () => {
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
      const regionOf = (call: RecordedCall) =>
        call.action.startsWith("secretsmanager:") ? secretRegionOf(relay) : relay.environment.region;
      // A conditional write that loses (a duplicate's claim, a collection opened by another copy first) is the
      // relay working as meant, not a refused call.
      const refused = (call: RecordedCall) => call.status >= 400 && call.errorType !== "ConditionalCheckFailedException";
      expect(relay.proxy.calls.filter((call) => refused(call) || call.region !== regionOf(call))).toEqual([]);
      expect(relay.proxy.calls.some((call) => call.errorType === "ConditionalCheckFailedException")).toBe(true);
    });

    it("allows what AWS services call with it on the function's behalf", async () => {
      // Act
      const decided = await Promise.all(onBehalfOfTheFunction(relay, deployment).map((call) => evaluator.evaluate(call)));
      evaluations.push(...decided);

      // Assess
      expect(
        decided.filter((evaluation) => evaluation.decision !== "Allowed").map(({ call }) => `${call.action} on ${call.resource}`),
      ).toEqual([]);
    });

    it("allows the other reading of an imported secret ARN", async () => {
      // Act
      const decided = await Promise.all(theOtherReadingOfTheSecretArn(relay, deployment).map((call) => evaluator.evaluate(call)));
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
});
