import { CfnOutput, Duration, Stack, type StackProps } from "aws-cdk-lib";
import type * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { EndpointSecret } from "./constructs/endpoint-secret";
import { RelayAlarms } from "./constructs/relay-alarms";
import { RelayFunction } from "./constructs/relay-function";
import { RelayQueues } from "./constructs/relay-queues";
import { ResultsTopic } from "./constructs/results-topic";
import type { RelayConfig } from "./context";

export interface RelayStackProps extends StackProps {
  /** The validated context options (see `parseContext`). */
  readonly config: RelayConfig;
  /** The handler to bundle; defaults to the relay in functions/. */
  readonly handlerEntry?: string;
}

/**
 * Everything the relay needs on AWS: tool workers send to the input queue, the relay function submits
 * and follows each run, results go to the topic, and whatever cannot be delivered ends in the DLQ.
 */
export class RelayStack extends Stack {
  readonly queues: RelayQueues;
  readonly results: ResultsTopic;
  readonly endpointSecret: EndpointSecret;
  readonly relay: RelayFunction;
  readonly alarms: RelayAlarms;

  constructor(scope: Construct, id: string, props: RelayStackProps) {
    super(scope, id, {
      description: "tool-output-relay: SQS tool outputs → Assistants endpoint → SNS run results",
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
    });
    this.results = new ResultsTopic(this, "Results", {
      fifo: config.fifo,
      subscriptionQueueArn: config.resultsSubscriptionQueueArn,
      subscriptionEmail: config.resultsSubscriptionEmail,
      subscriptionTypes: config.resultsSubscriptionTypes,
    });
    this.endpointSecret = new EndpointSecret(this, "EndpointSecret", {
      secretArn: config.secretArn,
      kmsKeyArn: config.secretKmsKeyArn,
    });
    this.relay = new RelayFunction(this, "Relay", {
      inputQueue: this.queues.input,
      deadLetterQueue: this.queues.deadLetter,
      resultsTopic: this.results.topic,
      endpointSecret: this.endpointSecret,
      endpointBaseUrl: config.endpointBaseUrl,
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
      oldestMessageAge: Duration.seconds(config.oldestMessageAlarmSeconds),
      alarmTopicArn: config.alarmTopicArn,
      alarmEmail: config.alarmEmail,
    });

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
