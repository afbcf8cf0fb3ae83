/**
 * How the real self-hosted Portkey gateway (1.15.2) answers when something fails: upstream errors, an upstream it
 * cannot reach, its own checks, its own timeout and retries. What matters to the relay is whether a failure
 * came before the call went upstream (definite) or after (the submission may have been taken).
 */
import { describe, expect, it, vi } from "vitest";
import type { EndpointSimulator } from "../../local/endpoint-simulator";
import { closedPort, startScriptedUpstream } from "../helpers/gateway/scripted-upstream";
import {
  call,
  PROVIDER_KEY,
  providerHeaders,
  refusedCredentialHeaders,
  relayHeaders,
  useGatewayBeforeSimulator,
} from "../helpers/gateway/through-gateway";
import type { PortkeyGateway } from "../helpers/portkey-gateway";

let gateway: PortkeyGateway;
let sim: EndpointSimulator;
useGatewayBeforeSimulator((started) => ({ gateway, sim } = started));

/** Submits the outputs the run asks for, through the gateway. */
function submit(run: { threadId: string; runId: string; toolCallIds: string[] }, headers = providerHeaders(sim.baseUrl)) {
  const url = `${gateway.baseUrl}/threads/${run.threadId}/runs/${run.runId}/submit_tool_outputs`;
  return call(url, headers, { body: { tool_outputs: run.toolCallIds.map((id) => ({ tool_call_id: id, output: "42" })) } });
}

describe("upstream errors pass through unchanged", () => {
  it("passes a 429 with retry-after and retry-after-ms on, and retries nothing by itself", async () => {
    // Prepare
    const run = sim.createRun();
    sim.inject({ on: "submit", kind: "rate_limit", retryAfterMs: 250, retryAfterSeconds: 1 });

    // Act
    const answer = await submit(run);

    // Assess
    expect(answer.status).toBe(429);
    expect(answer.headers.get("retry-after-ms")).toBe("250");
    expect(answer.headers.get("retry-after")).toBe("1");
    expect(answer.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(answer.body.error).toMatchObject({ type: "requests", code: "rate_limit_exceeded" });
    expect(sim.counters).toMatchObject({ submits: 1, accepted: 0 });
  });

  it("passes a 500 on, also one that came after the submission was applied", async () => {
    // Prepare
    const refused = sim.createRun();
    const taken = sim.createRun();
    sim.inject({ on: "submit", kind: "server_error", runId: refused.runId }, { on: "submit", kind: "accept_then_500", runId: taken.runId });

    // Act
    const plain = await submit(refused);
    const afterAccepting = await submit(taken);

    // Assess
    for (const answer of [plain, afterAccepting]) {
      expect(answer.status).toBe(500);
      expect(answer.body.error).toMatchObject({ type: "server_error", code: null });
    }
    expect(sim.run(refused.threadId, refused.runId)!.status).toBe("requires_action");
    expect(sim.run(taken.threadId, taken.runId)!.status).not.toBe("requires_action");
    expect(sim.counters).toMatchObject({ submits: 2, accepted: 1 });
  });

  it("passes an upstream's own {status: failure} 502 on as it came", async () => {
    // Prepare
    const run = sim.createRun();
    sim.inject({ on: "submit", kind: "gateway_failure" });

    // Act
    const answer = await submit(run);

    // Assess
    expect(answer.status).toBe(502);
    expect(answer.body).toEqual({ status: "failure", message: expect.stringContaining("upstream connect error") });
  });
});

describe("the gateway's own answers when the upstream fails below HTTP", () => {
  it("answers 500 text/plain 'fetch failed … ECONNREFUSED', not {status: failure}, when the upstream refuses the connection", async () => {
    // Prepare
    const nowhere = `http://127.0.0.1:${await closedPort()}/v1`;

    // Act
    const answer = await submit({ threadId: "thread_x", runId: "run_x", toolCallIds: ["call_x"] }, providerHeaders(nowhere));

    // Assess
    expect(answer.status).toBe(500);
    expect(answer.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(answer.body).toMatch(/^Message: fetch failed Cause: Error: connect ECONNREFUSED 127\.0\.0\.1:\d+ Name: TypeError$/);
  });

  it("answers the same 500 when the upstream drops the connection after the request went out", async () => {
    // Prepare
    const run = sim.createRun();
    sim.inject({ on: "submit", kind: "drop" });

    // Act
    const answer = await submit(run);

    // Assess: same status and shape as a refused connection; only the text tells them apart.
    expect(answer.status).toBe(500);
    expect(answer.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(answer.body).toBe("Message: fetch failed Cause: SocketError: other side closed Name: TypeError");
    expect(sim.counters.submits).toBe(1);
  });

  it("answers 408 in OpenAI shape at x-portkey-request-timeout, and the upstream still applies the submission", async () => {
    // Prepare
    const run = sim.createRun();
    sim.inject({ on: "submit", kind: "slow", delayMs: 300 });

    // Act
    const answer = await submit(run, providerHeaders(sim.baseUrl, { "x-portkey-request-timeout": "50" }));

    // Assess
    expect(answer.status).toBe(408);
    expect(answer.body.error).toEqual({
      message: "Request exceeded the timeout sent in the request: 50ms",
      type: "timeout_error",
      param: null,
      code: null,
    });
    await vi.waitFor(() => expect(sim.counters.accepted).toBe(1), { timeout: 5000, interval: 20 });
  });
});

describe("an upstream that cuts its answer short", () => {
  it("gives no answer at all for a JSON body cut in the middle: only the client's own timeout ends the call", async () => {
    // Prepare
    const upstream = await startScriptedUpstream((_request, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "500" });
      res.write('{"id":"run_cut","object":"thread.run"');
      setTimeout(() => res.destroy(), 20);
    });
    try {
      // Act
      const attempt = fetch(`${gateway.baseUrl}/threads/thread_cut/runs/run_cut`, {
        headers: providerHeaders(upstream.baseUrl),
        signal: AbortSignal.timeout(1500),
      });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: "TimeoutError" });
      expect(upstream.requests).toHaveLength(1);
    } finally {
      await upstream.close();
    }
  });

  it("ends an event stream cut in the middle cleanly, as if the upstream had finished it", async () => {
    // Prepare
    const first = 'event: thread.run.queued\ndata: {"status":"queued"}\n\n';
    const upstream = await startScriptedUpstream((_request, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(first);
      setTimeout(() => res.destroy(), 50);
    });
    try {
      // Act
      const response = await fetch(`${gateway.baseUrl}/threads/thread_cut/runs/run_cut/submit_tool_outputs`, {
        method: "POST",
        headers: { ...providerHeaders(upstream.baseUrl), "content-type": "application/json", accept: "text/event-stream" },
        body: JSON.stringify({ tool_outputs: [], stream: true }),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();

      // Assess: no error reaches the client; only the missing `done` (or terminal event) shows the cut.
      expect(response.status).toBe(200);
      expect(text).toBe(first);
    } finally {
      await upstream.close();
    }
  });
});

describe("the gateway's own checks, before anything goes upstream", () => {
  const config = (fields: Record<string, unknown>) =>
    JSON.stringify({ provider: "openai", api_key: PROVIDER_KEY, custom_host: sim.baseUrl, ...fields });
  const upstream = () => ({ PORTKEY_CUSTOM_HOST: sim.baseUrl });
  it.each([
    // The relay reads a bearer alone as a direct server: pointed at a gateway, only the gateway can tell.
    [
      "no provider at all",
      () => ({ ENDPOINT_BEARER_TOKEN: PROVIDER_KEY }),
      "Either x-portkey-config or x-portkey-provider header is required",
    ],
    [
      "an unknown provider",
      () => ({ PORTKEY_PROVIDER: "no-such-provider", ENDPOINT_BEARER_TOKEN: PROVIDER_KEY, ...upstream() }),
      "Invalid provider passed",
    ],
    [
      "a custom host outside TRUSTED_CUSTOM_HOSTS",
      () => ({ PORTKEY_PROVIDER: "openai", ENDPOINT_BEARER_TOKEN: PROVIDER_KEY, PORTKEY_CUSTOM_HOST: "http://10.1.2.3/v1" }),
      "Invalid custom host",
    ],
    ["a config with an unknown provider", () => ({ PORTKEY_CONFIG: config({ provider: "no-such-provider" }) }), "Invalid config passed"],
    [
      "a config without api_key",
      () => ({ PORTKEY_CONFIG: JSON.stringify({ provider: "openai", custom_host: sim.baseUrl }) }),
      "Invalid config passed",
    ],
  ])("refuses %s with a 400 {status: failure}, credentials the relay cannot judge by itself", async (_, credentials, message) => {
    // Prepare
    const run = sim.createRun();

    // Act
    const answer = await submit(run, relayHeaders(credentials()));

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ status: "failure", message });
    expect(sim.requests).toEqual([]);
  });

  it("refuses a config that is not JSON with a 400 {status: failure} (credentials.ts refuses it at cold start)", async () => {
    // Prepare
    const run = sim.createRun();

    // Act
    const answer = await submit(run, refusedCredentialHeaders({ PORTKEY_CONFIG: "{provider: openai}" }));

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ status: "failure", message: "Invalid config passed. You need to pass a valid json" });
    expect(sim.requests).toEqual([]);
  });
});

describe("retries that a PORTKEY_CONFIG asks the gateway for", () => {
  it("submits the POST a second time by itself after an upstream 500, so the relay sees the second answer", async () => {
    // Prepare
    const run = sim.createRun();
    sim.inject({ on: "submit", kind: "accept_then_500" });
    const retrying = JSON.stringify({ provider: "openai", api_key: PROVIDER_KEY, custom_host: sim.baseUrl, retry: { attempts: 1 } });

    // Act
    const answer = await submit(run, refusedCredentialHeaders({ PORTKEY_CONFIG: retrying }));

    // Assess: for the Responses API the same retry would create a second response (why credentials.ts refuses it).
    expect(sim.counters).toMatchObject({ submits: 2, accepted: 1, doubleAcceptances: 0 });
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(/do not accept tool outputs/);
  });

  it("turns a 429 into a 500 with use_retry_after_header: the async-retry patch it relies on is not applied", async () => {
    // Prepare: the gateway expects async-retry patched to hand it a third argument. Its postinstall (patch-package)
    // would not apply that patch even if allowScripts let it run: the published package has no patches/ folder.
    const run = sim.createRun();
    sim.inject({ on: "submit", kind: "rate_limit", retryAfterSeconds: 1, times: 2 });
    const honouring = JSON.stringify({
      provider: "openai",
      api_key: PROVIDER_KEY,
      custom_host: sim.baseUrl,
      retry: { attempts: 1, on_status_codes: [429], use_retry_after_header: true },
    });

    // Act
    const answer = await submit(run, refusedCredentialHeaders({ PORTKEY_CONFIG: honouring }));

    // Assess
    expect(answer.status).toBe(500);
    expect(answer.body).toMatch(/Cannot set properties of undefined \(setting '_timeouts'\)/);
    expect(answer.headers.get("retry-after")).toBeNull();
    expect(sim.counters).toMatchObject({ submits: 2, accepted: 0 });
  });
});
