/**
 * The relay as a construct in someone else's stack: what it is given it uses and does not create; what it is not
 * given it creates; a wrong combination fails at synth with the prop's name. RelayStack is one user of it.
 */
import { App, Duration, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { describe, expect, it } from "vitest";
import { ToolOutputRelay, type ToolOutputRelayProps } from "../../lib/index";
import { relayTemplate, STAND_IN_HANDLER } from "../helpers/infra/relay-stack";

function relayIn(props: (stack: Stack) => ToolOutputRelayProps) {
  const stack = new Stack(new App({ context: { "aws:cdk:bundling-stacks": [] } }), "Team");
  const relay = new ToolOutputRelay(stack, "Relay", { handlerEntry: STAND_IN_HANDLER, ...props(stack) });
  return { stack, relay, template: Template.fromStack(stack) };
}

const variablesOf = (template: Template) =>
  Object.values(template.findResources("AWS::Lambda::Function"))[0]!.Properties.Environment.Variables as Record<string, unknown>;

describe("ToolOutputRelay", () => {
  it("creates everything when given nothing: queues, topic, table, secret, bucket, function, alarms, dashboard", () => {
    // Act
    const { template } = relayIn(() => ({}));

    // Assess
    template.resourceCountIs("AWS::SQS::Queue", 2);
    template.resourceCountIs("AWS::SNS::Topic", 1);
    template.resourceCountIs("AWS::DynamoDB::Table", 1);
    template.resourceCountIs("AWS::SecretsManager::Secret", 1);
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
    expect(variablesOf(template).MAX_RECEIVE_COUNT).toBe("5");
  });

  it("uses a brought input queue, its DLQ and max receive count, and creates no queue", () => {
    // Act
    const { stack, relay, template } = relayIn((scope) => {
      const deadLetters = new sqs.Queue(scope, "TeamDlq", { enforceSSL: true });
      return {
        existingInputQueue: new sqs.Queue(scope, "TeamInput", {
          visibilityTimeout: Duration.minutes(6),
          deadLetterQueue: { queue: deadLetters, maxReceiveCount: 3 },
        }),
      };
    });

    // Assess
    template.resourceCountIs("AWS::SQS::Queue", 2); // the team's two
    const variables = variablesOf(template);
    expect(variables.MAX_RECEIVE_COUNT).toBe("3");
    expect(variables.DLQ_URL).toEqual(stack.resolve(relay.deadLetterQueue.queueUrl));
    expect(variables.INPUT_QUEUE_URL).toEqual(stack.resolve(relay.inputQueue.queueUrl));
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", { EventSourceArn: stack.resolve(relay.inputQueue.queueArn) });
  });

  it("refuses a brought input queue without a dead-letter queue, naming the prop to give", () => {
    // Act
    const act = () =>
      relayIn((scope) => ({ existingInputQueue: sqs.Queue.fromQueueArn(scope, "In", "arn:aws:sqs:eu-west-1:123456789012:in") }));

    // Assess
    expect(act).toThrow(/existingDeadLetterQueue/);
  });

  it("uses a brought state table and secret, with the same exact grants, and creates neither", () => {
    // Act
    const { template } = relayIn((scope) => ({
      existingStateTable: dynamodb.Table.fromTableName(scope, "State", "team-relay-state"),
      existingEndpointSecret: secretsmanager.Secret.fromSecretNameV2(scope, "Secret", "team/portkey"),
    }));

    // Assess
    template.resourceCountIs("AWS::DynamoDB::Table", 0);
    template.resourceCountIs("AWS::SecretsManager::Secret", 0);
    expect(variablesOf(template).RELAY_STATE_TABLE).toBe("team-relay-state");
    const statements = JSON.stringify(
      Object.values(template.findResources("AWS::IAM::Policy")).map((policy) => policy.Properties.PolicyDocument.Statement),
    );
    expect(statements).toContain("table/team-relay-state");
    expect(statements).toContain("secret:team/portkey-??????"); // a secret known by name: IAM matches its full ARN
    expect(statements).not.toContain("dynamodb:Scan");
  });

  it.each([
    { prop: "tuning", props: { tuning: { FOLLOW_BUDGET: "1" } as never }, error: /tuning: knows .*; not FOLLOW_BUDGET/ },
    { prop: "environment", props: { environment: { DLQ_URL: "x" } }, error: /environment: DLQ_URL set by the relay's own props/ },
    { prop: "tuning value", props: { tuning: { FOLLOW_BUDGET_MS: "soon" } }, error: /^tuning: .*FOLLOW_BUDGET_MS/ },
    {
      prop: "maxReceiveCount",
      props: { maxReceiveCount: 200, tuning: { RETRY_VISIBILITY_BASE_SECONDS: "600", RETRY_VISIBILITY_MAX_SECONDS: "43200" } },
      error: /^maxReceiveCount: 200 receives can take up to \d+ s, longer than the input queue keeps a message/,
    },
  ])("refuses a $prop that would be ignored or would replace the relay's own", ({ props, error }) => {
    expect(() => relayIn(() => props)).toThrow(error);
  });

  it("with endpointSecret: false and endpointBaseUrl: null, makes no secret and sets neither variable (an endpoint the role signs for)", () => {
    // Act
    const { template, relay } = relayIn(() => ({
      endpointSecret: false,
      endpointBaseUrl: null,
      responsesBaseUrl: "https://example.com/openai/v1",
    }));

    // Assess
    template.resourceCountIs("AWS::SecretsManager::Secret", 0);
    const variables = variablesOf(template);
    expect(variables).not.toHaveProperty("ENDPOINT_SECRET_ARN");
    expect(variables).not.toHaveProperty("ENDPOINT_BASE_URL");
    expect(variables.RESPONSES_BASE_URL).toBe("https://example.com/openai/v1");
    expect(relay.endpointSecret).toBeUndefined();
    expect(JSON.stringify(template.toJSON())).not.toContain("secretsmanager:GetSecretValue");
  });

  it("passes extra relay variables through to the function", () => {
    const { template } = relayIn(() => ({ environment: { RESPONSES_BASE_URL: "https://example.com/v1" } }));
    expect(variablesOf(template).RESPONSES_BASE_URL).toBe("https://example.com/v1");
  });
});

describe("the dashboard", () => {
  it("graphs messages in, accepted, handed back, dead-lettered by reason, endpoint latency, state-table errors, DLQ depth, oldest age", () => {
    // Act
    const { template } = relayIn(() => ({ dashboardName: "team-relay" }));
    const [dashboard] = Object.values(template.findResources("AWS::CloudWatch::Dashboard"));
    const body = JSON.stringify(dashboard!.Properties.DashboardBody);

    // Assess
    expect(dashboard!.Properties.DashboardName).toBe("team-relay");
    for (const metric of [
      "NumberOfMessagesSent",
      "Accepted",
      "HandedBack",
      "EndpointLatency",
      "SystemErrors",
      "ThrottledRequests",
      "ApproximateNumberOfMessagesVisible",
      "ApproximateAgeOfOldestMessage",
    ])
      expect(body, metric).toContain(metric);
    expect(body).toMatch(/SEARCH\(.*\{ToolOutputRelay,reason,service\}.*DeadLettered/);
    expect(body).toContain("alarm"); // the alarms' states
  });

  it("is left out with dashboard: false", () => {
    relayIn(() => ({ dashboard: false })).template.resourceCountIs("AWS::CloudWatch::Dashboard", 0);
  });
});

describe("RelayStack on the construct", () => {
  it("keeps the logical ids it had before the construct (the construct sits at the hidden id Default)", () => {
    // Act
    const ids = Object.keys(relayTemplate({}).toJSON().Resources);

    // Assess: a changed id would replace the named queues and the retained table on the next deploy.
    expect(ids).toEqual(
      expect.arrayContaining(["QueuesInputQueueDE9E11E9", "QueuesDeadLetterQueue82AA3FB7", "StateTable962DE04C", "RelayFunctionE902C34E"]),
    );
    expect(ids.filter((id) => id.startsWith("Default"))).toEqual([]);
  });
});
