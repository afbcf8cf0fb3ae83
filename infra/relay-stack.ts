import { Annotations, CfnOutput, Duration, Stack, type StackProps } from "aws-cdk-lib";
import type * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { EndpointSecret } from "./constructs/endpoint-secret";
import { PayloadBucket } from "./constructs/payload-bucket";
import { RelayAlarms } from "./constructs/relay-alarms";
import { RelayFunction } from "./constructs/relay-function";
import { RelayQueues } from "./constructs/relay-queues";
import { ResultsTopic } from "./constructs/results-topic";
import { StateTable } from "./constructs/state-table";
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

/**
 * Everything the relay needs on AWS: tool workers send to the input queue, the relay function submits
 * and follows each run, results go to the topic, and whatever cannot be delivered ends in the DLQ.
 */
export class RelayStack extends Stack {
  readonly queues: RelayQueues;
  readonly results: ResultsTopic;
  readonly endpointSecret: EndpointSecret;
  readonly stateTable: StateTable;
  readonly payloadBucket: PayloadBucket;
  readonly relay: RelayFunction;
  readonly alarms: RelayAlarms;

  constructor(scope: Construct, id: string, props: RelayStackProps) {
    super(scope, id, {
      description: "tool-output-relay: SQS tool outputs → the model's API (each dialect's endpoint) → SNS results",
      ...props,
    });
    const { config } = props;
    const functionTimeout = Duration.seconds(config.functionTimeoutSeconds);
    const batchingWindow = Duration.seconds(config.batchingWindowSeconds);

    this.queues = new RelayQueues(this, "Queues", {
      fifo: config.fifo,
      maxReceiveCount: config.maxReceiveCount,
      functionTimeout,
      batchingWindow,
      inputQueueName: `${this.stackName}-input`,
      deadLetterQueueName: `${this.stackName}-dlq`,
    });
    this.results = new ResultsTopic(this, "Results", {
      fifo: config.fifo,
      subscriptionQueueArn: config.resultsSubscriptionQueueArn,
      subscriptionEmail: config.resultsSubscriptionEmail,
      subscriptionTypes: config.resultsSubscriptionTypes,
      deadLetterQueueName: `${this.stackName}-sns-dlq`,
    });
    this.endpointSecret = new EndpointSecret(this, "EndpointSecret", {
      secretArn: config.secretArn,
      kmsKeyArn: config.secretKmsKeyArn,
    });
    this.stateTable = new StateTable(this, "State");
    this.payloadBucket = new PayloadBucket(this, "Payloads", { expiryDays: config.payloadExpiryDays });
    this.relay = new RelayFunction(this, "Relay", {
      inputQueue: this.queues.input,
      deadLetterQueue: this.queues.deadLetter,
      resultsTopic: this.results.topic,
      endpointSecret: this.endpointSecret,
      stateTable: this.stateTable,
      payloadBucket: this.payloadBucket,
      endpointBaseUrl: config.endpointBaseUrl,
      responsesBaseUrl: config.responsesBaseUrl,
      endpointApiVersion: config.endpointApiVersion,
      responsesApiVersion: config.responsesApiVersion,
      maxReceiveCount: config.maxReceiveCount,
      timeout: functionTimeout,
      memorySize: config.functionMemoryMb,
      batchSize: config.batchSize,
      batchingWindow,
      maxConcurrency: config.maxConcurrency,
      logRetention: config.logRetentionDays as logs.RetentionDays,
      logLevel: config.logLevel,
      tuning: config.relayTuning,
      entry: props.handlerEntry,
    });
    this.alarms = new RelayAlarms(this, "Alarms", {
      inputQueue: this.queues.input,
      deadLetterQueue: this.queues.deadLetter,
      function: this.relay.function,
      resultsTopic: this.results.topic,
      undeliveredResults: this.results.undelivered?.queue,
      oldestMessageAge: Duration.seconds(config.oldestMessageAlarmSeconds),
      alarmTopicArn: config.alarmTopicArn,
      alarmEmail: config.alarmEmail,
    });
    if (config.alarmTopicArn) {
      requireSameRegion(this, {
        option: "alarmTopicArn",
        arn: config.alarmTopicArn,
        because: "CloudWatch alarms can notify only a topic in their own region",
        ruleId: "AlarmTopicInStackRegion",
      });
    }
    if (!this.alarms.topic) {
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
      value: this.queues.input.queueUrl,
    });
    new CfnOutput(this, "DeadLetterQueueUrl", {
      description: "Messages that could not be delivered, each with its reason",
      value: this.queues.deadLetter.queueUrl,
    });
    new CfnOutput(this, "ResultsTopicArn", {
      description: "Run results (run.requires_action, run.completed, …); filter on the type attribute",
      value: this.results.topic.topicArn,
    });
    new CfnOutput(this, "EndpointSecretArn", {
      description: this.endpointSecret.created
        ? "Put the endpoint credentials here after deploy (see README, Deploy to AWS)"
        : "The imported endpoint credentials",
      value: this.endpointSecret.secret.secretArn,
    });
    new CfnOutput(this, "StateTableName", {
      description: "The relay's state: exactly-once claims of the Responses API, collected outputs",
      value: this.stateTable.table.tableName,
    });
    new CfnOutput(this, "PayloadBucketName", {
      description: `Outputs too large for the state table while they are collected (expire after ${config.payloadExpiryDays} days)`,
      value: this.payloadBucket.bucket.bucketName,
    });
    if (this.results.undelivered) {
      new CfnOutput(this, "UndeliveredResultsQueueUrl", {
        description: "Results SNS could not deliver to the subscriptions this stack made",
        value: this.results.undelivered.queue.queueUrl,
      });
    }
    new CfnOutput(this, "RelayFunctionName", {
      description: "The relay function",
      value: this.relay.function.functionName,
    });
    new CfnOutput(this, "RelayLogGroupName", {
      description: "The relay's JSON logs: aws logs tail <name> --follow",
      value: this.relay.logGroup.logGroupName,
    });
  }
}
