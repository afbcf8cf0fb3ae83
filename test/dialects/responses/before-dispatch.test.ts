/**
 * DESIGN Part 3, rule 6: a failure before the request leaves is not ambiguous. The body is built before the claim
 * (a request that cannot be serialised is the message's own fault and leaves no claim behind), and a call whose
 * credentials outlast its timer, or that is stopped before dispatch, is "not sent", never "maybe taken". Through the
 * real handler for the body; through the real EndpointHttp (a loopback server that counts requests) for the timer.
 */
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EndpointHttp } from "../../../functions/submit-tool-outputs/endpoint/endpoint-http";
import { type Harness, responseAnswerFor, useHarness } from "../../helpers/relay-harness";
import { claimsTable, keyOf } from "../../helpers/responses/claims-table";

let h: Harness;
useHarness({ maxReceiveCount: 3 }, (started) => (h = started));

describe("the request body cannot be built: it is built before the claim (rule 6)", () => {
  it("a request nested too deeply to serialise is dead-lettered as invalid_message; nothing claimed, nothing POSTed", async () => {
    const prev = h.sim.createResponse();
    const depth = 20_000;
    const nested = `${"[".repeat(depth)}${"]".repeat(depth)}`;
    const body = JSON.stringify(responseAnswerFor(prev)).replace(/}$/, `,"request":{"text":${nested}}}`);
    const sent = await h.send(body);
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toEqual([]);
    const dead = await h.deadLetters();
    expect(dead.map((d) => [d.sourceMessageId, d.reason])).toEqual([[sent, "invalid_message"]]);
    expect(dead[0]!.original).toBe(body);
    expect(h.sim.requests.filter((r) => r.method === "POST")).toEqual([]);
    expect(await claimsTable(h).get(keyOf({ responseId: prev.responseId }, prev.callIds))).toBeUndefined();
  });
});

describe("a call that never left", () => {
  let server: Server;
  let requests = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests++;
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const baseUrl = () => new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/v1`);

  it("credentials that outlast the call's timer: not sent, not ambiguous, and nothing reached the endpoint", async () => {
    const http = new EndpointHttp({
      baseUrl: baseUrl(),
      headers: {},
      timeoutMs: 50,
      // A token fetch slower than the call's timer: it gives up when the timer aborts its wait.
      authorizer: {
        authorize: (request) =>
          new Promise<Record<string, string>>((_resolve, reject) =>
            request.signal.addEventListener("abort", () => reject(request.signal.reason), { once: true }),
          ),
      },
    });
    const before = requests;
    const answer = await http.call("POST", http.url(["responses"]), { traceId: "t", signal: new AbortController().signal }, { body: "{}" });
    expect(answer).toMatchObject({ ok: false, failure: { kind: "transient", ambiguous: false, notSent: true } });
    expect(requests).toBe(before);
  });

  it("a stop signal before dispatch: not sent, not ambiguous", async () => {
    const http = new EndpointHttp({ baseUrl: baseUrl(), headers: {}, timeoutMs: 1_000 });
    const stop = new AbortController();
    stop.abort(new DOMException("the invocation stops", "AbortError"));
    const before = requests;
    const answer = await http.call("POST", http.url(["responses"]), { traceId: "t", signal: stop.signal }, { body: "{}" });
    expect(answer).toMatchObject({ ok: false, failure: { kind: "transient", ambiguous: false, notSent: true } });
    expect(requests).toBe(before);
  });

  it("a request that went out and got no answer in time stays ambiguous", async () => {
    const hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    try {
      const port = (hanging.address() as { port: number }).port;
      const http = new EndpointHttp({ baseUrl: new URL(`http://127.0.0.1:${port}/v1`), headers: {}, timeoutMs: 50 });
      const answer = await http.call(
        "POST",
        http.url(["responses"]),
        { traceId: "t", signal: new AbortController().signal },
        { body: "{}" },
      );
      expect(answer).toMatchObject({ ok: false, failure: { kind: "transient", ambiguous: true } });
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    }
  });
});
