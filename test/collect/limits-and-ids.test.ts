/**
 * Collecting at the sizes the docs promise and with any valid id (DESIGN Part 3, rules 8 and 10), through the real
 * handler against the local DynamoDB that enforces DynamoDB's limits (4 KB expressions, 400 KB items):
 * 128 outputs in one collected message, 128 messages of one output each for one turn, and call ids that are
 * JavaScript's own property names (`__proto__`, `constructor`, `hasOwnProperty`).
 */
import { describe, expect, it } from "vitest";
import { deliverAll, part } from "../helpers/collect-rig";
import { answerFor, type Harness, responseAnswerFor, useHarness } from "../helpers/relay-harness";

let h: Harness;
useHarness({ maxReceiveCount: 5 }, (started) => (h = started));

const ids128 = Array.from({ length: 128 }, (_, i) => `call_${String(i).padStart(3, "0")}_${"x".repeat(20)}`);

describe("rule 8: collecting meets DynamoDB's real limits", () => {
  it("collects 128 outputs sent in one message and submits them once", async () => {
    const run = h.sim.createRun({ toolCalls: ids128 });
    await h.send(part(answerFor(run), ids128));
    await deliverAll(h, { withinMs: 60_000 });
    expect(await h.deadLetters()).toEqual([]);
    expect(h.sim.counters).toMatchObject({ submits: 1, accepted: 1, doubleAcceptances: 0 });
    const [event] = (await h.results()).map((r) => r.event);
    expect(event?.status).toBe("completed");
  });

  it("collects a turn of 128 calls answered by 128 messages, each output of ~1 KB, and submits them once", async () => {
    const run = h.sim.createRun({ toolCalls: ids128 });
    const full = answerFor(run, {}, (id) => `${id}:${"o".repeat(1_000)}`);
    const sent = new Set<string>();
    for (const id of ids128) sent.add(await h.send(part(full, [id])));
    await deliverAll(h, { withinMs: 120_000 });
    expect(await h.deadLetters()).toEqual([]);
    expect(h.sim.counters).toMatchObject({ submits: 1, accepted: 1, doubleAcceptances: 0 });
    const posts = h.sim.requests.filter((r) => r.method === "POST" && r.path.includes("/submit_tool_outputs"));
    expect(posts[0]!.body).toEqual({ tool_outputs: full.tool_outputs });
    const events = (await h.results()).map((r) => r.event);
    const set = events.find((e) => e.source_message_ids !== undefined);
    expect([...(set?.source_message_ids ?? [])].sort()).toEqual([...sent].sort());
  }, 180_000);
});

describe("rule 10: ids are data, never object keys", () => {
  it.each([
    ["in one message", [["__proto__", "constructor", "hasOwnProperty"]]],
    ["in three messages", [["__proto__"], ["constructor"], ["hasOwnProperty"]]],
  ])("collects a turn whose call ids are __proto__, constructor and hasOwnProperty (%s)", async (_how, parts) => {
    const run = h.sim.createRun({ toolCalls: ["__proto__", "constructor", "hasOwnProperty"] });
    const full = answerFor(run);
    for (const ids of parts) await h.send(part(full, ids));
    await deliverAll(h);
    expect(await h.deadLetters()).toEqual([]);
    expect(h.sim.counters).toMatchObject({ submits: 1, accepted: 1 });
    const posts = h.sim.requests.filter((r) => r.method === "POST" && r.path.includes("/submit_tool_outputs"));
    expect(posts[0]!.body).toEqual({ tool_outputs: full.tool_outputs });
  });

  it("submits a Responses turn whose call ids are __proto__ and constructor once, and a copy is a duplicate", async () => {
    const turn = h.sim.createResponse({ toolCalls: ["__proto__", "constructor"] });
    const full = responseAnswerFor(turn);
    await h.send(part(full, ["__proto__"]));
    await h.send(part(full, ["constructor"]));
    await h.send(part(full, ["constructor"]));
    await deliverAll(h);
    expect(await h.deadLetters()).toEqual([]);
    expect(h.sim.counters.forks).toBe(0);
    expect(h.sim.children(turn.responseId)).toHaveLength(1);
  });
});
