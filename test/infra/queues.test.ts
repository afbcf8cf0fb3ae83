import { Duration } from "aws-cdk-lib";
import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { visibilityTimeoutFor } from "../../infra/constructs/relay-queues";
import { INPUT_RETENTION_SECONDS } from "../../infra/retry-window";
import { onlyResource, relayTemplate } from "../helpers/infra/relay-stack";

const VARIANTS = [
  { variant: "standard", context: {}, inputQueueName: "ToolOutputRelay-input", fifoProperties: { FifoQueue: Match.absent() } },
  {
    variant: "FIFO",
    context: { fifo: "true" },
    inputQueueName: "ToolOutputRelay-input.fifo",
    fifoProperties: { FifoQueue: true, ContentBasedDeduplication: true },
  },
] as const;

function queues(context: Record<string, unknown>) {
  const template = relayTemplate(context);
  const all = template.findResources("AWS::SQS::Queue");
  const [inputId] = Object.entries(all).find(([, queue]) => queue.Properties.RedrivePolicy) ?? [];
  const [deadLetterId] = Object.entries(all).find(([, queue]) => queue.Properties.RedriveAllowPolicy) ?? [];
  if (!inputId || !deadLetterId || Object.keys(all).length !== 2) throw new Error("expected an input queue and a DLQ");
  return { template, inputId, deadLetterId, input: all[inputId]!, deadLetter: all[deadLetterId]! };
}

describe.each(VARIANTS)("the $variant queues", ({ context, inputQueueName, fifoProperties }) => {
  it("are both standard or both FIFO, with content-based deduplication when FIFO", () => {
    // Act
    const { input, deadLetter } = queues(context);

    // Assess
    expect(input.Properties).toMatchObject({ QueueName: inputQueueName });
    for (const queue of [input, deadLetter]) {
      expect(Match.objectLike(fifoProperties).test(queue.Properties).isSuccess).toBe(true);
    }
  });

  it("redrive to the DLQ after 5 receives by default", () => {
    // Act
    const { input, deadLetterId } = queues(context);

    // Assess
    expect(input.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { "Fn::GetAtt": [deadLetterId, "Arn"] },
      maxReceiveCount: 5,
    });
  });

  it("keep the DLQ 14 days and when the stack is deleted, allowing only the input queue to redrive to it", () => {
    // Act
    const { deadLetter } = queues(context);

    // Assess
    expect(deadLetter.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(deadLetter.DeletionPolicy).toBe("Retain");
    expect(deadLetter.UpdateReplacePolicy).toBe("Retain");
    expect(deadLetter.Properties.RedriveAllowPolicy).toEqual({
      redrivePermission: "byQueue",
      sourceQueueArns: [
        {
          "Fn::Join": [
            "",
            ["arn:", { Ref: "AWS::Partition" }, ":sqs:", { Ref: "AWS::Region" }, ":", { Ref: "AWS::AccountId" }, `:${inputQueueName}`],
          ],
        },
      ],
    });
  });

  it("are encrypted at rest and refuse requests without TLS", () => {
    // Prepare
    const { template, input, inputId, deadLetter, deadLetterId } = queues(context);
    const policies = Object.values(template.findResources("AWS::SQS::QueuePolicy"));

    // Assess
    for (const [id, queue] of [
      [inputId, input],
      [deadLetterId, deadLetter],
    ] as const) {
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
      const policy = policies.find((candidate) => JSON.stringify(candidate.Properties.Queues) === JSON.stringify([{ Ref: id }]));
      expect(policy?.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: "Deny",
          Principal: { AWS: "*" },
          Action: "sqs:*",
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        }),
      );
    }
  });
});

describe("the input queue's visibility timeout", () => {
  it.each([
    { context: {}, expected: 6 * 60 + 0 },
    { context: { functionTimeoutSeconds: 120 }, expected: 6 * 120 },
    { context: { functionTimeoutSeconds: 30, batchingWindowSeconds: 20 }, expected: 6 * 30 + 20 },
    { context: { fifo: true, functionTimeoutSeconds: 900 }, expected: 6 * 900 },
  ])("is 6 × function timeout + batching window for $context", ({ context, expected }) => {
    // Act
    const { template, input } = queues(context);
    const fn = onlyResource(template, "AWS::Lambda::Function");
    const mapping = onlyResource(template, "AWS::Lambda::EventSourceMapping");

    // Assess
    expect(input.Properties.VisibilityTimeout).toBe(expected);
    expect(input.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
      6 * fn.Properties.Timeout + (mapping.Properties.MaximumBatchingWindowInSeconds ?? 0),
    );
  });

  it("is computed by one rule that tests can hold against AWS's guidance", () => {
    // Act
    const timeout = visibilityTimeoutFor(Duration.seconds(45), Duration.seconds(7));

    // Assess
    expect(timeout.toSeconds()).toBe(277);
  });
});

describe("the max receive count", () => {
  it("is configurable and passed to the function as MAX_RECEIVE_COUNT", () => {
    // Act
    const { template, input } = queues({ maxReceiveCount: "3" });

    // Assess
    expect(input.Properties.RedrivePolicy.maxReceiveCount).toBe(3);
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ MAX_RECEIVE_COUNT: "3" }) },
    });
  });
});

describe("the input queue's retention", () => {
  it("is the 4 days the context's retry check counts on, shorter than the DLQ's 14 (SQS keeps the first enqueue time)", () => {
    // Act
    const { input, deadLetter } = queues({});

    // Assess
    expect(input.Properties.MessageRetentionPeriod).toBe(INPUT_RETENTION_SECONDS);
    expect(INPUT_RETENTION_SECONDS).toBe(4 * 24 * 3600);
    expect(deadLetter.Properties.MessageRetentionPeriod).toBeGreaterThan(input.Properties.MessageRetentionPeriod);
  });
});

describe("the FIFO queues' names", () => {
  it.each([
    { stackName: "ToolOutputRelay", dlq: "ToolOutputRelay-dlq.fifo" },
    { stackName: `R${"x".repeat(63)}`, dlq: `R${"x".repeat(63)}-dlq.fifo` },
  ])("are set explicitly and stay within SQS's 80 characters (stack $stackName)", ({ stackName, dlq }) => {
    // Act
    const template = relayTemplate({ fifo: true, stackName, resultsSubscriptionQueueArn: "arn:aws:sqs:eu-west-1:123456789012:r.fifo" });
    const names = Object.values(template.findResources("AWS::SQS::Queue")).map((queue) => queue.Properties.QueueName as string);

    // Assess
    expect(names).toContain(dlq);
    expect(names).toHaveLength(3); // input, DLQ, the results subscription's DLQ
    for (const name of names) {
      expect(name).toMatch(/^[A-Za-z0-9_-]+\.fifo$/);
      expect(name.length).toBeLessThanOrEqual(80);
    }
  });
});

describe("the FIFO input queue", () => {
  it("is high-throughput (per message group), like the FIFO results topic it feeds", () => {
    // Prepare
    const template = relayTemplate({ fifo: "true" });

    // Act
    const { input } = queues({ fifo: "true" });
    const topic = onlyResource(template, "AWS::SNS::Topic");

    // Assess: ordering, deduplication and throughput per thread (message group), on both sides of the relay.
    expect(input.Properties).toMatchObject({ DeduplicationScope: "messageGroup", FifoThroughputLimit: "perMessageGroupId" });
    expect(topic.Properties.FifoThroughputScope).toBe("MessageGroup");
  });

  it("tells producers to use the thread_id as message group", () => {
    // Act
    const template = relayTemplate({ fifo: "true" });

    // Assess
    template.hasOutput("InputQueueUrl", { Description: Match.stringLikeRegexp("thread_id as message group") });
  });
});
