import { Token } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { afterEach, describe, expect, it } from "vitest";
import { createRelayApp } from "../../infra/app";
import { InvalidContextError } from "../../infra/context";
import { CDK_JSON, relayTemplate, STAND_IN_HANDLER } from "../helpers/infra/relay-stack";

const ALARM_TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:ops-alarms";
const REGION = /\b[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d\b/;

/** Every string in the template that names a region or this account, with where it is. */
function pinnedStrings(template: Record<string, unknown>, account: string): string[] {
  const found: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (typeof value === "string") {
      if (REGION.test(value) || value.includes(account)) found.push(`${path}: ${value}`);
    } else if (value && typeof value === "object") {
      for (const [key, inner] of Object.entries(value)) walk(inner, `${path}/${key}`);
    }
  };
  // CDK's metadata condition lists the regions that have the metadata resource; it pins nothing.
  const { CDKMetadataAvailable: _, ...conditions } = (template.Conditions ?? {}) as Record<string, unknown>;
  walk({ ...template, Conditions: conditions }, "");
  return found;
}

function synthesize(context: Record<string, unknown>, env?: { account?: string; region?: string }) {
  return createRelayApp({
    context: { ...CDK_JSON.context, "aws:cdk:bundling-stacks": [], ...context },
    builtinCloudFormationValidation: false,
    handlerEntry: STAND_IN_HANDLER,
    env,
  });
}

describe("the app's environment", () => {
  const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  afterEach(() => {
    for (const [name, value] of [
      ["CDK_DEFAULT_ACCOUNT", saved.account],
      ["CDK_DEFAULT_REGION", saved.region],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it("is agnostic by default, even when the CLI sets a default account and region (as it does without credentials)", () => {
    // Prepare: what `cdk synth` sets; without credentials the region falls back to us-east-1.
    process.env.CDK_DEFAULT_ACCOUNT = "210987654321";
    process.env.CDK_DEFAULT_REGION = "us-east-1";

    // Act
    const { stack } = synthesize({});
    const template = Template.fromStack(stack).toJSON();

    // Assess
    expect(Token.isUnresolved(stack.region)).toBe(true);
    expect(Token.isUnresolved(stack.account)).toBe(true);
    expect(pinnedStrings(template, "210987654321")).toEqual([]);
  });

  it("stays agnostic with a created alarm topic, FIFO queues and subscription DLQs", () => {
    // Act
    const template = relayTemplate({ fifo: true, alarmEmail: "ops@example.com" }).toJSON();

    // Assess
    expect(pinnedStrings(template, "123456789012")).toEqual([]);
  });
});

describe("an alarm topic in another region", () => {
  it("is refused at synth, naming alarmTopicArn, when the stack's region is known", () => {
    // Act
    const act = () => synthesize({ alarmTopicArn: ALARM_TOPIC_ARN }, { region: "us-east-1" });

    // Assess
    expect(act).toThrow(InvalidContextError);
    expect(act).toThrow(
      'context option "alarmTopicArn" names a resource in eu-west-1, but CloudWatch alarms can notify only a topic in their own region (the stack deploys to us-east-1)',
    );
  });

  it("is accepted at synth when the regions match, with no template rule", () => {
    // Act
    const template = Template.fromStack(synthesize({ alarmTopicArn: ALARM_TOPIC_ARN }, { region: "eu-west-1" }).stack);

    // Assess
    expect(template.toJSON().Rules?.AlarmTopicInStackRegion).toBeUndefined();
  });

  it("is refused by a template rule before CloudFormation creates anything, when the stack is environment-agnostic", () => {
    // Act
    const rules = relayTemplate({ alarmTopicArn: ALARM_TOPIC_ARN }).toJSON().Rules;

    // Assess
    expect(rules.AlarmTopicInStackRegion).toEqual({
      Assertions: [
        {
          Assert: { "Fn::Equals": [{ Ref: "AWS::Region" }, "eu-west-1"] },
          AssertDescription:
            'context option "alarmTopicArn" names a resource in eu-west-1, but CloudWatch alarms can notify only a topic in their own region: deploy the stack to eu-west-1',
        },
      ],
    });
  });

  it("needs no rule when no alarm topic is given", () => {
    expect(relayTemplate({ alarmEmail: "ops@example.com" }).toJSON().Rules?.AlarmTopicInStackRegion).toBeUndefined();
  });
});
