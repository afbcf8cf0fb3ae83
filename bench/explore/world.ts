/**
 * The simulated world one schedule runs in, and the scheduler that decides, at every await on simulated I/O, which
 * execution environment proceeds and whether a fault strikes. The relay's own code runs unchanged: its AWS SDK
 * clients' `send`, its endpoint HTTP handler's `handle` and the global `fetch` are re-pointed (in this process only)
 * at a pending-operation list; the scheduler settles one operation per step, chosen by the seeded PRNG, and lets the
 * microtasks it releases run before the next step. With no operation ready, the simulated clock jumps to the next timer or queue change.
 * The method follows FoundationDB's deterministic simulation and TigerBeetle's VOPR: one seed, one schedule.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { Readable } from "node:stream";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import type { HttpRequest } from "@smithy/core/protocols";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { MemoryEndpoint } from "./memory-endpoint";
import { MemoryQueue, MemoryTopic, QueueError } from "./memory-queues";
import { MemoryTable, TableError, type TableOperation } from "./memory-table";
import { clock, prng } from "./sim-runtime";

export const FAULT_KINDS = [
  "lost_answer",
  "write_refused",
  "publish_refused",
  "crash_before",
  "crash_after",
  "lease_lapse",
  "duplicate_delivery",
  "redrive",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

type IoKind = "table" | "sqs" | "sns" | "endpoint" | "receive" | "delete";

/** An execution environment's life: a crash ends a generation, and a new one starts cold. */
export interface Generation {
  env: number;
  gen: number;
  dead: boolean;
}

interface Op {
  seq: number;
  owner: Generation;
  kind: IoKind;
  label: string;
  write: boolean;
  ready: () => boolean;
  /** Applies the operation to the world (synchronously) and returns its answer; throws the world's refusal. */
  apply: (fault?: FaultKind) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  detach: () => void;
}

export const TABLE_NAME = "relay-state";
export const VISIBILITY_TIMEOUT_SECONDS = 180;
export const RETENTION_SECONDS = 345_600;
export const LEASE_JUMP_MS = (VISIBILITY_TIMEOUT_SECONDS + 30) * 1000;

/**
 * Which environment (and generation) the running code belongs to. One store for the process, not one per world:
 * AsyncLocalStorage's `run` leaves its key (set back to undefined) in the caller's async context, so a store per
 * world would add a key to the scheduler's context every schedule, and every later `run` (the relay's own
 * call-deadline store included) would copy all of them: the cost grew with the schedules a process had run.
 */
const GENERATION = new AsyncLocalStorage<Generation>();

/** The shared parts every environment of one schedule talks to. */
export class World {
  readonly context = GENERATION;
  readonly table = new MemoryTable(TABLE_NAME);
  readonly endpoint = new MemoryEndpoint(() => Date.now());
  readonly topic = new MemoryTopic();
  readonly dlq: MemoryQueue;
  readonly input: MemoryQueue;
  readonly faults: Record<FaultKind, number> = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  readonly trace: string[] = [];
  readonly random: () => number;
  private ops: Op[] = [];
  private seq = 0;
  /** Incremented by every registration and settlement: the scheduler waits until it stops moving. */
  activity = 0;
  private idCount = 0;

  constructor(
    seed: number,
    maxReceiveCount: number,
    readonly tracing: boolean,
  ) {
    this.random = prng(seed);
    const newId = () => `m${(++this.idCount).toString().padStart(5, "0")}`;
    const now = () => Date.now();
    this.dlq = new MemoryQueue({ name: "relay-dlq", visibilityTimeoutSeconds: 30, retentionSeconds: 1_209_600, now, newId });
    this.input = new MemoryQueue({
      name: "relay-input",
      visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS,
      retentionSeconds: RETENTION_SECONDS,
      redrive: { deadLetter: this.dlq, maxReceiveCount },
      now,
      newId,
    });
  }

  note(line: string): void {
    if (this.tracing) this.trace.push(`${((Date.now() - 1_767_225_600_000) / 1000).toFixed(3).padStart(10)}s ${line}`);
  }

  /** Parks one I/O call of the current environment until the scheduler settles it. */
  io<T>(
    kind: IoKind,
    label: string,
    write: boolean,
    apply: (fault?: FaultKind) => T,
    signal?: AbortSignal,
    ready = () => true,
  ): Promise<T> {
    const owner = this.context.getStore();
    if (owner === undefined) return Promise.resolve().then(() => apply());
    if (owner.dead) return new Promise<T>(() => undefined);
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        this.remove(op);
        reject(signal!.reason);
      };
      const op: Op = {
        seq: this.seq++,
        owner,
        kind,
        label,
        write,
        ready,
        apply,
        resolve: resolve as (v: unknown) => void,
        reject,
        detach: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.ops.push(op);
      this.activity++;
    });
  }

  private remove(op: Op): void {
    const i = this.ops.indexOf(op);
    if (i >= 0) this.ops.splice(i, 1);
    this.activity++;
  }

  readyOps(): Op[] {
    return this.ops.filter((op) => !op.owner.dead && op.ready());
  }

  pendingOps(): Op[] {
    return this.ops.filter((op) => !op.owner.dead);
  }

  /** Drops a dead generation's parked calls: they never answer (the process is gone). */
  forget(owner: Generation): void {
    for (const op of this.ops) if (op.owner === owner) op.detach();
    this.ops = this.ops.filter((op) => op.owner !== owner);
    clock.dropOwnedBy(owner);
  }

  /**
   * Ends the schedule: the calls still parked lose their abort listeners. A listener left on a composite signal
   * (AbortSignal.any, as the relay's state-table calls make) whose timer will never fire keeps that signal in
   * Node's set of signals that must outlive their listeners, and with it the whole world of its schedule.
   */
  close(): void {
    for (const op of this.ops) op.detach();
    this.ops = [];
  }

  /** Settles `op`, with `fault` (at most one) applied to it. Returns whether its environment crashed. */
  settle(op: Op, fault: FaultKind | undefined): "crash" | undefined {
    this.remove(op);
    op.detach();
    const tag = fault ? ` !${fault}` : "";
    this.note(`env${op.owner.env}.${op.owner.gen} ${op.kind} ${op.label}${tag}`);
    if (fault === "crash_before") return "crash";
    if (fault === "write_refused" || fault === "publish_refused") {
      // The endpoint refuses with an answer (503, nothing taken); AWS refuses with an error.
      if (op.kind === "endpoint") op.resolve(overloaded());
      else op.reject(refusal(op.kind));
      return undefined;
    }
    let value: unknown;
    let failed: unknown;
    let threw = false;
    try {
      value = op.apply(fault);
    } catch (error) {
      threw = true;
      failed = error;
    }
    if (fault === "crash_after") return "crash";
    if (fault === "lost_answer") op.reject(lostAnswer(op.kind));
    else if (threw) op.reject(failed);
    else op.resolve(value);
    return undefined;
  }

  // --- the I/O boundary the relay's code already has, re-pointed here ---

  tableSend(name: string, input: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> {
    const operation = ({ GetCommand: "GetItem", PutCommand: "PutItem", UpdateCommand: "UpdateItem", DeleteCommand: "DeleteItem" } as const)[
      name as "GetCommand"
    ] as TableOperation | undefined;
    if (!operation) return Promise.reject(new Error(`explorer: the table does not serve ${name}`));
    const wire = toWire(input);
    const key = JSON.stringify(input.Key ?? { pk: (input.Item as { pk?: unknown })?.pk, sk: (input.Item as { sk?: unknown })?.sk });
    return this.io("table", `${operation} ${key}`, operation !== "GetItem", () => fromWire(this.table.request(operation, wire)), signal);
  }

  sqsSend(name: string, input: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> {
    const queue = input.QueueUrl === this.dlq.url ? this.dlq : input.QueueUrl === this.input.url ? this.input : undefined;
    if (!queue) return Promise.reject(new QueueError("QueueDoesNotExist", "The specified queue does not exist."));
    const label = `${name.replace("Command", "")} ${queue === this.dlq ? "dlq" : "input"}`;
    switch (name) {
      case "SendMessageCommand":
        return this.io(
          "sqs",
          label,
          true,
          () => ({
            MessageId: queue.send(input.MessageBody as string, {
              delaySeconds: input.DelaySeconds as number | undefined,
              attributes: input.MessageAttributes as never,
            }),
          }),
          signal,
        );
      case "SendMessageBatchCommand":
        return this.io(
          "sqs",
          label,
          true,
          () => {
            const entries = input.Entries as Array<{ Id: string; MessageBody: string; DelaySeconds?: number; MessageAttributes?: never }>;
            return {
              Successful: entries.map((e) => ({
                Id: e.Id,
                MessageId: queue.send(e.MessageBody, { delaySeconds: e.DelaySeconds, attributes: e.MessageAttributes }),
              })),
              Failed: [],
            };
          },
          signal,
        );
      case "ChangeMessageVisibilityCommand":
        return this.io(
          "sqs",
          label,
          true,
          () => {
            queue.changeVisibility(input.ReceiptHandle as string, input.VisibilityTimeout as number);
            return {};
          },
          signal,
        );
      default:
        return Promise.reject(new Error(`explorer: SQS ${name} is not simulated`));
    }
  }

  snsSend(name: string, input: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> {
    if (name !== "PublishBatchCommand") return Promise.reject(new Error(`explorer: SNS ${name} is not simulated`));
    const entries = input.PublishBatchRequestEntries as Array<{ Id: string; Message: string; MessageAttributes?: Record<string, unknown> }>;
    return this.io(
      "sns",
      `PublishBatch ×${entries.length}`,
      true,
      () => {
        const Successful: Array<{ Id: string; MessageId: string }> = [];
        const Failed: Array<{ Id: string; Code: string; SenderFault: boolean }> = [];
        for (const e of entries) {
          try {
            this.topic.publish(e.Message, e.MessageAttributes);
            Successful.push({ Id: e.Id, MessageId: `sns-${this.topic.published.length}` });
          } catch (error) {
            Failed.push({ Id: e.Id, Code: (error as Error).name, SenderFault: true });
          }
        }
        return { Successful, Failed };
      },
      signal,
    );
  }

  fetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init.method ?? "GET").toUpperCase();
    const headers = Object.fromEntries(
      Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const body = typeof init.body === "string" ? init.body : undefined;
    return this.io(
      "endpoint",
      `${method} ${url.pathname}`,
      method === "POST",
      () => this.endpoint.answer(method, url, body, headers),
      init.signal ?? undefined,
    );
  }
  /**
   * The relay's endpoint calls, sent on the AWS SDK's Node.js handler (endpoint-transport.ts): the request as that
   * handler gets it, answered by `fetch` above, and the answer as the handler gives it (status, lower-case headers,
   * the body as a Node stream).
   */
  async handleHttp(request: HttpRequest, signal: AbortSignal | undefined) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(request.query ?? {}))
      for (const one of Array.isArray(value) ? value : [value]) if (one !== null && one !== undefined) query.append(name, one);
    const search = query.size > 0 ? `?${query}` : "";
    const url = `${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ""}${request.path}${search}`;
    const body = typeof request.body === "string" ? request.body : undefined;
    const answer = await this.fetch(url, { method: request.method, headers: request.headers, body, ...(signal ? { signal } : {}) });
    const headers: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    const stream = answer.body ? Readable.fromWeb(answer.body as never) : Readable.from([]);
    return { response: { statusCode: answer.status, reason: answer.statusText, headers, body: stream } };
  }
}

/** What the world answers when a write is refused (nothing applied). */
function refusal(kind: IoKind): unknown {
  switch (kind) {
    case "table":
      return new TableError(
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded.",
      );
    case "sns":
      // SNS's own refusal, answered with a status on the call's one attempt (the world answers the client's `send`, so
      // the SDK's retries are not played): what the relay can know published nothing (out/aws-sinks.ts mayHaveLanded).
      return Object.assign(new Error("Throttled request."), {
        name: "ThrottledException",
        $fault: "client",
        $metadata: { httpStatusCode: 429, attempts: 1 },
      });
    default:
      return Object.assign(new Error("We encountered an internal error. Please try again."), { name: "InternalError", $fault: "server" });
  }
}

function overloaded(): Response {
  const body = {
    error: {
      message: "The server is currently overloaded with other requests. Please retry.",
      type: "server_error",
      param: null,
      code: null,
    },
  };
  return new Response(JSON.stringify(body), { status: 503, headers: { "content-type": "application/json" } });
}

/** What a caller sees when its write landed but the answer never came back. */
function lostAnswer(kind: IoKind): unknown {
  if (kind === "endpoint") return Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }); // as Node's http rejects
  return Object.assign(new Error("socket hang up"), { name: "TimeoutError", code: "ECONNRESET", $metadata: {} });
}

const WIRE_FIELDS = ["Key", "Item", "ExpressionAttributeValues"] as const;

/** The document client's plain values as DynamoDB's wire AttributeValues (what lib-dynamodb does before sending). */
function toWire(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue;
    out[k] = (WIRE_FIELDS as readonly string[]).includes(k)
      ? marshall(v as Record<string, unknown>, { removeUndefinedValues: true, convertClassInstanceToMap: false })
      : v;
  }
  return out;
}

function fromWire(answer: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { $metadata: {} };
  for (const [k, v] of Object.entries(answer)) out[k] = k === "Item" || k === "Attributes" ? unmarshall(v as never) : v;
  return out;
}

let current: World | undefined;

/** Points the AWS SDK clients' `send`, the endpoint's HTTP handler and the global `fetch` at the current world (this process only). */
export function installWorldBoundary(): void {
  const route = (service: "table" | "sqs" | "sns") =>
    function send(this: unknown, command: { constructor: { name: string }; input: Record<string, unknown> }, options?: unknown) {
      const world = current;
      if (!world) return Promise.reject(new Error("explorer: no world"));
      const signal = (options as { abortSignal?: AbortSignal } | undefined)?.abortSignal;
      const name = command.constructor.name;
      if (service === "table") return world.tableSend(name, command.input, signal);
      if (service === "sqs") return world.sqsSend(name, command.input, signal);
      return world.snsSend(name, command.input, signal);
    };
  // Every client the relay builds makes its own HTTP handler, and making one starts resolving the SDK's defaults
  // mode (environment, shared config files, a provider error per miss): most of a cold handler's cost here. With
  // `send` re-pointed no request ever reaches a handler, so the clients share one inert handler (the SDK's own
  // class, made with options rather than the defaults-mode provider). The class is reached through a client, so the
  // explorer names no package the project does not depend on.
  type HandlerClass = { create(options?: unknown): unknown; new (options?: object): unknown };
  const Handler = (new SQSClient({}).config.requestHandler as unknown as { constructor: HandlerClass }).constructor;
  const inert = new Handler({});
  Handler.create = (options?: unknown) => (typeof (options as { handle?: unknown })?.handle === "function" ? options : inert);
  (DynamoDBDocumentClient.prototype as { send: unknown }).send = route("table");
  (SQSClient.prototype as { send: unknown }).send = route("sqs");
  (SNSClient.prototype as { send: unknown }).send = route("sns");
  // The endpoint's calls (endpoint-transport.ts): the handler's `handle`, which no SDK client reaches (their `send` is above).
  (NodeHttpHandler.prototype as { handle: unknown }).handle = (request: HttpRequest, options?: { abortSignal?: AbortSignal }) => {
    if (!current) return Promise.reject(new Error("explorer: no world"));
    return current.handleHttp(request, options?.abortSignal);
  };
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
    if (!current) return Promise.reject(new Error("explorer: no world"));
    return current.fetch(input, init);
  }) as typeof fetch;
}

export function enterWorld(world: World | undefined): void {
  current = world;
}
