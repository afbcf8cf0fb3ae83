import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { INPUT_RETENTION_SECONDS } from "../retry-window";

export interface RelayQueuesProps {
  /**
   * FIFO queues (content-based deduplication; producers use the `thread_id` as message group).
   * @default false
   */
  readonly fifo?: boolean;
  /** Receives before SQS moves a message to the DLQ. Required: the relay function is told the same number. */
  readonly maxReceiveCount: number;
  /** The consuming function's timeout: the visibility timeout is derived from it. */
  readonly functionTimeout: Duration;
  /**
   * The event source's batching window.
   * @default none (zero)
   */
  readonly batchingWindow?: Duration;
  /** Physical name of the input queue without the `.fifo` suffix. */
  readonly inputQueueName: string;
  /**
   * Physical name of the DLQ without the `.fifo` suffix, used when FIFO: a generated name plus `.fifo` can pass
   * SQS's 80 characters with long stack names. Standard DLQs keep a generated name (renaming would replace them).
   * @default `<inputQueueName>-dlq`
   */
  readonly deadLetterQueueName?: string;
}

/**
 * AWS's rule for SQS-triggered functions: a visibility timeout of at least six times the function
 * timeout plus the batching window, so a message is not redelivered while a retried invocation still holds it.
 * @example visibilityTimeoutFor(Duration.seconds(60), Duration.seconds(0)) // 360 s
 */
export function visibilityTimeoutFor(functionTimeout: Duration, batchingWindow: Duration): Duration {
  return Duration.seconds(6 * functionTimeout.toSeconds() + batchingWindow.toSeconds());
}

/**
 * The input queue that tool workers send to, and its dead-letter queue. Both are SSE-SQS encrypted (so
 * producers and SNS subscriptions need no KMS grants) and refuse requests without TLS.
 */
export class RelayQueues extends Construct {
  readonly input: sqs.Queue;
  readonly deadLetter: sqs.Queue;

  constructor(scope: Construct, id: string, props: RelayQueuesProps) {
    super(scope, id);
    const fifo = props.fifo ? { fifo: true, contentBasedDeduplication: true } : {};
    const inputQueueName = props.fifo ? `${props.inputQueueName}.fifo` : props.inputQueueName;
    const batchingWindow = props.batchingWindow ?? Duration.seconds(0);

    // The DLQ's redrive-allow policy names the input queue, and the input queue's redrive policy names the DLQ:
    // building the input queue's ARN from its fixed name breaks that reference cycle.
    const inputQueueRef = sqs.Queue.fromQueueArn(
      this,
      "InputQueueRef",
      Stack.of(this).formatArn({ service: "sqs", resource: inputQueueName }),
    );

    this.deadLetter = new sqs.Queue(this, "DeadLetterQueue", {
      ...fifo,
      ...(props.fifo ? { queueName: `${props.deadLetterQueueName ?? `${props.inputQueueName}-dlq`}.fifo` } : {}),
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.BY_QUEUE, sourceQueues: [inputQueueRef] },
      // The DLQ holds the only copy of messages that could not be delivered: never delete it with the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.input = new sqs.Queue(this, "InputQueue", {
      ...fifo,
      ...(props.fifo
        ? // High-throughput FIFO: ordering and deduplication per thread, not per queue.
          {
            deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
            fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
          }
        : {}),
      queueName: inputQueueName,
      visibilityTimeout: visibilityTimeoutFor(props.functionTimeout, batchingWindow),
      // Shorter than the DLQ's 14 days on purpose: a standard queue's message keeps its first enqueue time in the
      // DLQ, so the DLQ must keep messages longer. The context refuses retry settings that outlast this retention.
      retentionPeriod: Duration.seconds(INPUT_RETENTION_SECONDS),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetter, maxReceiveCount: props.maxReceiveCount },
    });
  }
}
