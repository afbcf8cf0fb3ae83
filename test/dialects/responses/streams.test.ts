/**
 * Submitting with `stream: true` and following the response by its event stream: to its terminal event; a
 * stream cut after `response.created` followed by GET (never resubmitted); a stream cut before its first event
 * treated as an ambiguous failure; an `error` event; the follow budget running out mid-stream.
 */
import { describe, expect, it } from "vitest";
import type { ResponsesResultsEvent } from "../../../functions/submit-tool-outputs/dialects/index";
import { type Harness, responseAnswerFor, startHarness } from "../../helpers/relay-harness";
import { claimsTable, keyOf } from "../../helpers/responses/claims-table";
import { type EndpointProxy, useProxiedHarness } from "../../helpers/responses/endpoint-proxy";
import { postsContinuing, postsOnConversation, readsOf } from "../../helpers/responses/endpoint-requests";
import { waitingBodies } from "../../helpers/responses/input-queue";

let h: Harness;
let proxy: EndpointProxy;
useProxiedHarness((started) => ({ h, proxy } = started));

describe("stream: true, followed to its terminal event", () => {
  it("reads the stream to response.completed: no polling, the new id recorded, the state published", async () => {
    // Prepare
    const prev = h.sim.createResponse();
    await h.send(responseAnswerFor(prev, { stream: true }));
    // Act
    const { response } = await h.deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [post] = postsContinuing(h.sim, prev.responseId);
    expect(post).toMatchObject({ stream: true, background: true });
    const [child] = h.sim.children(prev.responseId);
    expect(readsOf(h.sim, child!)).toEqual([]);
    const [published] = await h.results<ResponsesResultsEvent>();
    expect(published!.event).toMatchObject({ type: "response.completed", response_id: child, previous_response_id: prev.responseId });
    expect(await claimsTable(h).get(keyOf({ responseId: prev.responseId }, prev.callIds))).toMatchObject({
      phase: "submitted",
      response_id: child,
    });
  });

  it("reads a stream that ends asking for more function calls, and publishes them", async () => {
    const prev = h.sim.createResponse({ afterOutputs: [{ functionCalls: ["call_next_a", "call_next_b"] }] });
    await h.send(responseAnswerFor(prev, { stream: true }));
    await h.deliver();
    const [published] = await h.results<ResponsesResultsEvent>();
    expect(published!.event.type).toBe("response.requires_action");
    expect(published!.event.tool_calls.map((call) => call.id)).toEqual(["call_next_a", "call_next_b"]);
  });
});

/** Submits with a stream that fails as `kind`; the response must be read by GET, published, and never posted again. */
async function expectFollowedByGetNotResubmitted(kind: "stream_cut_after_created" | "stream_error"): Promise<void> {
  const prev = h.sim.createResponse();
  h.sim.inject({ on: "response_create", kind: kind, responseId: prev.responseId });
  await h.send(responseAnswerFor(prev, { stream: true }));
  const { response } = await h.deliver();
  expect(response.batchItemFailures).toEqual([]);
  expect(postsContinuing(h.sim, prev.responseId)).toHaveLength(1);
  const [child] = h.sim.children(prev.responseId);
  expect(readsOf(h.sim, child!).length).toBeGreaterThanOrEqual(1);
  const [published] = await h.results<ResponsesResultsEvent>();
  expect(published!.event).toMatchObject({ type: "response.completed", response_id: child });
  expect(h.sim.counters.forks).toBe(0);
}

describe("a stream cut after response.created is followed by GET, not resubmitted", () => {
  it("follows the response the first event named until it rests", async () => {
    await expectFollowedByGetNotResubmitted("stream_cut_after_created");
  });
});

describe("a stream cut before its first event is an ambiguous failure", () => {
  it("previous_response_id mode: dead-lettered submission_unconfirmed (the endpoint had taken it), not sent again", async () => {
    const prev = h.sim.createResponse();
    proxy.intercept({ method: "POST", path: /\/responses$/, does: { cutStreamBeforeFirstEvent: true } });
    await h.send(responseAnswerFor(prev, { stream: true }));
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({
      reason: "submission_unconfirmed",
      response_id: prev.responseId,
      given_tool_call_ids: prev.callIds,
    });
    expect(dead!.record.detail).toContain("the event stream ended before its first event");
    expect(postsContinuing(h.sim, prev.responseId)).toHaveLength(1);
    expect(h.sim.children(prev.responseId)).toHaveLength(1);
    expect(h.sim.counters.forks).toBe(0);
  });

  it("conversation mode: the conversation shows the outputs once the response completes, so it is published", async () => {
    const prev = h.sim.createResponse({ conversation: true });
    proxy.intercept({ method: "POST", path: /\/responses$/, does: { cutStreamBeforeFirstEvent: true } });
    await h.send(responseAnswerFor(prev, { stream: true }));
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toEqual([]);
    expect(postsOnConversation(h.sim, prev.conversationId!)).toHaveLength(1);
    const [published] = await h.results<ResponsesResultsEvent>();
    expect(published!.event).toMatchObject({
      type: "response.completed",
      response_id: null,
      previous_response_id: prev.responseId,
      reply: { conversation_id: prev.conversationId },
    });
    expect(h.sim.counters.forks).toBe(0);
  });
});

describe("an `error` event in the stream", () => {
  it("makes the relay look at the response by GET instead of trusting the stream, without resubmitting", async () => {
    await expectFollowedByGetNotResubmitted("stream_error");
  });
});

describe("the follow budget ends while the stream is still going", () => {
  it("cuts the stream and leaves the response to a watch_response follow-up", async () => {
    const slow = await startHarness({ env: { FOLLOW_BUDGET_MS: "100" }, simulator: { processingMs: 3000 } });
    try {
      const prev = slow.sim.createResponse();
      await slow.send(responseAnswerFor(prev, { stream: true, metadata: { tenant: "acme" } }));
      const { response } = await slow.deliver();
      expect(response.batchItemFailures).toEqual([]);
      const [child] = slow.sim.children(prev.responseId);
      expect(await slow.results()).toEqual([]);
      expect(await waitingBodies(slow)).toEqual([{ type: "watch_response", response_id: child, metadata: { tenant: "acme" } }]);
      expect(slow.sim.counters.responsePosts).toBe(1);
    } finally {
      await slow.close();
    }
  });
});
