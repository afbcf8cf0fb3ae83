/**
 * The seam for one way of authenticating to the endpoint. Each kind is a file in this folder and one line in
 * credentials.ts's `CREDENTIAL_KINDS`: it declares its keys (the secret's JSON, or the environment), what it
 * refuses at cold start, how it authorizes a request, and the header that carries the message id to its endpoint.
 */

/** A kind's view of the credentials: only its own keys, never a value in a message. */
export type KindCredentials<K extends string> = Readonly<Partial<Record<K, string>>>;

/** One request as it will be sent, for a kind that authorizes it per request (a token; a signature over all of it). */
export interface EndpointRequest {
  method: "GET" | "POST";
  url: URL;
  /** Every header of the request but the kind's own authorization ones. */
  headers: Readonly<Record<string, string>>;
  /** The exact body sent (JSON text), if any. */
  body: string | undefined;
  /** The call's signal: give up with it. */
  signal: AbortSignal;
}

/**
 * Per-request credentials. `authorize` runs before every send (also the second one after `renew`); its headers are
 * added to the request's own. A failure to get credentials is thrown as a `CredentialsError` (config/errors.ts)
 * whose `details` say `{ httpStatus?, transient? }`: the call then fails without being sent.
 * @example const auth = await authorizer.authorize({ method: "GET", url, headers, body: undefined, signal });
 */
export interface RequestAuthorizer {
  authorize(request: EndpointRequest): Promise<Record<string, string>>;
  /**
   * The endpoint answered 401 to a request sent with `sent` (this authorizer's headers): true when a second send,
   * authorized anew, may succeed (a fresh token). A 401 means the endpoint did not act, so a POST may be resent.
   */
  renew?(sent: Readonly<Record<string, string>>, signal: AbortSignal): Promise<boolean>;
}

/** What a kind's cold-start check is told about the others, and how it reports a problem. */
export interface KindCheck {
  /** The label of the kind that sets `Authorization` (e.g. `ENDPOINT_BEARER_TOKEN`), if one is in use. */
  authorization: string | undefined;
  /** Reports one problem: names keys, never a value. */
  problem(message: string): void;
}

/**
 * One way of authenticating to the endpoint.
 * @example export const bearerKind: CredentialKind<"ENDPOINT_BEARER_TOKEN"> = { name: "bearer", keys: ["ENDPOINT_BEARER_TOKEN"], … };
 */
export interface CredentialKind<K extends string> {
  /** Short name, for tests and logs (`portkey`, `bearer`, `entra`). */
  name: string;
  /** Every key the kind reads, in the order the docs and the secret's description list them. */
  keys: readonly K[];
  /**
   * Keys read from the function's environment even when a secret holds the rest (settings that are no secret and
   * that a deployment without a secret still needs). The environment's value wins over the secret's.
   */
  environmentKeys?: readonly K[];
  /** True when the credentials use this kind (one of its keys that make it one is set). */
  uses(c: KindCredentials<K>): boolean;
  /** True when this kind alone is enough to call an endpoint; when no kind is, cold start names every kind's `needs`. */
  suffices(c: KindCredentials<K>): boolean;
  /** What the kind needs, for "the credentials need …", e.g. `ENDPOINT_BEARER_TOKEN (a direct server)`. */
  needs: string;
  /** Set when the kind sends `Authorization`: its label in messages; two such kinds in use are refused. */
  authorizationLabel?: string;
  /** Rules across this kind's keys (and with the kind that sets `Authorization`), reported through `check.problem`. */
  check?(c: KindCredentials<K>, check: KindCheck): void;
  /**
   * Why these credentials must not go to `url` (the variable `variable` names it), or undefined. Asked of every kind,
   * used or not: a kind also guards its endpoint against the others' credentials.
   */
  destinationProblem?(c: KindCredentials<K>, variable: string, url: URL): string | undefined;
  /** The headers sent on every call, built once per cold start. */
  headers?(c: KindCredentials<K>): Record<string, string>;
  /**
   * Per-request credentials, when static headers are not enough. Loaded on first use only (keep heavy code behind a
   * dynamic import here, so other modes never evaluate it).
   */
  authorizer?(c: KindCredentials<K>, options: { timeoutMs: number }): Promise<RequestAuthorizer>;
  /**
   * The header that carries the SQS message id to this kind's endpoint, as that endpoint's docs name it, so a call can
   * be found in its logs; the first kind in use that names one sends it. None: nothing is sent.
   */
  traceHeader?: string;
}

/** `a`, `a and b`, `a, b and c`. */
export const listed = (items: readonly string[], last = "and") =>
  items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} ${last} ${items.at(-1)}`;
