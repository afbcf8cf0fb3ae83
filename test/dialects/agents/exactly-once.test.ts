/**
 * Exactly once without a state table: duplicate deliveries and an ambiguous failure (the simulator admits the results,
 * then drops the connection) each end with one admission per call id, the Idempotency-Key and the session's items
 * doing what a claims table does for the Responses API. Also the SSE way of following.
 */
import { describe, expect, it } from "vitest";
import type { AgentsResultsEvent } from "../../../functions/submit-tool-outputs/dialects/index";
import { agentsMessage, eventPosts, expectNoDynamoDb } from "../../helpers/agents-rig";
import { type Harness, useHarness } from "../../helpers/relay-harness";

let h: Harness;
useHarness({ maxReceiveCount: 3 }, (started) => (h = started));
expectNoDynamoDb(() => h);

const agentsResults = async () => (await h.results<AgentsResultsEvent>()).map((published) => published.event);

describe("a duplicate delivery is admitted once", () => {
  it("two copies in one batch (decided side by side): one admission per call id, both acknowledged, one event id", async () => {
    // Prepare
    const { sessionId, turnId, callIds } = h.sim.createSession({ toolCalls: 2 });
    const message = agentsMessage(sessionId, turnId, { [callIds[0]!]: "a", [callIds[1]!]: { error: "failed" } });
    await h.send(message);
    await h.send(message);
    const event = await h.receive();
    expect(event.Records).toHaveLength(2);

    // Act
    const response = await h.invoke(event);

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(callIds.map((id) => h.sim.agentAdmissions(sessionId, id))).toEqual([1, 1]);
    expect(new Set(eventPosts(h.sim).map((post) => post.key)).size).toBe(1);
    const events = await agentsResults();
    expect(events.map((e) => e.type)).toEqual(["session.turn_completed", "session.turn_completed"]);
    expect(new Set(events.map((e) => e.event_id)).size).toBe(1);
  });

  it("a copy delivered after the first was reported: the key's replay, then the same event", async () => {
    // Prepare
    const { sessionId, turnId, callIds } = h.sim.createSession();
    const message = agentsMessage(sessionId, turnId, { [callIds[0]!]: "a" });
    await h.send(message);
    await h.deliver();
    await h.send(message);

    // Act
    const { response } = await h.deliver();

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(h.sim.agentAdmissions(sessionId, callIds[0]!)).toBe(1);
    expect(h.sim.counters.agentIdempotentReplays).toBe(1);
    const [first, second] = await agentsResults();
    expect(second!.event_id).toBe(first!.event_id);
  });
});

describe("an ambiguous failure is admitted once", () => {
  it("the simulator admits, then drops the connection: the relay reads the session, finds its outputs, publishes", async () => {
    // Prepare
    const { sessionId, turnId, callIds } = h.sim.createSession({ toolCalls: 2 });
    h.sim.inject({ on: "agent_events", kind: "accept_then_drop", sessionId });
    await h.send(agentsMessage(sessionId, turnId, { [callIds[0]!]: "a", [callIds[1]!]: "b" }));

    // Act
    const { response } = await h.deliver();

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(h.sim.counters.faultsInjected).toBe(1);
    expect(callIds.map((id) => h.sim.agentAdmissions(sessionId, id))).toEqual([1, 1]);
    expect(eventPosts(h.sim)).toHaveLength(1);
    expect((await agentsResults()).map((event) => event.type)).toEqual(["session.turn_completed"]);
  });

  it("an accept-then-500 followed by a copy of the message: still one admission per call id", async () => {
    const { sessionId, turnId, callIds } = h.sim.createSession();
    const message = agentsMessage(sessionId, turnId, { [callIds[0]!]: "a" });
    h.sim.inject({ on: "agent_events", kind: "accept_then_500", sessionId });
    await h.send(message);
    await h.send(message);
    await h.invoke(await h.receive());
    expect(h.sim.agentAdmissions(sessionId, callIds[0]!)).toBe(1);
    expect(new Set((await agentsResults()).map((event) => event.event_id)).size).toBe(1);
  });
});

describe("following by the session's live stream (stream: true)", () => {
  it("reads the SSE stream to the session's rest", async () => {
    const { sessionId, turnId, callIds } = h.sim.createSession({ afterOutputs: [{ functionCalls: 1 }, "completed"] });
    await h.send(agentsMessage(sessionId, turnId, { [callIds[0]!]: "a" }, { stream: true }));
    await h.deliver();
    expect(h.sim.counters.agentStreams).toBe(1);
    const [event] = await agentsResults();
    expect(event).toMatchObject({ type: "session.requires_action", turn_id: turnId });
    expect(event!.tool_calls).toHaveLength(1);
  });

  it("a stream that breaks with an `error` event is followed by GET", async () => {
    const { sessionId, turnId, callIds } = h.sim.createSession();
    h.sim.inject({ on: "agent_stream", kind: "stream_error" });
    await h.send(agentsMessage(sessionId, turnId, { [callIds[0]!]: "a" }, { stream: true }));
    await h.deliver();
    expect((await agentsResults()).map((event) => event.type)).toEqual(["session.turn_completed"]);
    expect(h.sim.agentAdmissions(sessionId, callIds[0]!)).toBe(1);
  });
});
