import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteMessages } from "../../cli/queue-io";
import { scopeOf } from "../../functions/submit-tool-outputs/collect/collector";
import { backdateCollection, checkNow, deliverAll, deliverUntil, part, pendingChecks, setInCollection } from "../helpers/collect-rig";
import { answerFor, type DeadLetter, type Harness, responseAnswerFor, startHarness, useHarness } from "../helpers/relay-harness";

let h: Harness;
useHarness({ maxReceiveCount: 5 }, (started) => (h = started));

/** Sends a body as given (indented, to show it comes back byte for byte, not re-serialised); returns its id. */
const sendRaw = (body: unknown) => {
  const raw = JSON.stringify(body, null, 2);
  return h.send(raw).then((id) => ({ id, raw }));
};

/** The DLQ records by the message they stand for. */
const byMessage = (dead: DeadLetter[]) => new Map(dead.map((d) => [d.sourceMessageId, d]));

/** Each collected message's own record: the reason, its original body, the missing ids named. */
function expectEachDeadLettered(dead: DeadLetter[], sent: Array<{ id: string; raw: string }>, reason: string, missing: string[]) {
  expect(dead).toHaveLength(sent.length);
  const records = byMessage(dead);
  for (const { id, raw } of sent) {
    const record = records.get(id);
    expect(record).toMatchObject({ reason, original: raw, writtenBy: "relay" });
    for (const callId of missing) expect(record!.record.detail).toContain(callId);
  }
}

/** Moves the collection's first output `ms` into the past (what an hour of waiting would leave in the table). */
const backdate = (scope: string, ms: number) => backdateCollection(h, scope, ms);

describe("the run expires before the set is complete", () => {
  let short: Harness;
  beforeAll(async () => {
    short = await startHarness({ maxReceiveCount: 5, simulator: { runTtlSeconds: 3 } });
  });
  afterAll(async () => short.close());

  it("the check, due just past expires_at, dead-letters every collected message as run_expired", async () => {
    // Prepare: a run that expires 3 s after it was created; two of its three outputs collected.
    const run = short.sim.createRun({ toolCalls: 3 });
    const full = answerFor(run);
    const [c0, c1, c2] = run.toolCallIds as [string, string, string];
    const sent = [];
    for (const body of [part(full, [c0], { metadata: { w: "1" } }), part(full, [c1], { metadata: { w: "2" } })]) {
      const raw = JSON.stringify(body, null, 2);
      sent.push({ id: await short.send(raw), raw });
    }
    await deliverAll(short);
    // Each message that found no collection sent a check before opening one (two in one batch may both have):
    // all are due just past expires_at; the one the collection holds is the live one, any other looks once.
    const pending = pendingChecks(short);
    expect(pending.length).toBeGreaterThanOrEqual(1);
    const expiresAtMs = short.sim.run(run.threadId, run.runId)!.expires_at! * 1000;
    for (const { check, visibleAt } of pending) {
      expect(check.due).toBeLessThanOrEqual(expiresAtMs + 1_000);
      expect(visibleAt).toBeGreaterThanOrEqual(expiresAtMs);
    }
    // Act: the checks arrive on their own once their delay is over.
    const dead: DeadLetter[] = [];
    const allIn = async () => {
      dead.push(...(await short.deadLetters()));
      return dead.length >= 2 && pendingChecks(short).length === 0;
    };
    await deliverUntil(short, allIn, 20_000);
    // Assess
    expectEachDeadLettered(dead, sent, "run_expired", [c2]);
    expect(short.sim.counters.submits).toBe(0);
  });
});

describe("the turn can no longer take the set", () => {
  it("a run expired early (expireRun): the next check dead-letters every collected message as run_expired", async () => {
    // Prepare
    const run = h.sim.createRun({ toolCalls: 3 });
    const full = answerFor(run);
    const [c0, c1, c2] = run.toolCallIds as [string, string, string];
    const sent = [await sendRaw(part(full, [c0])), await sendRaw(part(full, [c1]))];
    await deliverAll(h);
    h.sim.expireRun(run.threadId, run.runId);
    const [pending] = pendingChecks(h);
    expect(pending!.visibleAt! - Date.now()).toBeLessThanOrEqual(61_000);
    // Act
    await checkNow(h, pending!.check);
    // Assess
    expectEachDeadLettered(await h.deadLetters(), sent, "run_expired", [c2]);
    // A message for the expired run after that is refused on its own.
    const late = await sendRaw(part(full, [c2]));
    await deliverAll(h);
    expect((await h.deadLetters()).map((d) => [d.sourceMessageId, d.reason])).toEqual([[late.id, "run_expired"]]);
  });

  it("the run was answered by a message that did not collect: collect_incomplete for every collected message", async () => {
    // Prepare: one of two outputs collected; then a plain message answers the whole round.
    const run = h.sim.createRun({ toolCalls: 2 });
    const full = answerFor(run);
    const sent = [await sendRaw(part(full, [run.toolCallIds[0]!]))];
    await deliverAll(h);
    await h.send(answerFor(run, {}, (id) => `answered elsewhere ${id}`));
    await deliverAll(h);
    expect(h.sim.counters.accepted).toBe(1);
    // Act
    await checkNow(h, pendingChecks(h)[0]!.check);
    // Assess
    expectEachDeadLettered(await h.deadLetters(), sent, "collect_incomplete", [run.toolCallIds[1]!]);
    expect(h.sim.counters).toMatchObject({ accepted: 1, doubleAcceptances: 0 });
  });

  it("a response answered by a message that did not collect (its claim shows submitted): collect_incomplete", async () => {
    // Prepare
    const t = h.sim.createResponse({ toolCalls: 2 });
    const full = responseAnswerFor(t);
    const sent = [await sendRaw(part(full, [t.callIds[0]!]))];
    await deliverAll(h);
    await h.send(full);
    await deliverAll(h);
    expect(h.sim.counters.continuations).toBe(1);
    // Act
    await checkNow(h, pendingChecks(h)[0]!.check);
    // Assess
    expectEachDeadLettered(await h.deadLetters(), sent, "collect_incomplete", [t.callIds[1]!]);
    expect(h.sim.counters).toMatchObject({ continuations: 1, forks: 0 });
  });

  it("a conversation whose waiting calls were answered without this collection: collect_incomplete", async () => {
    // Prepare
    const t = h.sim.createResponse({ toolCalls: 2, conversation: true });
    const full = responseAnswerFor(t, { conversation: true, request: { model: "gpt-5-mini" } });
    const sent = [await sendRaw(part(full, [t.callIds[0]!]))];
    await deliverAll(h);
    await h.send(full);
    await deliverAll(h);
    // Act
    await checkNow(h, pendingChecks(h)[0]!.check);
    // Assess
    expectEachDeadLettered(await h.deadLetters(), sent, "collect_incomplete", [t.callIds[1]!]);
    expect(h.sim.counters).toMatchObject({ continuations: 1, forks: 0 });
  });
});

describe("the turn is answered without the collection, then the set completes before any check looked", () => {
  it("Assistants: the run took other outputs for these ids: collect_incomplete for every collected message, nothing reported", async () => {
    // Prepare: one of two outputs collected; a plain message answers the run with other outputs.
    const run = h.sim.createRun({ toolCalls: 2 });
    const full = answerFor(run);
    const first = await sendRaw(part(full, [run.toolCallIds[0]!]));
    await deliverAll(h);
    await h.send(answerFor(run, {}, (id) => `answered elsewhere ${id}`));
    await deliverAll(h);
    await h.results();
    // Act: the collection's last output arrives.
    const last = await sendRaw(part(full, [run.toolCallIds[1]!]));
    await deliverAll(h);
    // Assess
    expectEachDeadLettered(await h.deadLetters(), [first, last], "collect_incomplete", []);
    expect(await h.results()).toEqual([]);
    expect(h.sim.counters).toMatchObject({ accepted: 1, doubleAcceptances: 0 });
  });

  it("Assistants: the run took the same outputs (a plain copy of the set): the set is reported, nothing dead-lettered", async () => {
    // Prepare
    const run = h.sim.createRun({ toolCalls: 2 });
    const full = answerFor(run);
    await h.send(part(full, [run.toolCallIds[0]!]));
    await deliverAll(h);
    await h.send(full);
    await deliverAll(h);
    await h.results();
    // Act
    await h.send(part(full, [run.toolCallIds[1]!]));
    await deliverAll(h);
    // Assess
    expect(await h.deadLetters()).toEqual([]);
    expect((await h.results()).map((r) => r.event.status)).toEqual(["completed"]);
  });

  it("Responses: the turn's claim shows it submitted by a plain message: collect_incomplete for every collected message", async () => {
    // Prepare
    const t = h.sim.createResponse({ toolCalls: 2 });
    const full = responseAnswerFor(t);
    const first = await sendRaw(part(full, [t.callIds[0]!]));
    await deliverAll(h);
    await h.send(responseAnswerFor(t, {}, (id) => `answered elsewhere ${id}`));
    await deliverAll(h);
    await h.results();
    // Act
    const last = await sendRaw(part(full, [t.callIds[1]!]));
    await deliverAll(h);
    // Assess
    expectEachDeadLettered(await h.deadLetters(), [first, last], "collect_incomplete", []);
    expect(await h.results()).toEqual([]);
    expect(h.sim.counters).toMatchObject({ continuations: 1, forks: 0 });
  });
});

describe("the collection times out (COLLECT_TIMEOUT_SECONDS)", () => {
  it("a stored response never expires: after the timeout the check dead-letters every collected message as collect_incomplete", async () => {
    // Prepare: two of three outputs collected (one message refused as conflicting meanwhile: it keeps its own record).
    const t = h.sim.createResponse({ toolCalls: 3 });
    const full = responseAnswerFor(t);
    const [c0, c1, c2] = t.callIds as [string, string, string];
    const sent = [await sendRaw(part(full, [c0])), await sendRaw(part(full, [c1]))];
    await deliverAll(h);
    const conflicting = await sendRaw({ ...part(full, [c0]), tool_outputs: [{ tool_call_id: c0, output: "different" }] });
    await deliverAll(h);
    expect((await h.deadLetters()).map((d) => [d.sourceMessageId, d.reason])).toEqual([[conflicting.id, "conflicting_output"]]);
    await backdate(scopeOf("responses", { response_id: t.responseId }), 3_601_000);
    // Act
    await checkNow(h, pendingChecks(h)[0]!.check);
    // Assess: each collected message once; the conflicting one is not dead-lettered again.
    const dead = await h.deadLetters();
    expectEachDeadLettered(dead, sent, "collect_incomplete", [c2]);
    expect(dead[0]!.record.detail).toContain("COLLECT_TIMEOUT_SECONDS");
    expect(h.sim.counters.responsePosts).toBe(0);
  });

  it("the dead-lettered messages can be re-driven: with the missing output they form a new set, submitted once", async () => {
    // Prepare: a collection timed out and dead-lettered.
    const t = h.sim.createResponse({ toolCalls: 2 });
    const full = responseAnswerFor(t);
    await h.send(part(full, [t.callIds[0]!]));
    await deliverAll(h);
    await backdate(scopeOf("responses", { response_id: t.responseId }), 3_601_000);
    await checkNow(h, pendingChecks(h)[0]!.check);
    const [dead] = await h.deadLetters();
    // Act: the record sent back whole (as SQS's message move does), and the missing output.
    await h.send(dead!.body);
    await h.send(part(full, [t.callIds[1]!]));
    await deliverAll(h);
    // Assess
    expect(await h.deadLetters()).toEqual([]);
    expect(h.sim.counters).toMatchObject({ continuations: 1, forks: 0 });
  });
});

describe("a complete set past the timeout, its submission handed back", () => {
  /** A run's set of two completed by a message whose four submit attempts all answer 500: handed back, not settled. */
  async function completeSetHandedBack() {
    const run = h.sim.createRun({ toolCalls: 2 });
    const full = answerFor(run);
    const ids = [await h.send(part(full, [run.toolCallIds[0]!]))];
    await deliverAll(h);
    const [check] = pendingChecks(h);
    h.sim.inject({ on: "submit", kind: "server_error", runId: run.runId, times: 4 });
    ids.push(await h.send(part(full, [run.toolCallIds[1]!])));
    const { event, response } = await h.deliver();
    expect(response.batchItemFailures).toHaveLength(1);
    const scope = scopeOf("assistants", { thread_id: run.threadId, run_id: run.runId });
    await backdate(scope, 3_601_000);
    return { run, ids, check: check!.check, scope, handedBack: event.Records[0]!.receiptHandle };
  }

  it("is left to its message while that has receives left: the check passes it on, the message comes back and submits once", async () => {
    // Prepare
    const { run, ids, check, scope } = await completeSetHandedBack();
    // Act: the live check finds the set complete and past COLLECT_TIMEOUT_SECONDS, then the message returns.
    const due = Date.now();
    await setInCollection(h, scope, "SET check_due = :due", { ":due": due });
    await checkNow(h, check, { due });
    const passedOn = pendingChecks(h).filter((p) => p.check.due !== check.due);
    await deliverAll(h);
    // Assess: the next check (and its guard two minutes after it, rule 9).
    expect(passedOn).toHaveLength(1);
    expect(await h.deadLetters()).toEqual([]);
    expect(h.sim.counters).toMatchObject({ accepted: 1, doubleAcceptances: 0 });
    const events = (await h.results()).map((r) => r.event).filter((e) => e.run_id === run.runId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ status: "completed", source_message_id: ids[1], source_message_ids: [...ids].sort() });
  });

  it("is closed once its claim lapsed after as many tries as the message has receives: every collected message in the DLQ", async () => {
    // Prepare: what a submitter that crashed on each of its five receives leaves: its claim lapsed after five tries,
    // its message gone from the queue (SQS moved it to the DLQ itself).
    const { ids, check, scope, handedBack } = await completeSetHandedBack();
    await setInCollection(h, scope, "SET tries = :tries, lease_until = :zero", { ":tries": 5, ":zero": 0 });
    await deleteMessages(h.aws.sqs, h.aws.input.url, [handedBack]);
    // Act
    await checkNow(h, check);
    // Assess
    const dead = await h.deadLetters();
    expect(dead.map((d) => d.sourceMessageId).sort()).toEqual([...ids].sort());
    for (const d of dead)
      expect(d).toMatchObject({ reason: "collect_incomplete", record: { detail: expect.stringContaining("COLLECT_TIMEOUT_SECONDS") } });
    expect(h.sim.counters.accepted).toBe(0);
  });
});

describe("the check itself", () => {
  it("while the set can still complete, the live check sends the next one within a minute; any other copy only looks", async () => {
    // Prepare: one of a response's two outputs collected (a stored response does not expire: a check a minute).
    const t = h.sim.createResponse({ toolCalls: 2 });
    await h.send(part(responseAnswerFor(t), [t.callIds[0]!]));
    await deliverAll(h);
    const [live, ...none] = pendingChecks(h);
    expect(none).toEqual([]);
    expect(live!.check.due - Date.now()).toBeGreaterThan(50_000);
    // Act 1: a copy due now looks and ends there.
    await checkNow(h, live!.check);
    // Assess 1
    expect(pendingChecks(h).map((p) => p.check.due)).toEqual([live!.check.due]);
    // Act 2: time passes for the live check (its due moved to now in the table, and a copy with that due).
    const due = Date.now();
    await setInCollection(h, scopeOf("responses", { response_id: t.responseId }), "SET check_due = :due", { ":due": due });
    await checkNow(h, live!.check, { due });
    // Assess 2: the next check is on its way, a minute out, with its guard two minutes after it (which takes the chain
    // over only should every receive of the next one die: rule 9); nothing was dead-lettered or submitted.
    const next = pendingChecks(h).filter((p) => p.check.due !== live!.check.due);
    expect(next).toHaveLength(1);
    expect(pendingChecks(h, { guards: true }).map((p) => p.check)).toContainEqual({
      ...next[0]!.check,
      due: next[0]!.check.due + 120_000,
      guard: true,
    });
    expect(next[0]!.check.due - due).toBeGreaterThanOrEqual(50_000);
    expect(await h.deadLetters()).toEqual([]);
    expect(h.sim.counters.responsePosts).toBe(0);
  });
});
