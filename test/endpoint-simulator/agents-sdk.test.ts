/**
 * The simulator's Agents API driven by the official `openai` SDK (7.60.0, `client.beta.agents.sessions.*`), with
 * every object and stream event checked against strict schemas written from the SDK's own types: a relay that
 * passes against the simulator meets the API's shapes, status codes and error texts, not the simulator's own idea.
 */
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import type { EndpointSimulator } from "../../local/endpoint-simulator";
import { simulator } from "../helpers/endpoint-simulator/helpers";
import { AgentSession, ErrorResponse, Page, SessionItem, SessionStreamEvent, Turn } from "../helpers/schemas/openai-agents";

function expectValid(schema: { safeParse(value: unknown): { error?: { issues: unknown } } }, value: unknown, label: string): void {
  expect(schema.safeParse(value).error?.issues, label).toBeUndefined();
}

function sdk(sim: EndpointSimulator, maxRetries = 0): OpenAI {
  return new OpenAI({ apiKey: "sk-test", baseURL: sim.baseUrl, maxRetries });
}

function result(turnId: string, callId: string, answer: { output: unknown } | { error: string }) {
  return "error" in answer
    ? { type: "agent.session.input.tool_result" as const, turn_id: turnId, call_id: callId, success: false, error: answer.error }
    : {
        type: "agent.session.input.tool_result" as const,
        turn_id: turnId,
        call_id: callId,
        success: true,
        output: answer.output as string,
      };
}

async function allItems(client: OpenAI, sessionId: string, turnId: string) {
  const items = [];
  for await (const item of client.beta.agents.sessions.turns.items.list(turnId, { session_id: sessionId, order: "asc" })) items.push(item);
  return items;
}

describe("a turn of two calls, answered one by one, as the SDK sees it", () => {
  it("requires_action → waiting for one → idle with the turn completed; every object spec-shaped", async () => {
    // Prepare
    let clock = 1_900_000_000_000;
    const sim = await simulator({ now: () => clock, processingMs: 1000 });
    const { sessionId, turnId, callIds } = sim.createSession({ toolCalls: 2 });
    const client = sdk(sim);

    // Act
    const waiting = await client.beta.agents.sessions.retrieve(sessionId);
    await client.beta.agents.sessions.events.create(sessionId, { events: [result(turnId, callIds[0]!, { output: '{"temp":21}' })] });
    const half = await client.beta.agents.sessions.retrieve(sessionId);
    const halfTurn = await client.beta.agents.sessions.turns.retrieve(turnId, { session_id: sessionId });
    await client.beta.agents.sessions.events.create(sessionId, {
      events: [result(turnId, callIds[1]!, { error: "order service timed out" })],
    });
    const working = await client.beta.agents.sessions.retrieve(sessionId);
    clock += 1000;
    const done = await client.beta.agents.sessions.retrieve(sessionId);
    const doneTurn = await client.beta.agents.sessions.turns.retrieve(turnId, { session_id: sessionId });
    const items = await allItems(client, sessionId, turnId);
    const page = await client.beta.agents.sessions.items.list(sessionId, { limit: 2 });

    // Assess
    expect(waiting.status).toBe("requires_action");
    expect(waiting.required_actions.map((a) => (a as { call_id: string }).call_id)).toEqual(callIds);
    expect(half.status).toBe("requires_action");
    expect(half.required_actions.map((a) => (a as { call_id: string }).call_id)).toEqual([callIds[1]]);
    expect(halfTurn.status).toBe("waiting");
    expect(working.status).toBe("in_progress");
    expect(done).toMatchObject({ status: "idle", required_actions: [], error: null });
    expect(doneTurn).toMatchObject({ status: "completed", error: null });
    expect(items.map((item) => item.type)).toEqual([
      "message",
      "function_call",
      "function_call",
      "function_call_output",
      "function_call_output",
      "message",
    ]);
    expect(items[4]).toMatchObject({ call_id: callIds[1], output: null, error: "order service timed out", status: "failed" });
    expect(page.data).toHaveLength(2);
    expect(page.has_more).toBe(true);
    for (const [label, body] of Object.entries({ waiting, half, working, done })) expectValid(AgentSession, body, label);
    for (const [label, body] of Object.entries({ halfTurn, doneTurn })) expectValid(Turn, body, label);
    for (const item of items) expectValid(SessionItem, item, String(item.type));
    expect(callIds.map((id) => sim.agentAdmissions(sessionId, id))).toEqual([1, 1]);
  });

  it("the schemas are strict enough to catch a missing field, an extra one or a bad status", async () => {
    // Prepare
    const sim = await simulator();
    const { sessionId } = sim.createSession();
    const valid = sim.session(sessionId)!;
    const { vault_ids: _, ...missing } = valid;

    // Act / Assess
    expect(AgentSession.safeParse(valid).success).toBe(true);
    expect(AgentSession.safeParse(missing).success).toBe(false);
    expect(AgentSession.safeParse({ ...valid, surprise: 1 }).success).toBe(false);
    expect(AgentSession.safeParse({ ...valid, status: "waiting" }).success).toBe(false);
  });
});

describe("the events POST: 202 with an empty body, the Idempotency-Key, the race and the refusals", () => {
  it("answers 202 with no body; the same key and body again changes nothing; another body under that key is a 409", async () => {
    // Prepare
    const sim = await simulator();
    const { sessionId, turnId, callIds } = sim.createSession({ toolCalls: 2 });
    const client = sdk(sim);
    const body = { events: [result(turnId, callIds[0]!, { output: "sunny" })] };

    // Act
    const raw = await client.beta.agents.sessions.events.create(sessionId, { ...body, "Idempotency-Key": "k-1" }).asResponse();
    await client.beta.agents.sessions.events.create(sessionId, { ...body, "Idempotency-Key": "k-1" });
    const other = await client.beta.agents.sessions.events
      .create(sessionId, { events: [result(turnId, callIds[1]!, { output: "x" })], "Idempotency-Key": "k-1" })
      .catch((error: unknown) => error);

    // Assess
    expect(raw.status).toBe(202);
    expect(await raw.text()).toBe("");
    expect(sim.agentAdmissions(sessionId, callIds[0]!)).toBe(1);
    expect(sim.counters).toMatchObject({ agentResultsAdmitted: 1, agentIdempotentReplays: 1 });
    expect(other).toBeInstanceOf(OpenAI.ConflictError);
    expect(sim.agentAdmissions(sessionId, callIds[1]!)).toBe(0);
    const sent = sim.requests.filter((r) => r.method === "POST");
    expect(sent.every((r) => r.headers["openai-beta"] === "agents=v1" && r.headers["idempotency-key"] === "k-1")).toBe(true);
  });

  it("a result for a call that appeared but is not registered yet is 400 `Unknown pending tool call: <id>`; later it is taken", async () => {
    // Prepare
    let clock = 1_900_000_000_000;
    const sim = await simulator({ now: () => clock, processingMs: 100 });
    const { sessionId, turnId, callIds } = sim.createSession({
      afterOutputs: [{ functionCalls: 1 }, "completed"],
      registrationDelayMs: 500,
    });
    const client = sdk(sim);
    await client.beta.agents.sessions.events.create(sessionId, { events: [result(turnId, callIds[0]!, { output: "a" })] });
    clock += 100;
    const items = await allItems(client, sessionId, turnId);
    const second = items.filter((item) => item.type === "function_call").at(-1) as { call_id: string };

    // Act
    const early = await client.beta.agents.sessions.events
      .create(sessionId, { events: [result(turnId, second.call_id, { output: "b" })], "Idempotency-Key": "k-2" })
      .catch((error: unknown) => error);
    const before = await client.beta.agents.sessions.retrieve(sessionId);
    clock += 500;
    await client.beta.agents.sessions.events.create(sessionId, {
      events: [result(turnId, second.call_id, { output: "b" })],
      "Idempotency-Key": "k-2",
    });

    // Assess
    expect(early).toBeInstanceOf(OpenAI.BadRequestError);
    const error = (early as InstanceType<typeof OpenAI.BadRequestError>).error;
    expect(error).toMatchObject({ message: `Unknown pending tool call: ${second.call_id}`, type: "invalid_request_error" });
    expectValid(ErrorResponse, { error }, "race");
    expect(before).toMatchObject({ status: "in_progress", required_actions: [] });
    expect(sim.agentAdmissions(sessionId, second.call_id)).toBe(1);
  });

  it("a second result for an answered call, a wrong turn, an unknown session, a missing beta header, an oversized body", async () => {
    // Prepare
    const sim = await simulator();
    const { sessionId, turnId, callIds } = sim.createSession({ toolCalls: 2 });
    const client = sdk(sim);
    const callId = callIds[0]!;
    await client.beta.agents.sessions.events.create(sessionId, { events: [result(turnId, callId, { output: "a" })] });
    const fail = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (error: unknown) => error,
      );

    // Act
    const again = await fail(client.beta.agents.sessions.events.create(sessionId, { events: [result(turnId, callId, { output: "b" })] }));
    const wrongTurn = await fail(
      client.beta.agents.sessions.events.create(sessionId, { events: [result("turn_other", callIds[1]!, { output: "b" })] }),
    );
    const missing = await fail(client.beta.agents.sessions.retrieve("sess_missing"));
    const missingTurn = await fail(client.beta.agents.sessions.turns.retrieve("turn_missing", { session_id: sessionId }));
    const noBeta = await fetch(`${sim.baseUrl}/agents/sessions/${sessionId}`);
    const huge = await fetch(`${sim.baseUrl}/agents/sessions/${sessionId}/events`, {
      method: "POST",
      headers: { "content-type": "application/json", "openai-beta": "agents=v1" },
      body: JSON.stringify({ events: [result(turnId, callIds[1]!, { output: "x".repeat(4 * 1024 * 1024) })] }),
    });

    // Assess
    expect((again as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ message: `Unknown pending tool call: ${callId}` });
    expect((wrongTurn as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
      message: `Unknown pending tool call: ${callIds[1]}`,
    });
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect(missingTurn).toBeInstanceOf(OpenAI.NotFoundError);
    expect(noBeta.status).toBe(400);
    expect(await noBeta.json()).toMatchObject({ error: { code: "invalid_beta" } });
    expect(huge.status).toBe(413);
    expect(sim.agentAdmissions(sessionId, callId)).toBe(1);
    expect(sim.agentAdmissions(sessionId, callIds[1]!)).toBe(0);
  });

  it("accept_then_drop admits the result and cuts the connection; the same key again is a replay, not a second admission", async () => {
    // Prepare
    const sim = await simulator();
    const { sessionId, turnId, callIds } = sim.createSession();
    const client = sdk(sim);
    sim.inject({ on: "agent_events", kind: "accept_then_drop", sessionId });
    const params = { events: [result(turnId, callIds[0]!, { output: "a" })], "Idempotency-Key": "k-3" };

    // Act
    const cut = await client.beta.agents.sessions.events.create(sessionId, params).catch((error: unknown) => error);
    await client.beta.agents.sessions.events.create(sessionId, params);

    // Assess
    expect(cut).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(sim.agentAdmissions(sessionId, callIds[0]!)).toBe(1);
    expect(sim.counters).toMatchObject({ agentEventPosts: 2, agentIdempotentReplays: 1, faultsInjected: 1 });
  });
});

describe("sessions over HTTP and the live SSE stream", () => {
  it("create, list, delete with the SDK; a created session works its metadata's script", async () => {
    // Prepare
    let clock = 1_900_000_000_000;
    const sim = await simulator({ now: () => clock, processingMs: 200 });
    const client = sdk(sim);

    // Act
    const created = await client.beta.agents.sessions.create({
      environment: { type: "none" },
      input: "Weather in Paris?",
      metadata: { sim_tool_calls: "2" },
    });
    clock += 200;
    const asking = await client.beta.agents.sessions.retrieve(created.id);
    const listed = await client.beta.agents.sessions.list();
    const turns = await client.beta.agents.sessions.turns.list(created.id);
    const rawTurns = await fetch(`${sim.baseUrl}/agents/sessions/${created.id}/turns`, { headers: { "openai-beta": "agents=v1" } });
    const deleted = await client.beta.agents.sessions.delete(created.id);

    // Assess
    expect(created.status).toBe("in_progress");
    expect(asking.status).toBe("requires_action");
    expect(asking.required_actions).toHaveLength(2);
    expect(listed.data.map((s) => s.id)).toEqual([created.id]);
    expect(turns.data).toHaveLength(1);
    expect(deleted).toEqual({ id: created.id, deleted: true, object: "agent.session.deleted" });
    for (const [label, body] of Object.entries({ created, asking })) expectValid(AgentSession, body, label);
    expectValid(Page(Turn), await rawTurns.json(), "turns");
  });

  it("streams no past events, then every change: the results' items, the turn's ending, the session going idle", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 20 });
    const { sessionId, turnId, callIds } = sim.createSession({ toolCalls: 2, afterOutputs: [{ functionCalls: 1 }, "completed"] });
    const client = sdk(sim);
    const stream = await client.beta.agents.sessions.events.stream(sessionId);
    const seen: Array<Record<string, unknown>> = [];

    // Act
    await client.beta.agents.sessions.events.create(sessionId, {
      events: callIds.map((id) => result(turnId, id, { output: `out-${id}` })),
    });
    for await (const event of stream) {
      seen.push(event as unknown as Record<string, unknown>);
      if (event.type === "agent.session.requires_action") {
        const next = event.session.required_actions[0] as { call_id: string; turn_id: string };
        await client.beta.agents.sessions.events.create(sessionId, { events: [result(next.turn_id, next.call_id, { output: "last" })] });
      }
      if (event.type === "agent.session.idle") break;
    }

    // Assess
    const types = seen.map((event) => event.type);
    expect(types[0]).toBe("agent.session.turn.item.added");
    expect(types).toContain("agent.session.in_progress");
    expect(types.indexOf("agent.session.turn.completed")).toBeLessThan(types.indexOf("agent.session.idle"));
    expect(types.filter((type) => type === "agent.session.requires_action")).toHaveLength(1);
    expect(new Set(seen.map((event) => event.event_id)).size).toBe(seen.length);
    for (const event of seen) expectValid(SessionStreamEvent, event, String(event.type));
  });

  it("a stream_error fault sends the API's `error` event, which the SDK yields rather than throws", async () => {
    // Prepare
    const sim = await simulator();
    const { sessionId } = sim.createSession();
    sim.inject({ on: "agent_stream", kind: "stream_error" });

    // Act
    const events = [];
    for await (const event of await sdk(sim).beta.agents.sessions.events.stream(sessionId)) events.push(event);

    // Assess
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "error", session_id: sessionId, error: { type: "server_error" } });
    expectValid(SessionStreamEvent, events[0], "error");
  });
});
