import * as z from "zod/mini";
import "./zod-messages";
import { CredentialsError } from "./errors";

/**
 * Endpoint credentials. Which ones are set picks the endpoint mode, with no code fork:
 * - hosted Portkey: PORTKEY_API_KEY + PORTKEY_VIRTUAL_KEY (or PORTKEY_CONFIG);
 * - self-hosted Portkey gateway: PORTKEY_PROVIDER + ENDPOINT_BEARER_TOKEN (the provider's key), and
 *   PORTKEY_CUSTOM_HOST when the provider is an OpenAI-compatible server at its own URL;
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

/** Rules across keys; each names keys only. */
function checkCombination(c: CredentialRecord, ctx: z.core.$RefinementCtx<CredentialRecord>): void {
  const entra = ENTRA_KEYS.filter((key) => c[key] !== undefined);
  const problem = (message: string) => ctx.issues.push({ code: "custom", message, input: c });
  if (entra.length > 0 && entra.length < ENTRA_KEYS.length) {
    const missing = ENTRA_KEYS.filter((key) => c[key] === undefined);
    problem(`Entra ID needs all of ${ENTRA_KEYS.join(", ")} (missing ${missing.join(", ")})`);
  }
  const orphans = ENTRA_SETTINGS.filter((key) => c[key] !== undefined);
  if (entra.length === 0 && orphans.length > 0) problem(`${orphans.join(", ")} need(s) ${ENTRA_KEYS.join(", ")}`);
  if (entra.length > 0 && c.ENDPOINT_BEARER_TOKEN !== undefined) {
    problem("ENDPOINT_BEARER_TOKEN and Entra ID (AZURE_*) both set the Authorization header: keep one");
  }
  if (c.PORTKEY_API_KEY === undefined && c.ENDPOINT_BEARER_TOKEN === undefined && entra.length === 0) {
    problem(
      "needs PORTKEY_API_KEY (hosted Portkey), ENDPOINT_BEARER_TOKEN (self-hosted gateway or direct server) " +
        `or ${ENTRA_KEYS.join(" + ")} (Azure AI Foundry, Entra ID)`,
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
        : `${issue.path.join(".") || "value"} ${issue.message}`,
    );
    throw new CredentialsError(`credentials from ${source}: ${problems.join("; ")}`);
  }
  return parsed.data as EndpointCredentials;
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
