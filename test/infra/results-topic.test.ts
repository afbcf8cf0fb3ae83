import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { onlyResource, relayTemplate } from "../helpers/infra/relay-stack";

const QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:run-results";

describe.each([
  { variant: "standard", context: {}, fifo: { FifoTopic: Match.absent(), TopicName: Match.absent() } },
  {
    variant: "FIFO",
    context: { fifo: true },
    // Per-group throughput and deduplication, like the input queue's high-throughput mode (thread_id is the group).
    fifo: {
      FifoTopic: true,
      ContentBasedDeduplication: true,
      FifoThroughputScope: "MessageGroup",
      TopicName: Match.stringLikeRegexp("\\.fifo$"),
    },
  },
])("the $variant results topic", ({ context, fifo }) => {
  it("is FIFO exactly when the input queue is", () => {
    // Act
    const topic = onlyResource(relayTemplate(context), "AWS::SNS::Topic");

    // Assess
    expect(Match.objectLike(fifo).test(topic.Properties).isSuccess).toBe(true);
  });

  it("is encrypted with its own rotating key", () => {
    // Prepare
    const template = relayTemplate(context);

    // Act
    const topic = onlyResource(template, "AWS::SNS::Topic");
    const key = onlyResource(template, "AWS::KMS::Key");

    // Assess
    expect(topic.Properties.KmsMasterKeyId).toEqual({ "Fn::GetAtt": [key.id, "Arn"] });
    expect(key.Properties.EnableKeyRotation).toBe(true);
  });

  it("has a key that refuses KMS grants to anyone but AWS services", () => {
    // Act
    const key = onlyResource(relayTemplate(context), "AWS::KMS::Key");

    // Assess: Control Tower's CT.KMS.PR.3 statement; SNS uses the key directly, never through a grant.
    expect(key.Properties.KeyPolicy.Statement).toContainEqual({
      Sid: "GrantsOnlyForAwsServices",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: "kms:CreateGrant",
      Resource: "*",
      Condition: { BoolIfExists: { "kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false" } },
    });
  });

  it("refuses publishing without TLS", () => {
    // Prepare
    const template = relayTemplate(context);
    const topic = onlyResource(template, "AWS::SNS::Topic");

    // Act
    const policy = onlyResource(template, "AWS::SNS::TopicPolicy");

    // Assess
    expect(policy.Properties.Topics).toEqual([{ Ref: topic.id }]);
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: "Deny", Action: "sns:Publish", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
    );
  });

  it("has no subscription unless one is asked for", () => {
    // Act
    const subscriptions = relayTemplate(context).findResources("AWS::SNS::Subscription");

    // Assess
    expect(subscriptions).toEqual({});
  });
});

describe("subscriptions to the results topic", () => {
  it.each([
    {
      subscriber: "an SQS queue, with raw delivery",
      context: { resultsSubscriptionQueueArn: QUEUE_ARN },
      expected: { Protocol: "sqs", Endpoint: QUEUE_ARN, RawMessageDelivery: true, FilterPolicy: Match.absent() },
    },
    {
      subscriber: "an e-mail address",
      context: { resultsSubscriptionEmail: "dev@example.com" },
      expected: { Protocol: "email", Endpoint: "dev@example.com", FilterPolicy: Match.absent() },
    },
    {
      subscriber: "an SQS queue, filtered on type",
      context: { resultsSubscriptionQueueArn: QUEUE_ARN, resultsSubscriptionTypes: "run.requires_action" },
      expected: { Protocol: "sqs", FilterPolicy: { type: ["run.requires_action"] } },
    },
    {
      subscriber: "an e-mail address, filtered on type",
      context: { resultsSubscriptionEmail: "dev@example.com", resultsSubscriptionTypes: ["run.completed", "run.failed"] },
      expected: { Protocol: "email", FilterPolicy: { type: ["run.completed", "run.failed"] } },
    },
    {
      subscriber: "a FIFO queue to the FIFO topic",
      context: { fifo: true, resultsSubscriptionQueueArn: `${QUEUE_ARN}.fifo` },
      expected: { Protocol: "sqs", Endpoint: `${QUEUE_ARN}.fifo` },
    },
  ])("subscribes $subscriber", ({ context, expected }) => {
    // Prepare
    const template = relayTemplate(context);
    const topic = onlyResource(template, "AWS::SNS::Topic");

    // Act
    const subscription = onlyResource(template, "AWS::SNS::Subscription");

    // Assess
    expect(Match.objectLike({ ...expected, TopicArn: { Ref: topic.id } }).test(subscription.Properties).isSuccess).toBe(true);
  });

  it.each([
    { variant: "standard", context: { resultsSubscriptionQueueArn: QUEUE_ARN, resultsSubscriptionEmail: "dev@example.com" }, fifo: false },
    { variant: "FIFO", context: { fifo: true, resultsSubscriptionQueueArn: `${QUEUE_ARN}.fifo` }, fifo: true },
  ])("redrive what SNS cannot deliver to an encrypted, TLS-only $variant DLQ open to this topic alone", ({ context, fifo }) => {
    // Prepare
    const template = relayTemplate(context);
    const topic = onlyResource(template, "AWS::SNS::Topic");
    const subscriptions = Object.values(template.findResources("AWS::SNS::Subscription"));
    const [deadLetterId] = subscriptions[0]!.Properties.RedrivePolicy.deadLetterTargetArn["Fn::GetAtt"] as [string, string];

    // Act
    const deadLetter = template.findResources("AWS::SQS::Queue")[deadLetterId]!;
    const policy = Object.values(template.findResources("AWS::SQS::QueuePolicy")).find(
      (candidate) => JSON.stringify(candidate.Properties.Queues) === JSON.stringify([{ Ref: deadLetterId }]),
    );

    // Assess
    for (const subscription of subscriptions) {
      expect(subscription.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: { "Fn::GetAtt": [deadLetterId, "Arn"] } });
    }
    expect(deadLetter.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    expect(deadLetter.DeletionPolicy).toBe("Retain");
    expect(deadLetter.Properties.FifoQueue).toBe(fifo ? true : undefined);
    if (fifo) expect(deadLetter.Properties.QueueName).toBe("ToolOutputRelay-sns-dlq.fifo");
    expect(policy?.Properties.PolicyDocument.Statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        expect.objectContaining({
          Effect: "Allow",
          Principal: { Service: "sns.amazonaws.com" },
          Action: "sqs:SendMessage",
          Condition: { ArnEquals: { "aws:SourceArn": { Ref: topic.id } } },
        }),
      ]),
    );
  });
});
