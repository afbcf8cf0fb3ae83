import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { deleteMessages, receiveBatch } from "../cli/queue-io";
import { lambdaContext, toSqsEvent } from "./lambda-shapes";

/**
 * One invocation the way Lambda's SQS event source mapping makes it: a batch received with every attribute,
 * a Lambda-shaped event and context, the partial batch response read as Lambda reads it, and the succeeded
 * records deleted. The poller (event-source-poller.ts), the tests and the bench all invoke through here.
 */

/** Any SQS-triggered Lambda handler: answers with a partial batch response, or nothing (all succeeded). */
export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

/** A queue as the event source mapping knows it. */
export interface PolledQueue {
  url: string;
  arn: string;
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
  /** The handler's answer, when it gave one. */
  response?: SQSBatchResponse;
  error?: unknown;
}

/**
 * Receives one batch (long-polling up to `waitSeconds`) as the event Lambda would hand the function.
 * @example const event = await receiveEvent(sqs, aws.input, "us-east-1", { max: 10, waitSeconds: 1 });
 */
export async function receiveEvent(
  sqs: SQSClient,
  queue: PolledQueue,
  region: string,
  options: { max?: number; waitSeconds?: number } = {},
): Promise<SQSEvent> {
  return toSqsEvent(await receiveBatch(sqs, queue.url, options), queue.arn, region);
}

/**
 * Invokes the handler with an event and reads its answer as Lambda does; never throws. An invocation still
 * running at `functionTimeoutMs` has failed, like a Lambda timeout (its work goes on, unseen).
 * @example const report = await invokeLikeLambda(handler, event, 30_000);
 */
export async function invokeLikeLambda(handler: SqsHandler, event: SQSEvent, functionTimeoutMs: number): Promise<InvocationReport> {
  const ids = event.Records.map((r) => r.messageId);
  try {
    const outcome = await withTimeout(handler(event, lambdaContext(functionTimeoutMs)), functionTimeoutMs);
    return outcome.timedOut
      ? failAll(ids, "timeout")
      : { ...judge(ids, outcome.value), response: outcome.value ?? { batchItemFailures: [] } };
  } catch (error) {
    return { ...failAll(ids, "error"), error };
  }
}

/**
 * Deletes the records an invocation succeeded for; returns the ids actually deleted (as on AWS, an undeleted
 * message comes back after its visibility timeout: a duplicate, not a loss).
 */
export async function deleteSucceeded(
  sqs: SQSClient,
  queue: PolledQueue,
  event: SQSEvent,
  succeeded: readonly string[],
): Promise<string[]> {
  const ids = new Set(succeeded);
  const records = event.Records.filter((r) => ids.has(r.messageId));
  if (records.length === 0) return [];
  const { failed } = await deleteMessages(
    sqs,
    queue.url,
    records.map((r) => r.receiptHandle),
  );
  const notDeleted = new Set(failed);
  return records.filter((r) => !notDeleted.has(r.receiptHandle)).map((r) => r.messageId);
}

/**
 * One event-source-mapping cycle: receive a batch, invoke, delete what succeeded.
 * @example const { event, report } = await deliverOnce(sqs, aws.input, region, handler, { functionTimeoutMs: 30_000 });
 */
export async function deliverOnce(
  sqs: SQSClient,
  queue: PolledQueue,
  region: string,
  handler: SqsHandler,
  options: { max?: number; waitSeconds?: number; functionTimeoutMs?: number } = {},
): Promise<{ event: SQSEvent; report: InvocationReport }> {
  const event = await receiveEvent(sqs, queue, region, { max: options.max, waitSeconds: options.waitSeconds ?? 1 });
  const report = await invokeLikeLambda(handler, event, options.functionTimeoutMs ?? 30_000);
  report.deleted = await deleteSucceeded(sqs, queue, event, report.deleted);
  return { event, report };
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
