/**
 * A minimal loopback upstream for the gateway tests, for what the endpoint simulator does not do on purpose
 * (the Responses and Conversations routes, a compressed answer, a stream paced by the test). It records each
 * request as it arrived and answers with the test's handler.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface UpstreamRequest {
  method: string;
  /** Path with the query string, as the gateway sent it. */
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface ScriptedUpstream {
  /** `http://127.0.0.1:<port>/v1`: what `x-portkey-custom-host` points at. */
  readonly baseUrl: string;
  readonly requests: UpstreamRequest[];
  close(): Promise<void>;
}

export type UpstreamHandler = (request: UpstreamRequest, res: ServerResponse) => void | Promise<void>;

/** Answers 200 with `{method, url}`, so a test sees which route a request took. */
export const echoRoute: UpstreamHandler = (request, res) => {
  res.writeHead(200, { "content-type": "application/json", "x-request-id": "req_upstream" });
  res.end(JSON.stringify({ method: request.method, url: request.url }));
};

/**
 * Starts the upstream on 127.0.0.1 (on `port`, or a free one); `handler` answers every request.
 * @example const upstream = await startScriptedUpstream(echoRoute); … await upstream.close();
 */
export async function startScriptedUpstream(handler: UpstreamHandler = echoRoute, port = 0): Promise<ScriptedUpstream> {
  const requests: UpstreamRequest[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const request = {
      method: req.method ?? "GET",
      url: req.url ?? "/",
      headers: req.headers,
      body: Buffer.concat(chunks).toString("utf8"),
    };
    requests.push(request);
    try {
      await handler(request, res);
    } catch {
      res.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** A loopback port that was free a moment ago and has nothing listening: connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A handler that passes every request on to `target` (e.g. the endpoint simulator's `/v1`, or a function giving it at
 * request time) and its answer back: status, content-type and body.
 * @example const upstream = await startScriptedUpstream(forwardTo(sim.baseUrl));
 */
export function forwardTo(target: string | (() => string)): UpstreamHandler {
  return async (request, res) => {
    const headers = Object.fromEntries(
      Object.entries(request.headers).flatMap(([name, value]) =>
        name === "host" || name === "content-length" || value === undefined ? [] : [[name, String(value)]],
      ),
    );
    const base = typeof target === "string" ? target : target();
    const answer = await fetch(`${base}${request.url.replace(/^\/v1/, "")}`, {
      method: request.method,
      headers,
      body: request.body === "" ? undefined : request.body,
    });
    const body = Buffer.from(await answer.arrayBuffer());
    res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" });
    res.end(body);
  };
}
