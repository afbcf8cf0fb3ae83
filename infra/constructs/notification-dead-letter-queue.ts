import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

export interface NotificationDeadLetterQueueProps {
  /**
   * A FIFO queue, for the subscriptions of a FIFO topic (SNS requires the DLQ to be of the topic's type).
   * @default false
   */
  readonly fifo?: boolean;
  /**
   * Physical name without the `.fifo` suffix. FIFO queues need one: a generated name plus `.fifo` can pass SQS's
   * 80 characters with long stack names.
   * @default a name CloudFormation generates (standard queues only)
   */
  readonly queueName?: string;
}

/**
 * Where SNS puts what it could not deliver to a subscription after its retries (the subscription's redrive
 * policy), instead of dropping it. SSE-SQS encrypted (SNS can write to it without KMS permissions), TLS-only,
 * kept 14 days and kept when the stack is deleted: it may hold the only copy of a result.
 */
export class NotificationDeadLetterQueue extends Construct {
  readonly queue: sqs.Queue;

  constructor(scope: Construct, id: string, props: NotificationDeadLetterQueueProps = {}) {
    super(scope, id);
    if (props.fifo && !props.queueName) throw new Error("a FIFO notification DLQ needs a queueName");
    this.queue = new sqs.Queue(this, "Queue", {
      ...(props.fifo ? { fifo: true, queueName: `${props.queueName}.fifo` } : { queueName: props.queueName }),
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
