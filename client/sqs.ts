import { createHash } from "node:crypto";
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type ReceiveMessageCommandOutput,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { AnswerSink, EventDelivery, EventSource } from "./worker";

export interface SqsEventSourceOptions {
  sqs: SQSClient;
  /** The worker queue subscribed to the results topic (`subscribeWorkerQueue`). */
  queueUrl: string;
  /** Long-poll wait. @default 20 (SQS's longest) */
  waitTimeSeconds?: number;
  /** Messages per receive. @default 10 */
  maxMessages?: number;
  /**
   * How long a received event stays hidden from other replicas while it is answered; it comes back after this if
   * the answer could not be sent. Longer than your slowest tool.
   * @default the queue's own visibility timeout
   */
  visibilityTimeoutSeconds?: number;
}

/**
 * Events from an SQS queue subscribed to the results topic; a delivery's `ack` deletes its message. Replicas of a
 * worker share one queue: SQS hands each message to one of them.
 * @example sqsEventSource({ sqs: new SQSClient({}), queueUrl: process.env.WORKER_QUEUE_URL! })
 */
export function sqsEventSource(options: SqsEventSourceOptions): EventSource {
  return {
    async receive(signal) {
      if (signal.aborted) return [];
      // The long poll is not aborted on stop: messages SQS hands to an aborted request stay invisible for the
      // visibility timeout. A stop waits for it (at most waitTimeSeconds) and answers what it brings.
      const received: ReceiveMessageCommandOutput = await options.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: options.maxMessages ?? 10,
          WaitTimeSeconds: options.waitTimeSeconds ?? 20,
          ...(options.visibilityTimeoutSeconds !== undefined ? { VisibilityTimeout: options.visibilityTimeoutSeconds } : {}),
        }),
      );
      return (received.Messages ?? []).map(
        (message): EventDelivery => ({
          body: message.Body ?? "",
          ack: async () => {
            await options.sqs.send(new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: message.ReceiptHandle }));
          },
        }),
      );
    },
  };
}

export interface SqsAnswerSinkOptions {
  sqs: SQSClient;
  /** The relay's input queue (the stack's `InputQueueUrl` output). */
  queueUrl: string;
}

/**
 * Answers to the relay's input queue. A FIFO queue (`.fifo`) gets the thread, conversation, response or session as
 * message group, and the body's hash as deduplication id (so a resend within SQS's 5 minutes is dropped by SQS too).
 */
export function sqsAnswerSink(options: SqsAnswerSinkOptions): AnswerSink {
  const fifo = options.queueUrl.endsWith(".fifo");
  return {
    async send(body, messageGroupId) {
      const sent = await options.sqs.send(
        new SendMessageCommand({
          QueueUrl: options.queueUrl,
          MessageBody: body,
          ...(fifo ? { MessageGroupId: messageGroupId, MessageDeduplicationId: createHash("sha256").update(body).digest("hex") } : {}),
        }),
      );
      return sent.MessageId ?? "";
    },
  };
}
