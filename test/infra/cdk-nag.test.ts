import { Validations } from "aws-cdk-lib";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { AwsSolutionsChecks } from "cdk-nag";
import { describe, expect, it } from "vitest";
import { IMPORTED_SECRET_ARN, relayApp, SECRET_KEY_ARN } from "./helpers/relay-stack";

const VARIANTS = [
  { variant: "defaults", context: {} },
  {
    variant: "FIFO, imported secret with its key, queue subscription, created alarm topic",
    context: {
      fifo: true,
      secretArn: IMPORTED_SECRET_ARN,
      secretKmsKeyArn: SECRET_KEY_ARN,
      resultsSubscriptionQueueArn: "arn:aws:sqs:eu-west-1:123456789012:run-results.fifo",
      resultsSubscriptionTypes: "run.requires_action",
      alarmEmail: "ops@example.com",
    },
  },
  {
    variant: "standard, e-mail subscription, existing alarm topic, batching window",
    context: {
      resultsSubscriptionEmail: "dev@example.com",
      alarmTopicArn: "arn:aws:sns:eu-west-1:123456789012:ops-alarms",
      batchSize: 100,
      batchingWindowSeconds: 5,
    },
  },
];

describe("cdk-nag AwsSolutionsChecks on the app", () => {
  it.each(VARIANTS)("finds nothing unacknowledged, errors or warnings ($variant)", ({ context }) => {
    // Prepare
    const { app } = relayApp(context);

    // Act
    const report = new AwsSolutionsChecks().validateScope(app);
    const assembly = app.synth(); // throws on an unacknowledged error: the app registers the checks itself

    // Assess
    expect(report.violations).toEqual([]);
    expect(assembly.stacks).toHaveLength(1);
  });

  it("is registered by the app, so a non-compliant resource fails synth", () => {
    // Prepare
    const { app, stack } = relayApp();
    new sqs.Queue(stack, "Careless", { encryption: sqs.QueueEncryption.UNENCRYPTED });

    // Act
    const act = () => app.synth();

    // Assess
    expect(act).toThrow(/AwsSolutions-SQS4/);
  });

  it("has acknowledgements that each name one rule and a real reason", () => {
    // Prepare
    const { app } = relayApp();

    // Act
    const acknowledgements = app.node.findAll().flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
        .map(([rule, reason]) => ({ at: construct.node.path, rule: rule.replace(/^Annotation::/, ""), reason })),
    );

    // Assess
    expect(acknowledgements.map(({ at, rule }) => `${rule} at ${at}`).sort()).toEqual([
      "AwsSolutions-IAM5[Resource::*] at ToolOutputRelay/Relay/Role",
      "AwsSolutions-IAM5[Resource::<PayloadsBucket1715615A.Arn>/*] at ToolOutputRelay/Relay/Role",
      "AwsSolutions-S1 at ToolOutputRelay/Payloads/Bucket",
      "AwsSolutions-SMG4 at ToolOutputRelay/EndpointSecret/Secret",
    ]);
    for (const { reason } of acknowledgements) expect(reason.length).toBeGreaterThan(60);
  });
});
