/**
 * DESIGN Part 3, rule 2: every collected message's fate is reported. A collected set's event that passes SNS's
 * 256 KB is fitted (message text first, then the bulky fields of other output items: here a 300 KB image result),
 * marked `output_truncated`, function calls untouched, and names every part; one that cannot be made to fit (a
 * function call's arguments of 300 KB) is never published, and every part ends in the DLQ as `results_unpublished`
 * with its own original body. Through the real handler; a loopback proxy in front of the endpoint simulator
 * inflates the continuation as the endpoint would send it.
 */
import { describe, expect, it } from "vitest";
import type { ResponsesResultsEvent } from "../../functions/submit-tool-outputs/dialects/index";
import { checkNow, deliverAll, part, pendingChecks } from "../helpers/collect-rig";
import { answerFor, type Harness, responseAnswerFor, startHarness } from "../helpers/relay-harness";
import { type EndpointProxy, useProxiedHarness } from "../helpers/responses/endpoint-proxy";

let h: Harness;
let proxy: EndpointProxy;
useProxiedHarness((started) => ({ h, proxy } = started), { maxReceiveCount: 5 });

const big = "A".repeat(300_000);

/** The continuation (a response answering function calls), once completed, as `change` makes it. */
function inflateContinuation(change: (output: Array<Record<string, unknown>>) => Array<Record<string, unknown>>) {
  proxy.intercept({
    method: "GET",
    path: /\/responses\/resp_[^/]+$/,
    times: 1_000,
    does: {
      rewrite: (body) =>
        body.previous_response_id && body.status === "completed"
          ? { ...body, output: change((body.output as Array<Record<string, unknown>>) ?? []) }
          : body,
    },
  });
}

const sendRaw = (body: unknown) => {
  const raw = JSON.stringify(body, null, 2);
  return h.send(raw).then((id) => ({ id, raw }));
};

describe("rule 2: a collected set's event over 256 KB", () => {
  it("drops the bulky fields of other output items (an image result), keeps function calls, names every part", async () => {
    const t = h.sim.createResponse({ toolCalls: 2, afterOutputs: [{ functionCalls: 1 }] });
    inflateContinuation((output) => [{ type: "image_generation_call", id: "ig_1", status: "completed", result: big }, ...output]);
    const full = responseAnswerFor(t);
    const sent = [await h.send(part(full, [t.callIds[0]!])), await h.send(part(full, [t.callIds[1]!]))];
    await deliverAll(h);
    expect(await h.deadLetters()).toEqual([]);
    const events = (await h.results<ResponsesResultsEvent>()).map((r) => r.event);
    const set = events.find((e) => e.source_message_ids !== undefined)!;
    expect(set.output_truncated).toBe(true);
    expect([...set.source_message_ids!].sort()).toEqual([...sent].sort());
    const output = set.response.output as Array<Record<string, unknown>>;
    expect(output[0]).toEqual({ type: "image_generation_call", id: "ig_1", status: "completed" });
    expect(set.tool_calls).toHaveLength(1);
    expect(set.type).toBe("response.requires_action");
  });

  it("that cannot be made to fit (a function call's arguments of 300 KB): every part in the DLQ with its own body", async () => {
    const t = h.sim.createResponse({ toolCalls: 2, afterOutputs: [{ functionCalls: 1 }] });
    inflateContinuation((output) => output.map((item) => (item.type === "function_call" ? { ...item, arguments: big } : item)));
    const full = responseAnswerFor(t);
    const sent = [await sendRaw(part(full, [t.callIds[0]!])), await sendRaw(part(full, [t.callIds[1]!]))];
    await deliverAll(h);
    expect(await h.results()).toEqual([]);
    const dead = await h.deadLetters();
    expect(new Map(dead.map((d) => [d.sourceMessageId, [d.reason, d.original]]))).toEqual(
      new Map(sent.map((s) => [s.id, ["results_unpublished", s.raw]])),
    );
    expect(h.sim.counters).toMatchObject({ continuations: 1, forks: 0 });
  });
});

describe("rule 2: a collected set's event SNS refuses on the completing message's last receive", () => {
  it("every part ends in the DLQ as results_unpublished with its own body (the others by the round's check)", async () => {
    // One receive each (every receive is the last); the results topic is gone, so SNS refuses every publish.
    const own = await startHarness({ maxReceiveCount: 1, env: { RESULTS_TOPIC_ARN: "arn:aws:sns:us-east-1:000000000000:no-such-topic" } });
    try {
      const run = own.sim.createRun({ toolCalls: 2 });
      const full = answerFor(run);
      const sent: Array<{ id: string; raw: string }> = [];
      for (const id of run.toolCallIds) {
        const raw = JSON.stringify(part(full, [id]), null, 2);
        sent.push({ id: await own.send(raw), raw });
      }
      await deliverAll(own);
      expect(own.sim.counters).toMatchObject({ accepted: 1, doubleAcceptances: 0 });
      // The completing message tells its own fate; the round's check (on its last receive too) tells the other part.
      await checkNow(own, pendingChecks(own)[0]!.check);
      const dead = await own.deadLetters();
      expect(new Map(dead.map((d) => [d.sourceMessageId, [d.reason, d.original]]))).toEqual(
        new Map(sent.map((s) => [s.id, ["results_unpublished", s.raw]])),
      );
    } finally {
      await own.close();
    }
  }, 60_000);
});
