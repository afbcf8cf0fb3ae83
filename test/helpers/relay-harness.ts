import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { createHandler } from "../../functions/submit-tool-outputs/create-handler";
import type { DlqRecord } from "../../functions/submit-tool-outputs/dlq-record";
import type { ResultsEvent } from "../../functions/submit-tool-outputs/results-event";
import { type EmbeddedAws, startEmbeddedAws } from "../../local/embedded-aws";
import { type EndpointSimulator, type EndpointSimulatorOptions, startEndpointSimulator } from "../../local/endpoint-simulator";
import { lambdaContext, toSqsEvent } from "../../local/lambda-shapes";

export const TEST_API_KEY = "pk-test-5ecret-api-key-0000";
export const TEST_VIRTUAL_KEY = "vk-test-5ecret-virtual-key";

export interface HarnessOptions {
  fifo?: boolean;
  maxReceiveCount?: number;
  /** Extra or overriding environment for the handler. */
  env?: Record<string, string>;
  simulator?: EndpointSimulatorOptions;
  /**
   * How the handler reaches the started simulator: ENDPOINT_BASE_URL and credentials, replacing the default
   * (the simulator itself, with hosted-Portkey keys). For a gateway in front of it, for example.
   */
  endpoint?: (sim: EndpointSimulator) => Record<string, string>;
}

export interface PublishedResult {
  event: ResultsEvent;
  attributes: Record<string, string>;
}

export interface DeadLetter {
  body: string;
  record: DlqRecord;
  attributes: Record<string, string>;
}

/**
 * The real handler wired to a real loopback endpoint simulator and an in-process SQS/SNS emulator,
 * driven the way Lambda's event source mapping drives it: receive, invoke, delete what succeeded.
 */
export interface Harness {
  aws: EmbeddedAws;
  sim: EndpointSimulator;
  env: Record<string, string>;
  handler: ReturnType<typeof createHandler>;
  send(message: unknown, fifo?: { groupId: string; dedupId?: string }): Promise<string>;
  receive(max?: number): Promise<SQSEvent>;
  invoke(event: SQSEvent, timeoutMs?: number): Promise<SQSBatchResponse>;
  /** One event-source-mapping cycle; returns the event and the handler's answer. */
  deliver(timeoutMs?: number): Promise<{ event: SQSEvent; response: SQSBatchResponse }>;
  /** Every results event published so far (drains the reader queue). */
  results(): Promise<PublishedResult[]>;
  /** Every DLQ message so far (drains the DLQ). */
  deadLetters(): Promise<DeadLetter[]>;
  /** Empties every queue (between tests). */
  clear(): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const aws = await startEmbeddedAws({ fifo: options.fifo, maxReceiveCount: options.maxReceiveCount ?? 3 });
  const sim = await startEndpointSimulator({
    apiKey: TEST_API_KEY,
    virtualKey: TEST_VIRTUAL_KEY,
    pollAfterMs: 20,
    processingMs: 30,
    ...options.simulator,
  });
  const env: Record<string, string> = {
    ...(options.endpoint?.(sim) ?? {
      ENDPOINT_BASE_URL: sim.baseUrl,
      PORTKEY_API_KEY: TEST_API_KEY,
      PORTKEY_VIRTUAL_KEY: TEST_VIRTUAL_KEY,
    }),
    RESULTS_TOPIC_ARN: aws.resultsTopicArn,
    DLQ_URL: aws.dlq.url,
    INPUT_QUEUE_URL: aws.input.url,
    MAX_RECEIVE_COUNT: String(options.maxReceiveCount ?? 3),
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_REGION: aws.region,
    ENDPOINT_TIMEOUT_MS: "1000",
    RETRY_BASE_DELAY_MS: "10",
    RETRY_MAX_DELAY_MS: "50",
    POLL_INTERVAL_MS: "20",
    FOLLOW_BUDGET_MS: "3000",
    DEADLINE_RESERVE_MS: "200",
    RETRY_VISIBILITY_BASE_SECONDS: "0",
    WATCH_DELAY_SECONDS: "0",
    ...options.env,
  };
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  const handler = createHandler(env);

  const receiveRaw = async (url: string, max = 10, waitSeconds = 0): Promise<Message[]> =>
    (
      await aws.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: waitSeconds,
          MessageSystemAttributeNames: ["All"],
          MessageAttributeNames: ["All"],
        }),
      )
    ).Messages ?? [];
  const drain = async (url: string): Promise<Message[]> => {
    const all: Message[] = [];
    for (;;) {
      const batch = await receiveRaw(url);
      if (batch.length === 0) return all;
      all.push(...batch);
      await aws.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  };

  const harness: Harness = {
    aws,
    sim,
    env,
    handler,
    async send(message, fifo) {
      const body = typeof message === "string" ? message : JSON.stringify(message);
      const sent = await aws.sqs.send(
        new SendMessageCommand({
          QueueUrl: aws.input.url,
          MessageBody: body,
          ...(fifo ? { MessageGroupId: fifo.groupId, MessageDeduplicationId: fifo.dedupId } : {}),
        }),
      );
      return sent.MessageId!;
    },
    async receive(max = 10) {
      return toSqsEvent(await receiveRaw(aws.input.url, max, 1), aws.input.arn, aws.region);
    },
    async invoke(event, timeoutMs = 30_000) {
      return (await handler(event, lambdaContext(timeoutMs))) as SQSBatchResponse;
    },
    async deliver(timeoutMs) {
      const event = await harness.receive();
      const response = await harness.invoke(event, timeoutMs);
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      const done = event.Records.filter((r) => !failed.has(r.messageId));
      if (done.length > 0) {
        await aws.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: aws.input.url,
            Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
          }),
        );
      }
      return { event, response };
    },
    async results() {
      return (await drain(aws.results.url)).map((m) => {
        const envelope = JSON.parse(m.Body!) as { Message: string; MessageAttributes?: Record<string, { Value: string }> };
        const attributes = Object.fromEntries(Object.entries(envelope.MessageAttributes ?? {}).map(([k, v]) => [k, v.Value]));
        return { event: JSON.parse(envelope.Message) as ResultsEvent, attributes };
      });
    },
    async deadLetters() {
      return (await drain(aws.dlq.url)).map((m) => {
        const attributes = Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? ""]));
        let record: DlqRecord;
        try {
          record = JSON.parse(m.Body!) as DlqRecord;
        } catch {
          record = { original: m.Body! } as DlqRecord;
        }
        return { body: m.Body!, record, attributes };
      });
    },
    async clear() {
      aws.server.reset();
    },
    async close() {
      await sim.close();
      await aws.close();
    },
  };
  return harness;
}

/** A valid message answering every tool call of a run the simulator made. */
export function outputsFor(run: { threadId: string; runId: string; toolCallIds: string[] }, extra: Record<string, unknown> = {}) {
  return {
    thread_id: run.threadId,
    run_id: run.runId,
    tool_outputs: run.toolCallIds.map((id, i) => ({
      tool_call_id: id,
      output: JSON.stringify({ answer: i, secret: `tool-output-text-${id}` }),
    })),
    ...extra,
  };
}
