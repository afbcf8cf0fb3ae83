import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { ChangeMessageVisibilityCommand, type MessageAttributeValue, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import type { DlqRecord } from "./dlq-record";
import type { WatchRunMessage } from "./message";
import type { ResultsEvent } from "./results-event";

/**
 * Where outcomes go: the I/O edge of the relay, passed in so tests and the local stack can point it
 * anywhere. Each call ends when `signal` aborts (the invocation's cutoff).
 */
export interface RelaySinks {
  publishResult(event: ResultsEvent, signal?: AbortSignal): Promise<void>;
  writeDeadLetter(record: DlqRecord, source: SQSRecord, signal?: AbortSignal): Promise<void>;
  enqueueWatch(message: WatchRunMessage, source: SQSRecord, signal?: AbortSignal): Promise<void>;
  delayRedelivery(source: SQSRecord, seconds: number, signal?: AbortSignal): Promise<void>;
}

export interface AwsSinksOptions {
  sqs: SQSClient;
  sns: SNSClient;
  resultsTopicArn: string;
  dlqUrl: string;
  inputQueueUrl: string;
  watchDelaySeconds: number;
}

/** SQS's limit for a message: the body and every attribute's name, type and value. */
const SQS_MAX_BYTES = 1_048_576;

const text = (value: string): MessageAttributeValue => ({ DataType: "String", StringValue: value });

/**
 * The real sinks: SNS for results, SQS for the DLQ, follow-ups and redelivery delays.
 * FIFO queues and topics (named `*.fifo`) get group and deduplication ids.
 * @example const sinks = awsSinks({ sqs, sns, resultsTopicArn, dlqUrl, inputQueueUrl, watchDelaySeconds: 10 });
 */
export function awsSinks(o: AwsSinksOptions): RelaySinks {
  const fifoTopic = o.resultsTopicArn.endsWith(".fifo");
  const fifoDlq = o.dlqUrl.endsWith(".fifo");
  const fifoInput = o.inputQueueUrl.endsWith(".fifo");
  const groupOf = (source: SQSRecord, threadId?: string) => source.attributes.MessageGroupId ?? threadId ?? "tool-output-relay";

  return {
    async publishResult(event, signal) {
      await o.sns.send(
        new PublishCommand({
          TopicArn: o.resultsTopicArn,
          Message: JSON.stringify(event),
          MessageAttributes: {
            type: text(event.type),
            status: text(event.status),
            thread_id: text(event.thread_id),
          },
          ...(fifoTopic ? { MessageGroupId: event.thread_id, MessageDeduplicationId: event.event_id } : {}),
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
      await o.sqs.send(
        new SendMessageCommand({
          QueueUrl: o.inputQueueUrl,
          MessageBody: JSON.stringify(message),
          // FIFO queues take no per-message delay: there the watch comes back at once and polls again.
          ...(fifoInput
            ? { MessageGroupId: groupOf(source, message.thread_id), MessageDeduplicationId: `watch-${source.messageId}` }
            : { DelaySeconds: o.watchDelaySeconds }),
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

/**
 * The visibility delay of a handed-back message: base × 2^(receives − 1), capped, ±20 % jitter so a
 * burst of failures does not return as one burst; never shorter than the server's `retry-after`.
 */
export function redeliveryDelaySeconds(
  receiveCount: number,
  limits: { baseSeconds: number; maxSeconds: number },
  retryAfterMs?: number,
  random = Math.random,
): number {
  const grown = Math.min(limits.maxSeconds, limits.baseSeconds * 2 ** Math.max(0, receiveCount - 1));
  const jittered = Math.round(grown * (0.8 + 0.4 * random()));
  const floor = retryAfterMs === undefined ? 0 : Math.ceil(retryAfterMs / 1000);
  return Math.min(43_200, Math.max(jittered, floor));
}

/**
 * The DLQ message for a record: the record as JSON with a `reason` attribute; or, when that would pass
 * SQS's 1 MiB (a body near the limit), the original body itself, byte for byte, with as much of the
 * record in attributes as still fits, most important first (`format: original` tells the two apart).
 */
export function dlqMessage(record: DlqRecord): { body: string; attributes: Record<string, MessageAttributeValue> } {
  const json = JSON.stringify(record);
  const reason = { reason: text(record.reason) };
  if (Buffer.byteLength(json) + sizeOf(reason) <= SQS_MAX_BYTES) return { body: json, attributes: reason };

  const candidates: Record<string, MessageAttributeValue> = {
    ...reason,
    format: text("original"),
    source_message_id: text(record.source_message_id),
    receive_count: { DataType: "Number", StringValue: String(record.receive_count) },
    detail: text(record.detail.slice(0, 1024)),
  };
  const attributes: Record<string, MessageAttributeValue> = {};
  let size = Buffer.byteLength(record.original);
  for (const [name, value] of Object.entries(candidates)) {
    const added = sizeOf({ [name]: value });
    if (size + added > SQS_MAX_BYTES) break;
    attributes[name] = value;
    size += added;
  }
  return { body: record.original, attributes };
}

/** How SQS counts attributes against the message size: name, data type and value, in UTF-8 bytes. */
function sizeOf(attributes: Record<string, MessageAttributeValue>): number {
  return Object.entries(attributes).reduce(
    (sum, [name, value]) =>
      sum + Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? "") + Buffer.byteLength(value.StringValue ?? ""),
    0,
  );
}
