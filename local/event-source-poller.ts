import type { SQSClient } from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import {
  deleteSucceeded,
  type InvocationReport,
  invokeLikeLambda,
  type PolledQueue,
  receiveEvent,
  type SqsHandler,
} from "./lambda-invocation";

export type { InvocationReport, PolledQueue, SqsHandler } from "./lambda-invocation";

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

  const receive = async (): Promise<SQSEvent> => {
    stats.receives += 1;
    const event = await receiveEvent(sqs, queue, region, { max: batchSize, waitSeconds: waitTimeSeconds });
    stats.messagesReceived += event.Records.length;
    if (event.Records.length === 0) stats.emptyReceives += 1;
    return event;
  };

  const invoke = async (event: SQSEvent) => {
    stats.invocations += 1;
    stats.inFlight += 1;
    const report = await invokeLikeLambda(handler, event, functionTimeoutMs).finally(() => {
      stats.inFlight -= 1;
    });
    if (report.result === "error") stats.invocationErrors += 1;
    if (report.result === "timeout") stats.invocationTimeouts += 1;
    if (report.result === "invalid_response") stats.invalidResponses += 1;
    if (report.result === "ok") stats.batchItemFailures += report.retained.length;
    const succeeded = report.deleted.length;
    try {
      report.deleted = await deleteSucceeded(sqs, queue, event, report.deleted);
    } catch (error) {
      // As on AWS: an undeleted message comes back after its visibility timeout (a duplicate, not a loss).
      report.deleted = [];
      options.onError?.(error, "delete");
    }
    stats.deleted += report.deleted.length;
    stats.deleteErrors += succeeded - report.deleted.length;
    options.onInvocation?.(report);
  };

  const loop = async () => {
    let backoffMs = 50;
    while (!stopping) {
      let event: SQSEvent;
      try {
        event = await receive();
        backoffMs = 50;
      } catch (error) {
        stats.receiveErrors += 1;
        if (!stopping) options.onError?.(error, "receive");
        await sleepUnlessStopped(backoffMs);
        backoffMs = Math.min(2_000, backoffMs * 2);
        continue;
      }
      // A batch received while stopping is still worked: stopping never strands received messages.
      if (event.Records.length > 0) await invoke(event);
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

function checkedInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`event source poller: ${name} must be a whole number from ${min} to ${max}, got ${value}`);
  return value;
}
