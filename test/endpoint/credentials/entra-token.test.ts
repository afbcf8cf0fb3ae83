import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { CredentialsError } from "../../../functions/submit-tool-outputs/config/errors";
import {
  createEntraTokenSource,
  DEFAULT_AUTHORITY_HOST,
  EntraTokenError,
  type EntraTokenSourceOptions,
  entraAuthorizer,
  entraTokenSourceFromCredentials,
  refreshMarginMs,
  type TokenSource,
} from "../../../functions/submit-tool-outputs/endpoint/credentials/entra-token";
import { sendAuthorized } from "../../../functions/submit-tool-outputs/endpoint/endpoint-http";
import { type EndpointResponse, nodeTransport } from "../../../functions/submit-tool-outputs/endpoint/endpoint-transport";
import { type EndpointSimulator, type EndpointSimulatorOptions, startEndpointSimulator } from "../../../local/endpoint-simulator";

const AZURE = { tenantId: "tenant-1", clientId: "app-1", clientSecret: "s3cret-value-never-shown" };

const started: EndpointSimulator[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

async function azureSimulator(opts: Omit<EndpointSimulatorOptions, "azure"> & { azure?: Partial<EndpointSimulatorOptions["azure"]> } = {}) {
  const sim = await startEndpointSimulator({ ...opts, azure: { ...AZURE, ...opts.azure } });
  started.push(sim);
  return sim;
}

/** The transport the endpoint client sends with. */
const transport = nodeTransport();

function tokenSourceFor(sim: EndpointSimulator, extra: Partial<EntraTokenSourceOptions> = {}) {
  return createEntraTokenSource({ ...AZURE, authorityHost: sim.azure!.authorityHost, ...extra });
}

/** GET run on the simulated project endpoint with whatever Authorization the helper is given. */
function getRun(sim: EndpointSimulator, threadId: string, runId: string) {
  const url = new URL(`${sim.baseUrl}/threads/${threadId}/runs/${runId}?api-version=v1`);
  const signal = new AbortController().signal;
  return { url, send: (auth: Record<string, string>) => transport({ method: "GET", url, headers: { ...auth }, signal }) };
}

/** One request sent as the endpoint client sends it: authorized by the Entra ID kind, sent once more after a 401 if it renews. */
function sendWithToken(tokens: TokenSource, { url, send }: ReturnType<typeof getRun>): Promise<EndpointResponse> {
  const request = { method: "GET" as const, url, headers: {}, body: undefined, signal: new AbortController().signal };
  return sendAuthorized(entraAuthorizer(tokens), request, send);
}

describe("sharing one token among concurrent callers", () => {
  it("makes one token request for ten callers asking at once", async () => {
    // Prepare
    const sim = await azureSimulator();
    const tokens = tokenSourceFor(sim);

    // Act
    const all = await Promise.all(Array.from({ length: 10 }, () => tokens.token()));

    // Assess
    expect(new Set(all).size).toBe(1);
    expect(sim.counters.tokenRequests).toBe(1);
  });

  it("keeps the token between calls while it is fresh", async () => {
    // Prepare
    const sim = await azureSimulator();
    const tokens = tokenSourceFor(sim);
    const first = await tokens.token();

    // Act
    const later = [await tokens.token(), await tokens.token()];

    // Assess
    expect(later).toEqual([first, first]);
    expect(sim.counters.tokenRequests).toBe(1);
  });

  it("lets one caller give up waiting without failing the others", async () => {
    // Prepare
    const sim = await azureSimulator();
    const tokens = tokenSourceFor(sim);
    const impatient = new AbortController();

    // Act
    const abandoned = tokens.token(impatient.signal);
    const patient = tokens.token();
    impatient.abort(new Error("deadline"));

    // Assess
    await expect(abandoned).rejects.toThrow("deadline");
    await expect(patient).resolves.toMatch(/^simtok_/);
    expect(sim.counters.tokenRequests).toBe(1);
  });
});

describe("refreshing before expiry", () => {
  it("refreshes a token once 10 % of its lifetime is left, at most 5 minutes before expiry", () => {
    expect(refreshMarginMs(3_600_000)).toBe(300_000);
    expect(refreshMarginMs(600_000)).toBe(60_000);
  });

  it("fetches a new token when the cached one nears expiry on the shared clock", async () => {
    // Prepare
    let clock = Date.parse("2026-09-01T10:00:00Z");
    const now = () => clock;
    const sim = await azureSimulator({ now, azure: { tokenLifetimeSeconds: 600 } });
    const tokens = tokenSourceFor(sim, { now });
    const { threadId, runId } = sim.createRun();
    const first = await tokens.token();

    // Act
    clock += 539_000;
    const justBefore = await tokens.token();
    clock += 2_000;
    const renewed = await tokens.token();
    const accepted = await getRun(sim, threadId, runId).send({ authorization: `Bearer ${renewed}` });

    // Assess
    expect(justBefore).toBe(first);
    expect(renewed).not.toBe(first);
    expect(sim.counters.tokenRequests).toBe(2);
    expect(accepted.status).toBe(200);
  });

  it("keeps using the cached token while it lasts when a refresh fails, then reports the failure", async () => {
    // Prepare
    let clock = Date.parse("2026-09-01T10:00:00Z");
    const now = () => clock;
    const sim = await azureSimulator({ now, azure: { tokenLifetimeSeconds: 600 } });
    const tokens = tokenSourceFor(sim, { now });
    const first = await tokens.token();
    await sim.close();

    // Act
    clock += 570_000;
    const inMargin = await tokens.token();
    clock += 30_000;
    const expired = await tokens.token().catch((error: unknown) => error);

    // Assess
    expect(inMargin).toBe(first);
    expect(expired).toBeInstanceOf(EntraTokenError);
    expect((expired as EntraTokenError).details.transient).toBe(true);
  });
});

describe("a request answered 401", () => {
  it("fetches a fresh token after invalidate, and ignores invalidating a token no longer cached", async () => {
    // Prepare
    const sim = await azureSimulator();
    const tokens = tokenSourceFor(sim);
    const first = await tokens.token();

    // Act
    tokens.invalidate(first);
    const second = await tokens.token();
    tokens.invalidate(first);
    const third = await tokens.token();

    // Assess
    expect(second).not.toBe(first);
    expect(third).toBe(second);
    expect(sim.counters.tokenRequests).toBe(2);
  });

  it("is sent once more with a freshly fetched token, and succeeds when the token was the problem", async () => {
    // Prepare
    const sim = await azureSimulator();
    const tokens = tokenSourceFor(sim);
    const { threadId, runId } = sim.createRun();
    await tokens.token();
    sim.azure!.expireAllTokens();

    // Act
    const response = await sendWithToken(tokens, getRun(sim, threadId, runId));

    // Assess
    expect(response.status).toBe(200);
    expect(sim.counters).toMatchObject({ tokenRequests: 2, tokensRejected: 1, gets: 2 });
  });

  it("stands after the one retry when the principal lacks the role", async () => {
    // Prepare
    const sim = await azureSimulator({ azure: { deniedClientIds: [AZURE.clientId] } });
    const tokens = tokenSourceFor(sim);
    const { threadId, runId } = sim.createRun();

    // Act
    const response = await sendWithToken(tokens, getRun(sim, threadId, runId));

    // Assess
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("PermissionDenied");
    expect(sim.counters).toMatchObject({ tokenRequests: 2, permissionDenied: 2, gets: 2 });
  });
});

describe("configuration failures", () => {
  it("accepts https anywhere and plain http only on loopback for AZURE_AUTHORITY_HOST", () => {
    // Act / Assess
    const build = (authorityHost: string) => () => createEntraTokenSource({ ...AZURE, authorityHost });
    expect(build("http://login.example.com")).toThrow(EntraTokenError);
    expect(build("http://login.example.com")).toThrow(/AZURE_AUTHORITY_HOST must use https/);
    expect(build("http://10.0.0.5:8080")).toThrow(/AZURE_AUTHORITY_HOST must use https/);
    expect(build("not a url")).toThrow(/AZURE_AUTHORITY_HOST must be an absolute URL/);
    expect(build("https://login.example.com?x=1")).toThrow(/no query/);
    expect(build("https://login.microsoftonline.us")).not.toThrow();
    expect(build("http://localhost:3000")).not.toThrow();
    expect(build("http://127.0.0.1:3000")).not.toThrow();
    expect(() => createEntraTokenSource(AZURE)).not.toThrow();
    expect(DEFAULT_AUTHORITY_HOST).toBe("https://login.microsoftonline.com");
  });

  it("refuses a tenant that is not a GUID or domain, and a scope without /.default", () => {
    // Act / Assess
    expect(() => createEntraTokenSource({ ...AZURE, tenantId: "../common" })).toThrow(/AZURE_TENANT_ID/);
    expect(() => createEntraTokenSource({ ...AZURE, scope: "https://ai.azure.com/user_impersonation" })).toThrow(/AZURE_TOKEN_SCOPE/);
  });

  it("names the variable, status and AADSTS code of a wrong secret, never the secret", async () => {
    // Prepare
    const sim = await azureSimulator();
    const tokens = tokenSourceFor(sim, { clientSecret: "wrong-secret-value-never-shown" });

    // Act
    const failure = await tokens.token().catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(EntraTokenError);
    expect(failure).toBeInstanceOf(CredentialsError);
    const error = failure as EntraTokenError;
    expect(error.message).toBe("Entra ID token request refused: HTTP 401 invalid_client (AADSTS7000215); check AZURE_CLIENT_SECRET");
    expect(error.variable).toBe("AZURE_CLIENT_SECRET");
    expect(error.details).toEqual({ httpStatus: 401, aadCode: "AADSTS7000215", transient: false });
    expect(JSON.stringify({ ...error, message: error.message, stack: error.stack })).not.toMatch(/never-shown/);
  });

  it("tries again on the next call after a failure instead of caching it", async () => {
    // Prepare
    const sim = await azureSimulator();
    const wrongTenant = tokenSourceFor(sim, { tenantId: "tenant-2" });

    // Act
    const failures = await Promise.all([wrongTenant.token(), wrongTenant.token()].map((p) => p.catch((e: EntraTokenError) => e)));
    await wrongTenant.token().catch(() => undefined);

    // Assess
    expect(failures.map((e) => (e as EntraTokenError).variable)).toEqual(["AZURE_TENANT_ID", "AZURE_TENANT_ID"]);
    expect((failures[0] as EntraTokenError).details.aadCode).toBe("AADSTS90002");
    expect(sim.counters.tokenRequests).toBe(2);
  });

  it("reports an unreachable token endpoint as a transient failure of AZURE_AUTHORITY_HOST", async () => {
    // Prepare: a port that was just free
    const server = createServer().listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const tokens = createEntraTokenSource({ ...AZURE, authorityHost: `http://127.0.0.1:${port}` });

    // Act
    const failure = (await tokens.token().catch((error: unknown) => error)) as EntraTokenError;

    // Assess
    expect(failure).toBeInstanceOf(EntraTokenError);
    expect(failure.variable).toBe("AZURE_AUTHORITY_HOST");
    expect(failure.details.transient).toBe(true);
    expect(failure.message).toMatch(/could not reach the token endpoint \(ECONNREFUSED\)/);
  });

  it("builds the source from credentials as the secret or environment holds them", async () => {
    // Prepare
    const sim = await azureSimulator();

    // Act
    const tokens = entraTokenSourceFromCredentials({
      AZURE_TENANT_ID: AZURE.tenantId,
      AZURE_CLIENT_ID: AZURE.clientId,
      AZURE_CLIENT_SECRET: AZURE.clientSecret,
      AZURE_AUTHORITY_HOST: sim.azure!.authorityHost,
    });

    // Assess
    await expect(tokens.token()).resolves.toMatch(/^simtok_/);
    expect(() => entraTokenSourceFromCredentials({ AZURE_TENANT_ID: "t" })).toThrow(CredentialsError);
  });
});
