import * as z from "zod/mini";
import "./zod-messages";

/** The endpoint's error, from either shape it comes in: OpenAI's `{error:{…}}` or Portkey's `{status:"failure",message}`. */
export interface EndpointError {
  message: string | null;
  type: string | null;
  code: string | null;
  param: string | null;
}

const OpenAiErrorBody = z.object({
  error: z.looseObject({
    message: z.nullish(z.string()),
    type: z.nullish(z.string()),
    code: z.nullish(z.union([z.string(), z.number()])),
    param: z.nullish(z.string()),
  }),
});
const PortkeyFailureBody = z.looseObject({ status: z.literal("failure"), message: z.string() });

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

/** Why a call to the endpoint did not give the relay a run. */
export type EndpointFailure =
  | { kind: "not_accepting"; httpStatus: number; error?: EndpointError }
  | { kind: "tool_call_mismatch"; httpStatus: number; error?: EndpointError; expectedIds: string[]; givenIds: string[] }
  | { kind: "rejected"; httpStatus: number; error?: EndpointError }
  | { kind: "not_found"; httpStatus: number; error?: EndpointError }
  | { kind: "unauthorized"; httpStatus: number; error?: EndpointError }
  | { kind: "quota_exceeded"; httpStatus: number; error?: EndpointError }
  | {
      kind: "transient";
      httpStatus?: number;
      error?: EndpointError;
      /** The server asked for this wait (`retry-after-ms` / `retry-after`). */
      retryAfterMs?: number;
      /** The request may have reached the endpoint and been acted on (5xx, timeout, reset). */
      ambiguous: boolean;
      detail: string;
    };

const NOT_ACCEPTING = /do not accept tool outputs/i;
const MISMATCH = /Expected tool outputs for call_ids\s*\[(.*?)\],\s*got\s*\[(.*?)\]/i;

/**
 * Sorts an HTTP error answer into the rows of the outcome table (README.md, "What happens to each message").
 * @example classifyHttpFailure(400, body, headers).kind === "tool_call_mismatch"
 */
export function classifyHttpFailure(httpStatus: number, body: unknown, headers: Headers): EndpointFailure {
  const error = readEndpointError(body);
  const message = error?.message ?? "";
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
  if (httpStatus === 401 || httpStatus === 403) return { kind: "unauthorized", httpStatus, error };
  if (httpStatus === 404) return { kind: "not_found", httpStatus, error };
  if (NOT_ACCEPTING.test(message)) return { kind: "not_accepting", httpStatus, error };
  const mismatch = MISMATCH.exec(message);
  if (mismatch)
    return { kind: "tool_call_mismatch", httpStatus, error, expectedIds: quotedIds(mismatch[1]!), givenIds: quotedIds(mismatch[2]!) };
  return { kind: "rejected", httpStatus, error };
}

/** A failure below HTTP: connection refused or reset, timeout, aborted. */
export function networkFailure(cause: unknown): EndpointFailure {
  const name = (cause as Error)?.name ?? "Error";
  const code = ((cause as { cause?: { code?: string } })?.cause?.code ?? "") as string;
  return { kind: "transient", ambiguous: true, detail: `${name}${code ? ` ${code}` : ""}` };
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

function quotedIds(list: string): string[] {
  return [...list.matchAll(/['"]([^'"]*)['"]/g)].map((m) => m[1]!);
}

/** `retry-after-ms` (milliseconds) first, else `retry-after` (seconds or an HTTP date), as openai-node reads them. */
export function retryAfterMs(headers: Headers): number | undefined {
  const ms = Number.parseFloat(headers.get("retry-after-ms") ?? "");
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers.get("retry-after");
  if (value === null) return undefined;
  const seconds = Number.parseFloat(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
