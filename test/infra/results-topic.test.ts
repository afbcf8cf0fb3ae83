import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { onlyResource, relayTemplate } from "./helpers/relay-stack";

const QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:run-results";

describe.each([
  { variant: "standard", context: {}, fifo: { FifoTopic: Match.absent(), TopicName: Match.absent() } },
  {
    variant: "FIFO",
    context: { fifo: true },
    fifo: { FifoTopic: true, ContentBasedDeduplication: true, TopicName: Match.stringLikeRegexp("\\.fifo$") },
  },
])("the $variant results topic (issue 3, point 4)", ({ context, fifo }) => {
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

describe("subscriptions to the results topic (issue 3, point 4)", () => {
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
});
