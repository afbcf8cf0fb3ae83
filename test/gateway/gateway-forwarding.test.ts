/**
 * What the real self-hosted Portkey gateway (1.15.2) does to the relay's Assistants calls on their way to a
 * loopback upstream and back: routes, headers, credentials, streams. The upstream is the endpoint simulator,
 * or a scripted server where the test must control the answer byte by byte.
 */
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { EndpointSimulator } from "../../local/endpoint-simulator";
import { startScriptedUpstream } from "../helpers/gateway/scripted-upstream";
import {
  call,
  PROVIDER_KEY,
  portkeyConfig,
  providerHeaders,
  refusedCredentialHeaders,
  relayHeaders,
  useGatewayBeforeSimulator,
} from "../helpers/gateway/through-gateway";
import type { PortkeyGateway } from "../helpers/portkey-gateway";

let gateway: PortkeyGateway;
let sim: EndpointSimulator;
useGatewayBeforeSimulator((started) => ({ gateway, sim } = started));

const runUrl = (base: string, threadId: string, runId: string) => `${base}/threads/${threadId}/runs/${runId}`;

describe("forwarding the Assistants routes to x-portkey-custom-host", () => {
  it("reaches the run, its steps and submit_tool_outputs under the same paths and answers what the simulator answers", async () => {
    // Prepare
    const { threadId, runId, toolCallIds } = sim.createRun();
    const headers = providerHeaders(sim.baseUrl);

    // Act
    const direct = await call(runUrl(sim.baseUrl, threadId, runId), headers);
    const run = await call(runUrl(gateway.baseUrl, threadId, runId), headers);
    const steps = await call(`${runUrl(gateway.baseUrl, threadId, runId)}/steps?order=desc&limit=100`, headers);
    const outputs = { tool_outputs: [{ tool_call_id: toolCallIds[0], output: "42" }] };
    const submitted = await call(`${runUrl(gateway.baseUrl, threadId, runId)}/submit_tool_outputs`, headers, { body: outputs });

    // Assess
    expect(run).toMatchObject({ status: 200, body: direct.body });
    expect(steps.status).toBe(200);
    expect(steps.body).toMatchObject({ object: "list", data: [{ type: "tool_calls" }] });
    expect(submitted.status).toBe(200);
    expect(submitted.body).toMatchObject({ id: runId, status: "queued" });
    expect(sim.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /v1/threads/${threadId}/runs/${runId}`,
      `GET /v1/threads/${threadId}/runs/${runId}`,
      `GET /v1/threads/${threadId}/runs/${runId}/steps`,
      `POST /v1/threads/${threadId}/runs/${runId}/submit_tool_outputs`,
    ]);
    expect(sim.requests[3]!.body).toEqual(outputs);
    expect(sim.counters).toMatchObject({ accepted: 1, doubleAcceptances: 0 });
  });

  it("sends the client's headers on without any x-portkey-* header, and with the provider key as Bearer", async () => {
    // Prepare
    const { threadId, runId, toolCallIds } = sim.createRun();
    const headers = providerHeaders(sim.baseUrl, { "x-portkey-api-key": "pk-hosted-only", "x-stainless-retry-count": "0" });

    // Act
    await call(`${runUrl(gateway.baseUrl, threadId, runId)}/submit_tool_outputs`, headers, {
      body: { tool_outputs: [{ tool_call_id: toolCallIds[0], output: "42" }] },
    });

    // Assess
    const received = sim.requests[0]!.headers;
    expect(received).toMatchObject({
      host: new URL(sim.baseUrl).host,
      authorization: `Bearer ${PROVIDER_KEY}`,
      "openai-beta": "assistants=v2",
      accept: "application/json",
      "content-type": "application/json",
      "x-stainless-retry-count": "0",
      // Added by the gateway's own fetch (undici), not by the relay.
      "user-agent": "node",
      "accept-language": "*",
      "sec-fetch-mode": "cors",
    });
    expect(Object.keys(received).filter((name) => name.startsWith("x-portkey-"))).toEqual([]);
  });

  it("answers with the upstream's headers, adds its own x-portkey-* ones and returns the trace id it did not forward", async () => {
    // Prepare
    const { threadId, runId } = sim.createRun();

    // Act
    const run = await call(runUrl(gateway.baseUrl, threadId, runId), providerHeaders(sim.baseUrl, { "x-portkey-trace-id": "m-123" }));

    // Assess
    expect(run.headers.get("x-request-id")).toMatch(/^req_/);
    expect(run.headers.get("openai-poll-after-ms")).toBe("50");
    expect(run.headers.get("openai-processing-ms")).not.toBeNull();
    expect(Object.fromEntries([...run.headers].filter(([name]) => name.startsWith("x-portkey-")))).toEqual({
      "x-portkey-provider": "openai",
      "x-portkey-retry-attempt-count": "0",
      "x-portkey-cache-status": "DISABLED",
      "x-portkey-last-used-option-index": "config",
      "x-portkey-trace-id": "m-123",
    });
  });
});

describe("credential modes", () => {
  it("takes provider, key and upstream from PORTKEY_CONFIG, or the upstream from PORTKEY_CUSTOM_HOST beside it", async () => {
    // Prepare: PORTKEY_CONFIG alone is enough for credentials.ts.
    const { threadId, runId } = sim.createRun();
    const inConfig = relayHeaders({ PORTKEY_CONFIG: portkeyConfig(sim.baseUrl) });
    const beside = relayHeaders({ PORTKEY_CONFIG: portkeyConfig(), PORTKEY_CUSTOM_HOST: sim.baseUrl });

    // Act
    const viaConfig = await call(runUrl(gateway.baseUrl, threadId, runId), inConfig);
    const viaHeader = await call(runUrl(gateway.baseUrl, threadId, runId), beside);

    // Assess
    expect(viaConfig.status).toBe(200);
    expect(viaHeader.status).toBe(200);
    expect(sim.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${PROVIDER_KEY}`, `Bearer ${PROVIDER_KEY}`]);
  });

  it("lets the client's Authorization override the config's api_key on these proxied routes", async () => {
    // Prepare: PORTKEY_CONFIG with ENDPOINT_BEARER_TOKEN beside it would send both (credentials.ts refuses the pair).
    const { threadId, runId } = sim.createRun();
    const both = refusedCredentialHeaders({ PORTKEY_CONFIG: portkeyConfig(sim.baseUrl), ENDPOINT_BEARER_TOKEN: "sk-other-key" });

    // Act
    const answer = await call(runUrl(gateway.baseUrl, threadId, runId), both);

    // Assess
    expect(sim.requests[0]!.headers.authorization).toBe("Bearer sk-other-key");
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe("invalid_api_key");
  });
});

describe("event streams", () => {
  it("passes text/event-stream through event by event, without waiting for the upstream to finish", async () => {
    // Prepare: the upstream sends its second event only once the client has read the first through the gateway.
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const upstream = await startScriptedUpstream(async (_request, res) => {
      res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8" });
      res.write('event: thread.run.queued\ndata: {"status":"queued"}\n\n');
      await released;
      res.end('event: thread.run.completed\ndata: {"status":"completed"}\n\nevent: done\ndata: [DONE]\n\n');
    });
    try {
      // Act
      const response = await fetch(`${gateway.baseUrl}/threads/thread_s/runs/run_s/submit_tool_outputs`, {
        method: "POST",
        headers: { ...providerHeaders(upstream.baseUrl), accept: "text/event-stream", "content-type": "application/json" },
        body: JSON.stringify({ tool_outputs: [], stream: true }),
      });
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let before = "";
      while (!before.includes("\n\n")) before += (await reader.read()).value ?? "";
      release();
      let after = "";
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) after += chunk.value;

      // Assess
      expect(response.headers.get("content-type")).toContain("text/event-stream");
      expect(before).toBe('event: thread.run.queued\ndata: {"status":"queued"}\n\n');
      expect(after).toBe('event: thread.run.completed\ndata: {"status":"completed"}\n\nevent: done\ndata: [DONE]\n\n');
      expect(upstream.requests[0]!.headers.accept).toBe("text/event-stream");
    } finally {
      release();
      await upstream.close();
    }
  }, 15_000);
});

describe("what the gateway strips or adds on the way back", () => {
  it("decompresses a gzip answer and drops its content-encoding", async () => {
    // Prepare: real providers compress when the client allows it (the gateway forwards accept-encoding).
    const run = { id: "run_gz", object: "thread.run", status: "completed" };
    const upstream = await startScriptedUpstream((_request, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      res.end(gzipSync(JSON.stringify(run)));
    });
    try {
      // Act
      const answer = await call(runUrl(gateway.baseUrl, "thread_gz", "run_gz"), providerHeaders(upstream.baseUrl));

      // Assess
      expect(answer).toMatchObject({ status: 200, body: run });
      expect(answer.headers.get("content-encoding")).toBeNull();
      expect(upstream.requests[0]!.headers["accept-encoding"]).toContain("gzip");
    } finally {
      await upstream.close();
    }
  });
});
