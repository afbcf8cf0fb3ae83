import { GetQueueAttributesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { drainQueue, sendMessages } from "../cli/queue-io";
import type { RelayEnvironment } from "../functions/submit-tool-outputs/config/environment";
import { createHandler } from "../functions/submit-tool-outputs/create-handler";
import { type PublishedResult, readPublishedResult } from "../functions/submit-tool-outputs/dialects/index";
import { type DeadLetter, readDeadLetter } from "../functions/submit-tool-outputs/out/dlq-record";
import { type Accounting, DeliveryLedger } from "./delivery-ledger";
import { type EmbeddedAws, startEmbeddedAws } from "./embedded-aws";
import { type EndpointSimulator, type EndpointSimulatorOptions, startEndpointSimulator } from "./endpoint-simulator";
import { type EventSourcePoller, type InvocationReport, type SqsHandler, startEventSourcePoller } from "./event-source-poller";
import type { ExternalEndpoint } from "./external-endpoint";

export type { PublishedResult } from "../functions/submit-tool-outputs/dialects/index";
export type { DeadLetter } from "../functions/submit-tool-outputs/out/dlq-record";
export type { Accounting } from "./delivery-ledger";
export type { ExternalEndpoint } from "./external-endpoint";

/** The keys the local stack's simulator asks for. Not secrets: they only open a loopback simulator. */
export const LOCAL_API_KEY = "pk-local-simulator";
export const LOCAL_VIRTUAL_KEY = "vk-local-simulator";

export interface LocalStackOptions {
  /** FIFO queues and topic. Default false. */
  fifo?: boolean;
  /** The input queue's redrive max receive count (also the relay's MAX_RECEIVE_COUNT). Default 3. */
  maxReceiveCount?: number;
  /** The input queue's visibility timeout: when a failed batch reappears. Default 30. */
  visibilityTimeoutSeconds?: number;
  /** Lambda's function timeout. Like Lambda, it may not exceed the visibility timeout. Default: the visibility timeout, at most 30 000. */
  functionTimeoutMs?: number;
  /** `simulator` (default) starts the loopback endpoint simulator; otherwise the relay talks to this endpoint (external-endpoint.ts). */
  endpoint?: "simulator" | ExternalEndpoint;
  /** Options of the simulator (ignored with an external endpoint). Default: keys checked, poll-after 50 ms, processing 100 ms. */
  simulator?: EndpointSimulatorOptions;
  /** Extra or overriding environment of the handler (tuning knobs: see functions/submit-tool-outputs/config/config.ts). */
  env?: RelayEnvironment;
  /** Concurrent pollers (default 4), batch size (default 10), long-poll wait (default 1 s). */
  poller?: { pollers?: number; batchSize?: number; waitTimeSeconds?: number };
  /** Told about every invocation once its batch is settled (after the ledger has it). */
  onInvocation?: (report: InvocationReport) => void;
  /** Wraps the real handler (for example one that throws, to show the emulator's redrive). */
  wrapHandler?: (handler: SqsHandler) => SqsHandler;
  /** Port of the SQS/SNS emulator on 127.0.0.1. Default 0 (a free one). */
  awsPort?: number;
}

export interface SendOptions {
  /** FIFO: message group. Default the message's thread_id (or conversation_id, response_id). */
  groupId?: string;
  /** FIFO: deduplication id. Default content-based. */
  dedupId?: string;
  delaySeconds?: number;
}

export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
}

export interface LocalStack {
  aws: EmbeddedAws;
  /** The endpoint simulator, unless an external endpoint was given. */
  sim?: EndpointSimulator;
  endpointBaseUrl: string;
  /** The handler's environment (holds the endpoint keys: never print it). */
  env: RelayEnvironment;
  poller: EventSourcePoller;
  /** Everything read so far from the results and DLQ queues, and what the poller acknowledged. */
  ledger: DeliveryLedger;
  /** Sends one message (an object is JSON-encoded, a string goes as is); resolves to its message id. */
  send(message: unknown, options?: SendOptions): Promise<string>;
  /** Sends many messages with SendMessageBatch (10 per call, a few calls at once); ids in order. */
  sendMany(messages: unknown[], options?: { concurrency?: number }): Promise<string[]>;
  /** Drains the results reader queue: the events new since the last read (also kept in the ledger). */
  readResults(): Promise<PublishedResult[]>;
  /** Drains the DLQ: the letters new since the last read (also kept in the ledger). */
  readDeadLetters(): Promise<DeadLetter[]>;
  inputDepth(): Promise<QueueDepth>;
  /**
   * Waits until every given message is accepted or dead-lettered and the input queue is empty with no
   * invocation running (or until `timeoutMs`), reading results and DLQ meanwhile. Count `pending` after it.
   */
  settle(messageIds?: Iterable<string>, options?: { timeoutMs?: number }): Promise<Accounting>;
  /** Stops the pollers (finishing their batches), then the simulator and the emulator. */
  close(): Promise<void>;
}

/**
 * The whole relay on one machine: the SQS/SNS emulator with the CDK stack's resources, the endpoint
 * simulator (or a real endpoint), the real handler, and an event-source poller driving it.
 * @example
 * const stack = await startLocalStack();
 * const run = stack.sim!.createRun({ toolCalls: 1 });
 * const id = await stack.send({ thread_id: run.threadId, run_id: run.runId, tool_outputs: [{ tool_call_id: run.toolCallIds[0], output: "42" }] });
 * const accounting = await stack.settle([id]); // { accepted: [id], deadLettered: [], pending: [] }
 * await stack.close();
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const maxReceiveCount = options.maxReceiveCount ?? 3;
  const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? 30;
  const functionTimeoutMs = options.functionTimeoutMs ?? Math.min(30_000, visibilityTimeoutSeconds * 1000);
  if (functionTimeoutMs > visibilityTimeoutSeconds * 1000) {
    // Lambda refuses such a mapping: a message would reappear while its invocation still runs.
    throw new RangeError(
      `local stack: functionTimeoutMs (${functionTimeoutMs}) exceeds the queue's visibility timeout (${visibilityTimeoutSeconds} s)`,
    );
  }
  const external = typeof options.endpoint === "object" ? options.endpoint : undefined;

  const aws = await startEmbeddedAws({
    fifo: options.fifo,
    maxReceiveCount,
    visibilityTimeoutSeconds,
    port: options.awsPort,
    region: "us-east-1",
  });
  const sim = external
    ? undefined
    : await startEndpointSimulator({
        apiKey: LOCAL_API_KEY,
        virtualKey: LOCAL_VIRTUAL_KEY,
        pollAfterMs: 50,
        processingMs: 100,
        ...options.simulator,
      });
  const endpointBaseUrl = external?.endpointBaseUrl.href ?? sim!.baseUrl;
  const env: RelayEnvironment = {
    // A real endpoint: its own variables, as the function reads them (urls, api versions, credentials).
    ...(external?.env ?? { ENDPOINT_BASE_URL: endpointBaseUrl, PORTKEY_API_KEY: LOCAL_API_KEY, PORTKEY_VIRTUAL_KEY: LOCAL_VIRTUAL_KEY }),
    RESULTS_TOPIC_ARN: aws.resultsTopicArn,
    DLQ_URL: aws.dlq.url,
    INPUT_QUEUE_URL: aws.input.url,
    MAX_RECEIVE_COUNT: String(maxReceiveCount),
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: aws.dynamodb.endpoint,
    RELAY_STATE_TABLE: aws.stateTableName,
    RELAY_PAYLOAD_BUCKET: aws.payloadBucket,
    AWS_REGION: aws.region,
    // Against the simulator, quick retries and hand-backs that come back at once keep a demo short;
    // a real endpoint keeps the relay's own defaults.
    ...(external ? {} : SIMULATOR_TUNING),
    ...options.env,
  };
  // The emulator takes any credentials; the SDK only needs some to sign with.
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";

  const realHandler = createHandler(env) as SqsHandler;
  const handler = options.wrapHandler ? options.wrapHandler(realHandler) : realHandler;
  const ledger = new DeliveryLedger();
  const poller = startEventSourcePoller({
    sqs: aws.sqs,
    queue: aws.input,
    region: aws.region,
    handler,
    functionTimeoutMs,
    pollers: options.poller?.pollers ?? 4,
    batchSize: options.poller?.batchSize ?? 10,
    waitTimeSeconds: options.poller?.waitTimeSeconds ?? 1,
    onInvocation: (report) => {
      ledger.record(report);
      options.onInvocation?.(report);
    },
  });

  const fifoParams = (body: string, o: SendOptions = {}) =>
    options.fifo
      ? { MessageGroupId: o.groupId ?? threadIdOf(body) ?? "local", ...(o.dedupId ? { MessageDeduplicationId: o.dedupId } : {}) }
      : {};
  const bodyOf = (message: unknown) => (typeof message === "string" ? message : JSON.stringify(message));

  const stack: LocalStack = {
    aws,
    sim,
    endpointBaseUrl,
    env,
    poller,
    ledger,
    async send(message, o = {}) {
      const body = bodyOf(message);
      const sent = await aws.sqs.send(
        new SendMessageCommand({
          QueueUrl: aws.input.url,
          MessageBody: body,
          ...fifoParams(body, o),
          ...(o.delaySeconds ? { DelaySeconds: o.delaySeconds } : {}),
        }),
      );
      return sent.MessageId!;
    },
    async sendMany(messages, o = {}) {
      const bodies = messages.map(bodyOf);
      const ids: string[] = new Array(bodies.length);
      const chunks = Array.from({ length: Math.ceil(bodies.length / 10) }, (_, c) => c * 10);
      let next = 0;
      const worker = async () => {
        while (next < chunks.length) {
          const start = chunks[next++]!;
          const entries = bodies.slice(start, start + 10).map((body) => ({ MessageBody: body, ...fifoParams(body) }));
          const sent = await sendMessages(aws.sqs, aws.input.url, entries);
          sent.forEach((id, i) => {
            ids[start + i] = id;
          });
        }
      };
      await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 4, chunks.length) }, worker));
      return ids;
    },
    async readResults() {
      const results = (await drainQueue(aws.sqs, aws.results.url)).map(readPublishedResult);
      ledger.addResults(results);
      return results;
    },
    async readDeadLetters() {
      const letters = (await drainQueue(aws.sqs, aws.dlq.url)).map(readDeadLetter);
      ledger.addDeadLetters(letters);
      return letters;
    },
    async inputDepth() {
      const { Attributes: a = {} } = await aws.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: aws.input.url,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"],
        }),
      );
      return {
        visible: Number(a.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
      };
    },
    async settle(messageIds = [], o = {}) {
      const ids = [...messageIds];
      const deadline = Date.now() + (o.timeoutMs ?? 60_000);
      let quietChecks = 0;
      for (;;) {
        await stack.readResults();
        await stack.readDeadLetters();
        const accounting = ledger.account(ids);
        const depth = await stack.inputDepth();
        // Delayed messages are not waited for: locally only a collection's check is sent with a delay (a minute),
        // and it only looks again at a collection; the ids asked about are accounted for without it.
        const quiet = accounting.pending.length === 0 && depth.visible + depth.inFlight === 0 && poller.stats.inFlight === 0;
        // Twice in a row: a result published just before the check may still be on its way to the reader queue.
        quietChecks = quiet ? quietChecks + 1 : 0;
        if (quietChecks >= 2 || Date.now() > deadline) {
          await stack.readResults();
          await stack.readDeadLetters();
          return ledger.account(ids);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async close() {
      await poller.stop();
      await sim?.close();
      await aws.close();
    },
  };
  return stack;
}

const SIMULATOR_TUNING: RelayEnvironment = {
  ENDPOINT_TIMEOUT_MS: "2000",
  RETRY_BASE_DELAY_MS: "20",
  RETRY_MAX_DELAY_MS: "200",
  POLL_INTERVAL_MS: "50",
  FOLLOW_BUDGET_MS: "5000",
  DEADLINE_RESERVE_MS: "500",
  RETRY_VISIBILITY_BASE_SECONDS: "0",
  RETRY_VISIBILITY_MAX_SECONDS: "2",
  WATCH_DELAY_SECONDS: "0",
};

/** The FIFO group a body belongs to by its ids: the thread, else the conversation, else the response it answers. */
function threadIdOf(body: string): string | undefined {
  try {
    const value = JSON.parse(body) as Record<string, unknown>;
    const id = [value.thread_id, value.conversation_id, value.response_id].find((v) => typeof v === "string");
    return id as string | undefined;
  } catch {
    return undefined;
  }
}
