import { Annotations, CfnOutput, Duration, Stack, type StackProps } from "aws-cdk-lib";
import * as kms from "aws-cdk-lib/aws-kms";
import type * as logs from "aws-cdk-lib/aws-logs";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as sns from "aws-cdk-lib/aws-sns";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { ToolOutputRelay } from "./constructs/tool-output-relay";
import type { RelayContext } from "./context";
import { requireSameRegion } from "./region-rule";

export interface RelayStackProps extends StackProps {
  /** The validated context options (see `parseContext`). */
  readonly config: RelayContext;
  /**
   * The handler to bundle.
   * @default the relay in functions/
   */
  readonly handlerEntry?: string;
}

/** The id of the synth warning when no alarm reaches anyone. */
export const NO_ALARM_DESTINATION_WARNING = "tool-output-relay:noAlarmDestination";

/** A complete secret ARN ends in `-` and the 6 characters Secrets Manager appends. */
const COMPLETE_SECRET_ARN = /-[A-Za-z0-9]{6}$/;

/**
 * The relay as its own stack, configured by CDK context options (`-c fifo=true`, cdk.json): a thin user of the
 * `ToolOutputRelay` construct that turns the options' ARNs into CDK objects and adds the stack's outputs.
 */
export class RelayStack extends Stack {
  readonly relay: ToolOutputRelay;

  constructor(scope: Construct, id: string, props: RelayStackProps) {
    super(scope, id, {
      description: "tool-output-relay: SQS tool outputs → the model's API (each dialect's endpoint) → SNS results",
      ...props,
    });
    const { config } = props;
    // What the options import is placed where it was before the construct existed (the construct sits at "Default",
    // which CDK leaves out of logical ids): subscriptions keep their logical ids, so an e-mail address need not
    // confirm again after an upgrade.
    const importedScope = (scopeId: string) => new Construct(this, scopeId);
    const secretImport = importedScope("EndpointSecret");
    this.relay = new ToolOutputRelay(this, "Default", {
      fifo: config.fifo,
      maxReceiveCount: config.maxReceiveCount,
      queueNamePrefix: this.stackName,
      existingEndpointSecret: config.secretArn
        ? secretsmanager.Secret.fromSecretAttributes(secretImport, "Secret", {
            ...(COMPLETE_SECRET_ARN.test(config.secretArn)
              ? { secretCompleteArn: config.secretArn }
              : { secretPartialArn: config.secretArn }),
            encryptionKey: config.secretKmsKeyArn ? kms.Key.fromKeyArn(secretImport, "Key", config.secretKmsKeyArn) : undefined,
          })
        : undefined,
      existingAlarmTopic: config.alarmTopicArn ? sns.Topic.fromTopicArn(importedScope("Alarms"), "Topic", config.alarmTopicArn) : undefined,
      resultsSubscriptionQueue: config.resultsSubscriptionQueueArn
        ? sqs.Queue.fromQueueArn(importedScope("Results"), "SubscribedQueue", config.resultsSubscriptionQueueArn)
        : undefined,
      resultsSubscriptionEmail: config.resultsSubscriptionEmail,
      resultsSubscriptionTypes: config.resultsSubscriptionTypes,
      // undefined only when responsesBaseUrl selects Amazon Bedrock alone (context.ts): no Assistants endpoint, no secret.
      endpointBaseUrl: config.endpointBaseUrl ?? null,
      responsesBaseUrl: config.responsesBaseUrl,
      bedrockModels: config.bedrockModels,
      agentsBaseUrl: config.agentsBaseUrl,
      endpointApiVersion: config.endpointApiVersion,
      responsesApiVersion: config.responsesApiVersion,
      timeout: Duration.seconds(config.functionTimeoutSeconds),
      memorySize: config.functionMemoryMb,
      batchSize: config.batchSize,
      batchingWindow: Duration.seconds(config.batchingWindowSeconds),
      maxConcurrency: config.maxConcurrency,
      logRetention: config.logRetentionDays as logs.RetentionDays,
      logLevel: config.logLevel,
      tuning: config.relayTuning,
      payloadExpiry: Duration.days(config.payloadExpiryDays),
      oldestMessageAlarmAge: Duration.seconds(config.oldestMessageAlarmSeconds),
      alarmEmail: config.alarmEmail,
      dashboardName: `${this.stackName}-relay`,
      handlerEntry: props.handlerEntry,
    });
    const relay = this.relay;
    if (config.alarmTopicArn) {
      requireSameRegion(this, {
        option: "alarmTopicArn",
        arn: config.alarmTopicArn,
        because: "CloudWatch alarms can notify only a topic in their own region",
        ruleId: "AlarmTopicInStackRegion",
      });
    }
    if (!relay.alarmTopic) {
      Annotations.of(this).addWarningV2(
        NO_ALARM_DESTINATION_WARNING,
        "No alarm reaches anyone: set context option alarmEmail (or alarmTopicArn) so that DLQ records, crashes and " +
          "refused credentials notify someone. The alarms exist either way and show in the CloudWatch console.",
      );
    }

    new CfnOutput(this, "InputQueueUrl", {
      description: config.fifo
        ? "Send tool outputs here, with the thread_id as message group id (FIFO; content-based deduplication)"
        : "Send tool outputs here",
      value: relay.inputQueue.queueUrl,
    });
    new CfnOutput(this, "DeadLetterQueueUrl", {
      description: "Messages that could not be delivered, each with its reason",
      value: relay.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, "ResultsTopicArn", {
      description: "Run results (run.requires_action, run.completed, …); filter on the type attribute",
      value: relay.resultsTopic.topicArn,
    });
    if (relay.endpointSecret) {
      new CfnOutput(this, "EndpointSecretArn", {
        description: relay.endpointSecretCreated
          ? "Put the endpoint credentials here after deploy (see README, Deploy to AWS)"
          : "The imported endpoint credentials",
        value: relay.endpointSecret.secretArn,
      });
    }
    new CfnOutput(this, "StateTableName", {
      description: "The relay's state: exactly-once claims of the Responses API, collected outputs",
      value: relay.stateTable.tableName,
    });
    new CfnOutput(this, "PayloadBucketName", {
      description: `Outputs too large for the state table while they are collected (expire after ${config.payloadExpiryDays} days)`,
      value: relay.payloadBucket.bucketName,
    });
    if (relay.parts.results.undelivered) {
      new CfnOutput(this, "UndeliveredResultsQueueUrl", {
        description: "Results SNS could not deliver to the subscriptions this stack made",
        value: relay.parts.results.undelivered.queue.queueUrl,
      });
    }
    new CfnOutput(this, "RelayFunctionName", {
      description: "The relay function",
      value: relay.relayFunction.functionName,
    });
    new CfnOutput(this, "RelayLogGroupName", {
      description: "The relay's JSON logs: aws logs tail <name> --follow",
      value: relay.logGroup.logGroupName,
    });
  }
}
