/**
 * Collecting outputs: what one message gets refused for, alone. A different output for an id already stored
 * (`conflicting_output`: the first stands), an id the turn does not ask for (`tool_call_mismatch`): that message
 * goes to the DLQ with its own body, and the rest of the turn still collects and completes.
 */
import { describe, expect, it } from "vitest";
import { deliverAll, part } from "../helpers/collect-rig";
import { answerFor, type Harness, responseAnswerFor, useHarness } from "../helpers/relay-harness";

let h: Harness;
useHarness({ maxReceiveCount: 5 }, (started) => (h = started));

const submittedOutputs = (runId: string) =>
  h.sim.requests
    .filter((r) => r.method === "POST" && r.path.includes(`/runs/${runId}/submit_tool_outputs`))
    .map((r) => (r.body as { tool_outputs: Array<{ tool_call_id: string; output: string }> }).tool_outputs);

describe("a different output for an id already collected", () => {
  it("dead-letters the later message as conflicting_output; the first output stands and the set completes", async () => {
    // Prepare: c0 collected with the first worker's output.
    const run = h.sim.createRun({ toolCalls: 3 });
    const full = answerFor(run);
    const [c0, c1, c2] = run.toolCallIds as [string, string, string];
    await h.send(part(full, [c0]));
    await deliverAll(h);
    // Act: another worker sends c0 with a different output (and c1), then the rest arrives.
    const conflicting = JSON.stringify({
      ...part(full, [c0, c1]),
      tool_outputs: [{ tool_call_id: c0, output: "other" }, full.tool_outputs[1]],
    });
    const conflictingId = await h.send(conflicting);
    await deliverAll(h);
    await h.send(part(full, [c1]));
    await h.send(part(full, [c2]));
    await deliverAll(h);
    // Assess
    const [dead, ...more] = await h.deadLetters();
    expect(more).toEqual([]);
    expect(dead).toMatchObject({ sourceMessageId: conflictingId, reason: "conflicting_output", original: conflicting });
    expect(dead!.record.detail).toContain(c0);
    expect(submittedOutputs(run.runId)).toEqual([full.tool_outputs]);
    expect(h.sim.counters).toMatchObject({ accepted: 1, doubleAcceptances: 0 });
  });

  it("two conflicting copies in one batch: exactly one stands, the other is dead-lettered, the set holds the one that stood", async () => {
    // Prepare
    const run = h.sim.createRun({ toolCalls: 2 });
    const full = answerFor(run);
    const [c0, c1] = run.toolCallIds as [string, string];
    const a = { ...part(full, [c0]), tool_outputs: [{ tool_call_id: c0, output: "from-a" }] };
    const b = { ...part(full, [c0]), tool_outputs: [{ tool_call_id: c0, output: "from-b" }] };
    const ids = { a: await h.send(a), b: await h.send(b) };
    // Act
    await deliverAll(h);
    await h.send(part(full, [c1]));
    await deliverAll(h);
    // Assess
    const dead = await h.deadLetters();
    expect(dead.map((d) => d.reason)).toEqual(["conflicting_output"]);
    const loser = dead[0]!.sourceMessageId === ids.a ? "from-a" : "from-b";
    expect([ids.a, ids.b]).toContain(dead[0]!.sourceMessageId);
    const [submitted] = submittedOutputs(run.runId);
    expect(submitted!.find((o) => o.tool_call_id === c0)!.output).toBe(loser === "from-a" ? "from-b" : "from-a");
  });
});

describe("an id the turn does not ask for", () => {
  it("dead-letters that message as tool_call_mismatch with the expected ids; the rest collects and completes", async () => {
    // Prepare
    const run = h.sim.createRun({ toolCalls: 2 });
    const full = answerFor(run);
    const [c0, c1] = run.toolCallIds as [string, string];
    await h.send(part(full, [c0]));
    const wrong = { ...part(full, [c1]), tool_outputs: [...part(full, [c1]).tool_outputs, { tool_call_id: "call_unknown", output: "x" }] };
    // Act
    const wrongId = await h.send(wrong);
    await deliverAll(h);
    await h.send(part(full, [c1]));
    await deliverAll(h);
    // Assess
    const [dead, ...more] = await h.deadLetters();
    expect(more).toEqual([]);
    expect(dead).toMatchObject({ sourceMessageId: wrongId, reason: "tool_call_mismatch", original: JSON.stringify(wrong) });
    expect(dead!.record.expected_tool_call_ids!.sort()).toEqual([c0, c1].sort());
    expect(dead!.record.detail).toContain("call_unknown");
    expect(submittedOutputs(run.runId)).toEqual([full.tool_outputs]);
  });

  it("the first message of a turn with a wrong id is refused before any collection opens; the turn's own set still completes", async () => {
    // Prepare
    const t = h.sim.createResponse({ toolCalls: 2 });
    const full = responseAnswerFor(t);
    const wrong = { ...part(full, [t.callIds[0]!]), tool_outputs: [{ tool_call_id: "call_elsewhere", output: "x" }] };
    // Act
    const wrongId = await h.send(wrong);
    await deliverAll(h);
    await h.send(part(full, [t.callIds[0]!]));
    await h.send(part(full, [t.callIds[1]!]));
    await deliverAll(h);
    // Assess
    const dead = await h.deadLetters();
    expect(dead.map((d) => [d.sourceMessageId, d.reason])).toEqual([[wrongId, "tool_call_mismatch"]]);
    expect(h.sim.counters).toMatchObject({ continuations: 1, forks: 0 });
  });
});
