/**
 * The Agents API through the real self-hosted Portkey gateway (1.15.2). It has no route of its own for
 * `/v1/agents/*`: every call takes its generic proxy, which passes `OpenAI-Beta: agents=v1` and `Idempotency-Key`
 * on, answers the events POST's 202 with its empty body, passes the API's error bodies unchanged (no "openai error: "
 * prefix, unlike its explicit Responses routes) and streams `GET …/events` event by event. Shown with the relay
 * handler in the self-hosted mode (PORTKEY_PROVIDER + ENDPOINT_BEARER_TOKEN + PORTKEY_CUSTOM_HOST) and directly.
 */
import { describe, expect, it } from "vitest";
import type { AgentsResultsEvent } from "../../functions/submit-tool-outputs/dialects/index";
import type { EndpointSimulator } from "../../local/endpoint-simulator";
import { useRelayThroughGateway } from "../helpers/gateway/through-gateway";
import type { PortkeyGateway } from "../helpers/portkey-gateway";
import { type Harness, TEST_API_KEY } from "../helpers/relay-harness";

let gateway: PortkeyGateway;
let h: Harness;
useRelayThroughGateway({}, (started) => ({ gateway, h } = started));

const eventPosts = (sim: EndpointSimulator) => sim.requests.filter((r) => r.method === "POST" && r.path.endsWith("/events"));
const message = (sessionId: string, turnId: string, outputs: Array<Record<string, string>>, extra: Record<string, unknown> = {}) => ({
  session_id: sessionId,
  turn_id: turnId,
  tool_outputs: outputs,
  ...extra,
});

/** The self-hosted mode's headers as the relay's Agents client sends them (AGENTS_BASE_URL = the gateway). */
const agentHeaders = (sim: EndpointSimulator) => ({
  "x-portkey-provider": "openai",
  "x-portkey-custom-host": sim.baseUrl,
  authorization: `Bearer ${TEST_API_KEY}`,
  "openai-beta": "agents=v1",
});

describe("the relay's Agents calls through the gateway's proxy", () => {
  it("a turn's results reach the session with the beta header, the Idempotency-Key and the body as sent; the 202 is accepted", async () => {
    // Prepare
    const { sessionId, turnId, callIds } = h.sim.createSession({ toolCalls: 2 });
    await h.send(
      message(sessionId, turnId, [
        { tool_call_id: callIds[0]!, output: "21" },
        { tool_call_id: callIds[1]!, error: "timed out" },
      ]),
    );

    // Act
    const { response } = await h.deliver();

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [post, ...more] = eventPosts(h.sim);
    expect(more).toEqual([]);
    expect(post!.headers).toMatchObject({ "openai-beta": "agents=v1", authorization: `Bearer ${TEST_API_KEY}` });
    expect(post!.headers["idempotency-key"]).toMatch(/^relay-[0-9a-f]{64}$/);
    expect(Object.keys(post!.headers).filter((name) => name.startsWith("x-portkey-"))).toEqual([]);
    expect(post!.body).toEqual({
      events: [
        { type: "agent.session.input.tool_result", turn_id: turnId, call_id: callIds[0], success: true, output: "21" },
        { type: "agent.session.input.tool_result", turn_id: turnId, call_id: callIds[1], success: false, error: "timed out" },
      ],
    });
    const [published] = await h.results<AgentsResultsEvent>();
    expect(published!.event).toMatchObject({ type: "session.turn_completed", session_id: sessionId });
  });

  it("the race's 400 comes through unchanged: a copy after the key was forgotten is reconciled, admitted once", async () => {
    // Prepare
    const { sessionId, turnId, callIds } = h.sim.createSession();
    const body = message(sessionId, turnId, [{ tool_call_id: callIds[0]!, output: "21" }]);
    await h.send(body);
    await h.deliver();
    h.sim.forgetIdempotencyKeys();
    await h.send(body);

    // Act
    const { response } = await h.deliver();

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(h.sim.counters.agentRejected).toBe(1);
    expect(h.sim.agentAdmissions(sessionId, callIds[0]!)).toBe(1);
    expect((await h.results<AgentsResultsEvent>()).map((p) => p.event.type)).toEqual(["session.turn_completed", "session.turn_completed"]);
    expect(await h.deadLetters()).toEqual([]);
  });

  it("a 404 session comes through as the API's 404: DLQ session_not_found", async () => {
    await h.send(message("sess_gone", "turn_a", [{ tool_call_id: "call_a", output: "1" }]));
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({ reason: "session_not_found", http_status: 404, endpoint_error: { type: "not_found_error" } });
  });

  it("stream: true is followed on the session's SSE stream through the gateway", async () => {
    // Prepare
    const { sessionId, turnId, callIds } = h.sim.createSession({ afterOutputs: [{ functionCalls: 1 }, "completed"] });
    await h.send(message(sessionId, turnId, [{ tool_call_id: callIds[0]!, output: "21" }], { stream: true }));

    // Act
    await h.deliver();

    // Assess
    const [published] = await h.results<AgentsResultsEvent>();
    expect(published!.event).toMatchObject({ type: "session.requires_action", turn_id: turnId });
    expect(h.sim.counters.agentStreams).toBe(1);
    const stream = h.sim.requests.find((r) => r.method === "GET" && r.path.endsWith("/events"));
    expect(stream!.headers).toMatchObject({ accept: "text/event-stream", "openai-beta": "agents=v1" });
  });

  it("stream: true on a session already at rest is reported at once, though the gateway holds the stream's headers", async () => {
    // Prepare: one call of two answered: the session waits, and nothing more happens on its stream.
    const { sessionId, turnId, callIds } = h.sim.createSession({ toolCalls: 2 });
    await h.send(message(sessionId, turnId, [{ tool_call_id: callIds[0]!, output: "21" }], { stream: true }));
    const started = Date.now();

    // Act
    await h.deliver();

    // Assess: well inside the follow budget (3 s), and no watch_session follow-up.
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await h.results<AgentsResultsEvent>()).map((p) => p.event.type)).toEqual(["session.waiting"]);
    expect((await h.receive(1)).Records).toEqual([]);
  });
});

describe("the gateway's proxy on its own", () => {
  it("answers the events POST 202 with an empty body; streams each event live, but holds the stream's headers until its first event", async () => {
    // Prepare
    const { sessionId, turnId, callIds } = h.sim.createSession({ toolCalls: 2 });
    const path = `/agents/sessions/${sessionId}/events`;
    const streamHeaders = { ...agentHeaders(h.sim), accept: "text/event-stream" };
    const direct = await fetch(`${h.sim.baseUrl}${path}`, { headers: streamHeaders, signal: AbortSignal.timeout(10_000) });
    let answered = false;
    const opening = fetch(`${gateway.baseUrl}${path}`, { headers: streamHeaders, signal: AbortSignal.timeout(10_000) }).then((stream) => {
      answered = true;
      return stream;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const answeredBeforeAnyEvent = answered;
    const events = [{ type: "agent.session.input.tool_result", turn_id: turnId, call_id: callIds[0], success: true, output: "x" }];

    const mark = gateway.outputLength;

    // Act
    const post = await fetch(`${gateway.baseUrl}${path}`, {
      method: "POST",
      headers: { ...agentHeaders(h.sim), "content-type": "application/json", "idempotency-key": "k-gateway" },
      body: JSON.stringify({ events }),
    });
    const stream = await opening;
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let first = "";
    try {
      while (!first.includes("\n\n")) first += (await reader.read()).value ?? "";
    } finally {
      await reader.cancel();
      await direct.body?.cancel();
    }

    // Assess
    expect(direct.headers.get("content-type")).toContain("text/event-stream");
    expect(answeredBeforeAnyEvent).toBe(false);
    expect(post.status).toBe(202);
    expect(await post.text()).toBe("");
    // The gateway's own log chokes on the empty body (harmless: the answer went out as it came).
    await expect.poll(() => gateway.output(mark)).toContain("Error processing log: SyntaxError: Unexpected end of JSON input");
    expect(stream.headers.get("content-type")).toContain("text/event-stream");
    const data = JSON.parse(first.slice(0, first.indexOf("\n\n")).replace(/^data: /, ""));
    expect(data).toMatchObject({ type: "agent.session.turn.item.added", item: { type: "function_call_output", call_id: callIds[0] } });
    expect(h.sim.agentAdmissions(sessionId, callIds[0]!)).toBe(1);
  });
});
