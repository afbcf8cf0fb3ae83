import { RemovalPolicy } from "aws-cdk-lib";
import * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

export interface ResultsTopicProps {
  /** A FIFO topic, to go with a FIFO input queue. */
  readonly fifo: boolean;
  /** An existing queue to subscribe, with raw message delivery. */
  readonly subscriptionQueueArn?: string;
  /** An e-mail address to subscribe (standard topics only). */
  readonly subscriptionEmail?: string;
  /** Deliver only these `type`s (for example `run.requires_action`) to the subscriptions above. */
  readonly subscriptionTypes?: readonly string[];
}

/**
 * The SNS topic the relay publishes each run's resting state to. Encrypted with its own rotating key
 * and TLS-only. Events carry `type`, `status` and `thread_id` attributes that subscribers filter on.
 */
export class ResultsTopic extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: ResultsTopicProps) {
    super(scope, id);
    this.key = new kms.Key(this, "Key", {
      description: "Encrypts the tool-output-relay results topic",
      enableKeyRotation: true,
      // SNS keeps no messages, so nothing needs this key once the topic is gone (it is scheduled for deletion).
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.topic = new sns.Topic(this, "Topic", {
      displayName: "tool-output-relay results",
      masterKey: this.key,
      enforceSSL: true,
      ...(props.fifo ? { fifo: true, contentBasedDeduplication: true } : {}),
    });

    const filterPolicy = props.subscriptionTypes
      ? { type: sns.SubscriptionFilter.stringFilter({ allowlist: [...props.subscriptionTypes] }) }
      : undefined;
    if (props.subscriptionQueueArn) {
      const queue = sqs.Queue.fromQueueArn(this, "SubscribedQueue", props.subscriptionQueueArn);
      // Raw delivery: the queue receives the results event itself, its attributes as message attributes.
      this.topic.addSubscription(new subscriptions.SqsSubscription(queue, { rawMessageDelivery: true, filterPolicy }));
    }
    if (props.subscriptionEmail) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.subscriptionEmail, { filterPolicy }));
    }
  }
}
