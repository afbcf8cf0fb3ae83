import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

/** One DynamoDB request as the proxy saw it: its operation (`GetItem`, `UpdateItem`, …) and its JSON body. */
export interface ProxiedRequest {
  operation: string;
  body: string;
}

export interface DynamodbProxy {
  /** What `AWS_ENDPOINT_URL_DYNAMODB` should be to go through the proxy. */
  endpoint: string;
  /** Requests forwarded so far, by operation. */
  counts(): Record<string, number>;
  /** Forget the counts. */
  resetCounts(): void;
  /**
   * From the first request `matches` on, answer nothing any more: the table stops hearing from the client, as from
   * a Lambda frozen or killed mid-invocation. `after`: that request still reaches the table (the write lands), and
   * with `answered: false` its answer is held too (the function died before it heard). `only`: just the requests
   * `matches` accepts are held, the others answered (one call hangs or loses its answer while the invocation goes on).
   */
  stallFrom(matches: (request: ProxiedRequest) => boolean, options?: { after?: boolean; answered?: boolean; only?: boolean }): void;
  /** Requests held unanswered since the stall began. */
  readonly stalled: number;
  /**
   * Stops: held requests are answered with an error the SDK does not retry (so the cut invocation ends now, having
   * written nothing more), new connections refused.
   */
  close(): Promise<void>;
}

/**
 * A loopback HTTP proxy in front of a local DynamoDB (dynalite): counts the requests a client makes by operation
 * (the bench's DynamoDB requests per collected output) and, for the tests, can stop answering from a chosen request
 * on, so that a test can cut an invocation between two writes of the state table and see what a redelivery makes
 * of what it left. Hand-written because it is a few lines over node:http; the AWS SDK sees an ordinary endpoint.
 * @example const proxy = await startDynamodbProxy(aws.dynamodb.endpoint); … proxy.counts().UpdateItem
 */
export async function startDynamodbProxy(target: string): Promise<DynamodbProxy> {
  const to = new URL(target);
  const counts: Record<string, number> = {};
  const held: ServerResponse[] = [];
  const sockets = new Set<Socket>();
  let stall: { matches: (request: ProxiedRequest) => boolean; after: boolean; answered: boolean; only: boolean } | undefined;
  let stalling = false;

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, answered = true) => {
    const upstream = httpRequest(
      { hostname: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        if (!answered) {
          answer.resume();
          held.push(res);
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    upstream.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const operation = String(req.headers["x-amz-target"] ?? "").split(".")[1] ?? "unknown";
      if ((!stalling || stall?.only) && stall?.matches({ operation, body: body.toString("utf8") })) {
        stalling = !stall.only;
        if (stall.only && !stall.after) {
          held.push(res);
          return;
        }
        if (stall.after) {
          counts[operation] = (counts[operation] ?? 0) + 1;
          forward(req, res, body, stall.answered);
          return;
        }
      }
      if (stalling) {
        held.push(res);
        return;
      }
      counts[operation] = (counts[operation] ?? 0) + 1;
      forward(req, res, body);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  return {
    endpoint,
    counts: () => ({ ...counts }),
    resetCounts: () => {
      for (const key of Object.keys(counts)) delete counts[key];
    },
    stallFrom(matches, options = {}) {
      stall = { matches, after: options.after ?? false, answered: options.answered ?? true, only: options.only ?? false };
      stalling = false;
    },
    get stalled() {
      return held.length;
    },
    close: () =>
      new Promise<void>((resolve) => {
        const cut = JSON.stringify({ __type: "com.amazon.coral.validate#ValidationException", message: "cut off by the test proxy" });
        for (const res of held) res.writeHead(400, { "content-type": "application/x-amz-json-1.0" }).end(cut);
        held.length = 0;
        server.close(() => resolve());
        setImmediate(() => {
          for (const socket of sockets) socket.destroy();
        });
      }),
  };
}
