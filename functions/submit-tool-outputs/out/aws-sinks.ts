import { hash, randomUUID } from "node:crypto";
import { PublishBatchCommand, type PublishBatchRequestEntry, type SNSClient } from "@aws-sdk/client-sns";
import {
  ChangeMessageVisibilityCommand,
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import type { CollectCheck } from "../collect/check-message";
import { type ResultsEvent, recordGroupOf, resultAttributes, resultGroupOf, watchGroupOf } from "../dialects/index";
import type { FollowUp } from "../pipeline/outcome";
import { type DlqRecord, dlqMessage, sizeOf } from "./dlq-record";
import { SendBatcher } from "./send-batcher";

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
  /** How long a result or DLQ record waits for others of the batch to share its call. Default 2 ms. */
  lingerMs?: number;
  /** Whether a record is still deciding (its result may join the call): when none is, a call goes out at once. */
  moreMayCome?: () => boolean;
}

/** SNS's limit for one PublishBatch call, all entries together. */
const SNS_BATCH_BYTES = 262_144;
/** SQS's limit for one SendMessageBatch call, all entries together. */
const SQS_BATCH_BYTES = 1_048_576;

const text = (value: string): MessageAttributeValue => ({ DataType: "String", StringValue: value });
/** SNS's String.Array: a JSON array; a filter policy matches when any element matches. */
const textList = (values: string[]): MessageAttributeValue => ({ DataType: "String.Array", StringValue: JSON.stringify(values) });

/**
 * The real sinks: SNS for results, SQS for the DLQ, follow-ups and redelivery delays. The wire formats
 * live in results-event.ts (with each API's dialect) and dlq-record.ts; this is only the calls. FIFO queues and topics (named
 * `*.fifo`) get group and deduplication ids.
 * @example const sinks = awsSinks({ sqs, sns, resultsTopicArn, dlqUrl, inputQueueUrl, watchDelaySeconds: 10 });
 */
export function awsSinks(o: AwsSinksOptions): RelaySinks {
  const fifoTopic = o.resultsTopicArn.endsWith(".fifo");
  const fifoDlq = o.dlqUrl.endsWith(".fifo");
  const fifoInput = o.inputQueueUrl.endsWith(".fifo");
  const groupOf = (source: MessageSource, fallback?: string) => source.attributes.MessageGroupId ?? fallback ?? "tool-output-relay";
  const lingerMs = o.lingerMs ?? 2;

  // The results of one batch go out in PublishBatch calls, its DLQ records in SendMessageBatch calls; each
  // record still learns its own entry's fate (send-batcher.ts).
  /** Ten entries a call at most (SNS's and SQS's limit), each numbered by its place; a failed entry is named by it. */
  const batcher = <Entry extends object>(
    maxBytes: number,
    send: (entries: Array<Entry & { Id: string }>, signal?: AbortSignal) => Promise<BatchAnswer>,
  ) =>
    new SendBatcher<Entry>({
      maxEntries: 10,
      maxBytes,
      lingerMs,
      moreMayCome: o.moreMayCome,
      send: async (entries, signal) =>
        failuresOf(
          await send(
            entries.map((entry, i) => ({ ...entry, Id: String(i) })),
            signal,
          ),
        ),
    });
  const results = batcher<Omit<PublishBatchRequestEntry, "Id">>(SNS_BATCH_BYTES, (entries, signal) =>
    o.sns.send(new PublishBatchCommand({ TopicArn: o.resultsTopicArn, PublishBatchRequestEntries: entries }), { abortSignal: signal }),
  );
  const deadLetters = batcher<Omit<SendMessageBatchRequestEntry, "Id">>(SQS_BATCH_BYTES, (entries, signal) =>
    o.sqs.send(new SendMessageBatchCommand({ QueueUrl: o.dlqUrl, Entries: entries }), { abortSignal: signal }),
  );

  return {
    async publishResult(event, signal) {
      const attributes = Object.fromEntries(
        Object.entries(resultAttributes(event)).map(([name, value]) => [name, typeof value === "string" ? text(value) : textList(value)]),
      );
      const message = JSON.stringify(event);
      const entry = {
        Message: message,
        MessageAttributes: attributes,
        ...(fifoTopic ? { MessageGroupId: resultGroupOf(event), MessageDeduplicationId: event.event_id } : {}),
      };
      await results.add({ value: entry, bytes: Buffer.byteLength(message) + sizeOf(attributes) }, signal);
    },

    async writeDeadLetter(record, source, signal) {
      const { body, attributes } = dlqMessage(record);
      const entry = {
        MessageBody: body,
        MessageAttributes: attributes,
        ...(fifoDlq ? { MessageGroupId: groupOf(source, recordGroupOf(record)), MessageDeduplicationId: `dlq-${source.messageId}` } : {}),
      };
      await deadLetters.add({ value: entry, bytes: Buffer.byteLength(body) + sizeOf(attributes) }, signal);
    },

    async enqueueWatch(message, source, signal) {
      const group = watchGroupOf(message);
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
      const digest = hash("sha256", `${check.scope}\n${check.round}`, "hex").slice(0, 40);
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

/** A batch call's refused entry, as SNS and SQS answer it. */
type FailedEntry = { Id?: string; Code?: string; SenderFault?: boolean };
type BatchAnswer = { Failed?: FailedEntry[]; $metadata?: { attempts?: number } };

/** A batch call's failed entries, by index, as errors naming their code (never their content). */
function failuresOf(answer: BatchAnswer): Map<number, Error> {
  const attempts = answer.$metadata?.attempts ?? 1;
  return new Map(
    (answer.Failed ?? []).map((entry) => {
      const error = Object.assign(new Error(`the entry was refused: ${entry.Code ?? "unknown"}`), {
        name: entry.Code ?? "BatchEntryFailed",
        refusedEntry: { attempts },
      });
      return [Number(entry.Id), error] as const;
    }),
  );
}

/**
 * Whether a publish that failed may still have reached SNS (rule 2: a part is never dead-lettered beside an event
 * that names it). Only SNS's own refusal on the call's one attempt says it did not: an entry its PublishBatch answer
 * lists as failed, or an error answered with a 4xx status (throttled, no such topic, not authorized, too large). A
 * timeout, a reset, an abort, a 5xx, or any answer after the SDK tried the call again (an earlier attempt's fate is
 * unknown) may have published it.
 * @example mayHaveLanded(Object.assign(new Error(), { $metadata: { httpStatusCode: 404, attempts: 1 } })) // false
 */
export function mayHaveLanded(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return true;
  const { refusedEntry, $metadata } = error as {
    refusedEntry?: { attempts: number };
    $metadata?: { httpStatusCode?: number; attempts?: number };
  };
  if (refusedEntry) return refusedEntry.attempts > 1;
  const status = $metadata?.httpStatusCode;
  return status === undefined || status < 400 || status >= 500 || ($metadata?.attempts ?? 1) > 1;
}
