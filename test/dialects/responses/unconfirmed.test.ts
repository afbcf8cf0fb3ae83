/**
 * RESPONSES_UNCONFIRMED=resubmit: after an ambiguous failure in `previous_response_id` mode the relay submits
 * again, and every such POST is counted (the log line's `unconfirmed_resubmits`, the metric
 * `UnconfirmedResubmits`), because each one may fork. Logs and metrics are on in this file and read back.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ResponsesResultsEvent } from "../../../functions/submit-tool-outputs/dialects/index";
import type { Harness } from "../../helpers/relay-harness";
import { claimsTable, keyOf, lapsedClaim } from "../../helpers/responses/claims-table";
import { postsContinuing } from "../../helpers/responses/endpoint-requests";

let h: Harness;
let helpers: typeof import("../../helpers/relay-harness");
const captured: string[] = [];
const originalStdout = process.stdout.write.bind(process.stdout);

beforeAll(async () => {
  // Before the relay's modules load: Powertools reads these when its Logger and Metrics are made.
  process.env.POWERTOOLS_LOG_LEVEL = "INFO";
  process.env.POWERTOOLS_METRICS_DISABLED = "false";
  helpers = await import("../../helpers/relay-harness");
  h = await helpers.startHarness({ env: { RESPONSES_UNCONFIRMED: "resubmit" } });
  process.stdout.write = ((chunk: unknown) => {
    captured.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
    return true;
  }) as typeof process.stdout.write;
});
afterAll(async () => {
  process.stdout.write = originalStdout;
  await h.close();
});
beforeEach(async () => {
  h.sim.reset();
  await h.clear();
  captured.length = 0;
});

/** The JSON documents written to stdout (log lines and EMF metric documents). */
const documents = () =>
  captured
    .join("")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const settledLine = (messageId: string) => documents().find((d) => d.message_id === messageId && typeof d.outcome === "string");
const metricValue = (name: string) => documents().flatMap((d) => (typeof d[name] === "number" ? [d[name] as number] : []));

describe("an ambiguous failure in previous_response_id mode with RESPONSES_UNCONFIRMED=resubmit", () => {
  it("submits again, publishes the response that answered, and counts the resubmit (one fork possible, and here real)", async () => {
    // Prepare: the first POST is taken and answered 500.
    const prev = h.sim.createResponse();
    h.sim.inject({ on: "response_create", kind: "accept_then_500", responseId: prev.responseId });
    const messageId = await h.send(helpers.responseAnswerFor(prev));
    // Act
    const { response } = await h.deliver();
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(postsContinuing(h.sim, prev.responseId)).toHaveLength(2);
    const children = h.sim.children(prev.responseId);
    expect(children).toHaveLength(2);
    expect(h.sim.counters.forks).toBe(1);
    const [published] = await h.results<ResponsesResultsEvent>();
    expect(published!.event.response_id).toBe(children[1]);
    expect(await claimsTable(h).get(keyOf({ responseId: prev.responseId }, prev.callIds))).toMatchObject({
      phase: "submitted",
      response_id: children[1],
    });
    expect(settledLine(messageId)).toMatchObject({ outcome: "reported", unconfirmed_resubmits: 1, api: "responses" });
    expect(metricValue("UnconfirmedResubmits")).toEqual([1]);
  });

  it("a claim left by an owner that crashed before its POST is taken over and submitted once (counted: the relay cannot tell)", async () => {
    // Prepare: the table holds what a crash between claim and POST leaves, its lease long past.
    const prev = h.sim.createResponse();
    const key = keyOf({ responseId: prev.responseId }, prev.callIds);
    await claimsTable(h).put(lapsedClaim(key, prev.callIds, { previousResponseId: prev.responseId }));
    const messageId = await h.send(helpers.responseAnswerFor(prev));
    // Act
    await h.deliver();
    // Assess
    expect(h.sim.children(prev.responseId)).toHaveLength(1);
    expect(h.sim.counters.forks).toBe(0);
    expect(await claimsTable(h).get(key)).toMatchObject({ phase: "submitted", owner: messageId });
    expect(settledLine(messageId)).toMatchObject({ outcome: "reported", unconfirmed_resubmits: 1 });
  });

  it("a claim whose POST went out but whose answer was never recorded is submitted again: a counted fork", async () => {
    // Prepare: a first copy is accepted; then the table is set back to what a crash before recording leaves.
    const prev = h.sim.createResponse();
    await h.send(helpers.responseAnswerFor(prev));
    await h.deliver();
    await h.results();
    const key = keyOf({ responseId: prev.responseId }, prev.callIds);
    await claimsTable(h).put(lapsedClaim(key, prev.callIds, { previousResponseId: prev.responseId }));
    const copyId = await h.send(helpers.responseAnswerFor(prev));
    // Act
    await h.deliver();
    // Assess
    expect(h.sim.children(prev.responseId)).toHaveLength(2);
    expect(h.sim.counters.forks).toBe(1);
    expect(settledLine(copyId)).toMatchObject({ outcome: "reported", unconfirmed_resubmits: 1 });
    expect(metricValue("UnconfirmedResubmits")).toEqual([1]);
  });

  it("a plain success counts nothing", async () => {
    const prev = h.sim.createResponse();
    const messageId = await h.send(helpers.responseAnswerFor(prev));
    await h.deliver();
    expect(settledLine(messageId)).toMatchObject({ outcome: "reported" });
    expect(settledLine(messageId)).not.toHaveProperty("unconfirmed_resubmits");
    expect(metricValue("UnconfirmedResubmits")).toEqual([]);
  });
});
