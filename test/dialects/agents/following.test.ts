/**
 * Past the follow budget a `watch_session` follow-up reports the session later; anyone may send one (a backend
 * handing a new session's first `requires_action` to the tool workers). A budget of 0 makes every follow hand over.
 */
import { describe, expect, it } from "vitest";
import type { AgentsResultsEvent } from "../../../functions/submit-tool-outputs/dialects/index";
import { agentsMessage, answerOutside, expectNoDynamoDb } from "../../helpers/agents-rig";
import { type Harness, useHarness } from "../../helpers/relay-harness";

let h: Harness;
useHarness({ maxReceiveCount: 3, env: { FOLLOW_BUDGET_MS: "0" }, simulator: { processingMs: 150 } }, (started) => (h = started));
expectNoDynamoDb(() => h);

async function deliverUntilPublished(rounds = 20): Promise<AgentsResultsEvent[]> {
  for (let round = 0; round < rounds; round++) {
    await h.deliver();
    const events = (await h.results<AgentsResultsEvent>()).map((published) => published.event);
    if (events.length > 0) return events;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return [];
}

describe("following a session past the budget", () => {
  it("hands the still-moving session to a watch_session follow-up, which reports its rest", async () => {
    // Prepare
    const { sessionId, turnId, callIds } = h.sim.createSession();
    await h.send(agentsMessage(sessionId, turnId, { [callIds[0]!]: "a" }, { metadata: { tenant: "acme" } }));

    // Act
    const first = await h.receive();
    await h.invoke(first);
    const followUp = await h.receive();
    const events = await (async () => {
      await h.invoke(followUp);
      const published = (await h.results<AgentsResultsEvent>()).map((p) => p.event);
      return published.length > 0 ? published : deliverUntilPublished();
    })();

    // Assess
    expect(JSON.parse(followUp.Records[0]!.body)).toEqual({
      type: "watch_session",
      session_id: sessionId,
      turn_id: turnId,
      metadata: { tenant: "acme" },
    });
    expect(events.map((event) => event.type)).toEqual(["session.turn_completed"]);
    expect(events[0]).toMatchObject({ metadata: { tenant: "acme" }, turn: { id: turnId, status: "completed" } });
    expect(h.sim.agentAdmissions(sessionId, callIds[0]!)).toBe(1);
  });
});

describe("a watch_session anyone sends", () => {
  it("reports a waiting session's pending calls as session.requires_action (how a backend hands a new session to the workers)", async () => {
    const { sessionId, turnId, callIds } = h.sim.createSession({ toolCalls: 2 });
    await h.send({ type: "watch_session", session_id: sessionId });
    const [event] = await deliverUntilPublished();
    expect(event).toMatchObject({
      type: "session.requires_action",
      session_id: sessionId,
      turn_id: turnId,
      reply: { session_id: sessionId, turn_id: turnId },
    });
    expect(event!.tool_calls.map((call) => call.id)).toEqual(callIds);
  });

  it("with a turn_id, announces no call another message is answering: session.waiting", async () => {
    const { sessionId, turnId, callIds } = h.sim.createSession({ toolCalls: 2 });
    expect(await answerOutside(h.sim, sessionId, turnId, callIds[0]!, "a")).toBe(202);
    await h.send({ type: "watch_session", session_id: sessionId, turn_id: turnId });
    const [event] = await deliverUntilPublished();
    expect(event).toMatchObject({ type: "session.waiting", tool_calls: [] });
    expect(event!.required_actions.map((action) => action.call_id)).toEqual([callIds[1]]);
  });

  it("reports an idle session's latest turn ending, and dead-letters an unknown session", async () => {
    const { sessionId, turnId } = h.sim.createSession();
    h.sim.cancelTurn(sessionId);
    await h.send({ type: "watch_session", session_id: sessionId });
    await h.send({ type: "watch_session", session_id: "sess_unknown" });
    const events = await deliverUntilPublished();
    expect(events.map((event) => [event.type, event.turn_id])).toEqual([["session.turn_cancelled", turnId]]);
    const dead = await h.deadLetters();
    expect(dead.map((record) => record.record.reason)).toEqual(["session_not_found"]);
  });
});
