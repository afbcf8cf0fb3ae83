import { type SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { GetQueueAttributesCommand, SetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { REQUIRES_ACTION_TYPES } from "./events";

export interface WorkerSubscription {
  sns: SNSClient;
  sqs: SQSClient;
  /** The relay's results topic (the stack's `ResultsTopicArn` output). */
  topicArn: string;
  /** The worker's own queue. Replicas of one worker share it; each kind of worker (fleet) has its own. */
  queueUrl: string;
  /** Event types to deliver. @default every `*.requires_action` type */
  types?: readonly string[];
  /**
   * Only events that ask for at least one of these tools (the `tool_names` attribute), for a fleet per tool.
   * Pair it with `collect: true` in the worker, so each fleet answers its own calls of a turn.
   * @default every tool
   */
  toolNames?: readonly string[];
}

/** The filter policy of a worker's subscription: by `type`, and by `tool_names` when given. */
export function workerFilterPolicy(options: Pick<WorkerSubscription, "types" | "toolNames">): Record<string, string[]> {
  return {
    type: [...(options.types ?? REQUIRES_ACTION_TYPES)],
    ...(options.toolNames && options.toolNames.length > 0 ? { tool_names: [...options.toolNames] } : {}),
  };
}

/**
 * Subscribes a worker's queue to the results topic as a worker needs it: raw message delivery (the queue gets the
 * event itself), filtered on `*.requires_action`, and a queue policy statement that lets this topic send to the queue
 * (added beside any statements the policy has). Idempotent: SNS returns the existing subscription for the same
 * queue and attributes. With CDK, `ToolOutputRelay`'s `resultsSubscriptionQueue` does the same at deploy.
 * @example const { subscriptionArn } = await subscribeWorkerQueue({ sns, sqs, topicArn, queueUrl });
 */
export async function subscribeWorkerQueue(options: WorkerSubscription): Promise<{ subscriptionArn: string; queueArn: string }> {
  const { Attributes: attributes = {} } = await options.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: options.queueUrl, AttributeNames: ["QueueArn", "Policy"] }),
  );
  const queueArn = attributes.QueueArn;
  if (!queueArn) throw new Error(`subscribeWorkerQueue: no QueueArn for ${options.queueUrl}`);
  const sid = `ToolOutputRelayResults${createSidSuffix(options.topicArn)}`;
  const policy: { Statement?: unknown[] } = attributes.Policy ? JSON.parse(attributes.Policy) : {};
  const statements = (policy.Statement ?? []).filter((statement) => (statement as { Sid?: string }).Sid !== sid);
  statements.push({
    Sid: sid,
    Effect: "Allow",
    Principal: { Service: "sns.amazonaws.com" },
    Action: "sqs:SendMessage",
    Resource: queueArn,
    Condition: { ArnEquals: { "aws:SourceArn": options.topicArn } },
  });
  await options.sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: options.queueUrl,
      Attributes: { Policy: JSON.stringify({ Version: "2012-10-17", ...policy, Statement: statements }) },
    }),
  );
  const subscribed = await options.sns.send(
    new SubscribeCommand({
      TopicArn: options.topicArn,
      Protocol: "sqs",
      Endpoint: queueArn,
      Attributes: { RawMessageDelivery: "true", FilterPolicy: JSON.stringify(workerFilterPolicy(options)) },
      ReturnSubscriptionArn: true,
    }),
  );
  return { subscriptionArn: subscribed.SubscriptionArn ?? "", queueArn };
}

/** A statement id per topic (letters and digits only), so one queue may be subscribed to several relays. */
function createSidSuffix(topicArn: string): string {
  return topicArn.replace(/[^A-Za-z0-9]/g, "").slice(-40);
}
