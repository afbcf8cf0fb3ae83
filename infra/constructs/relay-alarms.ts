import { ArnFormat, Duration, Stack, Validations } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { METRICS, METRICS_NAMESPACE, SERVICE_NAME } from "../../functions/submit-tool-outputs/config/names";
import { NotificationDeadLetterQueue } from "./notification-dead-letter-queue";
import { createTopicKey } from "./topic-key";

export interface RelayAlarmsProps {
  /** The relay's input queue: alarm when it falls behind. */
  readonly inputQueue: sqs.IQueue;
  /** The relay's DLQ: alarm when it holds anything. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The relay function: alarm on its errors and throttles. */
  readonly function: lambda.IFunction;
  /** The results topic: alarm when SNS fails to deliver a result to any subscription (stack-made or not). */
  readonly resultsTopic: sns.ITopic;
  /**
   * The DLQ of the results subscriptions the stack made: alarm when it holds anything.
   * @default no such alarm (the stack made no results subscription)
   */
  readonly undeliveredResults?: sqs.IQueue;
  /** Alarm when the input queue's oldest message is older than this. */
  readonly oldestMessageAge: Duration;
  /**
   * Send alarms to this existing topic (in the stack's region: CloudWatch notifies no other).
   * @default a topic created for `alarmEmail`, or none
   */
  readonly alarmTopicArn?: string;
  /**
   * Send alarms to this address (through `alarmTopicArn`, or a topic created for it).
   * @default no e-mail
   */
  readonly alarmEmail?: string;
}

/**
 * The signals that something needs a human: a message reached the DLQ, the input queue is falling behind,
 * the function crashed or was throttled, the endpoint refused the relay's credentials or quota, a result
 * could not be delivered by SNS. Actions go to the alarm topic, when there is one.
 */
export class RelayAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[];
  /** The topic alarms notify, when one was given or created. */
  readonly topic?: sns.ITopic;
  /** Where SNS puts alarm e-mails it could not deliver; present with `alarmEmail`. */
  readonly undeliveredAlarms?: NotificationDeadLetterQueue;

  constructor(scope: Construct, id: string, props: RelayAlarmsProps) {
    super(scope, id);
    const created = !props.alarmTopicArn && props.alarmEmail !== undefined;
    // The e-mail subscription is this stack's (in its account and region) even on an existing topic, so its DLQ can be too.
    if (props.alarmEmail) {
      this.undeliveredAlarms = new NotificationDeadLetterQueue(this, "Undelivered");
      Validations.of(this.undeliveredAlarms.queue).acknowledge({
        id: "AwsSolutions-SQS3",
        reason:
          "This queue is a dead-letter queue itself: the alarm e-mail subscription's redrive policy sends it what SNS cannot deliver; cdk-nag only recognises SQS redrive targets.",
      });
    }

    const oneMinute = Duration.minutes(1);
    const atLeastOnce = {
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    const holdsMessages = (queue: sqs.IQueue) =>
      queue.metricApproximateNumberOfMessagesVisible({ period: oneMinute, statistic: "Maximum" });
    this.alarms = [
      new cloudwatch.Alarm(this, "DeadLetterQueueNotEmpty", {
        ...atLeastOnce,
        alarmDescription: "Messages are waiting in the relay's DLQ: read their reason, fix, re-drive.",
        metric: holdsMessages(props.deadLetterQueue),
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
          metricName: METRICS.EndpointRefused,
          dimensionsMap: { service: SERVICE_NAME },
          period: oneMinute,
          statistic: "Sum",
        }),
      }),
      new cloudwatch.Alarm(this, "SubmissionsUnrecorded", {
        ...atLeastOnce,
        alarmDescription:
          "A Responses submission was made but the state table did not take its record before the deadline (the message was handed back): check DynamoDB's health and throttling; a copy in another execution environment may find the claim unconfirmed.",
        metric: new cloudwatch.Metric({
          namespace: METRICS_NAMESPACE,
          metricName: METRICS.SubmissionsUnrecorded,
          dimensionsMap: { service: SERVICE_NAME },
          period: oneMinute,
          statistic: "Sum",
        }),
      }),
      new cloudwatch.Alarm(this, "ResultsUndelivered", {
        ...atLeastOnce,
        alarmDescription:
          "SNS gave up delivering a result to a subscription of the results topic (a deleted queue, a queue policy or key that refuses SNS): fix the subscriber; results with a subscription DLQ wait there.",
        metric: props.resultsTopic.metricNumberOfNotificationsFailed({ period: oneMinute, statistic: "Sum" }),
      }),
      ...(props.undeliveredResults
        ? [
            new cloudwatch.Alarm(this, "UndeliveredResultsWaiting", {
              ...atLeastOnce,
              alarmDescription:
                "Results SNS could not deliver to the stack's subscriptions are waiting in their DLQ: fix the subscriber, re-drive.",
              metric: holdsMessages(props.undeliveredResults),
            }),
          ]
        : []),
      ...(this.undeliveredAlarms
        ? [
            new cloudwatch.Alarm(this, "UndeliveredAlarmsWaiting", {
              ...atLeastOnce,
              alarmDescription: "Alarm e-mails SNS could not deliver are waiting in their DLQ: check the alarm e-mail address.",
              metric: holdsMessages(this.undeliveredAlarms.queue),
            }),
          ]
        : []),
    ];

    this.topic = props.alarmTopicArn
      ? sns.Topic.fromTopicArn(this, "Topic", props.alarmTopicArn)
      : created
        ? this.createTopic()
        : undefined;
    if (!this.topic) return;
    if (props.alarmEmail) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail, { deadLetterQueue: this.undeliveredAlarms?.queue }));
    }
    for (const alarm of this.alarms) {
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      alarm.addOkAction(new actions.SnsAction(this.topic));
    }
  }

  private createTopic(): sns.Topic {
    const stack = Stack.of(this);
    const cloudwatchService = new iam.ServicePrincipal("cloudwatch.amazonaws.com");
    // CloudWatch cannot publish to a topic under the AWS managed SNS key: the topic gets its own key that allows it.
    const key = createTopicKey(this, "Key", "Encrypts the tool-output-relay alarm topic");
    // AWS's published key policy statement for alarm topics, without conditions: the KMS requests CloudWatch makes
    // for an alarm need not carry aws:SourceAccount / aws:SourceArn, and a condition on them would silently drop every
    // notification. Only this topic uses the key, and the topic policy below admits only this account's alarms.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "AllowCloudWatchAlarms",
        principals: [cloudwatchService],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"], // in a key policy, "*" means this key
      }),
    );
    const topic = new sns.Topic(this, "Topic", { displayName: "tool-output-relay alarms", masterKey: key, enforceSSL: true });
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "AllowCloudWatchAlarmsOfThisAccount",
        principals: [cloudwatchService],
        actions: ["sns:Publish"],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { "aws:SourceAccount": stack.account },
          ArnLike: {
            "aws:SourceArn": stack.formatArn({
              service: "cloudwatch",
              resource: "alarm",
              resourceName: "*",
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    return topic;
  }
}
