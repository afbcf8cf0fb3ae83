import type { IncomingMessage } from "node:http";
import { HttpRequest } from "@smithy/core/protocols";
import { NodeHttpHandler } from "@smithy/node-http-handler";

/** The headers of an answer, read by name (lower or upper case): what the relay reads of a `Headers`. */
export interface AnswerHeaders {
  get(name: string): string | null;
}

/** One request to the endpoint: the URL built by `EndpointHttp.url`, its headers, and its signal. */
export interface TransportRequest {
  method: "GET" | "POST";
  url: URL;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}

/**
 * The endpoint's answer as the relay reads it (the part of `fetch`'s Response it uses): status, headers, and the body
 * read once, as text, as JSON, chunk by chunk (an event stream's), or dropped.
 */
export class EndpointResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: AnswerHeaders;

  constructor(
    status: number,
    headers: Readonly<Record<string, string>>,
    private readonly message: AsyncIterable<Uint8Array>,
  ) {
    this.status = status;
    this.ok = status >= 200 && status < 300;
    this.headers = { get: (name) => headers[name.toLowerCase()] ?? null };
  }

  async text(): Promise<string> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of this.message) chunks.push(chunk);
    return Buffer.concat(chunks).toString("utf8");
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  /** Reads the body to its end and drops it, so the connection goes back to the pool. */
  async discard(): Promise<void> {
    for await (const _ of this.message);
  }

  /** The body as it comes, chunk by chunk (an event stream's); ending the iteration early drops the connection. */
  stream(): AsyncIterable<Uint8Array> {
    return this.message;
  }
}

/** Sends one request and gives its answer once its headers are in; rejects as `fetch` would (the signal's reason when aborted). */
export type Transport = (request: TransportRequest) => Promise<EndpointResponse>;

/**
 * The endpoint's HTTP on the AWS SDK's own Node.js handler (`@smithy/node-http-handler`, in the bundle already for the
 * SQS and SNS clients), over keep-alive agents, rather than `fetch`: a call costs about half the CPU (a small JSON
 * answer on loopback: 47 µs against 111 µs, bench/README.md), since `fetch` builds a web Request, Response, Headers
 * and stream for every call; and Node's fetch (undici) is no longer loaded by the first invocation. The handler is
 * given no timeouts of its own: the caller's signal bounds each call (`pipeline/call-limit.ts`).
 */
export function nodeTransport(): Transport {
  // Its own keep-alive agents (50 sockets each). Not made here: importing `node:http` as an ES module makes Node read
  // every export of it, the WebSocket ones too, which loads undici (about 14 ms of the first message); the handler
  // loads `node:http` only for a plain-http endpoint (local), and `node:https` is in the init already.
  const handler = new NodeHttpHandler();
  return async ({ method, url, headers, body, signal }) => {
    try {
      const { response } = await handler.handle(
        new HttpRequest({
          protocol: url.protocol,
          hostname: url.hostname,
          ...(url.port ? { port: Number(url.port) } : {}),
          method,
          // The query as built (the handler's own would sort and encode it again).
          path: `${url.pathname}${url.search}`,
          // fetch sets the length of a string body; Node's http would send it chunked.
          headers: body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) },
          body,
        }),
        { abortSignal: signal },
      );
      const message = response.body as IncomingMessage;
      // The signal bounds the body too, until the caller releases it (the handler stops listening once the answer came).
      const abort = () => message.destroy(signal.reason);
      signal.addEventListener("abort", abort, { once: true });
      message.once("close", () => signal.removeEventListener("abort", abort));
      return new EndpointResponse(response.statusCode, response.headers, message);
    } catch (error) {
      // As fetch: an aborted call rejects with the signal's reason (the call's timeout, the invocation's deadline).
      throw signal.aborted ? signal.reason : error;
    }
  };
}

/**
 * `fetch`, for the calls whose answer is an event stream (a submission with `stream: true`, a session's events): on
 * Node's http those answers reached the results event about 0.4 ms later (bench/README.md, loop latency), where the
 * CPU a call saves matters less (one such call a message, and a stream's reading dominates).
 */
export function fetchTransport(): Transport {
  return async ({ method, url, headers, body, signal }) => {
    const response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }), signal });
    return new EndpointResponse(response.status, Object.fromEntries(response.headers), response.body ?? noBody());
  };
}

async function* noBody(): AsyncGenerator<Uint8Array> {}
