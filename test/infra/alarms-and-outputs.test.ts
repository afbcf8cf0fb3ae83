import { Annotations, Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { NO_ALARM_DESTINATION_WARNING } from "../../infra/relay-stack";
import { onlyResource, relayApp, relayTemplate } from "../helpers/infra/relay-stack";

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

const ALWAYS = [
  "DeadLetterQueueNotEmpty",
  "InputQueueFallingBehind",
  "FunctionErrors",
  "FunctionThrottles",
  "EndpointRefused",
  "SubmissionsUnrecorded",
  "ResultsUndelivered",
];

describe("the alarms", () => {
  it("watch the DLQ, the input queue's oldest message, function errors and throttles, endpoint refusals and undelivered results", () => {
    // Prepare
    const { template, count, named } = alarmsByName({});
    const fn = { Ref: onlyResource(template, "AWS::Lambda::Function").id };
    const topic = { "Fn::GetAtt": [onlyResource(template, "AWS::SNS::Topic").id, "TopicName"] };
    const queues = template.findResources("AWS::SQS::Queue");
    const inputId = Object.keys(queues).find((id) => queues[id]!.Properties.RedrivePolicy)!;
    const deadLetterId = Object.keys(queues).find((id) => id !== inputId)!;
    const queueName = (id: string) => ({ "Fn::GetAtt": [id, "QueueName"] });

    // Assess
    expect(count).toBe(ALWAYS.length);
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
    // A submission whose claim record the state table did not take (rule 4): counted as SubmissionsUnrecorded.
    expect(named("SubmissionsUnrecorded")).toMatchObject({
      Namespace: "ToolOutputRelay",
      MetricName: "SubmissionsUnrecorded",
      Dimensions: [{ Name: "service", Value: "tool-output-relay" }],
      Statistic: "Sum",
      Threshold: 1,
    });
    // 401 / 403 / insufficient_quota: the relay counts them as EndpointRefused under its Powertools service dimension.
    expect(named("EndpointRefused")).toMatchObject({
      Namespace: "ToolOutputRelay",
      MetricName: "EndpointRefused",
      Dimensions: [{ Name: "service", Value: "tool-output-relay" }],
      Statistic: "Sum",
      Threshold: 1,
    });
    // SNS counts a notification as failed once it stops retrying a subscription: the result is lost unless a DLQ caught it.
    expect(named("ResultsUndelivered")).toMatchObject({
      Namespace: "AWS/SNS",
      MetricName: "NumberOfNotificationsFailed",
      Dimensions: [{ Name: "TopicName", Value: topic }],
      Statistic: "Sum",
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    });
  });

  it.each([
    { subscriber: "queue", context: { resultsSubscriptionQueueArn: "arn:aws:sqs:eu-west-1:123456789012:run-results" } },
    { subscriber: "e-mail", context: { resultsSubscriptionEmail: "dev@example.com" } },
  ])("watch the DLQ of the results $subscriber subscription the stack makes", ({ context }) => {
    // Prepare
    const { template, named, count } = alarmsByName(context);
    const subscription = onlyResource(template, "AWS::SNS::Subscription");
    const deadLetterArn = subscription.Properties.RedrivePolicy.deadLetterTargetArn as { "Fn::GetAtt": [string, string] };

    // Assess
    expect(count).toBe(ALWAYS.length + 1);
    expect(named("UndeliveredResultsWaiting")).toMatchObject({
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [deadLetterArn["Fn::GetAtt"][0], "QueueName"] } }],
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
    { variant: "no alarm topic or e-mail", context: {}, warned: true },
    { variant: "an alarm e-mail", context: { alarmEmail: "ops@example.com" }, warned: false },
    { variant: "an alarm topic", context: { alarmTopicArn: ALARM_TOPIC_ARN }, warned: false },
  ])("warn at synth exactly when they reach nobody ($variant)", ({ context, warned }) => {
    // Act
    const warnings = Annotations.fromStack(relayApp(context).stack).findWarning("*", Match.stringLikeRegexp("alarmEmail"));

    // Assess
    expect(warnings.map((warning) => warning.entry.data)).toEqual(
      warned ? [expect.stringMatching(/^No alarm reaches anyone: set context option alarmEmail \(or alarmTopicArn\)/)] : [],
    );
    // Acknowledgeable by its id, like CDK's own warnings.
    if (warned) expect(warnings[0]!.entry.data).toContain(`[ack: ${NO_ALARM_DESTINATION_WARNING}]`);
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
    for (const alarm of ALWAYS) {
      expect(named(alarm)).toMatchObject({ AlarmActions: [expected], OKActions: [expected] });
    }
    if ("alarmEmail" in context) {
      template.hasResourceProperties("AWS::SNS::Subscription", { Protocol: "email", Endpoint: "ops@example.com", TopicArn: expected });
    }
  });

  it("use a created alarm topic that is encrypted, TLS-only, and open to this account's CloudWatch alarms alone", () => {
    // Prepare
    const template = relayTemplate({ alarmEmail: "ops@example.com" });
    const topics = template.findResources("AWS::SNS::Topic");
    const alarmTopicId = Object.keys(topics).find((id) => id.startsWith("Alarms"))!;
    const keys = template.findResources("AWS::KMS::Key");
    const alarmKeyId = Object.keys(keys).find((id) => id.startsWith("Alarms"))!;
    const alarmArns = {
      "Fn::Join": [
        "",
        ["arn:", { Ref: "AWS::Partition" }, ":cloudwatch:", { Ref: "AWS::Region" }, ":", { Ref: "AWS::AccountId" }, ":alarm:*"],
      ],
    };

    // Act
    const keyStatements = keys[alarmKeyId]!.Properties.KeyPolicy.Statement as Array<Record<string, unknown>>;

    // Assess
    expect(topics[alarmTopicId]!.Properties.KmsMasterKeyId).toEqual({ "Fn::GetAtt": [alarmKeyId, "Arn"] });
    expect(keys[alarmKeyId]!.Properties.EnableKeyRotation).toBe(true);
    // AWS's published statement for alarm topics, with no condition: CloudWatch's KMS requests need not carry aws:SourceAccount.
    expect(keyStatements.filter((statement) => JSON.stringify(statement.Principal).includes("cloudwatch"))).toEqual([
      {
        Sid: "AllowCloudWatchAlarms",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
        Resource: "*",
      },
    ]);
    template.hasResourceProperties("AWS::SNS::TopicPolicy", {
      Topics: [{ Ref: alarmTopicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
          Match.objectLike({
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: "sns:Publish",
            Condition: { StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } }, ArnLike: { "aws:SourceArn": alarmArns } },
          }),
        ]),
      },
    });
  });

  it("redrive alarm e-mails SNS cannot deliver to a DLQ of their own, watched by an alarm", () => {
    // Prepare
    const { template, named, count } = alarmsByName({ alarmEmail: "ops@example.com" });
    const subscription = onlyResource(template, "AWS::SNS::Subscription");
    const deadLetterId = subscription.Properties.RedrivePolicy.deadLetterTargetArn["Fn::GetAtt"][0] as string;

    // Assess
    expect(subscription.Properties).toMatchObject({ Protocol: "email", Endpoint: "ops@example.com" });
    expect(deadLetterId).toMatch(/^AlarmsUndelivered/);
    expect(count).toBe(ALWAYS.length + 1);
    expect(named("UndeliveredAlarmsWaiting").Dimensions).toEqual([
      { Name: "QueueName", Value: { "Fn::GetAtt": [deadLetterId, "QueueName"] } },
    ]);
  });
});

describe("the stack outputs", () => {
  it("give the queue URL, DLQ URL, topic ARN, secret ARN, state table and payload bucket", () => {
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
    template.hasOutput("StateTableName", { Value: { Ref: onlyResource(template, "AWS::DynamoDB::Table").id } });
    template.hasOutput("PayloadBucketName", { Value: { Ref: onlyResource(template, "AWS::S3::Bucket").id } });
    expect(template.findOutputs("UndeliveredResultsQueueUrl")).toEqual({});
  });

  it("give the URL of the DLQ of the results subscriptions, when the stack made one", () => {
    // Prepare
    const template = relayTemplate({ resultsSubscriptionEmail: "dev@example.com" });
    const subscription = onlyResource(template, "AWS::SNS::Subscription");

    // Assess
    template.hasOutput("UndeliveredResultsQueueUrl", {
      Value: { Ref: subscription.Properties.RedrivePolicy.deadLetterTargetArn["Fn::GetAtt"][0] },
    });
  });
});
