/**
 * Exactly-once submission through the state table (DESIGN "The state table"): duplicate deliveries of one
 * turn's outputs never fork, whether they come at once (one batch, two invocations) or later (a redelivery,
 * a copy hours later), and crashes around the POST are treated as the policy says. RESPONSES_UNCONFIRMED is
 * `dead_letter` throughout, so `forks` must stay 0 in every test.
 *
 * Crashes are simulated by writing the claim a crashed owner leaves behind straight into the table (dynalite,
 * through the real DynamoDB client): deterministic, where cutting a real invocation at the right instant
 * would depend on timing a loaded machine cannot promise.
 */
import type { SQSEvent } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import { createHandler } from "../../../functions/submit-tool-outputs/create-handler";
import type { ResponsesResultsEvent } from "../../../functions/submit-tool-outputs/dialects/index";
import { lambdaContext } from "../../../local/lambda-shapes";
import { type Harness, responseAnswerFor, useHarness } from "../../helpers/relay-harness";
import { claimsTable, keyOf, lapsedClaim } from "../../helpers/responses/claims-table";
import { postsContinuing, postsOnConversation } from "../../helpers/responses/endpoint-requests";
import { releaseInFlight } from "../../helpers/responses/input-queue";

let h: Harness;
useHarness({ maxReceiveCount: 5 }, (started) => (h = started));
afterEach(() => {
  // The promise of this file: whatever happened, no parent was continued twice.
  expect(h.sim.counters.forks).toBe(0);
});

describe("duplicates at the same time: one claim wins, the other copy hands itself back briefly", () => {
  it("two copies in one batch: one submits, the other is handed back briefly and then publishes the recorded continuation", async () => {
    // Prepare
    const prev = h.sim.createResponse({ toolCalls: 2 });
    const ids = [await h.send(responseAnswerFor(prev)), await h.send(responseAnswerFor(prev))];
    // Act
    const first = await h.deliver();
    // Assess: one copy held the claim while the other looked.
    expect(first.event.Records).toHaveLength(2);
    expect(first.response.batchItemFailures).toHaveLength(1);
    const heldBack = first.response.batchItemFailures[0]!.itemIdentifier;
    expect(ids).toContain(heldBack);
    const delays = await releaseInFlight(h);
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(0.5);
    expect(delays[0]).toBeLessThanOrEqual(31);
    const second = await h.deliver();
    expect(second.response.batchItemFailures).toEqual([]);
    expect(postsContinuing(h.sim, prev.responseId)).toHaveLength(1);
    const results = await h.results<ResponsesResultsEvent>();
    expect(results).toHaveLength(2);
    expect(new Set(results.map((r) => r.event.event_id)).size).toBe(1);
    expect(results.map((r) => r.event.source_message_id).sort()).toEqual([...ids].sort());
    expect(await h.deadLetters()).toEqual([]);
  });

  it("two invocations at once (two execution environments): one POST between them", async () => {
    // Prepare: each environment receives its own copy.
    const prev = h.sim.createResponse();
    await h.send(responseAnswerFor(prev));
    await h.send(responseAnswerFor(prev));
    const events: SQSEvent[] = [await h.receive(1), await h.receive(1)];
    expect(events.map((e) => e.Records.length)).toEqual([1, 1]);
    const other = createHandler(h.env);
    // Act
    const answers = await Promise.all([h.invoke(events[0]!), other(events[1]!, lambdaContext(30_000))]);
    // Assess
    expect(postsContinuing(h.sim, prev.responseId)).toHaveLength(1);
    const failures = answers.flatMap((a) => a?.batchItemFailures ?? []);
    expect(failures.length).toBeLessThanOrEqual(1);
    expect(await h.deadLetters()).toEqual([]);
    expect((await h.results()).length).toBe(2 - failures.length);
  });
});

describe("the state table shows these outputs already submitted (a later duplicate) → no POST, the recorded continuation published", () => {
  it("a redelivery after acceptance (the ack was lost) does not POST, and publishes the same event again", async () => {
    // Prepare: the first receive is processed but never deleted, as if the function died before answering.
    const prev = h.sim.createResponse();
    await h.send(responseAnswerFor(prev));
    await h.invoke(await h.receive());
    const [first] = await h.results<ResponsesResultsEvent>();
    await releaseInFlight(h);
    // Act
    const { event, response } = await h.deliver();
    // Assess
    expect(event.Records[0]!.attributes.ApproximateReceiveCount).toBe("2");
    expect(response.batchItemFailures).toEqual([]);
    expect(postsContinuing(h.sim, prev.responseId)).toHaveLength(1);
    const [again] = await h.results<ResponsesResultsEvent>();
    expect(again!.event.event_id).toBe(first!.event.event_id);
    expect(again!.event.response_id).toBe(first!.event.response_id);
  });

  it("a copy hours later: the recorded continuation still stops the POST, long after every lease", async () => {
    // Prepare: accepted; then the claim is aged as if three hours had passed.
    const prev = h.sim.createResponse();
    await h.send(responseAnswerFor(prev));
    await h.deliver();
    const [first] = await h.results<ResponsesResultsEvent>();
    const key = keyOf({ responseId: prev.responseId }, prev.callIds);
    const claims = claimsTable(h);
    const recorded = await claims.get(key);
    const hoursAgo = Date.now() - 3 * 3_600_000;
    await claims.put({ ...recorded!, lease_until: hoursAgo, claimed_at: new Date(hoursAgo).toISOString() });
    // Act
    await h.send(responseAnswerFor(prev));
    const { response } = await h.deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(postsContinuing(h.sim, prev.responseId)).toHaveLength(1);
    const [again] = await h.results<ResponsesResultsEvent>();
    expect(again!.event.response_id).toBe(first!.event.response_id);
  });

  it("a stale first-round copy during the second round publishes the first round's continuation, submitting nothing", async () => {
    // Prepare: round one accepted; its continuation asks for round two.
    const prev = h.sim.createResponse({ afterOutputs: [{ functionCalls: 1 }, "completed"] });
    await h.send(responseAnswerFor(prev));
    await h.deliver();
    const [round1] = await h.results<ResponsesResultsEvent>();
    expect(round1!.event.type).toBe("response.requires_action");
    // Act: the first message again (a producer's retry).
    await h.send(responseAnswerFor(prev));
    await h.deliver();
    // Assess
    expect(h.sim.counters.continuations).toBe(1);
    const [stale] = await h.results<ResponsesResultsEvent>();
    expect(stale!.event).toMatchObject({ response_id: round1!.event.response_id, type: "response.requires_action" });
    expect(await h.deadLetters()).toEqual([]);
  });
});

describe("crashes around the POST", () => {
  it("between claim and POST (the claim's lease passed, nothing recorded): unconfirmed, dead-lettered by the policy, no POST", async () => {
    // Prepare
    const prev = h.sim.createResponse();
    const key = keyOf({ responseId: prev.responseId }, prev.callIds);
    const crashed = lapsedClaim(key, prev.callIds, { owner: "message-that-crashed", previousResponseId: prev.responseId });
    await claimsTable(h).put(crashed);
    const body = JSON.stringify(responseAnswerFor(prev));
    await h.send(body);
    // Act
    const { response } = await h.deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({
      reason: "submission_unconfirmed",
      response_id: prev.responseId,
      given_tool_call_ids: prev.callIds,
      claimed_at: crashed.claimed_at,
      original: body,
    });
    expect(dead!.record.detail).toContain("an earlier attempt (message message-that-crashed) ended without recording");
    expect(h.sim.counters.responsePosts).toBe(0);
  });

  it("between POST and recording (the id never written): unconfirmed too, though the endpoint took it, and not sent twice", async () => {
    // Prepare: accepted, then the claim set back to what a crash before `record` leaves.
    const prev = h.sim.createResponse();
    await h.send(responseAnswerFor(prev));
    await h.deliver();
    await h.results();
    const key = keyOf({ responseId: prev.responseId }, prev.callIds);
    await claimsTable(h).put(lapsedClaim(key, prev.callIds, { previousResponseId: prev.responseId }));
    // Act
    await h.send(responseAnswerFor(prev));
    await h.deliver();
    // Assess
    const [dead] = await h.deadLetters();
    expect(dead!.record.reason).toBe("submission_unconfirmed");
    expect(postsContinuing(h.sim, prev.responseId)).toHaveLength(1);
    expect(h.sim.children(prev.responseId)).toHaveLength(1);
  });

  it("between POST and recording in a conversation: the conversation shows the outputs, so the copy publishes them", async () => {
    // Prepare
    const prev = h.sim.createResponse({ conversation: true });
    const conversationId = prev.conversationId!;
    await h.send(responseAnswerFor(prev));
    await h.deliver();
    const [accepted] = await h.results<ResponsesResultsEvent>();
    const key = keyOf({ conversationId }, prev.callIds);
    await claimsTable(h).put(lapsedClaim(key, prev.callIds, { previousResponseId: prev.responseId }));
    // Act
    await h.send(responseAnswerFor(prev));
    const { response } = await h.deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(postsOnConversation(h.sim, conversationId)).toHaveLength(1);
    const [published] = await h.results<ResponsesResultsEvent>();
    expect(published!.event).toMatchObject({ conversation_id: conversationId, reply: { conversation_id: conversationId } });
    expect(published!.event.response.output).toEqual(accepted!.event.response.output);
    // The same state learnt two ways has one event id: a consumer that drops duplicates runs its tools once.
    expect(published!.event.event_id).toBe(accepted!.event.event_id);
    expect(await h.deadLetters()).toEqual([]);
  });

  it("a copy arriving while the owner still holds a live lease is handed back, never submitted", async () => {
    const prev = h.sim.createResponse();
    const key = keyOf({ responseId: prev.responseId }, prev.callIds);
    const live = { ...lapsedClaim(key, prev.callIds), lease_until: Date.now() + 60_000 };
    await claimsTable(h).put(live);
    const messageId = await h.send(responseAnswerFor(prev));
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: messageId }]);
    expect(h.sim.counters.responsePosts).toBe(0);
    // Briefly (the harness's own redelivery delay is 0 s): the owner has likely recorded what it did by then.
    const [delay] = await releaseInFlight(h);
    expect(delay).toBeGreaterThan(0.5);
    expect(delay).toBeLessThanOrEqual(5.5);
  });

  it("on its last receive, a copy arriving while the owner holds a live lease waits for what the owner records, then publishes it", async () => {
    // Prepare: the owner holds a live claim; this copy comes on its last receive (explorer seed 393: a duplicate
    // delivery of the message's last receive found the other delivery submitting, and was dead-lettered while it reported).
    const prev = h.sim.createResponse();
    const key = keyOf({ responseId: prev.responseId }, prev.callIds);
    const claims = claimsTable(h);
    await claims.put({ ...lapsedClaim(key, prev.callIds), lease_until: Date.now() + 60_000 });
    const messageId = await h.send(responseAnswerFor(prev));
    let last = await h.receive(1);
    while (Number(last.Records[0]!.attributes.ApproximateReceiveCount) < 5) {
      await releaseInFlight(h);
      last = await h.receive(1);
    }
    // The owner's continuation, recorded a moment after this copy looked.
    const continuation = h.sim.createResponse({ toolCalls: 0 });
    const recorded = new Promise<void>((resolve) =>
      setTimeout(async () => {
        const item = (await claims.get(key))!;
        await claims.put({ ...item, phase: "submitted", response_id: continuation.responseId, submitted_at: new Date().toISOString() });
        resolve();
      }, 1_500),
    );
    // Act
    const answer = await h.invoke(last);
    await recorded;
    // Assess: acknowledged, the recorded continuation published, no POST, nothing dead-lettered.
    expect(answer.batchItemFailures).toEqual([]);
    expect(h.sim.counters.responsePosts).toBe(0);
    const results = await h.results<ResponsesResultsEvent>();
    expect(results.map((r) => [r.event.source_message_id, r.event.response?.id])).toEqual([[messageId, continuation.responseId]]);
    expect(await h.deadLetters()).toEqual([]);
  });
});
