import * as z from "zod/mini";
import "../../config/zod-messages";
import type { RelayConfig } from "../../config/config";
import { CredentialsError } from "../../config/errors";
import { portkeyConfigProblem } from "./portkey-config";

/**
 * Endpoint credentials. Which ones are set picks the endpoint mode, with no code fork:
 * - hosted Portkey: PORTKEY_API_KEY + PORTKEY_VIRTUAL_KEY (or a Model Catalog PORTKEY_PROVIDER `@slug`, or PORTKEY_CONFIG);
 * - self-hosted Portkey gateway: PORTKEY_PROVIDER + ENDPOINT_BEARER_TOKEN (the provider's key), and
 *   PORTKEY_CUSTOM_HOST when the provider is an OpenAI-compatible server at its own URL; or PORTKEY_CONFIG alone
 *   (provider, api_key and custom_host in one JSON);
 * - a direct OpenAI-compatible server: ENDPOINT_BEARER_TOKEN alone;
 * - Azure AI Foundry: Entra ID, AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET (optionally
 *   AZURE_AUTHORITY_HOST, AZURE_TOKEN_SCOPE); the token itself comes from entra-token.ts, loaded only then.
 */
export interface EndpointCredentials {
  PORTKEY_API_KEY?: string;
  PORTKEY_VIRTUAL_KEY?: string;
  PORTKEY_PROVIDER?: string;
  PORTKEY_CONFIG?: string;
  /** Sent as `x-portkey-custom-host`: the upstream base URL (with `/v1`) a self-hosted gateway forwards to. */
  PORTKEY_CUSTOM_HOST?: string;
  ENDPOINT_BEARER_TOKEN?: string;
  AZURE_TENANT_ID?: string;
  AZURE_CLIENT_ID?: string;
  AZURE_CLIENT_SECRET?: string;
  AZURE_AUTHORITY_HOST?: string;
  AZURE_TOKEN_SCOPE?: string;
}

/** The three keys an Entra ID client-credentials grant needs: all of them or none. */
const ENTRA_KEYS = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"] as const;
/** Entra ID settings that mean nothing without the three keys. */
const ENTRA_SETTINGS = ["AZURE_AUTHORITY_HOST", "AZURE_TOKEN_SCOPE"] as const;

export const CREDENTIAL_KEYS = [
  "PORTKEY_API_KEY",
  "PORTKEY_VIRTUAL_KEY",
  "PORTKEY_PROVIDER",
  "PORTKEY_CONFIG",
  "PORTKEY_CUSTOM_HOST",
  "ENDPOINT_BEARER_TOKEN",
  ...ENTRA_KEYS,
  ...ENTRA_SETTINGS,
] as const;

type CredentialRecord = Partial<Record<(typeof CREDENTIAL_KEYS)[number], string>>;

/** Keys sent as `x-portkey-*` headers that are secrets (or hold one): they must never reach Azure. */
const PORTKEY_SECRETS = ["PORTKEY_API_KEY", "PORTKEY_VIRTUAL_KEY", "PORTKEY_CONFIG"] as const;

const list = (keys: readonly string[]) => (keys.length === 1 ? keys[0]! : `${keys.slice(0, -1).join(", ")} and ${keys.at(-1)}`);

/** Rules across keys (docs/endpoints.md, one section per mode); each names keys only, never a value. */
function checkCombination(c: CredentialRecord, ctx: z.core.$RefinementCtx<CredentialRecord>): void {
  const entra = ENTRA_KEYS.filter((key) => c[key] !== undefined);
  const problem = (message: string) => ctx.issues.push({ code: "custom", message, input: c });
  if (entra.length > 0 && entra.length < ENTRA_KEYS.length) {
    const missing = ENTRA_KEYS.filter((key) => c[key] === undefined);
    problem(`${list(missing)} ${missing.length === 1 ? "is" : "are"} required with ${list(entra)} (Entra ID needs all three)`);
  }
  const orphans = ENTRA_SETTINGS.filter((key) => c[key] !== undefined);
  if (entra.length === 0 && orphans.length > 0) problem(`${orphans.join(", ")} need(s) ${ENTRA_KEYS.join(", ")}`);
  if (entra.length > 0 && c.ENDPOINT_BEARER_TOKEN !== undefined) {
    problem("ENDPOINT_BEARER_TOKEN and Entra ID (AZURE_*) both set the Authorization header: keep one");
  }
  // A gateway takes the key from the config's api_key on its explicit routes (POST /v1/responses) and from
  // Authorization on the routes it proxies (threads, conversations): with both, two keys would be in use.
  const authorization =
    c.ENDPOINT_BEARER_TOKEN !== undefined ? "ENDPOINT_BEARER_TOKEN" : entra.length > 0 ? "Entra ID (AZURE_*)" : undefined;
  if (c.PORTKEY_CONFIG !== undefined && authorization !== undefined) {
    problem(
      `PORTKEY_CONFIG and ${authorization} cannot be combined: a Portkey gateway takes the provider's key from the config's ` +
        "api_key on POST /v1/responses but from the Authorization header on the routes it proxies; keep one",
    );
  }
  // Hosted Portkey's Model Catalog providers (`@slug`) keep the provider's key in Portkey; any other provider needs it here.
  const catalogProvider = c.PORTKEY_PROVIDER?.startsWith("@") === true && c.PORTKEY_API_KEY !== undefined;
  if (c.PORTKEY_PROVIDER !== undefined && authorization === undefined && !catalogProvider) {
    problem(
      "PORTKEY_PROVIDER needs ENDPOINT_BEARER_TOKEN (the provider's key, sent as Authorization), unless it names a " +
        "hosted Portkey Model Catalog provider (@slug) with PORTKEY_API_KEY",
    );
  }
  if (c.PORTKEY_VIRTUAL_KEY !== undefined && c.PORTKEY_API_KEY === undefined) {
    problem("PORTKEY_VIRTUAL_KEY needs PORTKEY_API_KEY (virtual keys live in hosted Portkey)");
  }
  if (c.PORTKEY_CUSTOM_HOST !== undefined && c.PORTKEY_PROVIDER === undefined && c.PORTKEY_CONFIG === undefined) {
    problem("PORTKEY_CUSTOM_HOST needs PORTKEY_PROVIDER or PORTKEY_CONFIG (it says where the gateway sends the provider's calls)");
  }
  const config = c.PORTKEY_CONFIG === undefined ? undefined : portkeyConfigProblem(c.PORTKEY_CONFIG);
  if (config !== undefined) problem(config);
  if (c.PORTKEY_API_KEY === undefined && c.PORTKEY_CONFIG === undefined && c.ENDPOINT_BEARER_TOKEN === undefined && entra.length === 0) {
    problem(
      "the credentials need PORTKEY_API_KEY (hosted Portkey), PORTKEY_CONFIG or PORTKEY_PROVIDER + ENDPOINT_BEARER_TOKEN (a self-hosted " +
        `gateway), ENDPOINT_BEARER_TOKEN (a direct server) or ${ENTRA_KEYS.join(" + ")} (Azure AI Foundry, Entra ID)`,
    );
  }
}

const CredentialsSchema = z
  .strictObject(Object.fromEntries(CREDENTIAL_KEYS.map((key) => [key, z.optional(z.string().check(z.minLength(1)))])))
  .check(z.superRefine(checkCombination));

/** Validates credentials, naming keys and never values in its errors. */
export function parseCredentials(value: unknown, source: string): EndpointCredentials {
  const parsed = CredentialsSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown key(s) ${issue.keys.join(", ")}`
        : issue.path.length > 0
          ? `${issue.path.join(".")} ${issue.message}`
          : issue.message,
    );
    throw new CredentialsError(`credentials from ${source}: ${problems.join("; ")}`);
  }
  return parsed.data as EndpointCredentials;
}

/** Azure's public and sovereign clouds: Azure AI Foundry, Azure OpenAI and Cognitive Services hosts end so. */
const AZURE_HOST = /\.azure\.(com|us|cn)$/i;
const HOSTED_PORTKEY = "api.portkey.ai";

/**
 * Refuses credentials that would go where they do not belong, once the endpoint's URLs are known: Portkey keys
 * to an Azure host (Azure AI Foundry takes Entra ID only, and would be sent the keys), and any credentials
 * without PORTKEY_API_KEY to hosted Portkey, which needs it: that is a base URL left at its default, and the
 * provider's key or the Entra ID token would be sent to Portkey.
 * @throws CredentialsError naming the keys and the variable, never a value.
 * @example checkCredentialDestinations(await loadCredentials(config.endpointSecretArn, env), config);
 */
export function checkCredentialDestinations(
  c: EndpointCredentials,
  urls: Pick<RelayConfig, "endpointBaseUrl" | "responsesBaseUrl"> & Partial<Pick<RelayConfig, "agentsBaseUrl">>,
): void {
  const destinations: Array<[string, URL]> = [["ENDPOINT_BASE_URL", urls.endpointBaseUrl]];
  if (urls.responsesBaseUrl.href !== urls.endpointBaseUrl.href) destinations.push(["RESPONSES_BASE_URL", urls.responsesBaseUrl]);
  if (urls.agentsBaseUrl && urls.agentsBaseUrl.href !== urls.endpointBaseUrl.href)
    destinations.push(["AGENTS_BASE_URL", urls.agentsBaseUrl]);
  const portkeySecrets = PORTKEY_SECRETS.filter((key) => c[key] !== undefined);
  for (const [variable, url] of destinations) {
    if (AZURE_HOST.test(url.hostname) && portkeySecrets.length > 0) {
      throw new CredentialsError(
        `${list(portkeySecrets)} would be sent to ${variable} (${url.host}), an Azure endpoint that takes Entra ID ` +
          `(${ENTRA_KEYS.join(", ")}) only: remove the Portkey keys, or point ${variable} at your Portkey gateway`,
      );
    }
    if (url.hostname === HOSTED_PORTKEY && c.PORTKEY_API_KEY === undefined) {
      throw new CredentialsError(
        `${variable} is hosted Portkey (${url.host}; ENDPOINT_BASE_URL defaults to it), which needs PORTKEY_API_KEY: set it, or point ` +
          `${variable} at your endpoint (a self-hosted gateway, a direct server, an Azure AI Foundry project)`,
      );
    }
  }
}

/**
 * True when the credentials are Entra ID ones: the caller then loads entra-token.ts (lazily, so other
 * modes never evaluate it) for the per-request Authorization header.
 * @example if (usesEntraId(credentials)) tokens = (await import("./entra-token")).entraTokenSourceFromCredentials(credentials);
 */
export function usesEntraId(c: EndpointCredentials): boolean {
  return c.AZURE_CLIENT_ID !== undefined;
}

/** The static headers that authenticate a request, built once per cold start (an Entra ID token is added per request). */
export function credentialHeaders(c: EndpointCredentials): Record<string, string> {
  const headers: Record<string, string> = {};
  if (c.PORTKEY_API_KEY) headers["x-portkey-api-key"] = c.PORTKEY_API_KEY;
  if (c.PORTKEY_VIRTUAL_KEY) headers["x-portkey-virtual-key"] = c.PORTKEY_VIRTUAL_KEY;
  if (c.PORTKEY_PROVIDER) headers["x-portkey-provider"] = c.PORTKEY_PROVIDER;
  if (c.PORTKEY_CONFIG) headers["x-portkey-config"] = c.PORTKEY_CONFIG;
  if (c.PORTKEY_CUSTOM_HOST) headers["x-portkey-custom-host"] = c.PORTKEY_CUSTOM_HOST;
  if (c.ENDPOINT_BEARER_TOKEN) headers.authorization = `Bearer ${c.ENDPOINT_BEARER_TOKEN}`;
  return headers;
}

/**
 * Loads credentials from the Secrets Manager secret when one is configured, else from the environment.
 * The secret is read through Powertools Parameters; the caller keeps the result for the life of the
 * execution environment (one read per cold start).
 * @example const headers = credentialHeaders(await loadCredentials(config.endpointSecretArn, process.env));
 */
export async function loadCredentials(
  secretArn: string | undefined,
  env: Record<string, string | undefined>,
): Promise<EndpointCredentials> {
  if (secretArn === undefined) {
    const fromEnv = Object.fromEntries(CREDENTIAL_KEYS.flatMap((key) => (env[key] ? [[key, env[key]]] : [])));
    return parseCredentials(fromEnv, "the environment");
  }
  // Loaded lazily: runs without a secret (local, tests) never evaluate the Secrets Manager client.
  const { SecretsProvider } = await import("@aws-lambda-powertools/parameters/secrets");
  // Secrets Manager answers only for its own region, whatever the ARN says: read a secret of another region there.
  const arnRegion = secretArn.startsWith("arn:") ? secretArn.split(":")[3] : undefined;
  const provider = new SecretsProvider(arnRegion ? { clientConfig: { region: arnRegion } } : {});
  let secret: unknown;
  try {
    secret = await provider.get(secretArn, { transform: "json", maxAge: Number.MAX_SAFE_INTEGER });
  } catch (error) {
    throw new CredentialsError(`could not read the secret ENDPOINT_SECRET_ARN (${(error as Error).name})`, { cause: error });
  }
  return parseCredentials(secret, "the secret ENDPOINT_SECRET_ARN");
}
