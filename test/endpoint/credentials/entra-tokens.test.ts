/**
 * Entra ID tokens on the Azure AI Foundry rows, against the simulator's authority and project endpoint: one token
 * shared by a batch, renewed before it expires, fetched again when the endpoint refuses it (the refusal a fresh token
 * fixes), and a refusal it does not fix (the principal lacks its role) handed back, then dead-lettered with Azure's
 * words on the last receive.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { ResultsEvent } from "../../../functions/submit-tool-outputs/dialects/index";
import { APIS, AZURE_APP, azureEndpoint, azureSimulator, endpointCalls, sendOne, tokenRequests } from "../../helpers/endpoint-rows";
import { type Harness, type HarnessOptions, startHarness } from "../../helpers/relay-harness";

const started: Harness[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((harness) => harness.close()));
});

async function foundry(azure: Parameters<typeof azureSimulator>[0] = {}, options: HarnessOptions = {}): Promise<Harness> {
  const harness = await startHarness({
    ...options,
    simulator: { ...options.simulator, ...azureSimulator(azure) },
    endpoint: azureEndpoint(),
  });
  started.push(harness);
  return harness;
}

const authorizationsOf = (h: Harness) => endpointCalls(h).map((call) => call.headers.authorization);

describe("one token for the execution environment", () => {
  it("is fetched once for a batch of ten records of both APIs, and sent on every call", async () => {
    // Prepare
    const h = await foundry();
    for (const api of [...APIS, ...APIS, ...APIS, ...APIS, ...APIS]) await sendOne(h, api);

    // Act
    const { event, response } = await h.deliver();

    // Assess
    expect(event.Records).toHaveLength(10);
    expect(response.batchItemFailures).toEqual([]);
    expect((await h.results<ResultsEvent>()).map(({ event }) => event.status)).toEqual(Array(10).fill("completed"));
    expect(tokenRequests(h)).toHaveLength(1);
    expect(h.sim.counters).toMatchObject({ tokenRequests: 1, tokensIssued: 1, tokensRejected: 0 });
    expect(new Set(authorizationsOf(h)).size).toBe(1);
  });
});

describe("a token near its expiry", () => {
  it("is renewed before it expires (10 % of its lifetime before), so no call is refused for it", async () => {
    // Prepare: tokens of 4 s, renewed by the relay 3.6 s after it asked for one.
    const h = await foundry({ tokenLifetimeSeconds: 4 });
    await sendOne(h, "assistants");
    await h.deliver();
    const [first] = authorizationsOf(h);
    await sleep(4_200);
    h.sim.reset();
    await sendOne(h, "responses");

    // Act
    const { response } = await h.deliver();

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(h.sim.counters).toMatchObject({ tokenRequests: 1, tokensRejected: 0 });
    expect(authorizationsOf(h).every((authorization) => authorization !== first)).toBe(true);
  });
});

describe("a 401 that a fresh token fixes", () => {
  it.each(APIS)("%s: a token expired on the endpoint's clock is refused once, replaced, and the call sent again", async (api) => {
    // Prepare: the simulator's clock (its tokens and runs) jumps past the token's hour; the relay's does not.
    let offsetMs = 0;
    const h = await foundry({ tokenLifetimeSeconds: 3600 }, { simulator: { now: () => Date.now() + offsetMs } });
    await sendOne(h, api);
    await h.deliver();
    offsetMs = 3_601_000;
    h.sim.reset();
    await sendOne(h, api);

    // Act
    const { response } = await h.deliver();

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect((await h.results<ResultsEvent>()).map(({ event }) => [event.api, event.status])).toEqual([
      [api, "completed"],
      [api, "completed"],
    ]);
    expect(h.sim.counters).toMatchObject({ tokenRequests: 1, tokensRejected: 1 });
    const [refused, ...after] = authorizationsOf(h);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((authorization) => authorization !== refused)).toBe(true);
  });
});

describe("a 401 that a fresh token does not fix", () => {
  it.each(APIS)(
    "%s: PermissionDenied is handed back, then dead-lettered unauthorized with Azure's message on the last receive",
    async (api) => {
      // Prepare: the principal gets tokens but lacks the Foundry role.
      const h = await foundry({ deniedClientIds: [AZURE_APP.clientId] }, { maxReceiveCount: 2 });
      const { messageId } = await sendOne(h, api);

      // Act
      const first = await h.deliver();
      const firstDeadLetters = await h.deadLetters();
      const firstCalls = endpointCalls(h);
      const last = await h.deliver();

      // Assess: each receive sends its call twice, the second time with a freshly fetched token.
      expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: messageId }]);
      expect(firstDeadLetters).toEqual([]);
      expect(firstCalls).toHaveLength(2);
      expect(firstCalls[0]!.headers.authorization).not.toBe(firstCalls[1]!.headers.authorization);
      expect(last.response.batchItemFailures).toEqual([]);
      const [dead] = await h.deadLetters();
      expect(dead!.record).toMatchObject({
        reason: "unauthorized",
        http_status: 401,
        endpoint_error: {
          code: "PermissionDenied",
          message: expect.stringContaining(`The principal \`${AZURE_APP.clientId}\` lacks the required data action`),
        },
      });
      expect(h.sim.counters).toMatchObject({ permissionDenied: 4, accepted: 0, responsePosts: 0 });
      expect(await h.results()).toEqual([]);
    },
  );
});
