import { CredentialsError, errorName } from "../../config/errors";
import { bearerKind } from "./bearer";
import type { AuthorizerOptions, CredentialKind, KindCredentials, RequestAuthorizer } from "./credential-kind";
import { listed } from "./credential-kind";
import { entraKind } from "./entra";
import { portkeyKind } from "./portkey";
import { sigV4Kind } from "./sigv4";

/**
 * Every way of authenticating to the endpoint, one file each (docs/endpoints.md, one section per mode). Which keys
 * are set picks the kinds in use, with no code fork; a new kind is a file and a line here.
 */
export const CREDENTIAL_KINDS = [portkeyKind, bearerKind, entraKind, sigV4Kind] as const;

type Kind = (typeof CREDENTIAL_KINDS)[number];
/** A key of any kind, e.g. `PORTKEY_API_KEY`. */
export type CredentialKey = Kind["keys"][number];

/** Endpoint credentials as the secret (or the environment) holds them, validated. */
export type EndpointCredentials = KindCredentials<CredentialKey>;

/** Every kind's keys, in the registry's order: what the secret may hold and the environment is read for. */
export const CREDENTIAL_KEYS: readonly CredentialKey[] = CREDENTIAL_KINDS.flatMap((kind): readonly CredentialKey[] => kind.keys);

/** Asks `kind` with the whole credentials: a kind reads only its own keys. */
const asKind = (kind: Kind) => kind as CredentialKind<CredentialKey>;

/** The kinds the credentials use, in the registry's order. */
export function kindsOf(c: EndpointCredentials): Kind[] {
  return CREDENTIAL_KINDS.filter((kind) => asKind(kind).uses(c));
}

/** Rules across keys: each kind's own, then across kinds; each names keys only, never a value. */
function checkCombination(c: EndpointCredentials, problem: (message: string) => void): void {
  const authorizing = kindsOf(c).flatMap((kind) => (kind.authorizationLabel === undefined ? [] : [kind.authorizationLabel]));
  for (const kind of CREDENTIAL_KINDS) asKind(kind).check?.(c, { authorization: authorizing[0], problem });
  if (authorizing.length > 1) problem(`${listed(authorizing)} both set the Authorization header: keep one`);
  if (!CREDENTIAL_KINDS.some((kind) => asKind(kind).suffices(c))) {
    problem(
      `the credentials need ${listed(
        CREDENTIAL_KINDS.map((kind) => kind.needs),
        "or",
      )}`,
    );
  }
}

const KNOWN_KEYS: ReadonlySet<string> = new Set(CREDENTIAL_KEYS);

/**
 * Validates credentials, naming keys and never values in its errors. Checked by hand, not by a zod schema: credentials
 * from the environment are checked at init, where building a schema of twelve optional strings and zod's first parse
 * cost about 2 ms of each cold start (bench/README.md).
 * @throws CredentialsError listing every problem found.
 */
export function parseCredentials(value: unknown, source: string): EndpointCredentials {
  const problems: string[] = [];
  if (!isRecord(value)) {
    problems.push(`expected an object of keys, got ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}`);
  } else {
    const unknown = Object.keys(value).filter((key) => !KNOWN_KEYS.has(key));
    if (unknown.length > 0) problems.push(`unknown key(s) ${unknown.join(", ")}`);
    for (const key of CREDENTIAL_KEYS) {
      const v = value[key];
      if (v !== undefined && (typeof v !== "string" || v === "")) problems.push(`${key} must be a non-empty string`);
    }
    // The rules across keys read strings: only once every value is one.
    if (!CREDENTIAL_KEYS.some((key) => value[key] !== undefined && typeof value[key] !== "string")) {
      checkCombination(value as EndpointCredentials, (message) => problems.push(message));
    }
  }
  if (problems.length > 0) throw new CredentialsError(`credentials from ${source}: ${problems.join("; ")}`);
  const credentials = value as Record<string, unknown>;
  return Object.fromEntries(CREDENTIAL_KEYS.flatMap((key) => (credentials[key] === undefined ? [] : [[key, credentials[key]]])));
}

/**
 * Refuses credentials that would go where they do not belong, once the endpoint's URLs are known (each kind says
 * what it guards: e.g. Portkey keys never to an Azure host, nothing but a Portkey key to hosted Portkey).
 * @throws CredentialsError naming the keys and the variable, never a value.
 * @example checkCredentialDestinations(credentials, [["ENDPOINT_BASE_URL", config.endpointBaseUrl]]);
 */
export function checkCredentialDestinations(
  c: EndpointCredentials,
  destinations: ReadonlyArray<readonly [variable: string, url: URL]>,
): void {
  const seen = new Set<string>();
  for (const [variable, url] of destinations) {
    if (seen.has(url.href)) continue;
    seen.add(url.href);
    for (const kind of CREDENTIAL_KINDS) {
      const problem = asKind(kind).destinationProblem?.(c, variable, url);
      if (problem !== undefined) throw new CredentialsError(problem);
    }
  }
}

/** The static headers that authenticate a request, built once per cold start (per-request ones come from `openEndpointAuth`). */
export function credentialHeaders(c: EndpointCredentials): Record<string, string> {
  return Object.assign({}, ...CREDENTIAL_KINDS.map((kind) => asKind(kind).headers?.(c) ?? {}));
}

/** How every call to the endpoint is authenticated and traced, for endpoint-http.ts. */
export interface EndpointAuth {
  /** Sent on every call. */
  headers: Record<string, string>;
  /** The header that carries the message id, if the endpoint takes one. */
  traceHeader: string | undefined;
  /** Per-request credentials, when a kind in use needs them. */
  authorizer: RequestAuthorizer | undefined;
}

/**
 * Opens the credentials for calls: static headers, the trace header of the first kind in use that names one, and the
 * per-request authorizer of the kinds that have one (their code loaded now, only when in use).
 * @example const auth = await openEndpointAuth(await loadCredentials(config.endpointSecretArn, env), { timeoutMs: 10_000 });
 */
export async function openEndpointAuth(c: EndpointCredentials, options: AuthorizerOptions): Promise<EndpointAuth> {
  const used = kindsOf(c).map(asKind);
  const authorizers = await Promise.all(used.flatMap((kind) => (kind.authorizer ? [kind.authorizer(c, options)] : [])));
  return {
    headers: credentialHeaders(c),
    traceHeader: used.find((kind) => kind.traceHeader !== undefined)?.traceHeader,
    authorizer: authorizers.length <= 1 ? authorizers[0] : allOf(authorizers),
  };
}

/** Several per-request authorizers as one: every one's headers; a second send when any renews. */
function allOf(authorizers: RequestAuthorizer[]): RequestAuthorizer {
  return {
    authorize: async (request) => Object.assign({}, ...(await Promise.all(authorizers.map((a) => a.authorize(request))))),
    renew: async (sent, signal) => (await Promise.all(authorizers.map((a) => a.renew?.(sent, signal) ?? false))).some(Boolean),
  };
}

/**
 * Loads credentials from the Secrets Manager secret when one is configured, else from the environment.
 * The secret is read through Powertools Parameters; the caller keeps the result for the life of the
 * execution environment (one read per cold start).
 * @example const credentials = await loadCredentials(config.endpointSecretArn, process.env);
 */
export async function loadCredentials(
  secretArn: string | undefined,
  env: Record<string, string | undefined>,
  destinations: ReadonlyArray<readonly [variable: string, url: URL]> = [],
): Promise<EndpointCredentials> {
  const fromEnv = (keys: readonly CredentialKey[]) => Object.fromEntries(keys.flatMap((key) => (env[key] ? [[key, env[key]]] : [])));
  if (secretArn === undefined) return parseCredentials(withImplied(fromEnv(CREDENTIAL_KEYS), destinations), "the environment");
  // Loaded lazily: runs without a secret (local, tests) never evaluate the Secrets Manager client.
  const { SecretsProvider } = await import("@aws-lambda-powertools/parameters/secrets");
  // Secrets Manager answers only for its own region, whatever the ARN says: read a secret of another region there.
  const arnRegion = secretArn.startsWith("arn:") ? secretArn.split(":")[3] : undefined;
  const provider = new SecretsProvider(arnRegion ? { clientConfig: { region: arnRegion } } : {});
  let secret: unknown;
  try {
    secret = await provider.get(secretArn, { transform: "json", maxAge: Number.MAX_SAFE_INTEGER });
  } catch (error) {
    throw new CredentialsError(`could not read the secret ENDPOINT_SECRET_ARN (${errorName(error)})`, { cause: error });
  }
  const settings = fromEnv(CREDENTIAL_KINDS.flatMap((kind): readonly CredentialKey[] => asKind(kind).environmentKeys ?? []));
  const withSettings = isRecord(secret) && Object.keys(settings).length > 0 ? { ...secret, ...settings } : secret;
  return parseCredentials(
    isRecord(withSettings) ? withImplied(withSettings, destinations) : withSettings,
    "the secret ENDPOINT_SECRET_ARN",
  );
}

/**
 * The keys as loaded, plus what the first kind that implies any implies from where the calls go, when the loaded keys
 * put no kind in use (a Bedrock host and no other credential: SigV4 for its service).
 * @example withImplied({}, [["RESPONSES_BASE_URL", new URL("https://bedrock-mantle.eu-west-1.api.aws/v1")]]) // { ENDPOINT_SIGV4_SERVICE: "bedrock-mantle" }
 */
export function withImplied(
  loaded: Record<string, unknown>,
  destinations: ReadonlyArray<readonly [variable: string, url: URL]>,
): Record<string, unknown> {
  const asCredentials = loaded as EndpointCredentials;
  if (CREDENTIAL_KINDS.some((kind) => asKind(kind).uses(asCredentials))) return loaded;
  for (const kind of CREDENTIAL_KINDS) {
    const implied = asKind(kind).implied?.(destinations);
    if (implied !== undefined) return { ...loaded, ...implied };
  }
  return loaded;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
