/**
 * A loopback HTTP proxy in front of the endpoint simulator, for the Responses-API answers the simulator has no
 * fault for (409, 403, the "No tool call found" refusal, a stream cut before its first event, an oversized
 * response, a refused connection). Every request it does not intercept goes to the simulator unchanged, so the
 * simulator's counters and `requests` stay the truth about what reached the endpoint.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach } from "vitest";
import type { EndpointSimulator } from "../../../local/endpoint-simulator";
import { type Harness, type HarnessOptions, startHarness, TEST_API_KEY, TEST_VIRTUAL_KEY } from "../relay-harness";

/** A request as the proxy saw it. */
export interface ProxiedRequest {
  method: string;
  /** Path and query, e.g. `/v1/responses/resp_1`. */
  url: string;
  body: string;
}

/** What an interception does with a matching request. */
export type Interception =
  /** Answer this instead; the simulator never sees the request. */
  | { answer: { status: number; body: unknown; headers?: Record<string, string> } }
  /** Forward it, then rewrite the simulator's JSON answer. */
  | { rewrite: (body: Record<string, unknown>) => Record<string, unknown> }
  /** Forward it (the simulator acts on it), send the stream's headers, then cut the connection before any event. */
  | { cutStreamBeforeFirstEvent: true }
  /** Forward it, then stop listening before answering: every later connection is refused until `listen()`. */
  | { stopListeningAfter: true }
  /** Forward it (the simulator acts on it), then answer this instead of the simulator's answer (a gateway's own 408). */
  | { forwardThenAnswer: { status: number; body: unknown } };

export interface InterceptRule {
  method: "GET" | "POST";
  /** Matched against the path (without the query). */
  path: RegExp;
  /** How many matching requests it takes. Default 1. */
  times?: number;
  does: Interception;
}

export interface EndpointProxy {
  /** `http://127.0.0.1:<port>/v1`: the base URL to give the relay. */
  readonly baseUrl: string;
  /** Where requests go: the simulator's base URL (set once the simulator is up). */
  target: string;
  readonly seen: ProxiedRequest[];
  intercept(...rules: InterceptRule[]): void;
  /** Forgets every rule and every request seen (between tests). */
  reset(): void;
  /** Listens again on the same port after `stopListeningAfter`. */
  listen(): Promise<void>;
  close(): Promise<void>;
}

/** Hop-by-hop and length headers the proxy must not copy from one connection to the other. */
const HOP_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "host"]);

/**
 * Starts the proxy on 127.0.0.1 (a free port).
 * @example const proxy = await startEndpointProxy(); proxy.target = sim.baseUrl; proxy.intercept({ method: "POST", path: /\/responses$/, does: { answer } });
 */
export async function startEndpointProxy(): Promise<EndpointProxy> {
  const rules: Array<InterceptRule & { left: number }> = [];
  const seen: ProxiedRequest[] = [];
  let server: Server;
  let port = 0;

  const take = (method: string, path: string) => {
    const rule = rules.find((r) => r.left > 0 && r.method === method && r.path.test(path));
    if (rule) rule.left--;
    return rule?.does;
  };

  const forward = async (request: ProxiedRequest, req: IncomingMessage) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_HEADERS.has(name)) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const target = new URL(proxy.target);
    const url = `${target.origin}${request.url}`;
    return fetch(url, { method: request.method, headers, body: request.method === "POST" ? request.body : undefined });
  };

  const answerWith = (res: ServerResponse, status: number, headers: Headers | Record<string, string>, body: string) => {
    const out: Record<string, string> = { connection: "close" };
    const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
    for (const [name, value] of entries) if (!HOP_HEADERS.has(name)) out[name] = value;
    res.writeHead(status, out);
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const request = { method: req.method ?? "GET", url: req.url ?? "/", body: Buffer.concat(chunks).toString("utf8") };
    seen.push(request);
    const path = new URL(request.url, "http://proxy").pathname;
    const does = take(request.method, path);

    if (does && "answer" in does) {
      return answerWith(
        res,
        does.answer.status,
        { "content-type": "application/json", ...does.answer.headers },
        JSON.stringify(does.answer.body),
      );
    }
    const answer = await forward(request, req);
    if (does && "cutStreamBeforeFirstEvent" in does) {
      res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "text/event-stream", connection: "close" });
      res.flushHeaders();
      await answer.body?.cancel();
      // Give the headers a moment on the wire, then cut: the client has a stream and no event in it.
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    if (does && "stopListeningAfter" in does) server.close();
    if (does && "forwardThenAnswer" in does) {
      await answer.body?.cancel();
      const { status, body } = does.forwardThenAnswer;
      return answerWith(res, status, { "content-type": "application/json" }, JSON.stringify(body));
    }
    if (does && "rewrite" in does && answer.ok) {
      const rewritten = does.rewrite((await answer.json()) as Record<string, unknown>);
      return answerWith(res, answer.status, answer.headers, JSON.stringify(rewritten));
    }
    if (answer.headers.get("content-type")?.includes("text/event-stream") && answer.body) {
      res.writeHead(answer.status, { "content-type": "text/event-stream", connection: "close" });
      for await (const chunk of answer.body) res.write(chunk);
      res.end();
      return;
    }
    answerWith(res, answer.status, answer.headers, await answer.text());
  };

  const open = async () => {
    server = createServer((req, res) => {
      handle(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  };
  await open();

  const proxy: EndpointProxy = {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    target: "",
    seen,
    intercept(...added) {
      for (const rule of added) rules.push({ ...rule, left: rule.times ?? 1 });
    },
    reset() {
      rules.length = 0;
      seen.length = 0;
    },
    listen: open,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed.catch(() => undefined);
    },
  };
  return proxy;
}

/**
 * The harness's `endpoint` option that sends the relay's Responses-API calls through the proxy (and its
 * Assistants-API calls straight to the simulator), with the simulator's keys.
 * @example const h = await startHarness({ endpoint: responsesThrough(proxy) });
 */
export function responsesThrough(proxy: EndpointProxy) {
  return (sim: EndpointSimulator) => {
    proxy.target = sim.baseUrl;
    return {
      ENDPOINT_BASE_URL: sim.baseUrl,
      RESPONSES_BASE_URL: proxy.baseUrl,
      PORTKEY_API_KEY: TEST_API_KEY,
      PORTKEY_VIRTUAL_KEY: TEST_VIRTUAL_KEY,
    };
  };
}

/**
 * Starts the relay harness behind a proxy once for the file (vitest hooks), closes both after it, and clears
 * the simulator, the proxy and the queues before each test; `onStart` receives them.
 * @example let h: Harness; let proxy: EndpointProxy; useProxiedHarness((s) => ({ h, proxy } = s));
 */
export function useProxiedHarness(
  onStart: (started: { h: Harness; proxy: EndpointProxy }) => void,
  options: HarnessOptions = { maxReceiveCount: 3 },
): void {
  let started: { h: Harness; proxy: EndpointProxy } | undefined;
  beforeAll(async () => {
    const proxy = await startEndpointProxy();
    started = { h: await startHarness({ ...options, endpoint: responsesThrough(proxy) }), proxy };
    onStart(started);
  });
  afterAll(async () => {
    await started?.h.close();
    await started?.proxy.close();
  });
  beforeEach(async () => {
    started!.h.sim.reset();
    started!.proxy.reset();
    await started!.h.clear();
  });
}
