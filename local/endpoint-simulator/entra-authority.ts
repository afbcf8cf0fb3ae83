/**
 * A loopback stand-in for Microsoft Entra ID's token endpoint (`POST /{tenant}/oauth2/v2.0/token`,
 * client-credentials grant) and its OpenID configuration document, for the simulator's Azure mode.
 *
 * Errors use Entra's shape: `{error, error_description: "AADSTSnnn: … Trace ID … Correlation ID …
 * Timestamp …", error_codes: [nnn], timestamp, trace_id, correlation_id, error_uri}`, as the Entra
 * protocol docs and the issue threads quoting real answers show them (e.g. AADSTS7000215 with 401
 * invalid_client, AADSTS90002 with 400 invalid_request). The wording is ours where the sources differ.
 * Tokens are opaque random strings that expire on the simulator's clock.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { Reply } from "./replies";

/** The one resource the simulated Foundry endpoint accepts tokens for. */
export const FOUNDRY_SCOPE = "https://ai.azure.com/.default";

export interface EntraAuthorityConfig {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  lifetimeSeconds: number;
  now: () => number;
}

export interface EntraCounters {
  tokenRequests: number;
  tokensIssued: number;
}

export type TokenCheck = { valid: true; clientId: string } | { valid: false; reason: "missing" | "unknown" | "expired" };

const TOKEN_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/token$/;
const OPENID_PATH = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/;
/** Sweeping expired tokens past this many keeps a long soak from growing the map without end. */
const SWEEP_ABOVE = 1000;

/** Entra's timestamp format: `2024-10-03 18:40:55Z`. */
function entraTimestamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")}Z`;
}

function entraError(status: number, error: string, code: number, description: string, at: number): Reply {
  const timestamp = entraTimestamp(at);
  const traceId = randomUUID();
  const correlationId = randomUUID();
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
    headers: { "cache-control": "no-store, no-cache", pragma: "no-cache" },
  };
}

export class EntraAuthority {
  readonly #config: EntraAuthorityConfig;
  readonly #counters: EntraCounters;
  /** Minted tokens: who they are for and when they stop working (epoch ms). */
  readonly #tokens = new Map<string, { clientId: string; expiresAt: number }>();

  constructor(config: EntraAuthorityConfig, counters: EntraCounters) {
    this.#config = config;
    this.#counters = counters;
  }

  /**
   * Answers the identity routes at the server root; undefined for any other path.
   * @example authority.handle("POST", "/tenant-1/oauth2/v2.0/token", "grant_type=client_credentials&…", origin)
   */
  handle(method: string, path: string, body: string, origin: string): Reply | undefined {
    const token = TOKEN_PATH.exec(path);
    if (token !== null) {
      this.#counters.tokenRequests += 1;
      return this.#tokenRequest(method, token[1]!, new URLSearchParams(body));
    }
    const openid = OPENID_PATH.exec(path);
    if (openid !== null && method === "GET") return this.#openidConfiguration(openid[1]!, origin);
    return undefined;
  }

  /** Whether an `Authorization` header value carries a token minted here that has not expired. */
  check(authorization: string | undefined): TokenCheck {
    const match = /^Bearer (\S+)$/i.exec(authorization ?? "");
    if (match === null) return { valid: false, reason: "missing" };
    const minted = this.#tokens.get(match[1]!);
    if (minted === undefined) return { valid: false, reason: "unknown" };
    if (this.#config.now() >= minted.expiresAt) return { valid: false, reason: "expired" };
    return { valid: true, clientId: minted.clientId };
  }

  /** Every token minted so far stops working now (new ones can be fetched). */
  expireAll(): void {
    const at = this.#config.now();
    for (const minted of this.#tokens.values()) minted.expiresAt = Math.min(minted.expiresAt, at);
  }

  #tokenRequest(method: string, tenant: string, form: URLSearchParams): Reply {
    const { tenantId, clientId, clientSecret, lifetimeSeconds, now } = this.#config;
    const at = now();
    const missing = (name: string) =>
      entraError(400, "invalid_request", 900144, `The request body must contain the following parameter: '${name}'.`, at);
    if (method !== "POST") {
      return entraError(
        400,
        "invalid_request",
        900561,
        `The endpoint only accepts POST, OPTIONS requests. Received a ${method} request.`,
        at,
      );
    }
    if (tenant !== tenantId) return tenantNotFound(tenant, at);
    const grantType = form.get("grant_type");
    if (grantType === null) return missing("grant_type");
    if (grantType !== "client_credentials") {
      return entraError(400, "unsupported_grant_type", 70003, `The app requested an unsupported grant type '${grantType}'.`, at);
    }
    const client = form.get("client_id");
    if (client === null) return missing("client_id");
    if (client !== clientId) {
      return entraError(
        400,
        "unauthorized_client",
        700016,
        `Application with identifier '${client}' was not found in the directory '${tenant}'. This can happen if the application ` +
          "has not been installed by the administrator of the tenant or consented to by any user in the tenant. " +
          "You may have sent your authentication request to the wrong tenant.",
        at,
      );
    }
    const secret = form.get("client_secret");
    if (secret === null) {
      return entraError(
        401,
        "invalid_client",
        7000216,
        "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
        at,
      );
    }
    if (secret !== clientSecret) {
      return entraError(
        401,
        "invalid_client",
        7000215,
        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, " +
          `not the client secret ID, for a secret added to app '${clientId}'.`,
        at,
      );
    }
    const scope = form.get("scope");
    if (scope === null) return missing("scope");
    if (!scope.endsWith("/.default")) {
      return entraError(
        400,
        "invalid_scope",
        1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default ` +
          "suffixed to the resource identifier (application ID URI).",
        at,
      );
    }
    if (scope !== FOUNDRY_SCOPE) {
      return entraError(
        400,
        "invalid_resource",
        500011,
        `The resource principal named ${scope.slice(0, -"/.default".length)} was not found in the tenant named ${tenant}. ` +
          "This can happen if the application has not been installed by the administrator of the tenant or consented to by " +
          "any user in the tenant. You might have sent your authentication request to the wrong tenant.",
        at,
      );
    }
    return this.#mint(client, at, lifetimeSeconds);
  }

  #mint(client: string, at: number, lifetimeSeconds: number): Reply {
    if (this.#tokens.size > SWEEP_ABOVE) {
      for (const [token, minted] of this.#tokens) if (minted.expiresAt <= at) this.#tokens.delete(token);
    }
    const accessToken = `simtok_${randomBytes(32).toString("base64url")}`;
    this.#tokens.set(accessToken, { clientId: client, expiresAt: at + lifetimeSeconds * 1000 });
    this.#counters.tokensIssued += 1;
    return {
      status: 200,
      body: { token_type: "Bearer", expires_in: lifetimeSeconds, ext_expires_in: lifetimeSeconds, access_token: accessToken },
      headers: { "cache-control": "no-store, no-cache", pragma: "no-cache" },
    };
  }

  /** What MSAL-based clients (e.g. @azure/identity) read before their first token request. */
  #openidConfiguration(tenant: string, origin: string): Reply {
    if (tenant !== this.#config.tenantId) return tenantNotFound(tenant, this.#config.now());
    const base = `${origin}/${tenant}`;
    return {
      status: 200,
      body: {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        jwks_uri: `${base}/discovery/v2.0/keys`,
        response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
        subject_types_supported: ["pairwise"],
        id_token_signing_alg_values_supported: ["RS256"],
        issuer: `${base}/v2.0`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        tenant_region_scope: "EU",
      },
    };
  }
}

function tenantNotFound(tenant: string, at: number): Reply {
  return entraError(
    400,
    "invalid_request",
    90002,
    `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. ` +
      "Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.",
    at,
  );
}
