import { Validations } from "aws-cdk-lib";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { describe, expect, it } from "vitest";
import { IMPORTED_SECRET_ARN, relayApp } from "../helpers/infra/relay-stack";

// Every documented deployment is checked in synth-matrix.test.ts; here, that the checks run and what they acknowledge.
describe("cdk-nag AwsSolutionsChecks on the app", () => {
  it("is registered by the app, so a non-compliant resource fails synth", () => {
    // Prepare
    const { app, stack } = relayApp();
    new sqs.Queue(stack, "Careless", { encryption: sqs.QueueEncryption.UNENCRYPTED });

    // Act
    const act = () => app.synth();

    // Assess
    expect(act).toThrow(/AwsSolutions-SQS4/);
  });

  it.each([
    {
      variant: "defaults",
      context: {},
      expected: [
        "AwsSolutions-IAM5[Resource::*] at ToolOutputRelay/Default/Relay/Role",
        "AwsSolutions-IAM5[Resource::<PayloadsBucket1715615A.Arn>/*] at ToolOutputRelay/Default/Relay/Role",
        "AwsSolutions-S1 at ToolOutputRelay/Default/Payloads/Bucket",
        "AwsSolutions-SMG4 at ToolOutputRelay/Default/EndpointSecret/Secret",
      ],
    },
    {
      variant: "with subscription DLQs",
      context: { secretArn: IMPORTED_SECRET_ARN, resultsSubscriptionEmail: "dev@example.com", alarmEmail: "ops@example.com" },
      expected: [
        "AwsSolutions-IAM5[Resource::*] at ToolOutputRelay/Default/Relay/Role",
        "AwsSolutions-IAM5[Resource::<PayloadsBucket1715615A.Arn>/*] at ToolOutputRelay/Default/Relay/Role",
        "AwsSolutions-S1 at ToolOutputRelay/Default/Payloads/Bucket",
        "AwsSolutions-SQS3 at ToolOutputRelay/Default/Alarms/Undelivered/Queue",
        "AwsSolutions-SQS3 at ToolOutputRelay/Default/Results/Undelivered/Queue",
      ],
    },
  ])("has acknowledgements that each name one rule and a real reason ($variant)", ({ context, expected }) => {
    // Prepare
    const { app } = relayApp(context);

    // Act
    const acknowledgements = app.node.findAll().flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
        .map(([rule, reason]) => ({ at: construct.node.path, rule: rule.replace(/^Annotation::/, ""), reason })),
    );

    // Assess
    expect(acknowledgements.map(({ at, rule }) => `${rule} at ${at}`).sort()).toEqual(expected);
    for (const { reason } of acknowledgements) expect(reason.length).toBeGreaterThan(60);
  });
});
