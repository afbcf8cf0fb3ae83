/**
 * Following by the session's live stream: a turn that ended on the stream (`agent.session.turn.completed`, then the
 * session's `agent.session.idle`) is taken from it, not read again. A poll interval of a second keeps the relay's own
 * reads of a quiet stream out of the way, so the stream is what shows the rest.
 */
import { expect, it } from "vitest";
import type { AgentsResultsEvent } from "../../../functions/submit-tool-outputs/dialects/index";
import { agentsMessage, expectNoDynamoDb } from "../../helpers/agents-rig";
import { type Harness, useHarness } from "../../helpers/relay-harness";

let h: Harness;
useHarness({ maxReceiveCount: 3, env: { POLL_INTERVAL_MS: "1000" } }, (started) => (h = started));
expectNoDynamoDb(() => h);

it("takes the ended turn from the stream's turn event: no read of the turn of its own", async () => {
  // Prepare: a turn that completes 60 ms after the outputs, while the relay reads the stream.
  const { sessionId, turnId, callIds } = h.sim.createSession({ afterOutputs: [{ stayInProgressMs: 60 }, "completed"] });
  await h.send(agentsMessage(sessionId, turnId, { [callIds[0]!]: "a" }, { stream: true }));

  // Act
  await h.deliver();

  // Assess
  const [event] = (await h.results<AgentsResultsEvent>()).map((published) => published.event);
  expect(event).toMatchObject({ type: "session.turn_completed", turn: { id: turnId, status: "completed" } });
  expect(h.sim.counters.agentStreams).toBe(1);
  const turnReads = h.sim.requests.filter((r) => r.method === "GET" && r.path.endsWith(`/agents/sessions/${sessionId}/turns/${turnId}`));
  expect(turnReads).toEqual([]);
});
