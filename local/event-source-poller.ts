import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { lambdaContext, toSqsEvent } from "./lambda-shapes";

/** Any SQS-triggered Lambda handler: answers with a partial batch response, or nothing (all succeeded). */
export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

/** What the poller needs to know of the queue it drains. */
export interface PolledQueue {
  url: string;
  arn: string;
}

export interface EventSourcePollerOptions {
  sqs: SQSClient;
  queue: PolledQueue;
  region: string;
  handler: SqsHandler;
  /** Messages per invocation, 1–10 (the mapping's BatchSize; SQS gives at most 10 per receive). Default 10. */
  batchSize?: number;
  /** Long-poll wait of each ReceiveMessage, 0–20 s. Also the longest `stop()` waits for a receive in flight. Default 1. */
  waitTimeSeconds?: number;
  /** The function's timeout: the context's remaining time counts down from it, and an invocation still running then has failed. Default 30 000. */
  functionTimeoutMs?: number;
  /** Concurrent receive → invoke → delete loops (the mapping's concurrency). Default 1. */
  pollers?: number;
  /** Told about every invocation once its batch is settled (for ledgers and progress). Must not throw. */
  onInvocation?: (invocation: InvocationReport) => void;
  /** Told about receive/delete errors (the poller backs off and goes on). Default: silent, counted in stats. */
  onError?: (error: unknown, phase: "receive" | "delete") => void;
}

/** How one invocation ended, as Lambda would see it. */
export interface InvocationReport {
  messageIds: string[];
  /** Deleted from the queue: the handler succeeded for them. */
  deleted: string[];
  /** Left on the queue: reported as batch item failures, or the whole batch when the invocation failed. */
  retained: string[];
  /** `ok`: answered; `error`: threw; `timeout`: still running at the function timeout; `invalid_response`: named an item not in the batch. */
  result: "ok" | "error" | "timeout" | "invalid_response";
  error?: unknown;
}

export interface PollerStats {
  receives: number;
  emptyReceives: number;
  messagesReceived: number;
  invocations: number;
  /** Invocations that threw. */
  invocationErrors: number;
  /** Invocations still running at the function timeout (treated as failed, like Lambda). */
  invocationTimeouts: number;
  /** Responses naming a message that was not in the batch: Lambda then fails the whole batch. */
  invalidResponses: number;
  batchItemFailures: number;
  deleted: number;
  receiveErrors: number;
  deleteErrors: number;
  /** Invocations running now. */
  inFlight: number;
}

export interface EventSourcePoller {
  /** Live counters. */
  readonly stats: Readonly<PollerStats>;
  /** Stops polling; waits for receives in flight (at most `waitTimeSeconds`) and finishes every batch already received. */
  stop(): Promise<void>;
}

/**
 * Drives a handler the way Lambda's SQS event source mapping does: long-poll batches with every system
 * and message attribute, a Lambda-shaped event and context, delete what succeeded, leave batch item
 * failures to reappear after their visibility timeout (receive counts grow); an invocation that throws
 * or times out deletes nothing, so the queue's redrive policy moves the batch to the DLQ in the end.
 * @example
 * const poller = startEventSourcePoller({ sqs, queue: aws.input, region: aws.region, handler, pollers: 4 });
 * … await poller.stop();
 */
export function startEventSourcePoller(options: EventSourcePollerOptions): EventSourcePoller {
  const batchSize = checkedInteger("batchSize", options.batchSize ?? 10, 1, 10);
  const waitTimeSeconds = checkedInteger("waitTimeSeconds", options.waitTimeSeconds ?? 1, 0, 20);
  const functionTimeoutMs = checkedInteger("functionTimeoutMs", options.functionTimeoutMs ?? 30_000, 1, 900_000);
  const pollers = checkedInteger("pollers", options.pollers ?? 1, 1, 100);
  const { sqs, queue, region, handler } = options;

  const stats: PollerStats = {
    receives: 0,
    emptyReceives: 0,
    messagesReceived: 0,
    invocations: 0,
    invocationErrors: 0,
    invocationTimeouts: 0,
    invalidResponses: 0,
    batchItemFailures: 0,
    deleted: 0,
    receiveErrors: 0,
    deleteErrors: 0,
    inFlight: 0,
  };
  let stopping = false;
  let wakeSleepers: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (wakeSleepers = resolve));

  const receive = async (): Promise<Message[]> => {
    stats.receives += 1;
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: batchSize,
        WaitTimeSeconds: waitTimeSeconds,
        MessageSystemAttributeNames: ["All"],
        AttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    const messages = received.Messages ?? [];
    stats.messagesReceived += messages.length;
    if (messages.length === 0) stats.emptyReceives += 1;
    return messages;
  };

  const invoke = async (messages: Message[]) => {
    const event = toSqsEvent(messages, queue.arn, region);
    const ids = event.Records.map((r) => r.messageId);
    stats.invocations += 1;
    stats.inFlight += 1;
    let report: InvocationReport;
    try {
      const outcome = await withTimeout(handler(event, lambdaContext(functionTimeoutMs)), functionTimeoutMs);
      report = outcome.timedOut ? failAll(ids, "timeout") : judge(ids, outcome.value);
    } catch (error) {
      report = { ...failAll(ids, "error"), error };
    } finally {
      stats.inFlight -= 1;
    }
    if (report.result === "error") stats.invocationErrors += 1;
    if (report.result === "timeout") stats.invocationTimeouts += 1;
    if (report.result === "invalid_response") stats.invalidResponses += 1;
    if (report.result === "ok") stats.batchItemFailures += report.retained.length;
    report.deleted = await remove(event, new Set(report.deleted));
    options.onInvocation?.(report);
  };

  /** DeleteMessageBatch for the succeeded records; returns the ids actually deleted. */
  const remove = async (event: SQSEvent, ids: Set<string>): Promise<string[]> => {
    const records = event.Records.filter((r) => ids.has(r.messageId));
    if (records.length === 0) return [];
    try {
      const answer = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: records.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
      const failed = new Set((answer.Failed ?? []).map((f) => Number(f.Id)));
      stats.deleteErrors += failed.size;
      stats.deleted += records.length - failed.size;
      return records.filter((_, i) => !failed.has(i)).map((r) => r.messageId);
    } catch (error) {
      // As on AWS: an undeleted message comes back after its visibility timeout (a duplicate, not a loss).
      stats.deleteErrors += records.length;
      options.onError?.(error, "delete");
      return [];
    }
  };

  const loop = async () => {
    let backoffMs = 50;
    while (!stopping) {
      let messages: Message[];
      try {
        messages = await receive();
        backoffMs = 50;
      } catch (error) {
        stats.receiveErrors += 1;
        if (!stopping) options.onError?.(error, "receive");
        await sleepUnlessStopped(backoffMs);
        backoffMs = Math.min(2_000, backoffMs * 2);
        continue;
      }
      // A batch received while stopping is still worked: stopping never strands received messages.
      if (messages.length > 0) await invoke(messages);
      else if (waitTimeSeconds === 0) await sleepUnlessStopped(20);
    }
  };

  const sleepUnlessStopped = (ms: number) => Promise.race([new Promise((resolve) => setTimeout(resolve, ms).unref()), stopped]);

  const loops = Array.from({ length: pollers }, loop);
  let stoppedAll: Promise<void> | undefined;
  return {
    stats,
    stop() {
      stopping = true;
      wakeSleepers();
      stoppedAll ??= Promise.all(loops).then(() => undefined);
      return stoppedAll;
    },
  };
}

/** Lambda's reading of a partial batch response (ReportBatchItemFailures). */
function judge(ids: string[], response: SQSBatchResponse | undefined): InvocationReport {
  const failures = response?.batchItemFailures ?? [];
  const inBatch = new Set(ids);
  // An empty, null or unknown itemIdentifier makes Lambda treat the whole batch as failed.
  if (failures.some((f) => typeof f?.itemIdentifier !== "string" || !inBatch.has(f.itemIdentifier)))
    return failAll(ids, "invalid_response");
  const failed = new Set(failures.map((f) => f.itemIdentifier));
  return { messageIds: ids, deleted: ids.filter((id) => !failed.has(id)), retained: ids.filter((id) => failed.has(id)), result: "ok" };
}

function failAll(ids: string[], result: InvocationReport["result"]): InvocationReport {
  return { messageIds: ids, deleted: [], retained: [...ids], result };
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<{ timedOut: false; value: T } | { timedOut: true }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ timedOut: true }>((resolve) => (timer = setTimeout(() => resolve({ timedOut: true }), ms)));
  try {
    return await Promise.race([work.then((value) => ({ timedOut: false as const, value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function checkedInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`event source poller: ${name} must be a whole number from ${min} to ${max}, got ${value}`);
  return value;
}
