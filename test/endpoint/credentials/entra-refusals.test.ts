/**
 * Entra ID settings the token endpoint refuses (a wrong client secret), and what the relay writes while it works
 * with Entra ID: every byte the process writes (logs at DEBUG, metrics on), every DLQ record and results event is
 * searched for the client secret and the tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sent } from "../../helpers/endpoint-rows";
import { type CapturedOutput, captureProcessOutput, logEverything } from "../../helpers/process-output";
import type { Harness } from "../../helpers/relay-harness";

const WRONG_SECRET = "wrong-5ecret-value-9999";
// Loaded in beforeAll, after the log level is set: both import the relay.
let helpers: typeof import("../../helpers/relay-harness");
let rows: typeof import("../../helpers/endpoint-rows");
let stdio: CapturedOutput;
const started: Harness[] = [];

beforeAll(async () => {
  logEverything();
  helpers = await import("../../helpers/relay-harness");
  rows = await import("../../helpers/endpoint-rows");
  stdio = captureProcessOutput();
});
afterAll(async () => {
  stdio.restore();
  await Promise.all(started.map((harness) => harness.close()));
});

async function foundry(secret: string): Promise<Harness> {
  const harness = await helpers.startHarness({
    simulator: rows.azureSimulator(),
    endpoint: rows.azureEndpoint({ AZURE_CLIENT_SECRET: secret }),
    maxReceiveCount: 2,
  });
  started.push(harness);
  return harness;
}

describe("a token endpoint that refuses the client secret", () => {
  it("hands every record back as configuration, sends nothing to the endpoint, and names AZURE_CLIENT_SECRET, not its value", async () => {
    // Prepare
    const h = await foundry(WRONG_SECRET);
    const sent: Sent[] = [];
    for (const api of rows.APIS) sent.push(await rows.sendOne(h, api));

    // Act
    const first = await h.deliver();
    const firstDeadLetters = await h.deadLetters();
    const last = await h.deliver();

    // Assess
    const handedBack = first.response.batchItemFailures.map((failure) => failure.itemIdentifier).sort();
    expect(handedBack).toEqual(sent.map((s) => s.messageId).sort());
    expect(firstDeadLetters).toEqual([]);
    expect(last.response.batchItemFailures).toEqual([]);
    const deadLetters = await h.deadLetters();
    expect(deadLetters).toHaveLength(2);
    for (const { record } of deadLetters) {
      expect(record).toMatchObject({
        reason: "unauthorized",
        http_status: 401,
        endpoint_error: { type: "credentials", message: expect.stringMatching(/AADSTS7000215.*check AZURE_CLIENT_SECRET/) },
      });
    }
    expect(rows.endpointCalls(h)).toEqual([]);
    expect(h.sim.counters).toMatchObject({ tokenRequests: 2, tokensIssued: 0 });
    const output = stdio.chunks.join("");
    // Counted where the stack's EndpointRefused alarm looks: configuration, not the messages.
    expect(output).toContain('"Name":"EndpointRefused"');
    expect(output).toContain('"reason":"unauthorized"');
    expect(output).not.toContain("tool-output-text-");
    // The records carry the original body (the outputs, for a redrive), never the secret.
    for (const written of [output, JSON.stringify(deadLetters)]) {
      expect(written).not.toContain(WRONG_SECRET);
      expect(written).not.toContain(rows.AZURE_APP.clientSecret);
    }
  });
});

describe("what the relay writes while it works with Entra ID", () => {
  it("never holds the client secret or a token: not in its logs, metrics, results events or DLQ records", async () => {
    // Prepare
    const h = await foundry(rows.AZURE_APP.clientSecret);
    const mark = stdio.chunks.length;
    for (const api of rows.APIS) await rows.sendOne(h, api);
    const run = h.sim.createRun({ toolCalls: ["call_a"] });
    await h.send(helpers.answerFor({ ...run, toolCallIds: ["call_wrong"] }));

    // Act
    await h.deliver();

    // Assess
    const tokens = new Set(rows.endpointCalls(h).map((call) => call.headers.authorization!.replace(/^Bearer /, "")));
    expect(tokens.size).toBe(1);
    const results = await h.results();
    const deadLetters = await h.deadLetters();
    expect(results).toHaveLength(2);
    expect(deadLetters.map(({ record }) => record.reason)).toEqual(["tool_call_mismatch"]);
    const written = [stdio.chunks.slice(mark).join(""), JSON.stringify(results), JSON.stringify(deadLetters)].join("\n");
    expect(written).toContain("message settled");
    expect(written).not.toContain(rows.AZURE_APP.clientSecret);
    for (const token of tokens) expect(written).not.toContain(token);
  });
});
