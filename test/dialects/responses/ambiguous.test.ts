/**
 * The row "an ambiguous failure of the POST" (5xx, a timeout, a reset after the request went out): the POST
 * may have been taken and no id came back. In conversation mode the conversation's items tell; in
 * `previous_response_id` mode nothing can, and RESPONSES_UNCONFIRMED decides (here its default, `dead_letter`;
 * `resubmit` is in unconfirmed.test.ts, which reads the log line).
 */
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { runCli } from "../../../cli/main";
import type { ResponsesResultsEvent } from "../../../functions/submit-tool-outputs/dialects/index";
import { type DlqRecord, dlqMessage } from "../../../functions/submit-tool-outputs/out/dlq-record";
import { type Harness, responseAnswerFor, useHarness } from "../../helpers/relay-harness";
import { claimsTable, keyOf } from "../../helpers/responses/claims-table";
import { postsContinuing, postsOnConversation } from "../../helpers/responses/endpoint-requests";
import { releaseInFlight } from "../../helpers/responses/input-queue";

let h: Harness;
// A shorter follow budget: the "absent" case looks at the conversation for all of it, on every receive.
useHarness({ maxReceiveCount: 3, env: { FOLLOW_BUDGET_MS: "1500" } }, (started) => (h = started));

describe("conversation mode: the conversation's items tell whether the POST was taken", () => {
  it("found: publishes from the items after the outputs, with response_id null and reply {conversation_id}", async () => {
    // Prepare: the POST creates the response for real, then answers 500.
    const prev = h.sim.createResponse({ conversation: true, afterOutputs: ["completed"] });
    const conversationId = prev.conversationId!;
    h.sim.inject({ on: "response_create", kind: "accept_then_500", conversationId });
    const messageId = await h.send(responseAnswerFor(prev, { conversation: true, request: { model: "gpt-5-mini" }, metadata: { t: "1" } }));
    // Act
    const { response } = await h.deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(postsOnConversation(h.sim, conversationId)).toHaveLength(1);
    expect(h.sim.counters.continuations).toBe(1);
    const [published, ...more] = await h.results<ResponsesResultsEvent>();
    expect(more).toEqual([]);
    expect(published!.event).toMatchObject({
      api: "responses",
      type: "response.completed",
      status: "completed",
      response_id: null,
      previous_response_id: null,
      conversation_id: conversationId,
      reply: { conversation_id: conversationId },
      tool_calls: [],
      source_message_id: messageId,
      metadata: { t: "1" },
    });
    expect(published!.event.response).toMatchObject({ id: null, status: "completed", conversation: { id: conversationId } });
    const texts = (published!.event.response.output as Array<{ type: string; role?: string }>).map((item) => `${item.type}:${item.role}`);
    expect(texts).toEqual(["message:assistant"]);
    expect(published!.attributes).toEqual({
      type: "response.completed",
      status: "completed",
      api: "responses",
      conversation_id: conversationId,
    });
    expect(await claimsTable(h).get(keyOf({ conversationId }, prev.callIds))).toMatchObject({ phase: "submitted" });
  });

  it("found, the message naming the response: the event names it as the one the outputs answered", async () => {
    const prev = h.sim.createResponse({ conversation: true, afterOutputs: [{ functionCalls: 2 }] });
    h.sim.inject({ on: "response_create", kind: "accept_then_500", conversationId: prev.conversationId });
    await h.send(responseAnswerFor(prev));
    await h.deliver();
    const [published] = await h.results<ResponsesResultsEvent>();
    const [child] = h.sim.children(prev.responseId);
    const childCalls = h.sim.response(child!)!.output.flatMap((item) => (item.type === "function_call" ? [item.call_id] : []));
    expect(published!.event).toMatchObject({
      type: "response.requires_action",
      response_id: null,
      previous_response_id: prev.responseId,
      reply: { conversation_id: prev.conversationId },
    });
    expect(published!.event.tool_calls.map((call) => call.id)).toEqual(childCalls);
  });

  it("absent: looks again within the invocation and hands back; the next receive looks once more, then submits again", async () => {
    // Prepare: the POST's connection is dropped before anything is applied (nothing created, nothing runs).
    const prev = h.sim.createResponse({ conversation: true });
    const conversationId = prev.conversationId!;
    h.sim.inject({ on: "response_create", kind: "drop", conversationId });
    const messageId = await h.send(responseAnswerFor(prev));
    // Act: receives, each as soon as the last one handed the message back.
    const first = await h.deliver();
    await releaseInFlight(h);
    const second = await h.deliver();
    // Assess: the first invocation never resubmitted; the second, its claim's owner gone and the outputs still
    // absent, submitted again (the conversation's lock would have refused it had the first POST been running).
    expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: messageId }]);
    expect(second.response.batchItemFailures).toEqual([]);
    expect(postsOnConversation(h.sim, conversationId)).toHaveLength(2);
    expect(h.sim.counters.responsesCreated).toBe(1);
    expect(h.sim.counters.forks).toBe(0);
    expect(h.sim.requests.filter((r) => r.path === `/v1/conversations/${conversationId}/items`).length).toBeGreaterThan(2);
    expect(await h.deadLetters()).toEqual([]);
    expect((await h.results()).map((r) => r.event.source_message_id)).toEqual([messageId]);
  });

  it("a resubmission that meets the conversation still locked (the first POST's response running) is refused and waits", async () => {
    // Prepare: the first POST is taken but its answer is lost; its response runs for a while.
    const prev = h.sim.createResponse({ conversation: true, afterOutputs: [{ stayInProgressMs: 4_000 }, "completed"] });
    const conversationId = prev.conversationId!;
    h.sim.inject({ on: "response_create", kind: "accept_then_500", conversationId });
    await h.send(responseAnswerFor(prev));
    // Act: the first receive hands back; the second finds the outputs absent (still running) and tries again.
    await h.deliver(2_000);
    await releaseInFlight(h);
    await h.deliver(2_000);
    // Assess: the second POST was refused conversation_locked, so nothing forked.
    expect(postsOnConversation(h.sim, conversationId).length).toBeGreaterThanOrEqual(2);
    expect(h.sim.counters.responsesCreated).toBe(1);
    expect(h.sim.counters.forks).toBe(0);
  });
});

describe("previous_response_id mode with RESPONSES_UNCONFIRMED=dead_letter (the default) → DLQ submission_unconfirmed", () => {
  it("writes the response id, the call ids, when the claim was made, the failure and the original body; nothing forks", async () => {
    // Prepare
    const prev = h.sim.createResponse({ toolCalls: 2 });
    h.sim.inject({ on: "response_create", kind: "accept_then_500", responseId: prev.responseId });
    const body = `  ${JSON.stringify(responseAnswerFor(prev, { metadata: { tenant: "acme" } }))}\n`;
    const sentAt = Date.now();
    const messageId = await h.send(body);
    // Act
    const { response } = await h.deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [dead, ...more] = await h.deadLetters();
    expect(more).toEqual([]);
    expect(dead!.attributes.reason).toBe("submission_unconfirmed");
    expect(dead!.record).toMatchObject({
      reason: "submission_unconfirmed",
      response_id: prev.responseId,
      given_tool_call_ids: prev.callIds,
      http_status: 500,
      endpoint_error: { type: "server_error" },
      source_message_id: messageId,
      metadata: { tenant: "acme" },
    });
    expect(dead!.record.original).toBe(body);
    const claimedAt = Date.parse(dead!.record.claimed_at!);
    expect(claimedAt).toBeGreaterThanOrEqual(sentAt - 1000);
    expect(claimedAt).toBeLessThanOrEqual(Date.now());
    expect(dead!.record.detail).toContain(`continuing ${prev.responseId} failed ambiguously (HTTP 500`);
    // The endpoint did take it (the operator's check would find the child), and nothing was sent twice.
    expect(postsContinuing(h.sim, prev.responseId)).toHaveLength(1);
    expect(h.sim.children(prev.responseId)).toHaveLength(1);
    expect(h.sim.counters.forks).toBe(0);
    expect(await h.results()).toEqual([]);
  });

  it("a POST that times out (the endpoint applies it after the relay gave up) is unconfirmed too, and not sent again", async () => {
    const prev = h.sim.createResponse();
    h.sim.inject({ on: "response_create", kind: "slow", delayMs: 2500, responseId: prev.responseId });
    await h.send(responseAnswerFor(prev));
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record.reason).toBe("submission_unconfirmed");
    expect(dead!.record.detail).toContain("TimeoutError");
    await expect.poll(() => h.sim.children(prev.responseId).length, { timeout: 5000 }).toBe(1);
    expect(postsContinuing(h.sim, prev.responseId)).toHaveLength(1);
    expect(h.sim.counters.forks).toBe(0);
  });

  it("a copy that comes after the dead letter is dead-lettered at once the same way, naming the first copy, not submitted", async () => {
    const prev = h.sim.createResponse();
    h.sim.inject({ on: "response_create", kind: "server_error", responseId: prev.responseId });
    const firstId = await h.send(responseAnswerFor(prev));
    await h.deliver();
    const [first] = await h.deadLetters();
    expect(first!.record.reason).toBe("submission_unconfirmed");
    // Act: a copy (a producer's retry) within the first invocation's lifetime.
    await h.send(responseAnswerFor(prev));
    const { response } = await h.deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [second] = await h.deadLetters();
    expect(second!.record).toMatchObject({ reason: "submission_unconfirmed", claimed_at: first!.record.claimed_at });
    expect(second!.record.detail).toContain(`an earlier attempt (message ${firstId})`);
    expect(postsContinuing(h.sim, prev.responseId)).toHaveLength(1);
    expect(h.sim.counters.forks).toBe(0);
  });

  it("the operator's go-ahead: a record redriven whole is none (dead-lettered again, saying how to give one); `dlq redrive --go-ahead` is (rule 7)", async () => {
    // Prepare: the POST was refused with a 500 before anything was taken, so the operator finds no child.
    const prev = h.sim.createResponse();
    h.sim.inject({ on: "response_create", kind: "server_error", responseId: prev.responseId });
    await h.send(responseAnswerFor(prev));
    await h.deliver();
    const [dead] = await h.deadLetters();
    expect(dead!.record.reason).toBe("submission_unconfirmed");
    expect(h.sim.children(prev.responseId)).toEqual([]);
    // Act 1: the record moved back whole (a bulk redrive, SQS's move task, or anyone with SendMessage) is no go-ahead…
    const forged = await h.send(dead!.body);
    await h.deliver();
    const [again] = await h.deadLetters();
    expect(again).toMatchObject({ sourceMessageId: forged, reason: "submission_unconfirmed", original: dead!.original });
    expect(again!.record.detail).toContain(`dlq redrive --go-ahead ${forged}`);
    expect(h.sim.children(prev.responseId)).toEqual([]);
    // …put it back in the DLQ as it was, for the CLI to find.
    const letter = dlqMessage(again!.record as DlqRecord);
    await h.aws.sqs.send(
      new SendMessageCommand({ QueueUrl: h.aws.dlq.url, MessageBody: letter.body, MessageAttributes: letter.attributes }),
    );
    // Act 2: the operator's go-ahead, through the CLI, for that one record.
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(["dlq", "redrive", "--go-ahead", forged], {
      env: { ...h.env, AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local" },
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    expect({ code, err: code === 0 ? "" : err.join("\n") }).toEqual({ code: 0, err: "" });
    expect(err.join("\n")).toContain(`previous_response_id is ${prev.responseId}`);
    expect(await claimsTable(h).get(keyOf({ responseId: prev.responseId }, prev.callIds))).toMatchObject({ go_ahead_for: forged });
    const { response } = await h.deliver();
    // Assess: submitted once; the DLQ holds nothing more.
    expect(response.batchItemFailures).toEqual([]);
    expect(h.sim.children(prev.responseId)).toHaveLength(1);
    expect((await h.results<ResponsesResultsEvent>()).map((r) => r.event.previous_response_id)).toEqual([prev.responseId]);
    expect(await h.deadLetters()).toEqual([]);
    // A second copy of the same record finds the turn submitted: no second POST.
    await h.send(dead!.body);
    await h.deliver();
    expect(h.sim.children(prev.responseId)).toHaveLength(1);
  });
});
