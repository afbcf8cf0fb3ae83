/**
 * Policy as code beside cdk-nag: AWS Control Tower's proactive controls (CloudFormation Guard rules) over the
 * template of every documented deployment. What the stack does not fix is acknowledged here, per control and
 * resource type, with the reason (the README's deploy notes quote these).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type GuardFinding, runControlTowerRules } from "../helpers/infra/cfn-guard";
import { relayApp } from "../helpers/infra/relay-stack";
import { DOCUMENTED_VARIANTS } from "../helpers/infra/variants";

interface Acknowledgement {
  control: string;
  resourceType: string;
  /** Only in deployments whose context this holds for. @default every deployment */
  when?: (context: Record<string, unknown>) => boolean;
  reason: string;
}

/** The Control Tower controls the stack deliberately does not meet, and why. */
const ACKNOWLEDGED_CONTROLS: Acknowledgement[] = [
  {
    control: "CT.LAMBDA.PR.3",
    resourceType: "AWS::Lambda::Function",
    reason:
      "No VPC: the function calls only public endpoints (the model endpoint over the internet, and AWS APIs); a VPC would add a NAT gateway or VPC endpoints and protect nothing the function reaches.",
  },
  {
    control: "CT.CLOUDWATCH.PR.1",
    resourceType: "AWS::CloudWatch::Alarm",
    when: (context) => context.alarmEmail === undefined && context.alarmTopicArn === undefined,
    reason:
      "Without alarmEmail or alarmTopicArn the alarms have no action (synth warns: tool-output-relay:noAlarmDestination); with either, every alarm notifies on ALARM and OK.",
  },
  {
    control: "CT.CLOUDWATCH.PR.2",
    resourceType: "AWS::Logs::LogGroup",
    when: (context) => Number(context.logRetentionDays ?? 30) < 365,
    reason:
      "Log retention is the context option logRetentionDays (30 days by default, for cost); the logs hold ids, sizes and reasons only. Set 365 or more to meet the control.",
  },
  {
    control: "CT.CLOUDWATCH.PR.3",
    resourceType: "AWS::Logs::LogGroup",
    reason:
      "No customer managed key for the log group: the relay never logs tool outputs or secrets (ids, sizes, reasons, timings), and CloudWatch Logs encrypts at rest with its own keys.",
  },
  {
    control: "CT.SQS.PR.1",
    resourceType: "AWS::SQS::Queue",
    reason:
      "The queues without a redrive policy are SNS subscription DLQs: dead-letter queues themselves (of the subscriptions' RedrivePolicy, which the control does not see); a DLQ of a DLQ would only move the problem. Their depth alarms.",
  },
  {
    control: "CT.S3.PR.2",
    resourceType: "AWS::S3::Bucket",
    reason:
      "No server access logs for the payload bucket: only the relay's role reads and writes it, public access is blocked and TLS required; CloudTrail data events record object access where the account enables them.",
  },
  {
    control: "CT.S3.PR.4",
    resourceType: "AWS::S3::Bucket",
    reason: "No event notifications: nothing reacts to payload objects; the relay reads them back itself.",
  },
  {
    control: "CT.S3.PR.9",
    resourceType: "AWS::S3::Bucket",
    reason: "No Object Lock: payloads are transient tool outputs that must expire after payloadExpiryDays; a lock would keep them.",
  },
  {
    control: "CT.S3.PR.11",
    resourceType: "AWS::S3::Bucket",
    reason: "No versioning: each payload object is written once and expires; old versions would only keep copies of tool outputs longer.",
  },
];

const acknowledging = (finding: GuardFinding, context: Record<string, unknown>) =>
  ACKNOWLEDGED_CONTROLS.find(
    (ack) => ack.control === finding.control && ack.resourceType === finding.resourceType && (ack.when?.(context) ?? true),
  );

describe("the Control Tower proactive controls (cfn-guard) over every documented deployment", () => {
  const contexts = Object.fromEntries(DOCUMENTED_VARIANTS.map(({ variant, context }) => [variant.replace(/[^A-Za-z0-9]+/g, "-"), context]));
  let findings: GuardFinding[];

  beforeAll(() => {
    const templates = Object.fromEntries(
      Object.entries(contexts).map(([name, context]) => {
        const { app, stack } = relayApp(context);
        return [name, app.synth().getStackByName(stack.stackName).template];
      }),
    );
    findings = runControlTowerRules(templates);
  }, 120_000);

  it("find nothing that is not acknowledged with a reason", () => {
    // Act
    const unacknowledged = findings.filter((finding) => !acknowledging(finding, contexts[finding.template]!));

    // Assess
    expect(unacknowledged).toEqual([]);
  });

  it("use every acknowledgement, so none outlives what it excuses", () => {
    // Act
    const used = new Set(findings.map((finding) => acknowledging(finding, contexts[finding.template]!)));

    // Assess
    expect(ACKNOWLEDGED_CONTROLS.filter((ack) => !used.has(ack)).map((ack) => ack.control)).toEqual([]);
    for (const ack of ACKNOWLEDGED_CONTROLS) expect(ack.reason.length).toBeGreaterThan(60);
  });

  it("are met where the stack fixed them: topic keys limit grants, alarms act once a destination is set", () => {
    // Assess: CT.KMS.PR.3 (the keys' CreateGrant deny) and CT.CLOUDWATCH.PR.1 with alarmEmail / alarmTopicArn.
    expect(findings.filter((finding) => finding.control === "CT.KMS.PR.3")).toEqual([]);
    const alerted = Object.entries(contexts).filter(([, context]) => context.alarmEmail || context.alarmTopicArn);
    expect(alerted.length).toBeGreaterThan(0);
    for (const [name] of alerted) {
      expect(findings.filter((finding) => finding.template === name && finding.control === "CT.CLOUDWATCH.PR.1")).toEqual([]);
    }
  });

  it("are really evaluated: a bucket without Block Public Access fails CT.S3.PR.1", () => {
    // Act
    const careless = runControlTowerRules({
      careless: { Resources: { Careless: { Type: "AWS::S3::Bucket", Properties: {} } as { Type: string } } },
    });

    // Assess
    expect(careless.map((finding) => finding.control)).toContain("CT.S3.PR.1");
  });
});
