/**
 * The rows where the endpoint refuses the POST for certain: a definite refusal (conversation_locked, 409, 429,
 * a refused connection: nothing was taken, so it is retried and then handed back, and nothing forks), and the
 * configuration refusals (401 / 403 / insufficient_quota: handed back, named on the last receive). A 408 is not one
 * (DESIGN Part 3, rule 5): a gateway may answer it after forwarding the POST.
 */
import { describe, expect, it } from "vitest";
import type { ResponsesResultsEvent } from "../../../functions/submit-tool-outputs/dialects/index";
import { type Harness, responseAnswerFor } from "../../helpers/relay-harness";
import { claimsTable, keyOf } from "../../helpers/responses/claims-table";
import { type EndpointProxy, useProxiedHarness } from "../../helpers/responses/endpoint-proxy";
import { postsContinuing, postsOnConversation } from "../../helpers/responses/endpoint-requests";

let h: Harness;
let proxy: EndpointProxy;
useProxiedHarness((started) => ({ h, proxy } = started));

/** Delivers the queue's one message `receives` times; the number of batch item failures of each. */
async function deliverTimes(receives: number): Promise<number[]> {
  const answers: number[] = [];
  for (let receive = 1; receive <= receives; receive++) answers.push((await h.deliver()).response.batchItemFailures.length);
  return answers;
}

describe("a definite refusal (conversation_locked, 409, 429, a refused connection) → retry with backoff, then hand back; nothing forks", () => {
  it("retries a conversation_locked answer within the invocation and submits once the lock is gone", async () => {
    // Prepare
    const prev = h.sim.createResponse({ conversation: true });
    h.sim.inject({ on: "response_create", kind: "conversation_locked", times: 2 });
    await h.send(responseAnswerFor(prev));
    // Act
    const { response } = await h.deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(postsOnConversation(h.sim, prev.conversationId!)).toHaveLength(3);
    expect(h.sim.counters.continuations).toBe(1);
    expect(h.sim.counters.forks).toBe(0);
    const [published] = await h.results<ResponsesResultsEvent>();
    expect(published!.event).toMatchObject({ status: "completed", conversation_id: prev.conversationId });
  });

  it("hands back a conversation that stays locked, gives the claim back each time, and says so on the last receive", async () => {
    const prev = h.sim.createResponse({ conversation: true });
    h.sim.inject({ on: "response_create", kind: "conversation_locked", times: 1000 });
    const messageId = await h.send(responseAnswerFor(prev));
    expect(await deliverTimes(3)).toEqual([1, 1, 0]);
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({ reason: "retries_exhausted", source_message_id: messageId, http_status: 400 });
    expect(dead!.record.endpoint_error).toMatchObject({ code: "conversation_locked" });
    expect(dead!.record.detail).toContain("conversation_locked");
    expect(dead!.record.detail).toContain("receive 3 of 3");
    // ENDPOINT_MAX_ATTEMPTS (4) POSTs per receive, none taken.
    expect(postsOnConversation(h.sim, prev.conversationId!)).toHaveLength(12);
    expect(h.sim.counters.responsesCreated).toBe(0);
    expect(await claimsTable(h).get(keyOf({ conversationId: prev.conversationId }, prev.callIds))).toMatchObject({ phase: "released" });
    // No follow-up: nothing was taken, there is nothing to watch.
    expect((await h.receive()).Records).toEqual([]);
  });

  it("a lock that outlasts one receive is handed back, and the next receive submits", async () => {
    const prev = h.sim.createResponse({ conversation: true });
    h.sim.inject({ on: "response_create", kind: "conversation_locked", times: 4 });
    await h.send(responseAnswerFor(prev));
    expect(await deliverTimes(2)).toEqual([1, 0]);
    expect(h.sim.counters.continuations).toBe(1);
    expect(h.sim.counters.forks).toBe(0);
    expect((await h.results()).length).toBe(1);
  });

  it("rule 5: a gateway's 408 after it forwarded the POST is ambiguous: never resubmitted, DLQ submission_unconfirmed, no fork", async () => {
    const prev = h.sim.createResponse();
    const body = { error: { message: "Request timed out.", type: "timeout", param: null, code: null } };
    proxy.intercept({ method: "POST", path: /\/responses$/, times: 3, does: { forwardThenAnswer: { status: 408, body } } });
    await h.send(responseAnswerFor(prev));
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toEqual([]);
    expect(proxy.seen.filter((r) => r.method === "POST")).toHaveLength(1);
    expect(h.sim.children(prev.responseId)).toHaveLength(1);
    expect(h.sim.counters.forks).toBe(0);
    expect((await h.deadLetters()).map((d) => [d.reason, d.record.http_status])).toEqual([["submission_unconfirmed", 408]]);
  });

  it.each([409])("retries a %i and submits once", async (status) => {
    const prev = h.sim.createResponse();
    const body = { error: { message: "Request conflict, try again.", type: "invalid_request_error", param: null, code: null } };
    proxy.intercept({ method: "POST", path: /\/responses$/, times: 2, does: { answer: { status, body } } });
    await h.send(responseAnswerFor(prev));
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toEqual([]);
    expect(proxy.seen.filter((r) => r.method === "POST")).toHaveLength(3);
    expect(postsContinuing(h.sim, prev.responseId)).toHaveLength(1);
    expect(h.sim.children(prev.responseId)).toHaveLength(1);
    expect(h.sim.counters.forks).toBe(0);
  });

  it("honours a 429's retry-after (seconds) before trying again", async () => {
    const prev = h.sim.createResponse();
    h.sim.inject({ on: "response_create", kind: "rate_limit", retryAfterSeconds: 1 });
    await h.send(responseAnswerFor(prev));
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toEqual([]);
    const posts = h.sim.requests.filter((r) => r.method === "POST" && r.path === "/v1/responses");
    expect(posts).toHaveLength(2);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(950);
    expect(h.sim.counters.continuations).toBe(1);
    expect(h.sim.counters.forks).toBe(0);
  });

  it("retries a refused connection, hands back, and submits once on the next receive", async () => {
    // Prepare: the endpoint answers the GET, then stops listening: every POST's connection is refused.
    const prev = h.sim.createResponse();
    proxy.intercept({ method: "GET", path: new RegExp(`/responses/${prev.responseId}$`), does: { stopListeningAfter: true } });
    const messageId = await h.send(responseAnswerFor(prev));
    // Act
    const first = await h.deliver();
    await proxy.listen();
    const second = await h.deliver();
    // Assess
    expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: messageId }]);
    expect(second.response.batchItemFailures).toEqual([]);
    // The refused POSTs never reached the endpoint; the one that did was taken once.
    expect(proxy.seen.filter((r) => r.method === "POST")).toHaveLength(1);
    expect(postsContinuing(h.sim, prev.responseId)).toHaveLength(1);
    expect(h.sim.children(prev.responseId)).toHaveLength(1);
    expect(h.sim.counters.forks).toBe(0);
    expect(await h.deadLetters()).toEqual([]);
    expect((await h.results<ResponsesResultsEvent>())[0]!.event.status).toBe("completed");
  });
});

describe("401 / 403 / insufficient_quota → hand back; the last receive writes unauthorized / quota_exceeded", () => {
  it.each([
    ["a 401", "unauthorized", 401],
    ["a 403", "unauthorized", 403],
    ["insufficient_quota", "quota_exceeded", 429],
  ] as const)("hands back on %s and dead-letters %s on the last receive, submitting nothing", async (cause, reason, status) => {
    // Prepare
    const prev = h.sim.createResponse();
    if (cause === "a 401") h.sim.inject({ on: "response_create", kind: "unauthorized", times: 1000 });
    if (cause === "insufficient_quota") h.sim.inject({ on: "response_create", kind: "insufficient_quota", times: 1000 });
    if (cause === "a 403") {
      const body = {
        error: { message: "Project does not have access to model gpt-5-mini", type: "invalid_request_error", param: null, code: null },
      };
      proxy.intercept({ method: "POST", path: /\/responses$/, times: 1000, does: { answer: { status: 403, body } } });
    }
    const messageId = await h.send(responseAnswerFor(prev));
    // Act
    const answers = await deliverTimes(3);
    // Assess
    expect(answers).toEqual([1, 1, 0]);
    const [dead, ...more] = await h.deadLetters();
    expect(more).toEqual([]);
    expect(dead!.record).toMatchObject({ reason, http_status: status, source_message_id: messageId, response_id: prev.responseId });
    expect(dead!.attributes.reason).toBe(reason);
    expect(h.sim.counters.continuations).toBe(0);
    expect(await claimsTable(h).get(keyOf({ responseId: prev.responseId }, prev.callIds))).toMatchObject({ phase: "released" });
  });

  it("a refusal that is fixed before the last receive goes through, once", async () => {
    const prev = h.sim.createResponse();
    h.sim.inject({ on: "response_create", kind: "unauthorized" });
    const messageId = await h.send(responseAnswerFor(prev));
    const first = await h.deliver();
    expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: messageId }]);
    const second = await h.deliver();
    expect(second.response.batchItemFailures).toEqual([]);
    expect(h.sim.children(prev.responseId)).toHaveLength(1);
    expect(h.sim.counters.forks).toBe(0);
  });
});
