import { createHash, randomUUID } from "node:crypto";
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { ChangeMessageVisibilityCommand, type MessageAttributeValue, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import type { CollectCheck } from "./collect/check-message";
import { type DlqRecord, dlqMessage } from "./dlq-record";
import type { FollowUp } from "./outcome";
import { type ResultsEvent, resultAttributes, resultGroupOf } from "./results-event";

/**
 * Where outcomes go: the I/O edge of the relay, passed in so tests and the local stack can point it
 * anywhere. Each call ends when `signal` aborts (the invocation's cutoff).
 */
export interface RelaySinks {
  publishResult(event: ResultsEvent, signal?: AbortSignal): Promise<void>;
  writeDeadLetter(record: DlqRecord, source: MessageSource, signal?: AbortSignal): Promise<void>;
  enqueueWatch(message: FollowUp & { metadata?: Record<string, string> }, source: SQSRecord, signal?: AbortSignal): Promise<void>;
  /** A collection's next check, `delaySeconds` from now (a FIFO queue takes no delay: its own group, at once). */
  enqueueCheck(check: CollectCheck, delaySeconds: number, signal?: AbortSignal): Promise<void>;
  delayRedelivery(source: SQSRecord, seconds: number, signal?: AbortSignal): Promise<void>;
}

/** The message a record is written for: its id and, on a FIFO queue, its group. */
export type MessageSource = Pick<SQSRecord, "messageId"> & { attributes: { MessageGroupId?: string } };

export interface AwsSinksOptions {
  sqs: SQSClient;
  sns: SNSClient;
  resultsTopicArn: string;
  dlqUrl: string;
  inputQueueUrl: string;
  watchDelaySeconds: number;
}

const text = (value: string): MessageAttributeValue => ({ DataType: "String", StringValue: value });

/**
 * The real sinks: SNS for results, SQS for the DLQ, follow-ups and redelivery delays. The wire formats
 * live in results-event.ts and dlq-record.ts; this is only the calls. FIFO queues and topics (named
 * `*.fifo`) get group and deduplication ids.
 * @example const sinks = awsSinks({ sqs, sns, resultsTopicArn, dlqUrl, inputQueueUrl, watchDelaySeconds: 10 });
 */
export function awsSinks(o: AwsSinksOptions): RelaySinks {
  const fifoTopic = o.resultsTopicArn.endsWith(".fifo");
  const fifoDlq = o.dlqUrl.endsWith(".fifo");
  const fifoInput = o.inputQueueUrl.endsWith(".fifo");
  const groupOf = (source: MessageSource, fallback?: string) => source.attributes.MessageGroupId ?? fallback ?? "tool-output-relay";

  return {
    async publishResult(event, signal) {
      const attributes = Object.fromEntries(Object.entries(resultAttributes(event)).map(([name, value]) => [name, text(value)]));
      await o.sns.send(
        new PublishCommand({
          TopicArn: o.resultsTopicArn,
          Message: JSON.stringify(event),
          MessageAttributes: attributes,
          ...(fifoTopic ? { MessageGroupId: resultGroupOf(event), MessageDeduplicationId: event.event_id } : {}),
        }),
        { abortSignal: signal },
      );
    },

    async writeDeadLetter(record, source, signal) {
      const { body, attributes } = dlqMessage(record);
      await o.sqs.send(
        new SendMessageCommand({
          QueueUrl: o.dlqUrl,
          MessageBody: body,
          MessageAttributes: attributes,
          ...(fifoDlq ? { MessageGroupId: groupOf(source, record.thread_id), MessageDeduplicationId: `dlq-${source.messageId}` } : {}),
        }),
        { abortSignal: signal },
      );
    },

    async enqueueWatch(message, source, signal) {
      const group = "thread_id" in message ? message.thread_id : message.response_id;
      await o.sqs.send(
        new SendMessageCommand({
          QueueUrl: o.inputQueueUrl,
          MessageBody: JSON.stringify(message),
          // FIFO queues take no per-message delay: there the watch comes back at once and polls again.
          ...(fifoInput
            ? { MessageGroupId: groupOf(source, group), MessageDeduplicationId: `watch-${source.messageId}` }
            : { DelaySeconds: o.watchDelaySeconds }),
        }),
        { abortSignal: signal },
      );
    },

    async enqueueCheck(check, delaySeconds, signal) {
      // One group per collection, never a thread's: a waiting check must not hold up the thread's messages. Each send
      // its own deduplication id: a copy re-sent within five minutes is meant to arrive (an SDK retry reuses it).
      const digest = createHash("sha256").update(`${check.scope}\n${check.round}`).digest("hex").slice(0, 40);
      await o.sqs.send(
        new SendMessageCommand({
          QueueUrl: o.inputQueueUrl,
          MessageBody: JSON.stringify(check),
          ...(fifoInput
            ? { MessageGroupId: `collect-check-${digest}`, MessageDeduplicationId: `check-${digest}-${randomUUID()}` }
            : { DelaySeconds: Math.min(900, Math.max(0, delaySeconds)) }),
        }),
        { abortSignal: signal },
      );
    },

    async delayRedelivery(source, seconds, signal) {
      await o.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: o.inputQueueUrl,
          ReceiptHandle: source.receiptHandle,
          VisibilityTimeout: seconds,
        }),
        { abortSignal: signal },
      );
    },
  };
}
