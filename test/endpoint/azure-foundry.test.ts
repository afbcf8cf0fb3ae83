/**
 * The two Azure AI Foundry rows (docs/endpoints.md), against the simulator in Azure mode: classic agents on the
 * project endpoint with `api-version=v1`, and the new agents' Responses API on `{project}/openai/v1` with none; Entra
 * ID tokens from the simulator's authority, and no other credential on any call. Azure's shapes differ from
 * OpenAI's reference (no `required_action` key unless the run needs one, error bodies without their null fields):
 * the relay reads them the same.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AssistantsResultsEvent } from "../../functions/submit-tool-outputs/dialects/index";
import {
  AZURE_APP,
  azureEndpoint,
  azureSimulator,
  endpointCalls,
  expectDeliveredAsPromised,
  type RowPromise,
  sendOne,
  tokenRequests,
} from "../helpers/endpoint-rows";
import { answerFor, type Harness, startHarness } from "../helpers/relay-harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ simulator: azureSimulator(), endpoint: azureEndpoint() });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  h.sim.reset();
  await h.clear();
});

/** Foundry's promise for both APIs: the project's two surfaces, api-version on one only, an Entra ID token alone. */
const foundry = (): RowPromise => {
  const project = new URL(h.sim.azure!.projectEndpoint).pathname;
  return {
    basePath: { assistants: project, responses: `${project}/openai/v1` },
    search: { assistants: "?api-version=v1", responses: "" },
    credentials: { authorization: expect.stringMatching(/^Bearer simtok_[\w-]+$/) },
    traceHeader: "x-ms-client-request-id",
  };
};

/** A harness of its own for an environment other than the row's, closed by the caller. */
const misconfigured = (overrides: Record<string, string>) =>
  startHarness({ simulator: azureSimulator(), endpoint: azureEndpoint(overrides), maxReceiveCount: 2 });

describe("Azure AI Foundry classic agents (threads/runs)", () => {
  it("submits at {project}/threads/…?api-version=v1 with an Entra ID token and nothing else secret; accepted and reported", async () => {
    // Act, Assess
    const { threadId, id } = await expectDeliveredAsPromised(h, "assistants", foundry());
    // Azure's run shape, which the relay followed to completion: no required_action key at all once the run moved on.
    expect(h.sim.run(threadId!, id)).toMatchObject({ status: "completed", tool_resources: null });
    expect(Object.keys(h.sim.run(threadId!, id)!)).not.toContain("required_action");
  });

  it("gets the token by the client-credentials grant for Foundry's scope, from the tenant's token endpoint", async () => {
    // Prepare: a harness of its own, so its first call fetches the first token.
    const fresh = await startHarness({ simulator: azureSimulator(), endpoint: azureEndpoint() });
    try {
      await sendOne(fresh, "assistants");

      // Act
      await fresh.deliver();

      // Assess
      const [token, ...more] = tokenRequests(fresh);
      expect(more).toEqual([]);
      expect(`${token!.method} ${token!.path}${token!.search}`).toBe(`POST /${AZURE_APP.tenantId}/oauth2/v2.0/token`);
      expect(Object.fromEntries(new URLSearchParams(String(token!.body)))).toEqual({
        grant_type: "client_credentials",
        client_id: AZURE_APP.clientId,
        client_secret: AZURE_APP.clientSecret,
        scope: "https://ai.azure.com/.default",
      });
      expect(Object.keys(token!.headers).filter((name) => name === "authorization" || name.startsWith("x-portkey-"))).toEqual([]);
    } finally {
      await fresh.close();
    }
  });

  it("reports the next round's tool calls from Azure's required_action", async () => {
    // Prepare
    const run = h.sim.createRun({ afterOutputs: [{ requiresAction: ["call_next"] }] });
    await h.send(answerFor(run));

    // Act
    const { response } = await h.deliver();

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [published] = await h.results<AssistantsResultsEvent>();
    expect(published!.event).toMatchObject({ status: "requires_action", tool_calls: [{ id: "call_next" }] });
  });

  it("takes Azure's error body without its null fields: a mismatch is tool_call_mismatch with the endpoint's words", async () => {
    // Prepare
    const run = h.sim.createRun({ toolCalls: ["call_a"] });
    await h.send(answerFor({ ...run, toolCallIds: ["call_wrong"] }));

    // Act
    await h.deliver();

    // Assess
    const [dead] = await h.deadLetters();
    expect(dead!.record).toMatchObject({
      reason: "tool_call_mismatch",
      expected_tool_call_ids: ["call_a"],
      given_tool_call_ids: ["call_wrong"],
      http_status: 400,
      // Azure sent {message, type} only; the record names the missing fields null, as for any endpoint.
      endpoint_error: {
        message: "Expected tool outputs for call_ids ['call_a'], got ['call_wrong']",
        type: "invalid_request_error",
        code: null,
        param: null,
      },
    });
    expect(h.sim.counters.accepted).toBe(0);
  });

  it("without ENDPOINT_API_VERSION: Azure's 400 is configuration, handed back, endpoint_misconfigured on the last receive", async () => {
    // Prepare
    const unversioned = await misconfigured({ ENDPOINT_API_VERSION: "" });
    try {
      const run = unversioned.sim.createRun();
      const messageId = await unversioned.send(answerFor(run));

      // Act
      const first = await unversioned.deliver();
      const last = await unversioned.deliver();

      // Assess
      expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: messageId }]);
      expect(last.response.batchItemFailures).toEqual([]);
      const [dead] = await unversioned.deadLetters();
      expect(dead!.record).toMatchObject({
        reason: "endpoint_misconfigured",
        http_status: 400,
        endpoint_error: { code: "BadRequest", message: "Missing required query parameter: api-version" },
      });
      expect(unversioned.sim.counters.accepted).toBe(0);
    } finally {
      await unversioned.close();
    }
  });
});

describe("Azure AI Foundry agents (Responses)", () => {
  it("submits at {project}/openai/v1/responses without api-version, with an Entra ID token only; accepted and reported", async () => {
    // Act, Assess
    await expectDeliveredAsPromised(h, "responses", foundry());
  });

  it("with RESPONSES_API_VERSION set: Azure refuses it on /openai/v1, which is configuration, handed back", async () => {
    // Prepare
    const versioned = await misconfigured({ RESPONSES_API_VERSION: "2025-05-01" });
    try {
      const { messageId } = await sendOne(versioned, "responses");

      // Act
      const first = await versioned.deliver();

      // Assess
      expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: messageId }]);
      expect(await versioned.deadLetters()).toEqual([]);
      expect(endpointCalls(versioned).map((call) => `${call.method} ${call.search}`)).toEqual(["GET ?api-version=2025-05-01"]);
      expect(versioned.sim.counters).toMatchObject({ responsePosts: 0, continuations: 0 });
    } finally {
      await versioned.close();
    }
  });
});
