import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { METRICS_NAMESPACE, SERVICE_NAME } from "./relay-function";

export interface RelayAlarmsProps {
  readonly inputQueue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly function: lambda.IFunction;
  /** Alarm when the input queue's oldest message is older than this. */
  readonly oldestMessageAge: Duration;
  /** Send alarms to this existing topic. */
  readonly alarmTopicArn?: string;
  /** Send alarms to this address (through `alarmTopicArn`, or a topic created for it). */
  readonly alarmEmail?: string;
}

/**
 * The signals that something needs a human: a message reached the DLQ, the input queue is falling behind,
 * the function crashed or was throttled, the endpoint refused the relay's credentials or quota.
 * Actions go to the alarm topic, when there is one.
 */
export class RelayAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[];
  /** The topic alarms notify, when one was given or created. */
  readonly topic?: sns.ITopic;

  constructor(scope: Construct, id: string, props: RelayAlarmsProps) {
    super(scope, id);
    const oneMinute = Duration.minutes(1);
    const atLeastOnce = {
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    this.alarms = [
      new cloudwatch.Alarm(this, "DeadLetterQueueNotEmpty", {
        ...atLeastOnce,
        alarmDescription: "Messages are waiting in the relay's DLQ: read their reason, fix, re-drive.",
        metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: oneMinute, statistic: "Maximum" }),
      }),
      new cloudwatch.Alarm(this, "InputQueueFallingBehind", {
        alarmDescription: `The oldest message in the relay's input queue is older than ${props.oldestMessageAge.toSeconds()} s.`,
        metric: props.inputQueue.metricApproximateAgeOfOldestMessage({ period: oneMinute, statistic: "Maximum" }),
        threshold: props.oldestMessageAge.toSeconds(),
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, "FunctionErrors", {
        ...atLeastOnce,
        alarmDescription: "The relay function failed an invocation (a crash or timeout it could not catch).",
        metric: props.function.metricErrors({ period: oneMinute, statistic: "Sum" }),
      }),
      new cloudwatch.Alarm(this, "FunctionThrottles", {
        ...atLeastOnce,
        alarmDescription: "The relay function was throttled: raise the account's concurrency or lower maxConcurrency.",
        metric: props.function.metricThrottles({ period: oneMinute, statistic: "Sum" }),
      }),
      new cloudwatch.Alarm(this, "EndpointRefused", {
        ...atLeastOnce,
        alarmDescription:
          "The endpoint answered 401, 403 or 429 insufficient_quota: fix the credentials in the secret or the quota; messages are handed back meanwhile.",
        // Emitted by the relay (Powertools EMF), which adds its service name as the `service` dimension.
        metric: new cloudwatch.Metric({
          namespace: METRICS_NAMESPACE,
          metricName: "EndpointRefused",
          dimensionsMap: { service: SERVICE_NAME },
          period: oneMinute,
          statistic: "Sum",
        }),
      }),
    ];

    this.topic = props.alarmTopicArn
      ? sns.Topic.fromTopicArn(this, "Topic", props.alarmTopicArn)
      : props.alarmEmail
        ? this.createTopic()
        : undefined;
    if (!this.topic) return;
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    for (const alarm of this.alarms) {
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      alarm.addOkAction(new actions.SnsAction(this.topic));
    }
  }

  private createTopic(): sns.Topic {
    const account = Stack.of(this).account;
    const cloudwatchService = new iam.ServicePrincipal("cloudwatch.amazonaws.com");
    const fromThisAccount = { StringEquals: { "aws:SourceAccount": account } };
    // CloudWatch cannot publish to a topic under the AWS managed SNS key: the topic gets its own key that allows it.
    const key = new kms.Key(this, "Key", {
      description: "Encrypts the tool-output-relay alarm topic",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY, // SNS keeps no messages: nothing needs the key after the topic
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [cloudwatchService],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"], // in a key policy, "*" means this key
        conditions: fromThisAccount,
      }),
    );
    const topic = new sns.Topic(this, "Topic", { displayName: "tool-output-relay alarms", masterKey: key, enforceSSL: true });
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [cloudwatchService],
        actions: ["sns:Publish"],
        resources: [topic.topicArn],
        conditions: fromThisAccount,
      }),
    );
    return topic;
  }
}
