/**
 * The benchmark rig: loopback servers in a child process (loopback-servers.ts) and, in this process,
 * the real handler plus what is needed to feed it real SQS events.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type Message, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { deleteMessages, receiveBatch, sendMessages } from "../../cli/queue-io";
import { answerFor } from "../../fixtures/messages";
import type { RelayEnvironment } from "../../functions/submit-tool-outputs/config/environment";
import { createHandler } from "../../functions/submit-tool-outputs/create-handler";
import type {
  CreateResponseOptions,
  CreateRunOptions,
  CreateSessionOptions,
  Fault,
  RandomFaults,
  SimulatorCounters,
} from "../../local/endpoint-simulator";
import { lambdaContext, toSqsEvent } from "../../local/lambda-shapes";
import {
  BENCH_API_KEY,
  BENCH_VIRTUAL_KEY,
  type EndpointRequestCounts,
  type RestingOf,
  type ServersInfo,
  type ServersRequest,
} from "./loopback-servers";
import type { MeterCounts } from "./request-meter";

export type SimRun = { threadId: string; runId: string; toolCallIds: string[] };
export type SimResponse = { responseId: string; callIds: string[]; conversationId?: string };
export type SimSession = { sessionId: string; turnId: string; callIds: string[] };

export interface Rig {
  info: ServersInfo;
  sqs: SQSClient;
  /** The handler's environment: holds the (local, fake) endpoint keys, never printed. */
  env: RelayEnvironment;
  createRuns(count: number, options?: CreateRunOptions): Promise<SimRun[]>;
  createResponses(count: number, options?: CreateResponseOptions): Promise<SimResponse[]>;
  /** Agents API sessions waiting for their first round of calls. */
  createSessions(count: number, options?: CreateSessionOptions): Promise<SimSession[]>;
  /** The simulator's restingSince for each (epoch ms, sub-millisecond), null while one still moves. */
  restingSince(of: RestingOf[]): Promise<Array<number | null>>;
  /** The responses created on each (continuations). */
  children(responseIds: string[]): Promise<string[][]>;
  /** What went through the request meters since the last reset (`reset`: start again from zero). */
  meter(reset?: boolean): Promise<MeterCounts>;
  /** The endpoint requests the simulator saw since the last reset, by route (`reset`: start again from zero). */
  endpointRequests(reset?: boolean): Promise<EndpointRequestCounts>;
  /** Holds every request through the meters this long (an AWS round trip). */
  meterDelay(ms: number): Promise<void>;
  inject(...faults: Fault[]): Promise<void>;
  randomFaults(options: RandomFaults | undefined): Promise<void>;
  counters(): Promise<SimulatorCounters>;
  /** Sends the bodies and receives them back as one Lambda event (at most 10). */
  eventOf(bodies: string[]): Promise<SQSEvent>;
  /** Deletes the records of an event (what the event source mapping does after success). */
  ack(event: SQSEvent): Promise<void>;
  handler(overrides?: RelayEnvironment): (event: SQSEvent, timeoutMs?: number) => Promise<SQSBatchResponse>;
  close(): Promise<void>;
}

/** The bench's message for a run: outputs of a realistic few hundred bytes. */
export function messageFor(run: SimRun): string {
  return JSON.stringify(answerFor(run, {}, (_, i) => JSON.stringify({ answer: i, text: "bench output ".repeat(8) })));
}

/** `pollAfterMs`: the simulator's `openai-poll-after-ms` (default 10). */
export async function startRig(options: { processingMs?: number; pollAfterMs?: number } = {}): Promise<Rig> {
  const child: ChildProcess = fork(fileURLToPath(new URL("./loopback-servers.ts", import.meta.url)), {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, SIM_PROCESSING_MS: String(options.processingMs ?? 0), SIM_POLL_AFTER_MS: String(options.pollAfterMs ?? 10) },
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const info = await new Promise<ServersInfo>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`loopback servers exited with ${code}`)));
    child.on("message", (m: { ready?: ServersInfo }) => m.ready && resolve(m.ready));
  });
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  child.on("message", (m: { id?: number; result?: unknown }) => {
    if (m.id === undefined) return;
    pending.get(m.id)?.(m.result);
    pending.delete(m.id);
  });
  type WithoutId<R> = R extends unknown ? Omit<R, "id"> : never;
  const call = <T>(request: WithoutId<ServersRequest>): Promise<T> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve as (r: unknown) => void);
      child.send({ ...request, id });
    });

  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  const sqs = new SQSClient({
    region: info.region,
    endpoint: info.awsEndpoint,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const env: RelayEnvironment = {
    ENDPOINT_BASE_URL: info.simBaseUrl,
    PORTKEY_API_KEY: BENCH_API_KEY,
    PORTKEY_VIRTUAL_KEY: BENCH_VIRTUAL_KEY,
    RESULTS_TOPIC_ARN: info.resultsTopicArn,
    DLQ_URL: info.dlqUrl,
    INPUT_QUEUE_URL: info.inputUrl,
    MAX_RECEIVE_COUNT: "5",
    AWS_ENDPOINT_URL: info.awsEndpoint,
    AWS_REGION: info.region,
    AWS_ENDPOINT_URL_DYNAMODB: info.dynamodbEndpoint,
    RELAY_STATE_TABLE: info.stateTableName,
    RELAY_PAYLOAD_BUCKET: info.payloadBucket,
    POLL_INTERVAL_MS: "10",
  };

  const rig: Rig = {
    info,
    sqs,
    env,
    createRuns: (count, o) => call({ op: "createRuns", count, options: o }),
    createResponses: (count, o) => call({ op: "createResponses", count, options: o }),
    createSessions: (count, o) => call({ op: "createSessions", count, options: o }),
    restingSince: (of) => call({ op: "restingSince", of }),
    children: (responseIds) => call({ op: "children", responseIds }),
    meter: (reset = false) => call({ op: "meter", reset }),
    endpointRequests: (reset = false) => call({ op: "endpointRequests", reset }),
    meterDelay: (ms) => call({ op: "meterDelay", ms }),
    inject: (...faults) => call({ op: "inject", faults }),
    randomFaults: (o) => call({ op: "randomFaults", options: o }),
    counters: () => call({ op: "counters" }),
    async eventOf(bodies) {
      await sendMessages(
        sqs,
        info.inputUrl,
        bodies.map((body) => ({ MessageBody: body })),
      );
      const messages: Message[] = [];
      while (messages.length < bodies.length) {
        messages.push(...(await receiveBatch(sqs, info.inputUrl, { max: bodies.length - messages.length, waitSeconds: 1 })));
      }
      return toSqsEvent(messages, info.inputArn, info.region);
    },
    async ack(event) {
      await deleteMessages(
        sqs,
        info.inputUrl,
        event.Records.map((r) => r.receiptHandle),
      );
    },
    handler(overrides = {}) {
      const handler = createHandler({ ...env, ...overrides });
      return async (event, timeoutMs = 30_000) => (await handler(event, lambdaContext(timeoutMs))) as SQSBatchResponse;
    },
    async close() {
      sqs.destroy();
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.disconnect();
      await exited;
    },
  };
  return rig;
}
