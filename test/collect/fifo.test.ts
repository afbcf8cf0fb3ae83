/**
 * Collecting on FIFO queues (the stack's `fifo=true`). What collecting means there: SQS hands out a message group's
 * messages strictly one after another (the next one only once the one before is deleted), so the parts of one turn
 * that producers put in one group (say, per thread) reach the relay in order, one at a time. Each part is
 * acknowledged as soon as its outputs are stored, so the group moves on to the next part and the last one completes
 * the set: waiting for the submission before acknowledging would deadlock the group (the part it waits for sits behind
 * the one it holds). Parts in different groups arrive side by side and collect the same way. A FIFO queue takes no
 * per-message delay, so a collection's check arrives at once, early, and waits by its visibility timeout (handed back
 * until due); it has a message group of its own per collection, so it never holds up the thread's group.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliverAll, part, pendingChecks } from "../helpers/collect-rig";
import { answerFor, type Harness, startHarness, useHarness } from "../helpers/relay-harness";

let h: Harness;
useHarness({ fifo: true, maxReceiveCount: 3 }, (started) => (h = started));

describe("collecting from one FIFO message group", () => {
  it("each part is acknowledged when stored, so the group moves on and its last part completes the set", async () => {
    // Prepare: three parts of one run, in order, in the thread's group; a part of another run behind them.
    const run = h.sim.createRun({ toolCalls: 3, threadId: "thread_fifo_collect" });
    const other = h.sim.createRun({ toolCalls: 1, threadId: "thread_fifo_collect" });
    const group = { groupId: "thread_fifo_collect" };
    const full = answerFor(run);
    const ids: string[] = [];
    for (const id of run.toolCallIds) ids.push(await h.send(part(full, [id]), group));
    const otherId = await h.send(part(answerFor(other), other.toolCallIds), group);
    // Act
    const deliveries = await deliverAll(h);
    // Assess: the group's records came one per batch, in order, none handed back; the set went once.
    const groupRecords = deliveries.flatMap((d) => d.event.Records).filter((r) => r.attributes.MessageGroupId === group.groupId);
    expect(groupRecords.map((r) => r.messageId)).toEqual([...ids, otherId]);
    const failed = new Set(deliveries.flatMap((d) => d.response.batchItemFailures.map((f) => f.itemIdentifier)));
    expect(groupRecords.filter((r) => failed.has(r.messageId))).toEqual([]);
    expect(h.sim.counters).toMatchObject({ submits: 2, accepted: 2, doubleAcceptances: 0 });
    const events = (await h.results()).map((r) => r.event);
    expect(events.find((e) => e.run_id === run.runId)).toMatchObject({ source_message_id: ids[2], source_message_ids: [...ids].sort() });
    expect(await h.deadLetters()).toEqual([]);
  });

  it("the collection's check has a group of its own: held back until due, it does not hold up the thread's group", async () => {
    // Prepare: the first part opens the collection (and sends its check at once).
    const run = h.sim.createRun({ toolCalls: 2, threadId: "thread_fifo_check" });
    const full = answerFor(run);
    const group = { groupId: "thread_fifo_check" };
    const first = await h.send(part(full, [run.toolCallIds[0]!]), group);
    await deliverAll(h);
    // Assess 1: the check was received, found early and handed back for about a minute, in its own group.
    const [held, ...more] = pendingChecks(h);
    expect(more).toEqual([]);
    expect(held!.groupId).toMatch(/^collect-check-/);
    expect(held!.groupId).not.toBe(group.groupId);
    expect(held!.visibleAt! - Date.now()).toBeGreaterThan(30_000);
    // Act: the thread's group goes on while the check is held.
    const second = await h.send(part(full, [run.toolCallIds[1]!]), group);
    await deliverAll(h);
    // Assess 2
    expect(h.sim.counters).toMatchObject({ accepted: 1, doubleAcceptances: 0 });
    const [event] = (await h.results()).map((r) => r.event);
    expect(event).toMatchObject({ source_message_id: second, source_message_ids: [first, second].sort() });
  });

  it("parts in different groups (one per worker) arriving in one batch: submitted once", async () => {
    // Prepare
    const run = h.sim.createRun({ toolCalls: 4 });
    const full = answerFor(run);
    const ids: string[] = [];
    for (const [i, id] of run.toolCallIds.entries()) ids.push(await h.send(part(full, [id]), { groupId: `worker-${i}` }));
    // Act
    await deliverAll(h);
    // Assess
    expect(h.sim.counters).toMatchObject({ submits: 1, accepted: 1, doubleAcceptances: 0 });
    const [event] = (await h.results()).map((r) => r.event);
    expect(event!.source_message_ids).toEqual([...ids].sort());
  });
});

describe("a FIFO queue with few receives (maxReceiveCount 2)", () => {
  let few: Harness;
  beforeAll(async () => {
    few = await startHarness({ fifo: true, maxReceiveCount: 2 });
  });
  afterAll(async () => few.close());

  it("the early check still waits by its visibility timeout: one check pending, not re-sent over and over, not lost", async () => {
    // Prepare
    const run = few.sim.createRun({ toolCalls: 2 });
    await few.send(part(answerFor(run), [run.toolCallIds[0]!]), { groupId: "thread_few" });
    // Act: deliver, then deliver again (a re-sent check would be received again at once).
    await deliverAll(few);
    await deliverAll(few);
    // Assess
    const pending = pendingChecks(few);
    expect(pending).toHaveLength(1);
    expect(pending[0]!.visibleAt! - Date.now()).toBeGreaterThan(30_000);
    expect(await few.deadLetters()).toEqual([]);
  });
});
