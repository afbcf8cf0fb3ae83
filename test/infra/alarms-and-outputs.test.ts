import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { onlyResource, relayTemplate } from "./helpers/relay-stack";

const ALARM_TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:ops-alarms";

function alarmsByName(context: Record<string, unknown>) {
  const template = relayTemplate(context);
  const alarms = template.findResources("AWS::CloudWatch::Alarm");
  const named = (fragment: string) => {
    const id = Object.keys(alarms).find((candidate) => candidate.includes(fragment));
    if (!id) throw new Error(`no alarm named like ${fragment}`);
    return alarms[id]!.Properties;
  };
  return { template, count: Object.keys(alarms).length, named };
}

describe("the alarms (issue 3, point 8)", () => {
  it("watch the DLQ, the input queue's oldest message, function errors and throttles, and endpoint refusals", () => {
    // Prepare
    const { template, count, named } = alarmsByName({});
    const fn = { Ref: onlyResource(template, "AWS::Lambda::Function").id };
    const queues = template.findResources("AWS::SQS::Queue");
    const inputId = Object.keys(queues).find((id) => queues[id]!.Properties.RedrivePolicy)!;
    const deadLetterId = Object.keys(queues).find((id) => id !== inputId)!;
    const queueName = (id: string) => ({ "Fn::GetAtt": [id, "QueueName"] });

    // Assess
    expect(count).toBe(5);
    expect(named("DeadLetterQueueNotEmpty")).toMatchObject({
      Namespace: "AWS/SQS",
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [{ Name: "QueueName", Value: queueName(deadLetterId) }],
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      TreatMissingData: "notBreaching",
    });
    expect(named("InputQueueFallingBehind")).toMatchObject({
      MetricName: "ApproximateAgeOfOldestMessage",
      Dimensions: [{ Name: "QueueName", Value: queueName(inputId) }],
      Threshold: 1800,
      ComparisonOperator: "GreaterThanThreshold",
    });
    expect(named("FunctionErrors")).toMatchObject({
      Namespace: "AWS/Lambda",
      MetricName: "Errors",
      Dimensions: [{ Name: "FunctionName", Value: fn }],
      Threshold: 1,
    });
    expect(named("FunctionThrottles")).toMatchObject({ MetricName: "Throttles", Dimensions: [{ Name: "FunctionName", Value: fn }] });
    // 401 / 403 / insufficient_quota: the relay counts them as EndpointRefused under its Powertools service dimension.
    expect(named("EndpointRefused")).toMatchObject({
      Namespace: "ToolOutputRelay",
      MetricName: "EndpointRefused",
      Dimensions: [{ Name: "service", Value: "tool-output-relay" }],
      Statistic: "Sum",
      Threshold: 1,
    });
  });

  it("take the oldest-message threshold from context", () => {
    // Act
    const { named } = alarmsByName({ oldestMessageAlarmSeconds: "600" });

    // Assess
    expect(named("InputQueueFallingBehind").Threshold).toBe(600);
  });

  it("notify nobody when no alarm topic or e-mail is given", () => {
    // Act
    const { template, named } = alarmsByName({});

    // Assess
    expect(named("FunctionErrors").AlarmActions).toBeUndefined();
    template.resourceCountIs("AWS::SNS::Topic", 1); // the results topic only
  });

  it.each([
    { variant: "an existing alarm topic", context: { alarmTopicArn: ALARM_TOPIC_ARN }, topic: () => ALARM_TOPIC_ARN },
    {
      variant: "an existing alarm topic and an e-mail",
      context: { alarmTopicArn: ALARM_TOPIC_ARN, alarmEmail: "ops@example.com" },
      topic: () => ALARM_TOPIC_ARN,
    },
    {
      variant: "an e-mail, through a topic created for it",
      context: { alarmEmail: "ops@example.com" },
      topic: (alarmTopicId: string) => ({ Ref: alarmTopicId }),
    },
  ])("notify $variant, on alarm and on recovery", ({ context, topic }) => {
    // Prepare
    const { template, named } = alarmsByName(context);
    const created = Object.keys(template.findResources("AWS::SNS::Topic")).find((id) => id.startsWith("Alarms"));
    const expected = topic(created ?? "");

    // Assess
    for (const alarm of ["DeadLetterQueueNotEmpty", "InputQueueFallingBehind", "FunctionErrors", "FunctionThrottles", "EndpointRefused"]) {
      expect(named(alarm)).toMatchObject({ AlarmActions: [expected], OKActions: [expected] });
    }
    if ("alarmEmail" in context) {
      template.hasResourceProperties("AWS::SNS::Subscription", { Protocol: "email", Endpoint: "ops@example.com", TopicArn: expected });
    }
  });

  it("use a created alarm topic that is encrypted, TLS-only, and open to CloudWatch of this account alone", () => {
    // Prepare
    const template = relayTemplate({ alarmEmail: "ops@example.com" });
    const topics = template.findResources("AWS::SNS::Topic");
    const alarmTopicId = Object.keys(topics).find((id) => id.startsWith("Alarms"))!;
    const keys = template.findResources("AWS::KMS::Key");
    const alarmKeyId = Object.keys(keys).find((id) => id.startsWith("Alarms"))!;
    const fromThisAccount = { StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } } };

    // Assess
    expect(topics[alarmTopicId]!.Properties.KmsMasterKeyId).toEqual({ "Fn::GetAtt": [alarmKeyId, "Arn"] });
    expect(keys[alarmKeyId]!.Properties.EnableKeyRotation).toBe(true);
    expect(keys[alarmKeyId]!.Properties.KeyPolicy.Statement).toContainEqual(
      expect.objectContaining({ Principal: { Service: "cloudwatch.amazonaws.com" }, Condition: fromThisAccount }),
    );
    template.hasResourceProperties("AWS::SNS::TopicPolicy", {
      Topics: [{ Ref: alarmTopicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
          Match.objectLike({ Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Condition: fromThisAccount }),
        ]),
      },
    });
  });
});

describe("the stack outputs (issue 3, point 8)", () => {
  it("give the queue URL, DLQ URL, topic ARN and secret ARN", () => {
    // Prepare
    const template = relayTemplate();
    const queues = template.findResources("AWS::SQS::Queue");
    const inputId = Object.keys(queues).find((id) => queues[id]!.Properties.RedrivePolicy)!;
    const deadLetterId = Object.keys(queues).find((id) => id !== inputId)!;

    // Assess
    template.hasOutput("InputQueueUrl", { Value: { Ref: inputId } });
    template.hasOutput("DeadLetterQueueUrl", { Value: { Ref: deadLetterId } });
    template.hasOutput("ResultsTopicArn", { Value: { Ref: onlyResource(template, "AWS::SNS::Topic").id } });
    template.hasOutput("EndpointSecretArn", { Value: { Ref: onlyResource(template, "AWS::SecretsManager::Secret").id } });
  });
});
