import { Validations } from "aws-cdk-lib";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { NotificationDeadLetterQueue } from "./notification-dead-letter-queue";
import { createTopicKey } from "./topic-key";

export interface ResultsTopicProps {
  /**
   * Publish to this topic instead of creating one (its key, if any, is granted to the relay by the function).
   * @default a topic created, encrypted with a rotating key of its own
   */
  readonly existingTopic?: sns.ITopic;
  /**
   * A queue to subscribe, with raw message delivery (as `subscriptionQueueArn`, for a queue of your app).
   * @default no queue subscription
   */
  readonly subscriptionQueue?: sqs.IQueue;
  /**
   * A FIFO topic, to go with a FIFO input queue; throughput and deduplication per message group (thread), as the
   * input queue's high-throughput mode.
   * @default false
   */
  readonly fifo?: boolean;
  /**
   * An existing queue to subscribe, with raw message delivery. A `.fifo` queue needs `fifo` (checked by the context).
   * @default no queue subscription
   */
  readonly subscriptionQueueArn?: string;
  /**
   * An e-mail address to subscribe (standard topics only).
   * @default no e-mail subscription
   */
  readonly subscriptionEmail?: string;
  /**
   * Deliver only these `type`s (for example `run.requires_action`) to the subscriptions above.
   * @default every type
   */
  readonly subscriptionTypes?: readonly string[];
  /**
   * Physical name, without `.fifo`, of the DLQ of the subscriptions when the topic is FIFO.
   * @default `ToolOutputRelay-sns-dlq`
   */
  readonly deadLetterQueueName?: string;
}

/**
 * The SNS topic the relay publishes each run's resting state to. Encrypted with its own rotating key
 * and TLS-only. Events carry `type`, `status` and `thread_id` attributes that subscribers filter on.
 * The subscriptions it makes redrive what SNS cannot deliver to a DLQ of their own.
 */
export class ResultsTopic extends Construct {
  readonly topic: sns.ITopic;
  /** The topic's key; absent for a topic brought in `existingTopic`. */
  readonly key?: kms.Key;
  /** Where SNS puts results it could not deliver to the subscriptions made here; absent without such subscriptions. */
  readonly undelivered?: NotificationDeadLetterQueue;

  constructor(scope: Construct, id: string, props: ResultsTopicProps) {
    super(scope, id);
    if (props.existingTopic) {
      this.topic = props.existingTopic;
    } else {
      this.key = createTopicKey(this, "Key", "Encrypts the tool-output-relay results topic");
      this.topic = new sns.Topic(this, "Topic", {
        displayName: "tool-output-relay results",
        masterKey: this.key,
        enforceSSL: true,
        ...(props.fifo ? { fifo: true, contentBasedDeduplication: true, fifoThroughputScope: sns.FifoThroughputScope.MESSAGE_GROUP } : {}),
      });
    }

    if (!props.subscriptionQueueArn && !props.subscriptionQueue && !props.subscriptionEmail) return;
    this.undelivered = new NotificationDeadLetterQueue(this, "Undelivered", {
      fifo: props.fifo,
      queueName: props.fifo ? (props.deadLetterQueueName ?? "ToolOutputRelay-sns-dlq") : undefined,
    });
    Validations.of(this.undelivered.queue).acknowledge({
      id: "AwsSolutions-SQS3",
      reason:
        "This queue is a dead-letter queue itself: the results subscriptions' redrive policy sends it what SNS cannot deliver; cdk-nag only recognises SQS redrive targets.",
    });
    const filterPolicy = props.subscriptionTypes
      ? { type: sns.SubscriptionFilter.stringFilter({ allowlist: [...props.subscriptionTypes] }) }
      : undefined;
    const deadLetterQueue = this.undelivered.queue;
    const queue =
      props.subscriptionQueue ??
      (props.subscriptionQueueArn ? sqs.Queue.fromQueueArn(this, "SubscribedQueue", props.subscriptionQueueArn) : undefined);
    if (queue) {
      // Raw delivery: the queue receives the results event itself, its attributes as message attributes.
      this.topic.addSubscription(new subscriptions.SqsSubscription(queue, { rawMessageDelivery: true, filterPolicy, deadLetterQueue }));
    }
    if (props.subscriptionEmail) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.subscriptionEmail, { filterPolicy, deadLetterQueue }));
    }
  }
}
