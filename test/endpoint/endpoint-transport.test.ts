import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { networkFailure } from "../../functions/submit-tool-outputs/endpoint/endpoint-failure";
import { nodeTransport } from "../../functions/submit-tool-outputs/endpoint/endpoint-transport";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A loopback server answering with `answer`; resolves its base URL and the sockets it accepted. */
async function serve(answer: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const sockets = new Set<Socket>();
  server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => answer(req, res, body));
  });
  server.on("connection", (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets };
}

const live = () => new AbortController().signal;

/** A loopback port nothing listens on (any more). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe("the endpoint's transport (the AWS SDK's Node.js handler)", () => {
  it("sends the method, path, query, headers and body as given, with the body's length", async () => {
    // Prepare
    let seen: { method?: string; url?: string; headers?: IncomingMessage["headers"]; body?: string } = {};
    const { base } = await serve((req, res, body) => {
      seen = { method: req.method, url: req.url, headers: req.headers, body };
      res.writeHead(201, { "content-type": "application/json", "openai-poll-after-ms": "250" }).end('{"id":"run_1"}');
    });
    const body = JSON.stringify({ output: "é ✓ 42" });

    // Act
    const answer = await nodeTransport()({
      method: "POST",
      url: new URL(`${base}/v1/threads/thread%2F1/runs?api-version=2025-05-01&after=a%26b`),
      headers: { authorization: "Bearer sk-test", "content-type": "application/json" },
      body,
      signal: live(),
    });

    // Assess
    expect(answer.status).toBe(201);
    expect(answer.ok).toBe(true);
    expect(answer.headers.get("OpenAI-Poll-After-Ms")).toBe("250");
    expect(await answer.json()).toEqual({ id: "run_1" });
    expect(seen.method).toBe("POST");
    expect(seen.url).toBe("/v1/threads/thread%2F1/runs?api-version=2025-05-01&after=a%26b");
    expect(seen.headers?.authorization).toBe("Bearer sk-test");
    expect(seen.headers?.["content-length"]).toBe(String(Buffer.byteLength(body)));
    expect(seen.body).toBe(body);
  });

  it("keeps one connection alive for calls one after another, a dropped body included", async () => {
    // Prepare
    const { base, sockets } = await serve((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
    const transport = nodeTransport();
    const get = () => transport({ method: "GET", url: new URL(`${base}/v1/x`), headers: {}, signal: live() });

    // Act
    await (await get()).discard();
    await (await get()).text();
    await (await get()).json();

    // Assess
    expect(sockets.size).toBe(1);
  });

  it("cuts a body that outlasts the call's signal, with the signal's reason", async () => {
    // Prepare
    const { base } = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"id":'); // and never the rest
    });
    const limit = new AbortController();
    const answer = await nodeTransport()({ method: "GET", url: new URL(`${base}/v1/slow`), headers: {}, signal: limit.signal });

    // Act
    const reading = answer.json();
    limit.abort(new DOMException("endpoint call timed out", "TimeoutError"));

    // Assess
    await expect(reading).rejects.toMatchObject({ name: "TimeoutError" });
  });

  it("rejects with the signal's reason when aborted before the answer, and Node's error when the connection is refused", async () => {
    // Prepare
    const { base } = await serve(() => undefined); // never answers
    const limit = new AbortController();
    const transport = nodeTransport();
    const pending = transport({ method: "GET", url: new URL(`${base}/v1/never`), headers: {}, signal: limit.signal }).catch(
      (error: unknown) => error,
    );
    const refusedUrl = new URL(`http://127.0.0.1:${await closedPort()}/v1/x`);

    // Act
    limit.abort(new DOMException("endpoint call timed out", "TimeoutError"));
    const refused = await transport({ method: "GET", url: refusedUrl, headers: {}, signal: live() }).catch((error: unknown) => error);

    // Assess
    expect(await pending).toMatchObject({ name: "TimeoutError", message: "endpoint call timed out" });
    expect(networkFailure(refused)).toMatchObject({ kind: "transient", ambiguous: false, notSent: true, detail: "Error ECONNREFUSED" });
  });
});
