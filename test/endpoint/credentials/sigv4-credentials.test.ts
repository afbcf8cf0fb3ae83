/**
 * The SigV4 credential kind (endpoint/credentials/sigv4.ts): when it is in use (set, or implied by a Bedrock host),
 * what it refuses at cold start, and what its signer puts on a request — checked against the simulator's own,
 * independent SigV4 verifier (local/endpoint-simulator/sigv4-verifier.ts).
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { loadEndpointConfig } from "../../../functions/submit-tool-outputs/config/config";
import { CredentialsError } from "../../../functions/submit-tool-outputs/config/errors";
import { endpointDestinations } from "../../../functions/submit-tool-outputs/dialects/index";
import {
  checkCredentialDestinations,
  kindsOf,
  loadCredentials,
  openEndpointAuth,
  parseCredentials,
} from "../../../functions/submit-tool-outputs/endpoint/credentials/credentials";
import { verifySigV4 } from "../../../local/endpoint-simulator/sigv4-verifier";

const RUNTIME = "https://bedrock-runtime.us-east-1.amazonaws.com/openai/v1";
const MANTLE = "https://bedrock-mantle.eu-west-1.api.aws/v1";
const ROLE = { AWS_ACCESS_KEY_ID: "ASIAROLE1", AWS_SECRET_ACCESS_KEY: "role-secret-1", AWS_SESSION_TOKEN: "role-token-1" };

const destinationsOf = (env: Record<string, string>) => endpointDestinations(loadEndpointConfig(env));

describe("which deployments sign", () => {
  it.each([
    ["a runtime host", RUNTIME, "bedrock"],
    ["a Mantle host", MANTLE, "bedrock-mantle"],
  ])("a Bedrock-only deployment at %s signs for its service, with no key at all", async (_, url, service) => {
    const credentials = await loadCredentials(undefined, {}, destinationsOf({ RESPONSES_BASE_URL: url }));
    expect(credentials).toEqual({ ENDPOINT_SIGV4_SERVICE: service });
    expect(kindsOf(credentials).map((kind) => kind.name)).toEqual(["sigv4"]);
  });

  it("uses a bearer key at a Bedrock host as a Bedrock API key: nothing implied, nothing signed", async () => {
    const credentials = await loadCredentials(
      undefined,
      { ENDPOINT_BEARER_TOKEN: "bedrock-api-key-x" },
      destinationsOf({ RESPONSES_BASE_URL: RUNTIME }),
    );
    expect(kindsOf(credentials).map((kind) => kind.name)).toEqual(["bearer"]);
  });

  it("implies nothing away from Bedrock", async () => {
    await expect(loadCredentials(undefined, {}, destinationsOf({ ENDPOINT_BASE_URL: "https://api.openai.com/v1" }))).rejects.toThrow(
      /the credentials need/,
    );
  });
});

describe("cold-start refusals", () => {
  it.each([
    ["a bearer token", { ENDPOINT_BEARER_TOKEN: "sk" }, "ENDPOINT_SIGV4_SERVICE and ENDPOINT_BEARER_TOKEN cannot be combined"],
    ["a Portkey key", { PORTKEY_API_KEY: "pk" }, "ENDPOINT_SIGV4_SERVICE and PORTKEY_API_KEY cannot be combined"],
    ["a Portkey config", { PORTKEY_CONFIG: '{"provider":"openai"}' }, "ENDPOINT_SIGV4_SERVICE and PORTKEY_CONFIG cannot be combined"],
    [
      "Entra ID keys",
      { AZURE_TENANT_ID: "t", AZURE_CLIENT_ID: "c", AZURE_CLIENT_SECRET: "s" },
      "ENDPOINT_SIGV4_SERVICE and Entra ID (AZURE_*) cannot be combined",
    ],
  ])("an explicit service with %s, naming both", (_, other, says) => {
    const act = () => parseCredentials({ ENDPOINT_SIGV4_SERVICE: "bedrock", ...other }, "the environment");
    expect(act).toThrow(CredentialsError);
    expect(act).toThrow(says);
  });

  it.each([
    [{ ENDPOINT_SIGV4_SERVICE: "bedrock-runtime" }, "ENDPOINT_SIGV4_SERVICE must be bedrock or bedrock-mantle"],
    [{ ENDPOINT_SIGV4_SERVICE: "bedrock", ENDPOINT_SIGV4_REGION: "Ireland" }, "ENDPOINT_SIGV4_REGION must be an AWS region"],
    [{ ENDPOINT_SIGV4_REGION: "us-east-1", ENDPOINT_BEARER_TOKEN: "k" }, "ENDPOINT_SIGV4_REGION needs ENDPOINT_SIGV4_SERVICE"],
  ])("%j", (credentials, says) => {
    expect(() => parseCredentials(credentials, "the environment")).toThrow(says);
  });

  it("Portkey or Entra ID keys aimed at a Bedrock host", () => {
    const portkey = parseCredentials({ PORTKEY_API_KEY: "pk", PORTKEY_VIRTUAL_KEY: "vk" }, "the environment");
    const destinations = destinationsOf({ ENDPOINT_BASE_URL: "https://api.portkey.ai/v1", RESPONSES_BASE_URL: MANTLE });
    expect(() => checkCredentialDestinations(portkey, destinations)).toThrow(
      "PORTKEY_API_KEY, PORTKEY_VIRTUAL_KEY would be sent to RESPONSES_BASE_URL (bedrock-mantle.eu-west-1.api.aws), Amazon Bedrock",
    );
    const apiKey = parseCredentials({ ENDPOINT_BEARER_TOKEN: "bedrock-api-key-x" }, "the environment");
    expect(() => checkCredentialDestinations(apiKey, destinationsOf({ RESPONSES_BASE_URL: MANTLE }))).not.toThrow();
  });

  it("a service that is not the host's, and a signature bound for a host outside AWS", () => {
    const mantle = parseCredentials({ ENDPOINT_SIGV4_SERVICE: "bedrock-mantle" }, "the environment");
    expect(() => checkCredentialDestinations(mantle, destinationsOf({ RESPONSES_BASE_URL: RUNTIME }))).toThrow(
      "ENDPOINT_SIGV4_SERVICE is bedrock-mantle but RESPONSES_BASE_URL (bedrock-runtime.us-east-1.amazonaws.com) is Bedrock runtime",
    );
    expect(() => checkCredentialDestinations(mantle, destinationsOf({ ENDPOINT_BASE_URL: "https://gateway.example.com/v1" }))).toThrow(
      "ENDPOINT_BASE_URL (gateway.example.com) is not an AWS endpoint",
    );
    expect(() => checkCredentialDestinations(mantle, destinationsOf({ ENDPOINT_BASE_URL: "http://127.0.0.1:9/v1" }))).not.toThrow();
  });
});

describe("the signer", () => {
  const sha = (body: string) => createHash("sha256").update(body).digest("hex");

  async function signed(
    env: Record<string, string | undefined>,
    c: Record<string, string>,
    request: { method: "GET" | "POST"; url: string; body?: string },
  ) {
    const auth = await openEndpointAuth(parseCredentials(c, "test"), { timeoutMs: 1000, env });
    const headers = { accept: "application/json", ...(request.body ? { "content-type": "application/json" } : {}) };
    const url = new URL(request.url);
    const added = await auth.authorizer!.authorize({
      method: request.method,
      url,
      headers,
      body: request.body,
      signal: new AbortController().signal,
    });
    return {
      auth,
      added,
      verify: (service: string, region: string, known = ROLE) =>
        verifySigV4(
          {
            method: request.method,
            path: url.pathname,
            query: url.searchParams,
            headers: { ...headers, ...added, host: url.host },
            body: Buffer.from(request.body ?? ""),
          },
          {
            service,
            region,
            known: (id) =>
              id === known.AWS_ACCESS_KEY_ID
                ? { accessKeyId: id, secretAccessKey: known.AWS_SECRET_ACCESS_KEY, sessionToken: known.AWS_SESSION_TOKEN }
                : undefined,
            now: Date.now(),
            acceptUnsignedPayload: false,
          },
        ),
    };
  }

  it("signs a POST over its exact body (hex SHA-256, never UNSIGNED-PAYLOAD), for the host's region, with no other credential", async () => {
    const body = '{"model":"us.openai.gpt-5.6-sol","input":[]}';
    const { auth, added, verify } = await signed(
      { ...ROLE },
      { ENDPOINT_SIGV4_SERVICE: "bedrock" },
      { method: "POST", url: `${RUNTIME}/responses`, body },
    );
    expect(added["x-amz-content-sha256"]).toBe(sha(body));
    expect(added.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=ASIAROLE1\/\d{8}\/us-east-1\/bedrock\/aws4_request, SignedHeaders=accept;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(added["x-amz-security-token"]).toBe("role-token-1");
    expect(auth.headers).toEqual({});
    expect(auth.traceHeader).toBeUndefined();
    expect(verify("bedrock", "us-east-1")).toMatchObject({ ok: true });
  });

  it("signs a GET over the empty body, and an explicit region wins over the host's", async () => {
    const c = { ENDPOINT_SIGV4_SERVICE: "bedrock-mantle", ENDPOINT_SIGV4_REGION: "eu-central-1" };
    const { added, verify } = await signed({ ...ROLE }, c, { method: "GET", url: `${MANTLE}/responses/resp_1` });
    expect(added["x-amz-content-sha256"]).toBe(sha(""));
    expect(verify("bedrock-mantle", "eu-central-1")).toMatchObject({ ok: true });
    expect(verify("bedrock-mantle", "eu-west-1")).toEqual({ ok: false, reason: "wrong_region" });
  });

  it.each([
    ["a query (a stream resumed)", `${MANTLE}/responses/resp_1?stream=true&starting_after=3`],
    ["an encoded path segment", `${MANTLE}/responses/${encodeURIComponent("resp a/b*")}`],
  ])("agrees with the independent verifier on %s", async (_, url) => {
    const { verify } = await signed({ ...ROLE }, { ENDPOINT_SIGV4_SERVICE: "bedrock-mantle" }, { method: "GET", url });
    expect(verify("bedrock-mantle", "eu-west-1")).toMatchObject({ ok: true });
  });

  it("takes AWS_REGION at a host that names none (a loopback simulator)", async () => {
    const { added } = await signed(
      { ...ROLE, AWS_REGION: "ap-south-1" },
      { ENDPOINT_SIGV4_SERVICE: "bedrock" },
      { method: "GET", url: "http://127.0.0.1:9/openai/v1/responses/r" },
    );
    expect(added.authorization).toContain("/ap-south-1/bedrock/aws4_request");
  });

  it("re-reads the credentials on every call: a rotated session signs the next call", async () => {
    const env: Record<string, string | undefined> = { ...ROLE };
    const auth = await openEndpointAuth(parseCredentials({ ENDPOINT_SIGV4_SERVICE: "bedrock" }, "test"), { timeoutMs: 1000, env });
    const call = () =>
      auth.authorizer!.authorize({
        method: "GET",
        url: new URL(`${RUNTIME}/responses/r`),
        headers: {},
        body: undefined,
        signal: new AbortController().signal,
      });
    expect((await call())["x-amz-security-token"]).toBe("role-token-1");
    Object.assign(env, { AWS_ACCESS_KEY_ID: "ASIAROLE2", AWS_SECRET_ACCESS_KEY: "role-secret-2", AWS_SESSION_TOKEN: "role-token-2" });
    const next = await call();
    expect(next["x-amz-security-token"]).toBe("role-token-2");
    expect(next.authorization).toContain("Credential=ASIAROLE2/");
  });

  it("fails the call unsent, as configuration, when the environment has no AWS credentials", async () => {
    const { authorizer } = await openEndpointAuth(parseCredentials({ ENDPOINT_SIGV4_SERVICE: "bedrock" }, "test"), {
      timeoutMs: 1000,
      env: {},
    });
    const attempt = authorizer!.authorize({
      method: "GET",
      url: new URL(`${RUNTIME}/responses/r`),
      headers: {},
      body: undefined,
      signal: new AbortController().signal,
    });
    await expect(attempt).rejects.toThrow(CredentialsError);
    await expect(attempt).rejects.toThrow(/no AWS credentials to sign with: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    await expect(attempt).rejects.toMatchObject({ details: { httpStatus: 401 } });
  });
});
