/**
 * Entra ID access tokens for Azure AI Foundry (classic agents and the `/openai/v1` Responses API), by the
 * OAuth 2.0 client-credentials grant: one form POST to `{authority}/{tenant}/oauth2/v2.0/token`.
 *
 * Written by hand instead of with @azure/identity's ClientSecretCredential, measured by bench/entra-token.ts
 * (4.14.1, Node 24): it adds ~447 KiB (130 KiB gzip, 408 modules) to the bundle against ~7 KiB here, and even
 * when never loaded it lengthens every mode's cold start (relay import 1.14× to 1.5× across our runs: the whole
 * bundle is parsed); it takes ~30 ms to load,
 * fetches the OpenID configuration before its first token (and, unless told not to, asks Microsoft's instance
 * discovery about any non-default authority host), does not share one request among concurrent first callers
 * (ten callers, ten token requests), and refuses a plain-http authority even on loopback, so it could not run
 * against the local endpoint simulator. What we give up (certificates, managed identity, CAE claims challenges)
 * the relay does not use: its contract is a client secret.
 *
 * Loaded lazily by the Entra ID kind (entra.ts) when credentials use it, so other modes do not evaluate it. Neither the secret nor a token is ever logged or put into an error message.
 */
import * as z from "zod/mini";
import { isLoopbackHost } from "../../config/config";
import { causeCode, errorName } from "../../config/errors";
import { lazySchema } from "../../config/lazy-schema";
import type { RequestAuthorizer } from "./credential-kind";
import { ALL_ENTRA_KEYS, EntraTokenError, refusal } from "./entra-token-error";

export { EntraTokenError } from "./entra-token-error";

export const DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com";
export const DEFAULT_TOKEN_SCOPE = "https://ai.azure.com/.default";

/** The Entra ID kind's keys (entra.ts), as the secret or the environment holds them. */
export type EntraCredentials = Readonly<
  Partial<Record<"AZURE_TENANT_ID" | "AZURE_CLIENT_ID" | "AZURE_CLIENT_SECRET" | "AZURE_AUTHORITY_HOST" | "AZURE_TOKEN_SCOPE", string>>
>;

/** A cached token is refreshed this long before it expires, at most (see `refreshMarginMs`). */
const MAX_REFRESH_MARGIN_MS = 5 * 60_000;
const DEFAULT_TIMEOUT_MS = 10_000;

/** The token answer's fields the relay reads; another shape, or a field of another type, reads as absent (and is refused). */
const TokenAnswer = lazySchema(() =>
  z.catch(
    z.object({
      access_token: z.catch(z.optional(z.string()), undefined),
      token_type: z.catch(z.optional(z.string()), undefined),
      expires_in: z.catch(z.optional(z.union([z.number(), z.string()])), undefined),
    }),
    {},
  ),
);

export interface EntraTokenSourceOptions {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Default `https://login.microsoftonline.com`; https unless the host is loopback. */
  authorityHost?: string;
  /** Default `https://ai.azure.com/.default`; client credentials need a `/.default` scope. */
  scope?: string;
  /** Limit for one token request. Default 10 000 ms. */
  timeoutMs?: number;
  /** Clock in epoch milliseconds, for expiry. Default `Date.now`. */
  now?: () => number;
}

/** Bearer tokens for one principal and scope, shared by every caller of the execution environment. */
export interface TokenSource {
  /**
   * A token valid for a while yet: the cached one, or a new one. Concurrent callers share one token
   * request (single flight); `signal` gives up this caller's wait, not the shared request. When a refresh
   * fails while the cached token has not expired yet, that token is still returned (an Entra outage in the
   * refresh margin costs nothing); the next call tries to refresh again.
   * @throws EntraTokenError when no token can be had (a configuration failure, or a transient one).
   */
  token(signal?: AbortSignal): Promise<string>;
  /** Forgets `token` if it is still the cached one (the endpoint answered 401), so the next `token()` fetches anew. */
  invalidate(token: string): void;
}

/**
 * How long before expiry a cached token is replaced: 10 % of its lifetime, at most 5 minutes. Entra's
 * tokens live 60–90 minutes, so that is MSAL's own 5-minute renewal offset, far more than one endpoint call
 * plus clock drift needs; a short lifetime (a token policy, a test) keeps 90 % of it usable instead of none.
 * @example refreshMarginMs(3_600_000) // 300 000
 */
export function refreshMarginMs(lifetimeMs: number): number {
  return Math.min(MAX_REFRESH_MARGIN_MS, lifetimeMs / 10);
}

function checkedAuthority(value: string | undefined): string {
  const invalid = (problem: string) => new EntraTokenError(`AZURE_AUTHORITY_HOST ${problem}`, "AZURE_AUTHORITY_HOST");
  let url: URL;
  try {
    url = new URL(value ?? DEFAULT_AUTHORITY_HOST);
  } catch {
    throw invalid("must be an absolute URL such as https://login.microsoftonline.com");
  }
  if (!(url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname)))) {
    throw invalid("must use https (plain http is allowed only for a loopback host such as 127.0.0.1)");
  }
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
    throw invalid("must be a plain origin such as https://login.microsoftonline.com (no query, fragment or user info)");
  }
  return url.href.replace(/\/+$/, "");
}

function checkedOptions(o: EntraTokenSourceOptions) {
  // A tenant is a GUID or a domain name: anything else could change the token URL's path.
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(o.tenantId)) {
    throw new EntraTokenError("AZURE_TENANT_ID must be a tenant GUID or domain name", "AZURE_TENANT_ID");
  }
  if (o.clientId === "") throw new EntraTokenError("AZURE_CLIENT_ID is empty", "AZURE_CLIENT_ID");
  if (o.clientSecret === "") throw new EntraTokenError("AZURE_CLIENT_SECRET is empty", "AZURE_CLIENT_SECRET");
  const scope = o.scope ?? DEFAULT_TOKEN_SCOPE;
  if (!scope.endsWith("/.default")) {
    throw new EntraTokenError("AZURE_TOKEN_SCOPE must end with /.default (the client-credentials grant needs it)", "AZURE_TOKEN_SCOPE");
  }
  return { ...o, scope, tokenUrl: `${checkedAuthority(o.authorityHost)}/${o.tenantId}/oauth2/v2.0/token` };
}

interface CachedToken {
  token: string;
  refreshAt: number;
  expiresAt: number;
}

/** Rejects when `signal` aborts, without cancelling the shared request behind `promise`. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

class EntraTokenSource implements TokenSource {
  readonly #settings: ReturnType<typeof checkedOptions>;
  readonly #now: () => number;
  #cached: CachedToken | undefined;
  #pending: Promise<CachedToken> | undefined;

  constructor(options: EntraTokenSourceOptions) {
    this.#settings = checkedOptions(options);
    this.#now = options.now ?? Date.now;
  }

  async token(signal?: AbortSignal): Promise<string> {
    signal?.throwIfAborted();
    const cached = this.#cached;
    if (cached !== undefined && this.#now() < cached.refreshAt) return cached.token;
    if (this.#pending === undefined) {
      const request = this.#request().finally(() => {
        this.#pending = undefined;
      });
      // Every waiter may have given up by the time it fails: never an unhandled rejection.
      request.catch(() => undefined);
      this.#pending = request;
    }
    try {
      return (await untilAborted(this.#pending, signal)).token;
    } catch (error) {
      const stale = this.#cached;
      if (error instanceof EntraTokenError && stale !== undefined && this.#now() < stale.expiresAt) return stale.token;
      throw error;
    }
  }

  invalidate(token: string): void {
    if (this.#cached?.token === token) this.#cached = undefined;
  }

  async #request(): Promise<CachedToken> {
    const { tokenUrl, clientId, clientSecret, scope, timeoutMs } = this.#settings;
    const sentAt = this.#now();
    let response: Response;
    let body: unknown;
    try {
      response = await fetch(tokenUrl, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: clientSecret, scope }),
        // Never resend the secret to wherever a redirect points.
        redirect: "error",
        signal: AbortSignal.timeout(timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
      body = await response.json().catch(() => undefined);
    } catch (error) {
      const reason = causeCode(error) ?? errorName(error);
      throw new EntraTokenError(
        `Entra ID token request failed: could not reach the token endpoint (${String(reason)}); check AZURE_AUTHORITY_HOST`,
        "AZURE_AUTHORITY_HOST",
        { transient: true },
      );
    }
    if (!response.ok) throw refusal(response.status, body);
    const answer = TokenAnswer.parse(body);
    const lifetimeSeconds = typeof answer.expires_in === "string" ? Number(answer.expires_in) : answer.expires_in;
    const bearer = typeof answer.token_type === "string" && answer.token_type.toLowerCase() === "bearer";
    if (typeof answer.access_token !== "string" || answer.access_token === "" || !bearer || typeof lifetimeSeconds !== "number") {
      throw new EntraTokenError(
        `Entra ID token request: HTTP ${response.status} without a Bearer access_token and expires_in; check AZURE_AUTHORITY_HOST`,
        "AZURE_AUTHORITY_HOST",
        { httpStatus: response.status },
      );
    }
    // Counted from the moment the request left: the token cannot have been minted earlier.
    const lifetimeMs = Math.max(0, lifetimeSeconds * 1000);
    const cached = {
      token: answer.access_token,
      refreshAt: sentAt + lifetimeMs - refreshMarginMs(lifetimeMs),
      expiresAt: sentAt + lifetimeMs,
    };
    this.#cached = cached;
    return cached;
  }
}

/**
 * A token source for one principal and scope; build one per execution environment and share it.
 * @example
 * const tokens = createEntraTokenSource({ tenantId, clientId, clientSecret });
 * const { authorization } = await entraAuthorizer(tokens).authorize(request);
 */
export function createEntraTokenSource(options: EntraTokenSourceOptions): TokenSource {
  return new EntraTokenSource(options);
}

/**
 * The token source for Entra ID credentials as credentials.ts validated them (all three keys present).
 * @example const tokens = entraTokenSourceFromCredentials(credentials, { timeoutMs: config.endpointTimeoutMs });
 */
export function entraTokenSourceFromCredentials(
  c: EntraCredentials,
  options: Pick<EntraTokenSourceOptions, "timeoutMs" | "now"> = {},
): TokenSource {
  if (c.AZURE_TENANT_ID === undefined || c.AZURE_CLIENT_ID === undefined || c.AZURE_CLIENT_SECRET === undefined) {
    throw new EntraTokenError(`Entra ID needs all of ${ALL_ENTRA_KEYS}`, ALL_ENTRA_KEYS);
  }
  return createEntraTokenSource({
    tenantId: c.AZURE_TENANT_ID,
    clientId: c.AZURE_CLIENT_ID,
    clientSecret: c.AZURE_CLIENT_SECRET,
    authorityHost: c.AZURE_AUTHORITY_HOST,
    scope: c.AZURE_TOKEN_SCOPE,
    ...options,
  });
}

/**
 * Per-request `Authorization: Bearer <token>`. After a 401, forgets that token and says to send once more when a
 * different one can be had (a 401 means the endpoint did not act on it, so a POST may be resent): a fresh one, or a
 * newer one another caller already fetched. When no different token can be had, the first 401 stands; so does a second.
 * @example const headers = await entraAuthorizer(tokens).authorize(request); // { authorization: "Bearer …" }
 */
export function entraAuthorizer(source: TokenSource): RequestAuthorizer {
  const bearer = (header: string | undefined) => header?.replace(/^Bearer /, "");
  return {
    authorize: async ({ signal }) => ({ authorization: `Bearer ${await source.token(signal)}` }),
    async renew(sent, signal) {
      const first = bearer(sent.authorization);
      if (first === undefined) return false;
      source.invalidate(first);
      return (await source.token(signal)) !== first;
    },
  };
}
