/**
 * Every documented way to deploy synthesizes as `cdk synth` would (cdk-nag on), and keeps the properties that no
 * option may break; every combination that would fail on AWS is refused at synth with the option's name.
 */
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { describe, expect, it } from "vitest";
import { InvalidContextError } from "../../infra/context";
import { relayApp } from "../helpers/infra/relay-stack";
import { DOCUMENTED_VARIANTS, INVALID_COMBINATIONS } from "../helpers/infra/variants";

type Resources = Record<string, { Type: string; Properties?: Record<string, any> }>;

describe.each(DOCUMENTED_VARIANTS)("the $variant deployment", ({ context }) => {
  const { app, stack } = relayApp(context);
  const assembly = app.synth(); // throws on an unacknowledged cdk-nag error: the app registers the checks itself
  const template = assembly.getStackByName(stack.stackName).template as { Resources: Resources };
  const resources = Object.entries(template.Resources);
  const ofType = (type: string) => resources.filter(([, resource]) => resource.Type === type);

  it("synthesizes with nothing for cdk-nag to report", () => {
    // Act
    const report = new AwsSolutionsChecks().validateScope(app);

    // Assess
    expect(report.violations).toEqual([]);
    expect(Template.fromJSON(template).findResources("AWS::Lambda::Function")).not.toEqual({});
  });

  it("encrypts every queue, refuses plain-text access to it, and names every FIFO queue within SQS's limits", () => {
    // Prepare
    const policies = ofType("AWS::SQS::QueuePolicy");

    // Assess
    for (const [id, queue] of ofType("AWS::SQS::Queue")) {
      expect(queue.Properties?.SqsManagedSseEnabled, id).toBe(true);
      const policy = policies.find(([, candidate]) => JSON.stringify(candidate.Properties?.Queues) === JSON.stringify([{ Ref: id }]));
      expect(JSON.stringify(policy?.[1].Properties?.PolicyDocument), id).toContain('"aws:SecureTransport":"false"');
      if (queue.Properties?.FifoQueue) expect(queue.Properties.QueueName, id).toMatch(/^[A-Za-z0-9_-]{1,75}\.fifo$/);
    }
  });

  it("gives every subscription it makes a DLQ of its topic's type", () => {
    // Prepare
    const queues = Object.fromEntries(ofType("AWS::SQS::Queue"));
    const topics = Object.fromEntries(ofType("AWS::SNS::Topic"));

    // Assess
    for (const [id, subscription] of ofType("AWS::SNS::Subscription")) {
      const [deadLetterId] = subscription.Properties?.RedrivePolicy?.deadLetterTargetArn?.["Fn::GetAtt"] ?? [];
      expect(queues[deadLetterId], `${id} has a DLQ`).toBeDefined();
      const topicId = subscription.Properties?.TopicArn?.Ref as string | undefined;
      const fifoTopic = topicId ? topics[topicId]?.Properties?.FifoTopic === true : false;
      expect(queues[deadLetterId]!.Properties?.FifoQueue === true, id).toBe(fifoTopic);
    }
  });

  it("rotates every key it creates, and lets none of them be granted to anyone but AWS services", () => {
    for (const [id, key] of ofType("AWS::KMS::Key")) {
      expect(key.Properties?.EnableKeyRotation, id).toBe(true);
      expect(JSON.stringify(key.Properties?.KeyPolicy), id).toContain('"kms:GrantIsForAWSResource":"false"');
    }
  });
});

describe.each(INVALID_COMBINATIONS)("$combination", ({ context, env, option, says }) => {
  it(`is refused at synth, naming ${option}`, () => {
    // Act
    const act = () => relayApp(context, { env }).app.synth();

    // Assess
    expect(act).toThrow(InvalidContextError);
    expect(act).toThrow(`context option "${option}"`);
    expect(act).toThrow(says);
  });
});
