import * as z from "zod/mini";
import "./zod-messages";
import { CredentialsError } from "./errors";

/**
 * Endpoint credentials. Which ones are set picks the endpoint mode, with no code fork:
 * - hosted Portkey: PORTKEY_API_KEY + PORTKEY_VIRTUAL_KEY (or PORTKEY_CONFIG);
 * - self-hosted Portkey gateway: PORTKEY_PROVIDER + ENDPOINT_BEARER_TOKEN (the provider's key);
 * - a direct OpenAI-compatible server: ENDPOINT_BEARER_TOKEN alone.
 */
export interface EndpointCredentials {
  PORTKEY_API_KEY?: string;
  PORTKEY_VIRTUAL_KEY?: string;
  PORTKEY_PROVIDER?: string;
  PORTKEY_CONFIG?: string;
  ENDPOINT_BEARER_TOKEN?: string;
}

const CREDENTIAL_KEYS = ["PORTKEY_API_KEY", "PORTKEY_VIRTUAL_KEY", "PORTKEY_PROVIDER", "PORTKEY_CONFIG", "ENDPOINT_BEARER_TOKEN"] as const;

const CredentialsSchema = z
  .strictObject(Object.fromEntries(CREDENTIAL_KEYS.map((key) => [key, z.optional(z.string().check(z.minLength(1)))])))
  .check(
    z.refine((c) => c.PORTKEY_API_KEY !== undefined || c.ENDPOINT_BEARER_TOKEN !== undefined, {
      error: "needs PORTKEY_API_KEY (hosted Portkey) or ENDPOINT_BEARER_TOKEN (self-hosted gateway or direct server)",
    }),
  );

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

/** The headers that authenticate a request, built once per cold start. */
export function credentialHeaders(c: EndpointCredentials): Record<string, string> {
  const headers: Record<string, string> = {};
  if (c.PORTKEY_API_KEY) headers["x-portkey-api-key"] = c.PORTKEY_API_KEY;
  if (c.PORTKEY_VIRTUAL_KEY) headers["x-portkey-virtual-key"] = c.PORTKEY_VIRTUAL_KEY;
  if (c.PORTKEY_PROVIDER) headers["x-portkey-provider"] = c.PORTKEY_PROVIDER;
  if (c.PORTKEY_CONFIG) headers["x-portkey-config"] = c.PORTKEY_CONFIG;
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
