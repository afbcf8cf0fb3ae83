/**
 * A metering proxy on loopback, between the relay's AWS clients and the local emulators: every request passes
 * through and is counted as AWS would bill it (the cost benchmark and the soak read the counts). One meter per
 * upstream: fauxqs (SQS, SNS, S3 behind one endpoint) and dynalite (DynamoDB).
 *
 * Counting on the wire rather than with SDK middleware: the relay builds its clients inside, and the wire is what
 * AWS bills. For DynamoDB the proxy adds `ReturnConsumedCapacity: TOTAL` to each request (dynalite computes
 * capacity as DynamoDB does) and reads the units from the answer; a conditional write that fails answers no
 * capacity, but DynamoDB bills it all the same, so it is counted from the item's size.
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

/** One billing line: API calls, and the units AWS bills for them (64 KiB chunks, capacity units). */
export interface MeteredLine {
  calls: number;
  units: number;
}

/** What went through the meter, by service and operation (e.g. `sqs.SendMessageBatch`, `dynamodb.PutItem`). */
export type MeterCounts = Record<string, MeteredLine>;

const CHUNK = 64 * 1024;

/** How AWS bills one request: service, operation, and the units it is billed as (before DynamoDB's answer). */
export interface Classified {
  service: "sqs" | "sns" | "dynamodb" | "s3" | "other";
  operation: string;
  /** SQS and SNS: 64 KiB chunks of payload (at least 1); S3: 1; DynamoDB: filled from the answer. */
  units: number;
}

/**
 * Names a request as AWS bills it.
 * @example classify("POST", "/", { "x-amz-target": "AmazonSQS.SendMessage" }, body) // { service: "sqs", operation: "SendMessage", units: 1 }
 */
export function classify(method: string, path: string, headers: Record<string, string | undefined>, body: string): Classified {
  const target = headers["x-amz-target"];
  if (target?.startsWith("AmazonSQS.")) return { service: "sqs", operation: target.slice(10), units: chunks(Buffer.byteLength(body)) };
  if (target?.startsWith("DynamoDB_")) return { service: "dynamodb", operation: target.split(".")[1] ?? "unknown", units: 0 };
  const contentType = headers["content-type"] ?? "";
  if (contentType.includes("x-www-form-urlencoded")) {
    const form = new URLSearchParams(body);
    const action = form.get("Action") ?? "unknown";
    // The payload is the messages and their attributes, not the form's encoding of them.
    let payload = 0;
    for (const [key, value] of form) if (/Message$|\.Value\.StringValue$|\.Name$/.test(key)) payload += Buffer.byteLength(value);
    return { service: "sns", operation: action, units: chunks(payload) };
  }
  const s3Operation = method === "PUT" ? "PutObject" : method === "GET" ? "GetObject" : `${method} ${path.split("/")[1] ?? ""}`;
  return { service: "s3", operation: s3Operation, units: 1 };
}

function chunks(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / CHUNK));
}

/** DynamoDB's capacity units in an answer (a single-table call), or undefined. */
function consumedUnits(answer: string): number | undefined {
  try {
    const parsed = JSON.parse(answer) as { ConsumedCapacity?: { CapacityUnits?: number } };
    return parsed.ConsumedCapacity?.CapacityUnits;
  } catch {
    return undefined;
  }
}

/** A refused conditional write is billed as a write of its item: 1 unit per KiB. */
function refusedWriteUnits(body: string): number {
  return Math.max(1, Math.ceil(Buffer.byteLength(body) / 1024));
}

export interface RequestMeter {
  /** Point the relay's client here (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`). */
  endpoint: string;
  /** The counts so far; `reset` starts again from zero. */
  counts(): MeterCounts;
  reset(): void;
  /** Holds every request this long before passing it on (an AWS call's round trip, for the cost benchmark). */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

/**
 * Starts a meter in front of `upstream` (an `http://127.0.0.1:<port>` emulator; a function when the emulator starts
 * after the meter, its answer read on each request).
 * @example const meter = await startRequestMeter(aws.endpoint); env.AWS_ENDPOINT_URL = meter.endpoint; … meter.counts()["sns.PublishBatch"]
 */
export async function startRequestMeter(upstream: string | (() => string)): Promise<RequestMeter> {
  const targetOf = () => new URL(typeof upstream === "string" ? upstream : upstream());
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let counts: MeterCounts = {};
  let delayMs = 0;
  const add = (key: string, units: number) => {
    const line = counts[key] ?? { calls: 0, units: 0 };
    counts[key] = line;
    line.calls += 1;
    line.units += units;
  };

  const server = createServer(async (req, res) => {
    try {
      const body = await readAll(req);
      const target = targetOf();
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      const headers = flatHeaders(req);
      const kind = classify(req.method ?? "GET", req.url ?? "/", headers, body.toString("utf8"));
      let sent = body;
      if (kind.service === "dynamodb") {
        const parsed = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
        sent = Buffer.from(JSON.stringify({ ...parsed, ReturnConsumedCapacity: "TOTAL" }));
      }
      // The body is read whole here, so it goes on with a length (not chunked, no 100-continue).
      const { "transfer-encoding": _chunked, expect: _expect, ...kept } = req.headers;
      const forwarded = { ...kept, host: target.host, "content-length": String(sent.length) };
      const answer = await new Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }>((resolve, reject) => {
        const out = httpRequest(
          { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: forwarded, agent },
          async (upstreamRes) =>
            resolve({ status: upstreamRes.statusCode ?? 502, headers: upstreamRes.headers, body: await readAll(upstreamRes) }),
        );
        out.on("error", reject);
        out.end(sent);
      });
      if (kind.service === "dynamodb") {
        const text = answer.body.toString("utf8");
        const units = consumedUnits(text) ?? (text.includes("ConditionalCheckFailed") ? refusedWriteUnits(body.toString("utf8")) : 0);
        add(`dynamodb.${kind.operation}`, units);
      } else {
        add(`${kind.service}.${kind.operation}`, kind.units);
      }
      const { "content-length": _length, "transfer-encoding": _encoding, ...rest } = answer.headers;
      res.writeHead(answer.status, { ...rest, "content-length": String(answer.body.length) }).end(answer.body);
    } catch {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts: () => structuredClone(counts),
    reset: () => {
      counts = {};
    },
    setDelay: (ms) => {
      delayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function flatHeaders(req: IncomingMessage): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(", ") : value]));
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part);
  return Buffer.concat(parts);
}
