/**
 * The Responses and Conversations routes through the real self-hosted Portkey gateway (1.15.2), ready for the
 * relay's Responses client. The gateway has explicit routes for POST /v1/responses, GET and DELETE
 * /v1/responses/{id} and GET /v1/responses/{id}/input_items; every other /v1 path (cancel, conversations) takes its
 * generic proxy. The two behave differently, and both are shown here against a minimal scripted upstream.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  closedPort,
  echoRoute,
  type ScriptedUpstream,
  startScriptedUpstream,
  type UpstreamHandler,
} from "../helpers/gateway/scripted-upstream";
import { call, PROVIDER_KEY, portkeyConfig, providerHeaders, refusedCredentialHeaders } from "../helpers/gateway/through-gateway";
import { type PortkeyGateway, showGatewayOutputOnFailure, startPortkeyGateway } from "../helpers/portkey-gateway";

let gateway: PortkeyGateway;
const upstreams: ScriptedUpstream[] = [];

beforeAll(async () => {
  gateway = await startPortkeyGateway();
}, 60_000);
afterAll(async () => {
  await gateway?.close();
});
afterEach(async () => {
  await Promise.all(upstreams.splice(0).map((upstream) => upstream.close()));
});
showGatewayOutputOnFailure(() => gateway);

async function upstream(handler?: UpstreamHandler): Promise<ScriptedUpstream> {
  const started = await startScriptedUpstream(handler);
  upstreams.push(started);
  return started;
}

/** A continuation as the relay will send it, plus a field the API does not know. */
const CONTINUATION = {
  model: "gpt-4o-mini",
  previous_response_id: "resp_prev",
  input: [{ type: "function_call_output", call_id: "call_1", output: '{"answer":42}' }],
  background: true,
  store: true,
  metadata: { tenant: "acme" },
  include: ["reasoning.encrypted_content"],
  parallel_tool_calls: false,
  tools: [{ type: "function", name: "lookup", parameters: { type: "object", properties: {} } }],
};

describe("the route each Responses and Conversations call takes to a loopback upstream", () => {
  it.each([
    { method: "POST", path: "/responses", body: CONTINUATION, route: "explicit", addsProvider: true },
    { method: "GET", path: "/responses/resp_1?include[]=reasoning.encrypted_content", route: "explicit", addsProvider: true },
    { method: "DELETE", path: "/responses/resp_1", route: "explicit", addsProvider: true },
    { method: "GET", path: "/responses/resp_1/input_items?limit=5&order=desc&after=item_1", route: "explicit", addsProvider: false },
    { method: "POST", path: "/responses/resp_1/cancel", route: "proxy", addsProvider: false },
    { method: "GET", path: "/conversations/conv_1/items?order=desc&limit=20", route: "proxy", addsProvider: false },
    { method: "POST", path: "/conversations/conv_1/items", body: { items: CONTINUATION.input }, route: "proxy", addsProvider: false },
  ])("$method $path reaches the upstream unchanged by the $route route", async ({ method, path, body, route, addsProvider }) => {
    // Prepare
    const target = await upstream(echoRoute);

    // Act
    const answer = await call(`${gateway.baseUrl}${path}`, providerHeaders(target.baseUrl, { "x-client-marker": "1" }), { method, body });

    // Assess
    expect(answer.status).toBe(200);
    expect(target.requests).toHaveLength(1);
    const [received] = target.requests;
    expect(`${received!.method} ${received!.url}`).toBe(`${method} /v1${path}`);
    expect(received!.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    // The explicit routes send only the provider's headers; the proxy sends the client's on (x-portkey-* aside).
    expect(received!.headers["x-client-marker"]).toBe(route === "proxy" ? "1" : undefined);
    expect(answer.body).toEqual({ method, url: `/v1${path}`, ...(addsProvider ? { provider: "openai" } : {}) });
  });
});

describe("what the explicit routes do to requests and answers", () => {
  it("rebuilds the POST /v1/responses body: keeps every field a continuation needs, drops fields it does not know", async () => {
    // Prepare
    const target = await upstream(echoRoute);

    // Act
    await call(`${gateway.baseUrl}/responses`, providerHeaders(target.baseUrl), { body: { ...CONTINUATION, x_unknown_field: 1 } });

    // Assess
    expect(JSON.parse(target.requests[0]!.body)).toEqual(CONTINUATION);
  });

  it("puts 'openai error: ' before an upstream error message and adds provider, keeping status, type, param and code", async () => {
    // Prepare
    const error = {
      message: "Previous response with id 'resp_gone' not found.",
      type: "invalid_request_error",
      param: "previous_response_id",
      code: "previous_response_not_found",
    };
    const target = await upstream((_request, res) => {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error }));
    });

    // Act
    const answer = await call(`${gateway.baseUrl}/responses`, providerHeaders(target.baseUrl), { body: CONTINUATION });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: { ...error, message: `openai error: ${error.message}` }, provider: "openai" });
  });

  it("passes a 429's retry-after and retry-after-ms on", async () => {
    // Prepare
    const target = await upstream((_request, res) => {
      res.writeHead(429, { "content-type": "application/json", "retry-after": "2", "retry-after-ms": "1500" });
      res.end(JSON.stringify({ error: { message: "Rate limit reached.", type: "requests", param: null, code: "rate_limit_exceeded" } }));
    });

    // Act
    const answer = await call(`${gateway.baseUrl}/responses`, providerHeaders(target.baseUrl), { body: CONTINUATION });

    // Assess
    expect(answer.status).toBe(429);
    expect(answer.headers.get("retry-after")).toBe("2");
    expect(answer.headers.get("retry-after-ms")).toBe("1500");
    expect(answer.body.error.code).toBe("rate_limit_exceeded");
  });

  it("streams POST /v1/responses with stream: true event by event, without waiting for the upstream to finish", async () => {
    // Prepare: the upstream sends its terminal event only once the client has read the first through the gateway.
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const created = 'event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{"id":"resp_new"}}\n\n';
    const completed = 'event: response.completed\ndata: {"type":"response.completed","sequence_number":1,"response":{"id":"resp_new"}}\n\n';
    const target = await upstream(async (_request, res) => {
      res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8" });
      res.write(created);
      await released;
      res.end(completed);
    });

    // Act
    const response = await fetch(`${gateway.baseUrl}/responses`, {
      method: "POST",
      headers: { ...providerHeaders(target.baseUrl), "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ ...CONTINUATION, background: false, stream: true }),
    });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let before = "";
    try {
      while (!before.includes("\n\n")) before += (await reader.read()).value ?? "";
    } finally {
      release();
    }
    let after = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) after += chunk.value;

    // Assess
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    expect(before).toBe(created);
    expect(after).toBe(completed);
    expect(JSON.parse(target.requests[0]!.body).stream).toBe(true);
  }, 15_000);

  it("takes the key from the config's api_key over the client's Authorization (the proxy does the opposite)", async () => {
    // Prepare
    const target = await upstream(echoRoute);
    // credentials.ts refuses this pair for what it shows: two keys in use, one per route type.
    const both = refusedCredentialHeaders({ PORTKEY_CONFIG: portkeyConfig(target.baseUrl), ENDPOINT_BEARER_TOKEN: "sk-other-key" });

    // Act
    await call(`${gateway.baseUrl}/responses/resp_1`, both);
    await call(`${gateway.baseUrl}/responses/resp_1/cancel`, both, { method: "POST" });

    // Assess
    expect(target.requests.map((r) => `${r.url} ${r.headers.authorization}`)).toEqual([
      `/v1/responses/resp_1 Bearer ${PROVIDER_KEY}`,
      "/v1/responses/resp_1/cancel Bearer sk-other-key",
    ]);
  });
});

describe("an upstream that refuses the connection", () => {
  it("is answered 500 with the fetch error's words: in JSON {html-message, provider} on the explicit routes, text/plain on the proxy", async () => {
    // Prepare
    const nowhere = `http://127.0.0.1:${await closedPort()}/v1`;
    const words = /^Message: fetch failed Cause: Error: connect ECONNREFUSED 127\.0\.0\.1:\d+ Name: TypeError$/;

    // Act
    const post = await call(`${gateway.baseUrl}/responses`, providerHeaders(nowhere), { body: CONTINUATION });
    const get = await call(`${gateway.baseUrl}/responses/resp_1`, providerHeaders(nowhere));
    const items = await call(`${gateway.baseUrl}/conversations/conv_1/items`, providerHeaders(nowhere));

    // Assess
    for (const explicit of [post, get]) {
      expect(explicit.status).toBe(500);
      expect(explicit.headers.get("content-type")).toMatch(/^application\/json/);
      expect(explicit.body).toEqual({ "html-message": expect.stringMatching(words), provider: "openai" });
    }
    expect(items.status).toBe(500);
    expect(items.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(items.body).toMatch(words);
  });
});

describe("the proxy's own refusal of a JSON request without a body", () => {
  it("answers POST /responses/{id}/cancel with content-type application/json and no body 500 {status: failure}, sending nothing", async () => {
    // Prepare
    const target = await upstream(echoRoute);
    const headers = { ...providerHeaders(target.baseUrl), "content-type": "application/json" };

    // Act
    const answer = await call(`${gateway.baseUrl}/responses/resp_1/cancel`, headers, { method: "POST" });

    // Assess: a 500 before anything went upstream; a body of `{}`, or no content-type, goes through.
    expect(answer.status).toBe(500);
    expect(answer.body).toEqual({ status: "failure", message: "Proxy error: Unexpected end of JSON input" });
    expect(target.requests).toEqual([]);
  });
});
