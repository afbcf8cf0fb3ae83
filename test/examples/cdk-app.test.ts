/**
 * The example app (examples/cdk-app) embeds the relay construct beside resources of its own and synthesizes as
 * `cdk synth` would, cdk-nag's AWS Solutions checks on and clean.
 */
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { describe, expect, it } from "vitest";
import { createOrdersApp } from "../../examples/cdk-app/app";
import { CDK_JSON, STAND_IN_HANDLER } from "../helpers/infra/relay-stack";

function synthesize() {
  const { app, stack } = createOrdersApp({
    context: { ...CDK_JSON.context, "aws:cdk:bundling-stacks": [] },
    relayHandlerEntry: STAND_IN_HANDLER,
  });
  const assembly = app.synth(); // throws on an unacknowledged cdk-nag error
  return { app, stack, template: Template.fromJSON(assembly.getStackByName(stack.stackName).template) };
}

describe("the example app with the relay inside", () => {
  const { app, stack, template } = synthesize();

  it("synthesizes with nothing for cdk-nag to report", () => {
    // Act
    const report = new AwsSolutionsChecks().validateScope(app);

    // Assess
    expect(report.violations).toEqual([]);
  });

  it("keeps the app's own table beside the relay's, and creates no topic or queue the app brought", () => {
    // Assess: the orders table and the relay's state table; the app's two topics and nothing more.
    const tables = Object.values(template.findResources("AWS::DynamoDB::Table")).map(
      (table) => table.Properties.KeySchema[0].AttributeName,
    );
    expect(tables.sort()).toEqual(["order_id", "pk"]);
    const topics = Object.keys(template.findResources("AWS::SNS::Topic")).map((id) => ({ Ref: id }));
    expect(topics).toHaveLength(2);
    expect(topics).toContainEqual(stack.resolve(stack.relay.resultsTopic.topicArn));
    expect(topics).toContainEqual(stack.resolve(stack.relay.alarmTopic?.topicArn));
  });

  it("wires the relay to the app's topic, queue and alarm topic", () => {
    // Prepare
    const resultsTopic = stack.resolve(stack.relay.resultsTopic.topicArn);
    const variables = Object.values(template.findResources("AWS::Lambda::Function"))[0]!.Properties.Environment.Variables;

    // Assess: results go to the app's topic; the worker queue is subscribed raw, filtered on requires_action.
    expect(variables.RESULTS_TOPIC_ARN).toEqual(resultsTopic);
    expect(variables.FOLLOW_BUDGET_MS).toBe("20000");
    template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "sqs",
      TopicArn: resultsTopic,
      RawMessageDelivery: true,
      FilterPolicy: { type: ["run.requires_action", "response.requires_action", "session.requires_action"] },
    });
    const alarmActions = Object.values(template.findResources("AWS::CloudWatch::Alarm")).map((alarm) => alarm.Properties.AlarmActions);
    expect(alarmActions.length).toBeGreaterThan(4);
    for (const actions of alarmActions) expect(actions).toEqual([stack.resolve(stack.relay.alarmTopic!.topicArn)]);
    // The relay's role may encrypt with the app's topic key (SNS does it on the publisher's behalf).
    const statements = Object.values(template.findResources("AWS::IAM::Policy")).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement,
    );
    expect(JSON.stringify(statements)).toContain(JSON.stringify(stack.resolve(stack.relay.resultsTopic.masterKey?.keyArn)));
  });

  it("has the relay's dashboard", () => {
    const [dashboard] = Object.values(template.findResources("AWS::CloudWatch::Dashboard"));
    expect(JSON.stringify(dashboard)).toContain("DeadLettered");
  });
});
