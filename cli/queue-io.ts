import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";

/**
 * Reading and writing the relay's queues, the way the event source mapping and an operator do: the one SQS
 * kit of the CLI, the local stack, the tests and the bench. The messages' formats live with the relay
 * (functions/…/dlq-record.ts, results-event.ts).
 */

/** SQS takes at most ten entries per batch call, and returns at most ten messages per receive. */
const SQS_BATCH = 10;

/**
 * One ReceiveMessage with every attribute. `visibilityTimeout: 0` peeks: the messages stay visible.
 * @example const messages = await receiveBatch(sqs, url, { max: 10, waitSeconds: 1 });
 */
export async function receiveBatch(
  sqs: SQSClient,
  queueUrl: string,
  options: { max?: number; waitSeconds?: number; visibilityTimeout?: number; signal?: AbortSignal } = {},
): Promise<Message[]> {
  const received = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: options.max ?? SQS_BATCH,
      WaitTimeSeconds: options.waitSeconds ?? 0,
      ...(options.visibilityTimeout !== undefined ? { VisibilityTimeout: options.visibilityTimeout } : {}),
      MessageSystemAttributeNames: ["All"],
      MessageAttributeNames: ["All"],
    }),
    { abortSignal: options.signal },
  );
  return received.Messages ?? [];
}

/**
 * Deletes received messages by receipt handle, ten at a time; says which handles could not be deleted
 * (as on AWS, those come back after their visibility timeout: a duplicate, not a loss).
 * @example await deleteMessages(sqs, url, messages.map((m) => m.ReceiptHandle!));
 */
export async function deleteMessages(sqs: SQSClient, queueUrl: string, receiptHandles: string[]): Promise<{ failed: string[] }> {
  const failed: string[] = [];
  for (let i = 0; i < receiptHandles.length; i += SQS_BATCH) {
    const chunk = receiptHandles.slice(i, i + SQS_BATCH);
    const answer = await sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: chunk.map((handle, j) => ({ Id: String(j), ReceiptHandle: handle })) }),
    );
    for (const entry of answer.Failed ?? []) failed.push(chunk[Number(entry.Id)]!);
  }
  return { failed };
}

/**
 * Receives and deletes everything visible on a queue now (an empty receive ends it).
 * @example const all = await drainQueue(sqs, aws.results.url);
 */
export async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const batch = await receiveBatch(sqs, queueUrl);
    if (batch.length === 0) return all;
    all.push(...batch);
    await deleteMessages(
      sqs,
      queueUrl,
      batch.map((m) => m.ReceiptHandle!),
    );
  }
}

/**
 * Sends messages ten at a time; returns their message ids in order.
 * @example const ids = await sendMessages(sqs, url, bodies.map((body) => ({ MessageBody: body })));
 */
export async function sendMessages(
  sqs: SQSClient,
  queueUrl: string,
  entries: Array<Omit<SendMessageBatchRequestEntry, "Id">>,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < entries.length; i += SQS_BATCH) {
    const chunk = entries.slice(i, i + SQS_BATCH);
    const answer = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: chunk.map((entry, j) => ({ ...entry, Id: String(j) })) }),
    );
    if (answer.Failed?.length)
      throw new Error(`SQS refused ${answer.Failed.length} message(s): ${answer.Failed.map((f) => f.Code).join(", ")}`);
    const byId = new Map((answer.Successful ?? []).map((s) => [s.Id, s.MessageId!]));
    ids.push(...chunk.map((_, j) => byId.get(String(j))!));
  }
  return ids;
}

/**
 * Makes held messages visible again at once (visibility 0), ten a call. Best effort: a message whose release fails
 * comes back by itself when the visibility timeout it was received with ends.
 */
export async function releaseMessages(sqs: SQSClient, url: string, messages: Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    await sqs
      .send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: url,
          Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
        }),
      )
      .catch(() => undefined);
  }
}
