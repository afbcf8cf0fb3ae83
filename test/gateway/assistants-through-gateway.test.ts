/**
 * The real relay handler → the real self-hosted Portkey gateway → the endpoint simulator, for the Assistants
 * API: the relay's self-hosted mode (PORTKEY_PROVIDER + ENDPOINT_BEARER_TOKEN + PORTKEY_CUSTOM_HOST, and
 * PORTKEY_CONFIG), how it reads what the gateway passes on, and how it sorts the gateway's own failures.
 */
import { describe, expect, it } from "vitest";
import type { EndpointSimulator } from "../../local/endpoint-simulator";
import { closedPort } from "../helpers/gateway/scripted-upstream";
import { harnessThroughGateway, portkeyConfig, selfHostedThrough, useRelayThroughGateway } from "../helpers/gateway/through-gateway";
import { describeGatewayOutputHoldsNoSecret, type PortkeyGateway } from "../helpers/portkey-gateway";
import { answerFor, type Harness, TEST_API_KEY } from "../helpers/relay-harness";

let gateway: PortkeyGateway;
let h: Harness;
useRelayThroughGateway({ maxReceiveCount: 3 }, (started) => ({ gateway, h } = started));

/** The self-hosted mode's environment, with `credentials` over it. */
const selfHosted = (credentials: Record<string, string> = {}) => selfHostedThrough(gateway, credentials);
const harnessThrough = harnessThroughGateway;

const submitsFor = (sim: EndpointSimulator, runId: string) =>
  sim.requests.filter((r) => r.method === "POST" && r.path.endsWith(`/runs/${runId}/submit_tool_outputs`));

describe("a submission through the gateway", () => {
  it("is accepted and reported; the endpoint sees the provider key as Bearer and no x-portkey-* header", async () => {
    // Prepare
    const run = h.sim.createRun({ toolCalls: 2 });
    await h.send(answerFor(run));

    // Act
    const { response } = await h.deliver();

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect((await h.results()).map((r) => r.event.status)).toEqual(["completed"]);
    expect(await h.deadLetters()).toEqual([]);
    expect(h.sim.counters).toMatchObject({ submits: 1, accepted: 1, doubleAcceptances: 0 });
    expect(submitsFor(h.sim, run.runId)[0]!.body).toEqual({ tool_outputs: answerFor(run).tool_outputs });
    for (const request of h.sim.requests) {
      expect(request.headers).toMatchObject({ authorization: `Bearer ${TEST_API_KEY}`, "openai-beta": "assistants=v2" });
      expect(Object.keys(request.headers).filter((name) => name.startsWith("x-portkey-"))).toEqual([]);
    }
  });

  it("with stream: true is followed on the gateway's event stream to the resting state, without polling", async () => {
    // Prepare
    const run = h.sim.createRun({ afterOutputs: [{ requiresAction: ["call_next"] }] });
    await h.send(answerFor(run, { stream: true }));

    // Act
    const { response } = await h.deliver();

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [published] = await h.results();
    expect(published!.event.status).toBe("requires_action");
    expect(published!.event.run.required_action).toMatchObject({ submit_tool_outputs: { tool_calls: [{ id: "call_next" }] } });
    const [submit] = submitsFor(h.sim, run.runId);
    expect(submit!.body).toMatchObject({ stream: true });
    expect(submit!.headers.accept).toBe("text/event-stream");
    expect(h.sim.requests.filter((r) => r.method === "GET")).toEqual([]);
  });

  it("waits out a 429's retry-after that the gateway passes on, then is accepted once", async () => {
    // Prepare
    const run = h.sim.createRun();
    h.sim.inject({ on: "submit", kind: "rate_limit", retryAfterSeconds: 1, runId: run.runId });
    await h.send(answerFor(run));

    // Act
    const { response } = await h.deliver();

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const posts = submitsFor(h.sim, run.runId);
    expect(posts).toHaveLength(2);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(990);
    expect(h.sim.counters).toMatchObject({ accepted: 1, doubleAcceptances: 0 });
    expect((await h.results())[0]!.event.status).toBe("completed");
  });

  it("after an upstream 500 looks at the run first, finds it still waiting, submits again: one acceptance", async () => {
    // Prepare
    const run = h.sim.createRun();
    h.sim.inject({ on: "submit", kind: "server_error", runId: run.runId });
    await h.send(answerFor(run));

    // Act
    const { response } = await h.deliver();

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const calls = h.sim.requests.map((r) => `${r.method} ${r.path.split("/").pop()}`);
    expect(calls.slice(0, 3)).toEqual(["POST submit_tool_outputs", `GET ${run.runId}`, "POST submit_tool_outputs"]);
    expect(h.sim.counters).toMatchObject({ submits: 2, accepted: 1, doubleAcceptances: 0 });
    expect((await h.results())[0]!.event.status).toBe("completed");
  });

  it("after a 500 that followed the acceptance finds the outputs taken and reports, without submitting again", async () => {
    // Prepare
    const run = h.sim.createRun();
    h.sim.inject({ on: "submit", kind: "accept_then_500", runId: run.runId });
    await h.send(answerFor(run));

    // Act
    const { response } = await h.deliver();

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(h.sim.counters).toMatchObject({ submits: 1, accepted: 1, doubleAcceptances: 0 });
    expect(h.sim.counters.stepLists).toBeGreaterThanOrEqual(1);
    expect((await h.results())[0]!.event.status).toBe("completed");
    expect(await h.deadLetters()).toEqual([]);
  });

  it("works with PORTKEY_CONFIG alone, carrying provider, key and custom host", async () => {
    // Prepare
    const configured = await harnessThrough((sim) => ({
      ENDPOINT_BASE_URL: gateway.baseUrl,
      PORTKEY_CONFIG: portkeyConfig(sim.baseUrl, TEST_API_KEY),
    }));
    try {
      const run = configured.sim.createRun();
      await configured.send(answerFor(run));

      // Act
      const { response } = await configured.deliver();

      // Assess
      expect(response.batchItemFailures).toEqual([]);
      expect((await configured.results())[0]!.event.status).toBe("completed");
      expect(configured.sim.requests.every((r) => r.headers.authorization === `Bearer ${TEST_API_KEY}`)).toBe(true);
    } finally {
      await configured.close();
    }
  });
});

describe("the gateway's own failures", () => {
  it("an upstream it cannot reach (its 500 text/plain): handed back, then retries_exhausted on the last receive", async () => {
    // Prepare
    const unreachable = await harnessThrough(selfHosted({ PORTKEY_CUSTOM_HOST: `http://127.0.0.1:${await closedPort()}/v1` }), {
      maxReceiveCount: 2,
      env: { ENDPOINT_MAX_ATTEMPTS: "2" },
    });
    try {
      const run = unreachable.sim.createRun();
      const messageId = await unreachable.send(answerFor(run));

      // Act
      const first = await unreachable.deliver();
      const firstDeadLetters = await unreachable.deadLetters();
      const last = await unreachable.deliver();

      // Assess
      expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: messageId }]);
      expect(firstDeadLetters).toEqual([]);
      expect(last.response.batchItemFailures).toEqual([]);
      const [dead] = await unreachable.deadLetters();
      expect(dead!.record).toMatchObject({ reason: "retries_exhausted", http_status: 500 });
      expect(unreachable.sim.requests).toEqual([]);
    } finally {
      await unreachable.close();
    }
  });

  it("a refusal before the call (an unknown provider) never reaches the endpoint; the record carries the gateway's words", async () => {
    // Prepare: one receive only, so whatever the relay decides ends in a DLQ record at once.
    const misconfigured = await harnessThrough(selfHosted({ PORTKEY_PROVIDER: "no-such-provider" }), { maxReceiveCount: 1 });
    try {
      const run = misconfigured.sim.createRun();
      await misconfigured.send(answerFor(run));

      // Act
      await misconfigured.deliver();

      // Assess
      const [dead] = await misconfigured.deadLetters();
      expect(dead!.record).toMatchObject({
        http_status: 400,
        endpoint_error: { type: "gateway_failure", message: "Invalid provider passed" },
      });
      expect(misconfigured.sim.requests).toEqual([]);
    } finally {
      await misconfigured.close();
    }
  });

  it("a refusal before the call (an unknown provider) is configuration, not the message: handed back", async () => {
    // Prepare
    const misconfigured = await harnessThrough(selfHosted({ PORTKEY_PROVIDER: "no-such-provider" }), { maxReceiveCount: 3 });
    try {
      const run = misconfigured.sim.createRun();
      const messageId = await misconfigured.send(answerFor(run));

      // Act
      const { response } = await misconfigured.deliver();

      // Assess
      expect(await misconfigured.deadLetters()).toEqual([]);
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: messageId }]);
    } finally {
      await misconfigured.close();
    }
  });
});

describeGatewayOutputHoldsNoSecret(() => gateway, ["tool-output-text-", TEST_API_KEY]);
