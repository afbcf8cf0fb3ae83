/**
 * The table "What happens to an Agents message" (DESIGN Part 3, docs/agents.md), one group per row: the real handler
 * against the loopback endpoint simulator's Agents API, fauxqs for SQS/SNS, and dynalite present but never asked.
 */
import { describe, expect, it } from "vitest";
import type { AgentsResultsEvent } from "../../../functions/submit-tool-outputs/dialects/index";
import { parseMessage } from "../../../functions/submit-tool-outputs/pipeline/message";
import { agentsMessage, answerOutside, eventPosts, expectNoDynamoDb, turnItems } from "../../helpers/agents-rig";
import { type Harness, useHarness } from "../../helpers/relay-harness";

let h: Harness;
useHarness({ maxReceiveCount: 3 }, (started) => (h = started));
expectNoDynamoDb(() => h);

const agentsResults = async () => (await h.results<AgentsResultsEvent>()).map((published) => published.event);

describe("invalid message → DLQ invalid_message, every problem listed", () => {
  it("names both output and error, neither, an empty error and a bad turn id at once", async () => {
    // Prepare
    const body = {
      session_id: "sess_a",
      turn_id: "turn/1",
      tool_outputs: [
        { tool_call_id: "call_a", output: "1", error: "and failed" },
        { tool_call_id: "call_b" },
        { tool_call_id: "call_c", error: "" },
      ],
    };
    await h.send(body);

    // Act
    const { response } = await h.deliver();

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [dead, ...more] = await h.deadLetters();
    expect(more).toEqual([]);
    expect(dead!.record).toMatchObject({ reason: "invalid_message", session_id: "sess_a" });
    expect(dead!.record.detail).toContain("turn_id: must be 1–128 characters");
    expect(dead!.record.detail).toContain("tool_outputs.0.output: send exactly one of output and error");
    expect(dead!.record.detail).toContain("tool_outputs.1.output: send exactly one of output and error");
    expect(dead!.record.detail).toContain("tool_outputs.2.error: must be a non-empty string");
    expect(h.sim.requests).toEqual([]);
  });

  it("refuses a message whose request would pass the API's 4 MiB (checked on the parsed message: SQS itself stops at 1 MiB)", () => {
    // Prepare: an S3-extended client or a redrive could bring such a body; the check must not depend on SQS's own limit.
    const body = JSON.stringify(agentsMessage("sess_a", "turn_a", { call_a: "x".repeat(4 * 1024 * 1024) }));

    // Act
    const parsed = parseMessage(body);

    // Assess
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? [] : parsed.problems).toEqual([
      expect.stringMatching(/^tool_outputs: would make a request of \d+ bytes, over the Agents API's 4194304 bytes: send fewer/),
    ]);
  });

  it("names ids of two APIs together", async () => {
    await h.send({ ...agentsMessage("sess_a", "turn_a", { call_a: "1" }), response_id: "resp_a" });
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record.detail).toContain("more than one API (response_id, session_id, turn_id)");
  });
});

describe("submit: one POST …/events, one tool_result per output, a content-derived Idempotency-Key → 2xx: follow, publish, acknowledge", () => {
  it("answers a turn's two calls in one message (one an error) and reports session.turn_completed", async () => {
    // Prepare
    const { sessionId, turnId, callIds } = h.sim.createSession({ toolCalls: 2 });
    const [first, second] = callIds as [string, string];
    await h.send(
      agentsMessage(
        sessionId,
        turnId,
        { [first]: '{"temp":21}', [second]: { error: "order service timed out" } },
        { metadata: { tenant: "acme" } },
      ),
    );

    // Act
    const { response } = await h.deliver();

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [post, ...again] = eventPosts(h.sim);
    expect(again).toEqual([]);
    expect(post!.beta).toBe("agents=v1");
    expect(post!.key).toMatch(/^relay-[0-9a-f]{64}$/);
    expect(post!.body).toEqual({
      events: [
        { type: "agent.session.input.tool_result", turn_id: turnId, call_id: first, success: true, output: '{"temp":21}' },
        { type: "agent.session.input.tool_result", turn_id: turnId, call_id: second, success: false, error: "order service timed out" },
      ],
    });
    const [published, ...more] = await h.results<AgentsResultsEvent>();
    expect(more).toEqual([]);
    expect(published!.event).toMatchObject({
      api: "agents",
      type: "session.turn_completed",
      status: "idle",
      session_id: sessionId,
      turn_id: turnId,
      reply: { session_id: sessionId, turn_id: turnId },
      tool_calls: [],
      required_actions: [],
      turn: { id: turnId, status: "completed" },
      metadata: { tenant: "acme" },
    });
    expect(Object.keys(published!.event.session).sort()).toEqual(["error", "id", "last_active_at", "metadata", "status", "usage"]);
    expect(published!.attributes).toEqual({ type: "session.turn_completed", status: "idle", api: "agents", session_id: sessionId });
    expect(callIds.map((id) => h.sim.agentAdmissions(sessionId, id))).toEqual([1, 1]);
  });

  it("reports session.waiting while other calls of the turn are open, then session.turn_completed", async () => {
    // Prepare
    const { sessionId, turnId, callIds } = h.sim.createSession({ toolCalls: 2 });
    await h.send(agentsMessage(sessionId, turnId, { [callIds[0]!]: "a" }));
    await h.deliver();
    await h.send(agentsMessage(sessionId, turnId, { [callIds[1]!]: "b" }));

    // Act
    await h.deliver();

    // Assess
    const [waiting, done] = await agentsResults();
    expect(waiting).toMatchObject({
      type: "session.waiting",
      status: "requires_action",
      tool_calls: [],
      reply: { session_id: sessionId, turn_id: turnId },
    });
    expect(waiting!.required_actions.map((action) => action.call_id)).toEqual([callIds[1]]);
    expect(done).toMatchObject({ type: "session.turn_completed" });
    expect(eventPosts(h.sim).map((post) => post.key)).toHaveLength(2);
    expect(new Set(eventPosts(h.sim).map((post) => post.key)).size).toBe(2);
  });

  it("reports session.requires_action with only the new calls when the turn asks for more", async () => {
    // Prepare
    const { sessionId, turnId, callIds } = h.sim.createSession({ toolCalls: 1, afterOutputs: [{ functionCalls: 2 }, "completed"] });
    await h.send(agentsMessage(sessionId, turnId, { [callIds[0]!]: "a" }));

    // Act
    await h.deliver();

    // Assess
    const [event] = await agentsResults();
    expect(event).toMatchObject({ type: "session.requires_action", status: "requires_action", turn_id: turnId });
    const pending = event!.required_actions.map((action) => action.call_id);
    expect(pending).toHaveLength(2);
    expect(pending).not.toContain(callIds[0]);
    expect(event!.tool_calls.map((call) => call.id)).toEqual(pending);
    expect(JSON.parse(event!.tool_calls[0]!.function.arguments)).toEqual(expect.any(Object));
  });

  it("reports an approval request as new work, with required_actions as the API gives them", async () => {
    const { sessionId, turnId, callIds } = h.sim.createSession({ toolCalls: 2, approvals: 1 });
    await h.send(agentsMessage(sessionId, turnId, { [callIds[0]!]: "a" }));
    await h.deliver();
    const [event] = await agentsResults();
    expect(event).toMatchObject({ type: "session.requires_action", tool_calls: [] });
    expect(event!.required_actions.map((action) => action.type).sort()).toEqual(["function_call", "mcp_approval_request"]);
  });

  it("reports session.turn_failed and session.failed as the session ends so", async () => {
    const failing = h.sim.createSession({ afterOutputs: ["failed"] });
    const dying = h.sim.createSession({ afterOutputs: ["session_failed"] });
    await h.send(agentsMessage(failing.sessionId, failing.turnId, { [failing.callIds[0]!]: "a" }));
    await h.send(agentsMessage(dying.sessionId, dying.turnId, { [dying.callIds[0]!]: "a" }));
    await h.deliver();
    const types = (await agentsResults()).map((event) => `${event.session_id === dying.sessionId ? "dying" : "failing"}:${event.type}`);
    expect(types.sort()).toEqual(["dying:session.failed", "failing:session.turn_failed"]);
  });
});

describe("400 Unknown pending tool call, or any refusal / ambiguous failure → read the session (and the turn's items) before anything else", () => {
  it("the calls are pending → send again with the same key (a 500 that applied nothing)", async () => {
    // Prepare
    const { sessionId, turnId, callIds } = h.sim.createSession();
    h.sim.inject({ on: "agent_events", kind: "server_error", sessionId });
    await h.send(agentsMessage(sessionId, turnId, { [callIds[0]!]: "a" }));

    // Act
    await h.deliver();

    // Assess
    const posts = eventPosts(h.sim);
    expect(posts).toHaveLength(2);
    expect(posts[1]!.key).toBe(posts[0]!.key);
    expect(h.sim.counters.agentReads).toBeGreaterThanOrEqual(1);
    expect(h.sim.agentAdmissions(sessionId, callIds[0]!)).toBe(1);
    expect((await agentsResults()).map((event) => event.type)).toEqual(["session.turn_completed"]);
  });

  it("the turn's items hold outputs for every call id → already accepted: publish the session's state, acknowledge", async () => {
    // Prepare: the relay answered before, and the API has since forgotten the key.
    const { sessionId, turnId, callIds } = h.sim.createSession();
    const message = agentsMessage(sessionId, turnId, { [callIds[0]!]: "a" });
    await h.send(message);
    await h.deliver();
    await h.results();
    h.sim.forgetIdempotencyKeys();
    await h.send(message);

    // Act
    const { response } = await h.deliver();

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(h.sim.counters.agentRejected).toBe(1);
    expect(h.sim.agentAdmissions(sessionId, callIds[0]!)).toBe(1);
    expect((await agentsResults()).map((event) => event.type)).toEqual(["session.turn_completed"]);
  });

  it("the calls are listed but not registered yet and the turn runs → wait and look again, then send with the same key", async () => {
    // Prepare: the second round's call is an item 300 ms before it is pending.
    const { sessionId, turnId, callIds } = h.sim.createSession({
      afterOutputs: [{ functionCalls: 1 }, "completed"],
      registrationDelayMs: 300,
    });
    expect(await answerOutside(h.sim, sessionId, turnId, callIds[0]!, "a")).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const second = (await turnItems(h.sim, sessionId, turnId)).filter((item) => item.type === "function_call").at(-1)!.call_id as string;
    await h.send(agentsMessage(sessionId, turnId, { [second]: "b" }));

    // Act
    await h.deliver();

    // Assess
    const posts = eventPosts(h.sim);
    expect(posts.length).toBe(2);
    expect(posts[1]!.key).toBe(posts[0]!.key);
    expect(h.sim.counters.agentRejected).toBe(1);
    expect(h.sim.agentAdmissions(sessionId, second)).toBe(1);
    expect((await agentsResults()).map((event) => event.type)).toEqual(["session.turn_completed"]);
  });

  it("not registered within the invocation → hand back (calls_not_registered)", async () => {
    const { sessionId, turnId, callIds } = h.sim.createSession({
      afterOutputs: [{ functionCalls: 1 }, "completed"],
      registrationDelayMs: 60_000,
    });
    await answerOutside(h.sim, sessionId, turnId, callIds[0]!, "a");
    await new Promise((resolve) => setTimeout(resolve, 60));
    const second = (await turnItems(h.sim, sessionId, turnId)).filter((item) => item.type === "function_call").at(-1)!.call_id as string;
    await h.send(agentsMessage(sessionId, turnId, { [second]: "b" }));
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toHaveLength(1);
    expect(await h.deadLetters()).toEqual([]);
    expect(h.sim.agentAdmissions(sessionId, second)).toBe(0);
  });

  it("the turn ended without these outputs → DLQ session_not_awaiting_outputs", async () => {
    const { sessionId, turnId, callIds } = h.sim.createSession();
    h.sim.cancelTurn(sessionId);
    await h.send(agentsMessage(sessionId, turnId, { [callIds[0]!]: "a" }));
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({ reason: "session_not_awaiting_outputs", session_id: sessionId, turn_id: turnId });
    expect(dead!.record.detail).toContain("the turn is cancelled");
  });

  it("ids the turn never asked for → DLQ tool_call_mismatch with expected and given ids", async () => {
    const { sessionId, turnId, callIds } = h.sim.createSession();
    h.sim.cancelTurn(sessionId);
    await h.send(agentsMessage(sessionId, turnId, { call_never: "a" }));
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({
      reason: "tool_call_mismatch",
      expected_tool_call_ids: callIds,
      given_tool_call_ids: ["call_never"],
    });
  });

  it("ids unknown while the turn runs: look again; on the last receive → DLQ tool_call_mismatch", async () => {
    const { sessionId, turnId } = h.sim.createSession();
    await h.send(agentsMessage(sessionId, turnId, { call_never: "a" }));
    const event = await h.receive();
    event.Records[0]!.attributes.ApproximateReceiveCount = "3";
    await h.invoke(event);
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({ reason: "tool_call_mismatch", given_tool_call_ids: ["call_never"] });
  });
});

describe("some ids answered, some pending → send only the pending ones (a new key for that content)", () => {
  it("sends the one still pending and reports the turn", async () => {
    // Prepare
    const { sessionId, turnId, callIds } = h.sim.createSession({ toolCalls: 2 });
    const [first, second] = callIds as [string, string];
    await answerOutside(h.sim, sessionId, turnId, first, "a");
    await h.send(agentsMessage(sessionId, turnId, { [first]: "a", [second]: "b" }));

    // Act
    await h.deliver();

    // Assess
    const posts = eventPosts(h.sim);
    expect(posts.map((post) => post.callIds)).toEqual([[first, second], [second]]);
    expect(posts[1]!.key).not.toBe(posts[0]!.key);
    expect(callIds.map((id) => h.sim.agentAdmissions(sessionId, id))).toEqual([1, 1]);
    expect((await agentsResults()).map((event) => event.type)).toEqual(["session.turn_completed"]);
  });
});

describe("the same ids already answered with a different output → DLQ conflicting_output; the first stands", () => {
  it("dead-letters the later message and sends nothing more", async () => {
    const { sessionId, turnId, callIds } = h.sim.createSession({ toolCalls: 2 });
    await answerOutside(h.sim, sessionId, turnId, callIds[0]!, "first");
    await h.send(agentsMessage(sessionId, turnId, { [callIds[0]!]: "second" }));
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record.reason).toBe("conflicting_output");
    expect(dead!.record.detail).toContain(callIds[0]);
    expect(eventPosts(h.sim)).toHaveLength(1);
    const taken = (await turnItems(h.sim, sessionId, turnId)).find((item) => item.type === "function_call_output");
    expect(taken).toMatchObject({ call_id: callIds[0], output: "first" });
  });
});

describe("404 on the session → DLQ session_not_found", () => {
  it("dead-letters a message for an unknown session", async () => {
    await h.send(agentsMessage("sess_gone", "turn_a", { call_a: "a" }));
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({ reason: "session_not_found", session_id: "sess_gone", http_status: 404 });
  });
});

describe("401 / 403, 409, 429, 503 with retry-after → configuration: hand back; definite refusals: retry, then hand back", () => {
  it("retries a 429 and a 503 with retry-after, then is accepted once", async () => {
    const { sessionId, turnId, callIds } = h.sim.createSession();
    h.sim.inject(
      { on: "agent_events", kind: "rate_limit", retryAfterMs: 20 },
      { on: "agent_events", kind: "service_unavailable", retryAfterSeconds: 0 },
    );
    await h.send(agentsMessage(sessionId, turnId, { [callIds[0]!]: "a" }));
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toEqual([]);
    const posts = eventPosts(h.sim);
    expect(posts).toHaveLength(3);
    expect(new Set(posts.map((post) => post.key)).size).toBe(1);
    expect(h.sim.agentAdmissions(sessionId, callIds[0]!)).toBe(1);
  });

  it("hands back on 401 and sends nothing more", async () => {
    const { sessionId, turnId, callIds } = h.sim.createSession();
    h.sim.inject({ on: "agent_events", kind: "unauthorized" });
    await h.send(agentsMessage(sessionId, turnId, { [callIds[0]!]: "a" }));
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toHaveLength(1);
    expect(eventPosts(h.sim)).toHaveLength(1);
    expect(await h.deadLetters()).toEqual([]);
  });
});

describe("other 400 → DLQ rejected_by_endpoint", () => {
  it("dead-letters with the endpoint's words", async () => {
    const { sessionId, turnId, callIds } = h.sim.createSession();
    h.sim.inject({ on: "agent_events", kind: "invalid_request" });
    await h.send(agentsMessage(sessionId, turnId, { [callIds[0]!]: "a" }));
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({ reason: "rejected_by_endpoint", http_status: 400, endpoint_error: { code: "invalid_value" } });
  });
});
