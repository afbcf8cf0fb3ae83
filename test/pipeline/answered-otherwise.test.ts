/**
 * DESIGN Part 3, rules 12 and 13, through the real handler: a different output for ids the turn already took is
 * `conflicting_output` for every API, never `already_accepted`; and a collected set the turn did not take (someone
 * answered it directly at the endpoint) is never reported as accepted: every part ends in the DLQ with its own body.
 */
import { describe, expect, it } from "vitest";
import { deliverAll, part } from "../helpers/collect-rig";
import {
  answerFor,
  type Harness,
  responseAnswerFor,
  startHarness,
  TEST_API_KEY,
  TEST_VIRTUAL_KEY,
  useHarness,
} from "../helpers/relay-harness";
import { startEndpointProxy } from "../helpers/responses/endpoint-proxy";

let h: Harness;
useHarness({ maxReceiveCount: 5 }, (started) => (h = started));

const sendRaw = (body: unknown) => {
  const raw = JSON.stringify(body, null, 2);
  return h.send(raw).then((id) => ({ id, raw }));
};

/** Submits a run's outputs straight at the endpoint, as a party outside the relay would. */
async function submitDirectly(threadId: string, runId: string, outputs: Array<{ tool_call_id: string; output: string }>) {
  const answer = await fetch(`${h.sim.baseUrl}/threads/${threadId}/runs/${runId}/submit_tool_outputs`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "openai-beta": "assistants=v2",
      "x-portkey-api-key": String(h.env.PORTKEY_API_KEY),
      "x-portkey-virtual-key": String(h.env.PORTKEY_VIRTUAL_KEY),
    },
    body: JSON.stringify({ tool_outputs: outputs }),
  });
  expect(answer.status).toBe(200);
}

describe("other outputs for ids already answered: conflicting_output, for every API (rule 12)", () => {
  it("Assistants: the run's steps show another output for the id → conflicting_output; the same output → already_accepted", async () => {
    const run = h.sim.createRun({ toolCalls: 1 });
    await h.send(answerFor(run, {}, () => "first"));
    await deliverAll(h);
    await h.results();
    const different = await sendRaw(answerFor(run, {}, () => "second"));
    const same = await h.send(answerFor(run, {}, () => "first"));
    await deliverAll(h);
    const dead = await h.deadLetters();
    expect(dead.map((d) => [d.sourceMessageId, d.reason])).toEqual([[different.id, "conflicting_output"]]);
    expect(dead[0]!.original).toBe(different.raw);
    const reported = (await h.results()).map((r) => r.event.source_message_id);
    expect(reported).toEqual([same]);
    expect(h.sim.counters).toMatchObject({ accepted: 1, doubleAcceptances: 0 });
  });

  it.each([
    ["previous_response_id", false],
    ["conversation", true],
  ] as const)(
    "Responses (%s): another output for a submitted turn → conflicting_output; the same → already_accepted",
    async (_m, conversation) => {
      const t = h.sim.createResponse({ toolCalls: 1, ...(conversation ? { conversation: true as const } : {}) });
      const extra = { conversation, ...(conversation ? { request: { model: "gpt-5-mini" } } : {}) };
      await h.send(responseAnswerFor(t, extra, () => "first"));
      await deliverAll(h);
      await h.results();
      const different = await sendRaw(responseAnswerFor(t, extra, () => "second"));
      const same = await h.send(responseAnswerFor(t, extra, () => "first"));
      await deliverAll(h);
      const dead = await h.deadLetters();
      expect(dead.map((d) => [d.sourceMessageId, d.reason])).toEqual([[different.id, "conflicting_output"]]);
      expect(dead[0]!.original).toBe(different.raw);
      const reported = (await h.results()).map((r) => r.event.source_message_id);
      expect(reported).toEqual([same]);
      expect(h.sim.counters).toMatchObject({ continuations: 1, forks: 0 });
    },
  );
});

describe("rule 13: a collected set answered by someone else at the endpoint", () => {
  it("Assistants: both parts end in the DLQ with their own bodies, nothing is reported as accepted", async () => {
    const run = h.sim.createRun({ toolCalls: 2 });
    const full = answerFor(run);
    const [c0, c1] = run.toolCallIds as [string, string];
    const first = await sendRaw(part(full, [c0]));
    await deliverAll(h);
    await submitDirectly(run.threadId, run.runId, [
      { tool_call_id: c0, output: "theirs 0" },
      { tool_call_id: c1, output: "theirs 1" },
    ]);
    const second = await sendRaw(part(full, [c1]));
    await deliverAll(h);
    const dead = await h.deadLetters();
    expect(new Map(dead.map((d) => [d.sourceMessageId, [d.reason, d.original]]))).toEqual(
      new Map([
        [first.id, ["collect_incomplete", first.raw]],
        [second.id, ["collect_incomplete", second.raw]],
      ]),
    );
    expect(await h.results()).toEqual([]);
    expect(h.sim.counters).toMatchObject({ accepted: 1, doubleAcceptances: 0 });
  });
});

describe("rule 13 where the endpoint cannot list what the run took (its steps route refused)", () => {
  it("a collected set the relay never submitted is not reported as accepted: both parts end in the DLQ", async () => {
    const proxy = await startEndpointProxy();
    const own = await startHarness({
      maxReceiveCount: 5,
      endpoint: (sim) => {
        proxy.target = sim.baseUrl;
        return { ENDPOINT_BASE_URL: proxy.baseUrl, PORTKEY_API_KEY: TEST_API_KEY, PORTKEY_VIRTUAL_KEY: TEST_VIRTUAL_KEY };
      },
    });
    try {
      const notFound = { error: { message: "Not found", type: "invalid_request_error", param: null, code: null } };
      proxy.intercept({ method: "GET", path: /\/steps$/, times: 100, does: { answer: { status: 404, body: notFound } } });
      const run = own.sim.createRun({ toolCalls: 2 });
      const full = answerFor(run);
      const [c0, c1] = run.toolCallIds as [string, string];
      const raw0 = JSON.stringify(part(full, [c0]), null, 2);
      const first = await own.send(raw0);
      await deliverAll(own);
      // Someone else answers the run at the endpoint — with these very outputs, so only the steps could tell.
      const direct = await fetch(`${own.sim.baseUrl}/threads/${run.threadId}/runs/${run.runId}/submit_tool_outputs`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "openai-beta": "assistants=v2",
          "x-portkey-api-key": TEST_API_KEY,
          "x-portkey-virtual-key": TEST_VIRTUAL_KEY,
        },
        body: JSON.stringify({ tool_outputs: full.tool_outputs }),
      });
      expect(direct.status).toBe(200);
      const raw1 = JSON.stringify(part(full, [c1]), null, 2);
      const second = await own.send(raw1);
      await deliverAll(own);
      const dead = await own.deadLetters();
      expect(new Map(dead.map((d) => [d.sourceMessageId, [d.reason, d.original]]))).toEqual(
        new Map([
          [first, ["collect_incomplete", raw0]],
          [second, ["collect_incomplete", raw1]],
        ]),
      );
      expect(await own.results()).toEqual([]);
    } finally {
      await own.close();
      await proxy.close();
    }
  }, 60_000);
});
