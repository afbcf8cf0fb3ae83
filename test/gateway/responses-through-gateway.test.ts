/**
 * The real relay handler → the real self-hosted Portkey gateway (1.15.2) → the endpoint simulator, for the Responses
 * API: the continuation arrives as the relay wrote it although the gateway rebuilds POST /v1/responses bodies, plain
 * and streamed, a 429's retry-after is waited out, and the gateway's own failures are sorted: a 4xx
 * {status: "failure"} is configuration (handed back), its 500 for an upstream that refuses connections (JSON-wrapped on
 * this route) is a definite refusal (retried later, never a fork, never `submission_unconfirmed`).
 */
import { describe, expect, it } from "vitest";
import type { ResponsesResultsEvent } from "../../functions/submit-tool-outputs/dialects/index";
import type { EndpointSimulator } from "../../local/endpoint-simulator";
import { forwardTo, startScriptedUpstream } from "../helpers/gateway/scripted-upstream";
import { harnessThroughGateway, selfHostedThrough, useRelayThroughGateway } from "../helpers/gateway/through-gateway";
import { describeGatewayOutputHoldsNoSecret, type PortkeyGateway } from "../helpers/portkey-gateway";
import { type Harness, responseAnswerFor, startHarness, TEST_API_KEY } from "../helpers/relay-harness";

let gateway: PortkeyGateway;
let h: Harness;
useRelayThroughGateway({}, (started) => ({ gateway, h } = started));

/** The self-hosted mode's environment, with `credentials` over it. */
const selfHosted = (credentials: Record<string, string> = {}) => selfHostedThrough(gateway, credentials);
const harnessThrough = harnessThroughGateway;

const posts = (sim: EndpointSimulator) => sim.requests.filter((r) => r.method === "POST" && r.path === "/v1/responses");
/** A response with fixed ids, so that two simulators hold the same one. */
const sameResponse = (sim: EndpointSimulator) =>
  sim.createResponse({ responseId: "resp_fixed_1", toolCalls: ["call_fixed_1", "call_fixed_2"], metadata: { tenant: "acme" } });

describe("a Responses submission through the gateway", () => {
  it("reaches the endpoint with the very body the relay sends directly, is accepted and reported", async () => {
    // Prepare: the same response in a simulator the relay reaches directly.
    const direct = await startHarness();
    try {
      await direct.send(responseAnswerFor(sameResponse(direct.sim)));
      await direct.deliver();
      await h.send(responseAnswerFor(sameResponse(h.sim)));

      // Act
      const { response } = await h.deliver();

      // Assess
      expect(response.batchItemFailures).toEqual([]);
      const [published] = await h.results<ResponsesResultsEvent>();
      expect(published!.event).toMatchObject({ api: "responses", status: "completed", previous_response_id: "resp_fixed_1" });
      expect(posts(h.sim).map((post) => post.body)).toEqual(posts(direct.sim).map((post) => post.body));
      expect(posts(h.sim)[0]!.body).toMatchObject({ previous_response_id: "resp_fixed_1", background: true, store: true });
      expect(h.sim.counters).toMatchObject({ continuations: 1, forks: 0 });
      for (const request of h.sim.requests) {
        expect(request.headers.authorization).toBe(`Bearer ${TEST_API_KEY}`);
        expect(Object.keys(request.headers).filter((name) => name.startsWith("x-portkey-"))).toEqual([]);
      }
    } finally {
      await direct.close();
    }
  });

  it("with stream: true is followed on the gateway's event stream to the end, without polling the new response", async () => {
    // Prepare
    const previous = h.sim.createResponse({ toolCalls: 1 });
    await h.send(responseAnswerFor(previous, { stream: true }));

    // Act
    const { response } = await h.deliver();

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect((await h.results<ResponsesResultsEvent>()).map(({ event }) => event.status)).toEqual(["completed"]);
    const [post] = posts(h.sim);
    expect(post!.body).toMatchObject({ stream: true });
    const [child] = h.sim.children(previous.responseId);
    expect(h.sim.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /v1/responses/${previous.responseId}`, "POST /v1/responses"]);
    expect(child).toBeDefined();
  });

  it("waits out a 429's retry-after that the gateway passes on, then is taken once", async () => {
    // Prepare
    const previous = h.sim.createResponse({ toolCalls: 1 });
    h.sim.inject({ on: "response_create", kind: "rate_limit", retryAfterSeconds: 1, responseId: previous.responseId });
    await h.send(responseAnswerFor(previous));

    // Act
    const { response } = await h.deliver();

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [refused, taken] = posts(h.sim);
    expect(taken!.at - refused!.at).toBeGreaterThanOrEqual(990);
    expect(h.sim.counters).toMatchObject({ responsePosts: 2, continuations: 1, forks: 0 });
    expect((await h.results<ResponsesResultsEvent>())[0]!.event.status).toBe("completed");
  });
});

describe("the gateway's own failures, for the Responses API", () => {
  it("a 4xx {status: failure} (an unknown provider) is configuration: handed back, endpoint_misconfigured on the last receive", async () => {
    // Prepare
    const misconfigured = await harnessThrough(selfHosted({ PORTKEY_PROVIDER: "no-such-provider" }), { maxReceiveCount: 2 });
    try {
      const messageId = await misconfigured.send(responseAnswerFor(misconfigured.sim.createResponse()));

      // Act
      const first = await misconfigured.deliver();
      const firstDeadLetters = await misconfigured.deadLetters();
      await misconfigured.deliver();

      // Assess
      expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: messageId }]);
      expect(firstDeadLetters).toEqual([]);
      const [dead] = await misconfigured.deadLetters();
      expect(dead!.record).toMatchObject({
        reason: "endpoint_misconfigured",
        http_status: 400,
        endpoint_error: { type: "gateway_failure", message: "Invalid provider passed" },
      });
      expect(misconfigured.sim.requests).toEqual([]);
    } finally {
      await misconfigured.close();
    }
  });

  it("its 500 for a refused upstream connection is a definite refusal: handed back unclaimed, taken once later", async () => {
    // Prepare: an upstream in front of the simulator that answers the relay's first GET, then stops listening, so the
    // POST meets a closed port; the next receive finds it back on the same port.
    let refusing: Harness | undefined;
    const toSimulator = forwardTo(() => refusing!.sim.baseUrl);
    let upstream = await startScriptedUpstream(async (request, res) => {
      await toSimulator(request, res);
      res.once("finish", () => void upstream.close());
    });
    const [customHost, port] = [upstream.baseUrl, Number(new URL(upstream.baseUrl).port)];
    refusing = await harnessThrough(selfHosted({ PORTKEY_CUSTOM_HOST: customHost }), { env: { ENDPOINT_MAX_ATTEMPTS: "2" } });
    try {
      const previous = refusing.sim.createResponse({ toolCalls: 1 });
      const messageId = await refusing.send(responseAnswerFor(previous));

      // Act
      const first = await refusing.deliver();
      const firstDeadLetters = await refusing.deadLetters();
      const refusedPosts = posts(refusing.sim).length;
      upstream = await startScriptedUpstream(toSimulator, port);
      const second = await refusing.deliver();

      // Assess
      expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: messageId }]);
      expect(firstDeadLetters).toEqual([]);
      expect(refusedPosts).toBe(0);
      expect(second.response.batchItemFailures).toEqual([]);
      expect(await refusing.deadLetters()).toEqual([]);
      expect((await refusing.results<ResponsesResultsEvent>()).map(({ event }) => event.status)).toEqual(["completed"]);
      expect(refusing.sim.children(previous.responseId)).toHaveLength(1);
      expect(refusing.sim.counters).toMatchObject({ continuations: 1, forks: 0 });
    } finally {
      await refusing.close();
      await upstream.close();
    }
  });
});

describeGatewayOutputHoldsNoSecret(() => gateway, ["tool-output-text-", TEST_API_KEY]);
