import { SendMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { drainQueue } from "../../cli/queue-io";
import type { RelayEnvironment } from "../../functions/submit-tool-outputs/config/environment";
import { createHandler } from "../../functions/submit-tool-outputs/create-handler";
import {
  type AssistantsResultsEvent,
  type PublishedResult,
  type ResultsEvent,
  readPublishedResult,
} from "../../functions/submit-tool-outputs/dialects/index";
import { type DeadLetter, readDeadLetter } from "../../functions/submit-tool-outputs/out/dlq-record";
import { type EmbeddedAws, startEmbeddedAws } from "../../local/embedded-aws";
import { type EndpointSimulator, type EndpointSimulatorOptions, startEndpointSimulator } from "../../local/endpoint-simulator";
import { deliverOnce, receiveEvent } from "../../local/lambda-invocation";
import { lambdaContext } from "../../local/lambda-shapes";

export { answerFor, responseAnswerFor } from "../../fixtures/messages";
export type { PublishedResult } from "../../functions/submit-tool-outputs/dialects/index";
export type { DeadLetter } from "../../functions/submit-tool-outputs/out/dlq-record";

export const TEST_API_KEY = "pk-test-5ecret-api-key-0000";
export const TEST_VIRTUAL_KEY = "vk-test-5ecret-virtual-key";

export interface HarnessOptions {
  fifo?: boolean;
  maxReceiveCount?: number;
  /** Extra or overriding environment for the handler. */
  env?: RelayEnvironment;
  simulator?: EndpointSimulatorOptions;
  /**
   * How the handler reaches the started simulator: ENDPOINT_BASE_URL and credentials, replacing the default
   * (the simulator itself, with hosted-Portkey keys). For a gateway in front of it, for example.
   */
  endpoint?: (sim: EndpointSimulator) => RelayEnvironment;
}

/**
 * The real handler wired to a real loopback endpoint simulator and an in-process SQS/SNS emulator,
 * driven the way Lambda's event source mapping drives it: receive, invoke, delete what succeeded.
 */
export interface Harness {
  aws: EmbeddedAws;
  sim: EndpointSimulator;
  env: RelayEnvironment;
  handler: ReturnType<typeof createHandler>;
  send(message: unknown, fifo?: { groupId: string; dedupId?: string }): Promise<string>;
  receive(max?: number): Promise<SQSEvent>;
  invoke(event: SQSEvent, timeoutMs?: number): Promise<SQSBatchResponse>;
  /** One event-source-mapping cycle; returns the event and the handler's answer. */
  deliver(timeoutMs?: number): Promise<{ event: SQSEvent; response: SQSBatchResponse }>;
  /** Every results event published so far (drains the reader queue); typed as the API's events the test expects. */
  results<Event extends ResultsEvent = AssistantsResultsEvent>(): Promise<PublishedResult<Event>[]>;
  /** Every DLQ message so far (drains the DLQ). */
  deadLetters(): Promise<DeadLetter[]>;
  /** Empties every queue (between tests). */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the embedded AWS, the endpoint simulator and the real handler between them. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const aws = await startEmbeddedAws({ fifo: options.fifo, maxReceiveCount: options.maxReceiveCount ?? 3 });
  const sim = await startEndpointSimulator({
    apiKey: TEST_API_KEY,
    virtualKey: TEST_VIRTUAL_KEY,
    pollAfterMs: 20,
    processingMs: 30,
    ...options.simulator,
  });
  const env: RelayEnvironment = {
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
    AWS_ENDPOINT_URL_DYNAMODB: aws.dynamodb.endpoint,
    RELAY_STATE_TABLE: aws.stateTableName,
    RELAY_PAYLOAD_BUCKET: aws.payloadBucket,
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
      return receiveEvent(aws.sqs, aws.input, aws.region, { max, waitSeconds: 1 });
    },
    async invoke(event, timeoutMs = 30_000) {
      return (await handler(event, lambdaContext(timeoutMs))) as SQSBatchResponse;
    },
    async deliver(timeoutMs) {
      const { event, report } = await deliverOnce(aws.sqs, aws.input, aws.region, handler, { functionTimeoutMs: timeoutMs });
      if (!report.response) throw report.error ?? new Error(`the invocation ended in ${report.result}`);
      return { event, response: report.response };
    },
    async results() {
      return (await drainQueue(aws.sqs, aws.results.url)).map(readPublishedResult) as PublishedResult<never>[];
    },
    async deadLetters() {
      return (await drainQueue(aws.sqs, aws.dlq.url)).map(readDeadLetter);
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

/**
 * One harness for the test file (vitest hooks): started before its tests, its simulator reset and its queues
 * cleared before each test, closed after them all.
 * @example let h: Harness; useHarness({ maxReceiveCount: 5 }, (started) => (h = started));
 */
export function useHarness(options: HarnessOptions, onStart: (h: Harness) => void): void {
  let h: Harness | undefined;
  beforeAll(async () => {
    h = await startHarness(options);
    onStart(h);
  });
  afterAll(async () => h?.close());
  beforeEach(async () => {
    h?.sim.reset();
    await h?.clear();
  });
}
