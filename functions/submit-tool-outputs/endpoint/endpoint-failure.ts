import * as z from "zod/mini";
import { causeCode, errorName } from "../config/errors";
import "../config/zod-messages";
import { lazySchema } from "../config/lazy-schema";
import type { AnswerHeaders } from "./endpoint-transport";

/** The endpoint's error, from either shape it comes in: OpenAI's `{error:{…}}` or Portkey's `{status:"failure",message}`. */
export interface EndpointError {
  message: string | null;
  type: string | null;
  code: string | null;
  param: string | null;
}

const OpenAiErrorBody = lazySchema(() =>
  z.object({
    error: z.looseObject({
      message: z.nullish(z.string()),
      type: z.nullish(z.string()),
      code: z.nullish(z.union([z.string(), z.number()])),
      param: z.nullish(z.string()),
    }),
  }),
);
const PortkeyFailureBody = lazySchema(() => z.looseObject({ status: z.literal("failure"), message: z.string() }));
/** AWS's JSON protocols answer `{"message": …}` (or `Message`), the error code in the `x-amzn-ErrorType` header. */
/** An AWS front door's error body, read as its message (`message`, or `Message` in some services). */
const AwsErrorBody = lazySchema(() =>
  z.union([
    z.pipe(
      z.looseObject({ message: z.string() }),
      z.transform((body) => body.message),
    ),
    z.pipe(
      z.looseObject({ Message: z.string() }),
      z.transform((body) => body.Message),
    ),
  ]),
);

export function readEndpointError(body: unknown): EndpointError | undefined {
  const openAi = OpenAiErrorBody.safeParse(body);
  if (openAi.success) {
    const e = openAi.data.error;
    return { message: e.message ?? null, type: e.type ?? null, code: e.code == null ? null : String(e.code), param: e.param ?? null };
  }
  const portkey = PortkeyFailureBody.safeParse(body);
  if (portkey.success) return { message: portkey.data.message, type: "gateway_failure", code: null, param: null };
  return undefined;
}

/**
 * An AWS front door's own error (SigV4, IAM, throttling before the API): `{"message": …}` with the code in
 * `x-amzn-ErrorType: InvalidSignatureException:http://…`. Only with that header: other endpoints' `{message}` bodies
 * (Azure's 401) keep their meaning.
 */
function readAwsError(body: unknown, headers: AnswerHeaders): EndpointError | undefined {
  const code = headers.get("x-amzn-errortype")?.split(":")[0];
  const aws = AwsErrorBody.safeParse(body);
  if (!code || !aws.success) return undefined;
  return { message: aws.data, type: "aws", code, param: null };
}

/**
 * Amazon Bedrock's answers to a deployment set up wrong, the same for every message (local/endpoint-simulator/bedrock.ts
 * has the sources): a Mantle model under the other path prefix (400 or 404 ``model `<id>` isn't supported on this
 * route``, or the misleading 401 "Berm is not enabled for this account"), and a signature scoped to another service
 * or region (403 "Credential should be scoped to …": ENDPOINT_SIGV4_SERVICE or ENDPOINT_SIGV4_REGION is wrong).
 * An IAM denial (403 AccessDeniedException) is not one of them: it stays `unauthorized`, like any refused credential.
 */
function isBedrockSetupRefusal(httpStatus: number, error: EndpointError | undefined): boolean {
  const message = error?.message ?? "";
  if ((httpStatus === 400 || httpStatus === 404) && /^model `[^`]+` isn't supported on this route/.test(message)) return true;
  if (httpStatus === 401 && message === "Berm is not enabled for this account") return true;
  return httpStatus === 403 && /^Credential should be scoped to /.test(message);
}

/** A failure worth another try: nothing says the request was wrong. */
export interface TransientFailure {
  kind: "transient";
  httpStatus?: number;
  error?: EndpointError;
  /** The server asked for this wait (`retry-after-ms` / `retry-after`). */
  retryAfterMs?: number;
  /** The request may have reached the endpoint and been acted on (5xx, timeout, reset). */
  ambiguous: boolean;
  /** The request never left: the connection was refused or the host not found. */
  notSent?: true;
  detail: string;
}

/**
 * Why a call to the endpoint did not answer 2xx, as far as HTTP tells. Each API refines `rejected` by the
 * endpoint's message (assistants/failure.ts, responses/failure.ts).
 */
export type HttpFailure =
  | { kind: "rejected" | "not_found" | "unauthorized" | "quota_exceeded"; httpStatus: number; error?: EndpointError }
  /** A gateway refused the call itself, in its own shape (`{status:"failure"}`, 4xx): its configuration, not the message. */
  | { kind: "misconfigured"; httpStatus: number; error?: EndpointError }
  | TransientFailure;

/**
 * A Portkey gateway's own 500 when it could not open a connection to the upstream (test/gateway/gateway-failures.test.ts,
 * responses-routes.test.ts): `Message: fetch failed Cause: Error: connect ECONNREFUSED <address> Name: TypeError`, as
 * text/plain on the routes it proxies and as `{"html-message": …, "provider": …}` on its explicit ones (POST and GET
 * /v1/responses). Nothing went upstream, as long as the gateway made one attempt only: credentials.ts refuses a
 * PORTKEY_CONFIG with retry or fallback, after which an earlier attempt might have been taken. A dropped connection
 * (`other side closed`) gets the same status and shape and stays ambiguous; so do a connect timeout (503) and a failed
 * name lookup, not checked against the gateway.
 */
const GATEWAY_CONNECTION_REFUSED = /^Message: fetch failed Cause: Error: connect ECONNREFUSED\b/;

/**
 * Sorts an HTTP error answer by status (and `insufficient_quota`, `x-should-retry`). `text` is the body as it came,
 * for answers that are not JSON (a gateway's own text/plain failures).
 * @example classifyHttpFailure(429, body, headers).kind === "transient"
 */
export function classifyHttpFailure(httpStatus: number, body: unknown, headers: AnswerHeaders, text = ""): HttpFailure {
  const error = readEndpointError(body) ?? readAwsError(body, headers);
  if (httpStatus === 500 && error === undefined && GATEWAY_CONNECTION_REFUSED.test(gatewayMessage(body) ?? text)) {
    return {
      kind: "transient",
      httpStatus,
      ambiguous: false,
      notSent: true,
      detail: "HTTP 500: the gateway could not connect to the upstream (ECONNREFUSED)",
    };
  }
  // `x-should-retry: true` makes any answer worth another try. Its `false` is not followed: a 5xx may
  // come after the call went upstream, so the run is looked at rather than the message dead-lettered.
  if (headers.get("x-should-retry") === "true" || (isRetryableStatus(httpStatus) && error?.code !== "insufficient_quota")) {
    return {
      kind: "transient",
      httpStatus,
      error,
      retryAfterMs: retryAfterMs(headers),
      // 409/429 say the request was not acted on; a 5xx, or a gateway's 408 (its own timeout), may
      // come after the call went upstream.
      ambiguous: httpStatus >= 500 || httpStatus === 408,
      detail: `HTTP ${httpStatus}${error?.code ? ` ${error.code}` : ""}`,
    };
  }
  if (httpStatus === 429) return { kind: "quota_exceeded", httpStatus, error };
  if (isBedrockSetupRefusal(httpStatus, error)) return { kind: "misconfigured", httpStatus, error };
  if (httpStatus === 401 || httpStatus === 403) return { kind: "unauthorized", httpStatus, error };
  if (httpStatus === 404) return { kind: "not_found", httpStatus, error };
  // Portkey answers a missing or unknown provider, an untrusted custom host or a bad config with its own 400
  // before anything goes upstream: nothing is wrong with the message, so it must not be dead-lettered for it.
  if (error?.type === "gateway_failure") return { kind: "misconfigured", httpStatus, error };
  // Azure refuses a missing api-version (classic agents), one on `/openai/v1`, or an unknown one, with a 400 for every
  // call alike: ENDPOINT_API_VERSION / RESPONSES_API_VERSION are wrong, not the message.
  if (httpStatus === 400 && isApiVersionRefusal(error)) return { kind: "misconfigured", httpStatus, error };
  return { kind: "rejected", httpStatus, error };
}

/** The words of a gateway's own failure wrapped in JSON on its explicit routes. */
function gatewayMessage(body: unknown): string | undefined {
  const message = typeof body === "object" && body !== null && "html-message" in body ? body["html-message"] : undefined;
  return typeof message === "string" ? message : undefined;
}

/** Azure's words (local/endpoint-simulator/azure.ts has the sources): `Missing required query parameter: api-version`, … */
function isApiVersionRefusal(error: EndpointError | undefined): boolean {
  return error?.code === "UnsupportedApiVersionValue" || /\bapi-version\b|\bunsupported api version\b/i.test(error?.message ?? "");
}

/** Connection errors that happen before a byte of the request is sent. */
const NOT_SENT_CODES: ReadonlySet<string> = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/** A failure below HTTP: connection refused or reset, timeout, aborted. Only a refused connection is known not to have been acted on. */
export function networkFailure(cause: unknown): TransientFailure {
  const name = errorName(cause);
  const code = String(causeCode(cause) ?? "");
  const detail = `${name}${code ? ` ${code}` : ""}`;
  return NOT_SENT_CODES.has(code)
    ? { kind: "transient", ambiguous: false, notSent: true, detail }
    : { kind: "transient", ambiguous: true, detail };
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** `retry-after-ms` (milliseconds) first, else `retry-after` (seconds or an HTTP date), as openai-node reads them. */
export function retryAfterMs(headers: AnswerHeaders): number | undefined {
  const ms = Number.parseFloat(headers.get("retry-after-ms") ?? "");
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers.get("retry-after");
  if (value === null) return undefined;
  const seconds = Number.parseFloat(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
