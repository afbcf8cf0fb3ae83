import { describe, expect, it } from "vitest";
import type { EndpointSimulator } from "../../local/endpoint-simulator";
import { simulator } from "../helpers/endpoint-simulator/helpers";

const AZURE = { tenantId: "tenant-1", clientId: "app-1", clientSecret: "s3cret-value" };
const SCOPE = "https://ai.azure.com/.default";

interface Answer {
  status: number;
  body: any;
}

async function answer(response: Response): Promise<Answer> {
  return { status: response.status, body: await response.json() };
}

/** A client-credentials token request, as any Entra client sends it. */
async function requestToken(sim: EndpointSimulator, fields: Record<string, string> = {}, tenant = AZURE.tenantId): Promise<Answer> {
  const form = new URLSearchParams({
    grant_type: "client_credentials",
    client_id: AZURE.clientId,
    client_secret: AZURE.clientSecret,
    scope: SCOPE,
    ...fields,
  });
  for (const [key, value] of Object.entries(fields)) if (value === "") form.delete(key);
  const response = await fetch(`${sim.azure!.authorityHost}/${tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: form,
  });
  return answer(response);
}

async function freshToken(sim: EndpointSimulator): Promise<string> {
  const { status, body } = await requestToken(sim);
  expect(status).toBe(200);
  return body.access_token;
}

/** GET run on the project endpoint, with `api-version` unless `query` says otherwise. */
async function getRun(sim: EndpointSimulator, threadId: string, runId: string, token: string | undefined, query = "?api-version=v1") {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  return answer(await fetch(`${sim.baseUrl}/threads/${threadId}/runs/${runId}${query}`, { headers }));
}

async function submit(
  sim: EndpointSimulator,
  threadId: string,
  runId: string,
  callIds: string[],
  token: string,
  query = "?api-version=v1",
) {
  const response = await fetch(`${sim.baseUrl}/threads/${threadId}/runs/${runId}/submit_tool_outputs${query}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ tool_outputs: callIds.map((id) => ({ tool_call_id: id, output: "ok" })) }),
  });
  return answer(response);
}

describe("the loopback Entra ID token endpoint", () => {
  it("mints an opaque Bearer token with expires_in for the right client credentials", async () => {
    // Prepare
    const sim = await simulator({ azure: { ...AZURE, tokenLifetimeSeconds: 1200 } });

    // Act
    const granted = await requestToken(sim);

    // Assess
    expect(granted.status).toBe(200);
    expect(granted.body).toEqual({ token_type: "Bearer", expires_in: 1200, ext_expires_in: 1200, access_token: expect.any(String) });
    expect(granted.body.access_token).not.toContain(AZURE.clientSecret);
    expect(sim.counters).toMatchObject({ tokenRequests: 1, tokensIssued: 1 });
    expect(sim.azure!.authorityHost).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("refuses a wrong client secret with 401 invalid_client AADSTS7000215 in Entra's error shape", async () => {
    // Prepare
    const sim = await simulator({ azure: AZURE });

    // Act
    const refused = await requestToken(sim, { client_secret: "not-the-secret" });

    // Assess
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({
      error: "invalid_client",
      error_description: expect.stringMatching(/^AADSTS7000215: Invalid client secret provided\..*\r\nTrace ID: .+\r\nCorrelation ID: .+/s),
      error_codes: [7000215],
      timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/),
      trace_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      correlation_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      error_uri: "https://login.microsoftonline.com/error?code=7000215",
    });
    expect(sim.counters).toMatchObject({ tokenRequests: 1, tokensIssued: 0 });
  });

  it.each([
    ["an unknown tenant", {}, "other-tenant", 400, "invalid_request", 90002],
    ["an unknown application", { client_id: "app-2" }, AZURE.tenantId, 400, "unauthorized_client", 700016],
    ["no client secret", { client_secret: "" }, AZURE.tenantId, 401, "invalid_client", 7000216],
    ["another grant type", { grant_type: "password" }, AZURE.tenantId, 400, "unsupported_grant_type", 70003],
    ["no grant type", { grant_type: "" }, AZURE.tenantId, 400, "invalid_request", 900144],
    ["no scope", { scope: "" }, AZURE.tenantId, 400, "invalid_request", 900144],
    ["a scope without /.default", { scope: "https://ai.azure.com/user_impersonation" }, AZURE.tenantId, 400, "invalid_scope", 1002012],
    ["another resource", { scope: "https://cognitiveservices.azure.com/.default" }, AZURE.tenantId, 400, "invalid_resource", 500011],
  ])("refuses %s with Entra's status, error and code", async (_, fields, tenant, status, error, code) => {
    // Prepare
    const sim = await simulator({ azure: AZURE });

    // Act
    const refused = await requestToken(sim, fields, tenant);

    // Assess
    expect(refused.status).toBe(status);
    expect(refused.body).toMatchObject({ error, error_codes: [code] });
    expect(refused.body.error_description).toMatch(new RegExp(`^AADSTS${code}: `));
    expect(sim.counters.tokensIssued).toBe(0);
  });

  it("serves the OpenID configuration MSAL-based clients read before their first token", async () => {
    // Prepare
    const sim = await simulator({ azure: AZURE });

    // Act
    const config = await answer(await fetch(`${sim.azure!.authorityHost}/${AZURE.tenantId}/v2.0/.well-known/openid-configuration`));

    // Assess
    expect(config.status).toBe(200);
    expect(config.body.token_endpoint).toBe(`${sim.azure!.authorityHost}/${AZURE.tenantId}/oauth2/v2.0/token`);
  });
});

describe("Foundry's checks before a request reaches a run", () => {
  it("answers 401 in the gateway's shape without a token, with one it did not mint, and with an expired one", async () => {
    // Prepare
    let clock = Date.parse("2026-09-01T10:00:00Z");
    const sim = await simulator({ azure: { ...AZURE, tokenLifetimeSeconds: 600 }, now: () => clock });
    const { threadId, runId } = sim.createRun();
    const token = await freshToken(sim);

    // Act
    const missing = await getRun(sim, threadId, runId, undefined);
    const foreign = await getRun(sim, threadId, runId, "eyJ.not-minted-here");
    const valid = await getRun(sim, threadId, runId, token);
    clock += 600_000;
    const expired = await getRun(sim, threadId, runId, token);

    // Assess
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ statusCode: 401, message: expect.stringContaining("Access token is missing, invalid") });
    expect(foreign.status).toBe(401);
    expect(valid.status).toBe(200);
    expect(expired.status).toBe(401);
    expect(sim.counters).toMatchObject({ tokensRejected: 3, gets: 4 });
  });

  it("lets tests expire every token at once; a new token works", async () => {
    // Prepare
    const sim = await simulator({ azure: AZURE });
    const { threadId, runId } = sim.createRun();
    const before = await freshToken(sim);

    // Act
    sim.azure!.expireAllTokens();
    const old = await getRun(sim, threadId, runId, before);
    const renewed = await getRun(sim, threadId, runId, await freshToken(sim));

    // Assess
    expect(old.status).toBe(401);
    expect(renewed.status).toBe(200);
  });

  it("requires the configured api-version on classic-agents routes, in Azure's wording", async () => {
    // Prepare
    const sim = await simulator({ azure: { ...AZURE, apiVersion: "2025-05-01" } });
    const { threadId, runId } = sim.createRun();
    const token = await freshToken(sim);

    // Act
    const missing = await getRun(sim, threadId, runId, token, "");
    const wrong = await getRun(sim, threadId, runId, token, "?api-version=2024-07-01-preview");
    const right = await getRun(sim, threadId, runId, token, "?api-version=2025-05-01");

    // Assess
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ error: { code: "BadRequest", message: "Missing required query parameter: api-version" } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toEqual({
      code: "UnsupportedApiVersionValue",
      message: "Unsupported api version '2024-07-01-preview'. The supported versions are '2025-05-01'",
    });
    expect(right.status).toBe(200);
    expect(sim.azure!.apiVersion).toBe("2025-05-01");
  });

  it("refuses an api-version on the /openai/v1 surface, as Azure does", async () => {
    // Prepare
    const sim = await simulator({ azure: AZURE });
    const token = await freshToken(sim);
    const headers = { authorization: `Bearer ${token}` };

    // Act
    const withVersion = await answer(await fetch(`${sim.azure!.openaiBaseUrl}/responses/resp_1?api-version=v1`, { headers }));
    const without = await fetch(`${sim.azure!.openaiBaseUrl}/responses/resp_1`, { headers });

    // Assess
    expect(withVersion.status).toBe(400);
    expect(withVersion.body.error).toEqual({
      code: "BadRequest",
      message: "api-version query parameter is not allowed when using /v1 path",
    });
    // Past the Azure checks; what answers then is whichever Responses routes the simulator has.
    expect(without.status).not.toBe(400);
    expect(without.status).not.toBe(401);
  });

  it("answers PermissionDenied naming the data action and operation for a principal without the role", async () => {
    // Prepare
    const sim = await simulator({ azure: { ...AZURE, deniedClientIds: [AZURE.clientId] } });
    const { threadId, runId, toolCallIds } = sim.createRun();
    const token = await freshToken(sim);

    // Act
    const read = await getRun(sim, threadId, runId, token);
    const write = await submit(sim, threadId, runId, toolCallIds, token);

    // Assess
    expect(read.status).toBe(401);
    expect(read.body).toEqual({
      error: {
        code: "PermissionDenied",
        message:
          "The principal `app-1` lacks the required data action `Microsoft.CognitiveServices/accounts/AIServices/agents/read` " +
          "to perform `GET /api/projects/{projectName}/threads/{threadId}/runs/{runId}` operation. " +
          "For instructions on granting the necessary permissions, see https://aka.ms/FoundryPermissions.",
      },
    });
    expect(write.status).toBe(401);
    expect(write.body.error.message).toContain(
      "agents/write` to perform `POST /api/projects/{projectName}/threads/{threadId}/runs/{runId}/",
    );
    expect(sim.counters).toMatchObject({ permissionDenied: 2, accepted: 0, tokensRejected: 0 });
  });

  it("serves runs only under the project endpoint, without the OpenAI-Beta header", async () => {
    // Prepare
    const sim = await simulator({ azure: { ...AZURE, projectName: "proj-a" } });
    const { threadId, runId } = sim.createRun();
    const token = await freshToken(sim);
    const origin = sim.azure!.authorityHost;

    // Act
    const project = await getRun(sim, threadId, runId, token);
    const portkeyPath = await answer(await fetch(`${origin}/v1/threads/${threadId}/runs/${runId}?api-version=v1`));
    const otherProject = await answer(await fetch(`${origin}/api/projects/proj-b/threads/${threadId}/runs/${runId}?api-version=v1`));

    // Assess
    expect(sim.baseUrl).toBe(`${origin}/api/projects/proj-a`);
    expect(sim.azure!.projectEndpoint).toBe(sim.baseUrl);
    expect(project.status).toBe(200);
    expect(portkeyPath).toEqual({ status: 404, body: { error: { code: "404", message: "Resource not found" } } });
    expect(otherProject.status).toBe(404);
  });
});

describe("Azure's run and error shapes", () => {
  it("leaves required_action out (not null) unless the run requires action, and adds tool_resources", async () => {
    // Prepare
    const sim = await simulator({ azure: AZURE, processingMs: 10 });
    const { threadId, runId, toolCallIds } = sim.createRun();
    const token = await freshToken(sim);

    // Act
    const waiting = await getRun(sim, threadId, runId, token);
    const accepted = await submit(sim, threadId, runId, toolCallIds, token);

    // Assess
    expect(waiting.body.required_action.submit_tool_outputs.tool_calls.map((c: { id: string }) => c.id)).toEqual(toolCallIds);
    expect(accepted.status).toBe(200);
    expect(accepted.body.status).toBe("queued");
    expect("required_action" in accepted.body).toBe(false);
    expect(accepted.body.tool_resources).toBeNull();
    expect("required_action" in sim.run(threadId, runId)!).toBe(false);
  });

  it("drops the null fields of error bodies, which Azure's AgentV1Error does not require", async () => {
    // Prepare
    const sim = await simulator({ azure: AZURE });
    const token = await freshToken(sim);

    // Act
    const missing = await getRun(sim, "thread_nowhere", "run_nowhere", token);

    // Assess
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: { message: "No thread found with id 'thread_nowhere'.", type: "invalid_request_error" } });
  });

  it("refuses a script with incomplete, a status Azure's runs do not have", async () => {
    // Prepare
    const sim = await simulator({ azure: AZURE });
    const token = await freshToken(sim);

    // Act
    const created = await fetch(`${sim.baseUrl}/threads/runs?api-version=v1`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ assistant_id: "asst_1", metadata: { sim_then: "incomplete" } }),
    });

    // Assess
    expect(() => sim.createRun({ afterOutputs: ["incomplete"] })).toThrow(/no incomplete/);
    expect(created.status).toBe(400);
    expect(((await created.json()) as { error: { param: string } }).error.param).toBe("metadata.sim_then");
  });

  it("rejects unknown azure options and Portkey keys in azure mode", async () => {
    // Act / Assess
    await expect(simulator({ azure: { ...AZURE, tokenLifetime: 5 } as never })).rejects.toThrow(/unknown azure option\(s\) tokenLifetime/);
    await expect(simulator({ azure: AZURE, apiKey: "pk" })).rejects.toThrow(/apiKey and virtualKey do not apply/);
  });
});
