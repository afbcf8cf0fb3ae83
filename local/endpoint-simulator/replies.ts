/**
 * Every non-2xx answer the simulator gives, worded as the real endpoint words it (see the reference
 * notes' "Errors seen in practice"), because the relay decides what to do from status and message.
 */
import type { ServerResponse } from "node:http";

/** openai-openapi `components/schemas/Error`: all four keys are always present. */
export interface OpenAIError {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export function openAIError(status: number, error: OpenAIError, headers?: Record<string, string>): Reply {
  return { status, body: { error }, headers };
}

/** Portkey answers its own failures as `{status:"failure", message}`, not in OpenAI's shape. */
export function portkeyFailure(status: number, message: string): Reply {
  return { status, body: { status: "failure", message } };
}

function invalidRequest(status: number, message: string, param: string | null = null, code: string | null = null): Reply {
  return openAIError(status, { message, type: "invalid_request_error", param, code });
}

/** Python's repr of a list of strings, because that is how the real message prints the ids. */
export function pythonList(items: string[]): string {
  const repr = (item: string): string =>
    item.includes("'") && !item.includes('"') ? `"${item}"` : `'${item.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  return `[${items.map(repr).join(", ")}]`;
}

export const replies = {
  invalidUrl: (method: string, path: string) => invalidRequest(404, `Invalid URL (${method} ${path})`),
  threadNotFound: (threadId: string) => invalidRequest(404, `No thread found with id '${threadId}'.`),
  runNotFound: (runId: string) => invalidRequest(404, `No run found with id '${runId}'.`),
  notAccepting: (status: string) => invalidRequest(400, `Runs in status "${status}" do not accept tool outputs.`),
  callIdMismatch: (expected: string[], given: string[]) =>
    invalidRequest(400, `Expected tool outputs for call_ids ${pythonList(expected)}, got ${pythonList(given)}`),
  invalidJson: () =>
    invalidRequest(
      400,
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. " +
        "The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
    ),
  unknownArgument: (name: string) => invalidRequest(400, `Unrecognized request argument supplied: ${name}`),
  missingParameter: (param: string) => invalidRequest(400, `Missing required parameter: '${param}'.`, param, "missing_required_parameter"),
  invalidType: (param: string, expected: string, got: unknown) =>
    invalidRequest(400, `Invalid type for '${param}': expected ${expected}, but got ${describe(got)} instead.`, param, "invalid_type"),
  invalidValue: (param: string, got: string, allowed: string[]) =>
    invalidRequest(
      400,
      `Invalid value for '${param}': '${got}'. Supported values are: ${allowed.map((v) => `'${v}'`).join(", ")}.`,
      param,
      "invalid_value",
    ),
  missingBetaHeader: () =>
    invalidRequest(
      400,
      "You must provide the 'OpenAI-Beta' header to access the Assistants API. Please try again by setting the header 'OpenAI-Beta: assistants=v2'.",
      null,
      "missing_beta_header",
    ),
  invalidApiKey: () =>
    openAIError(401, {
      message: "Incorrect API key provided. You can find your API key in the Portkey dashboard.",
      type: "invalid_request_error",
      param: null,
      code: "invalid_api_key",
    }),
  missingProvider: () => portkeyFailure(400, "Either x-portkey-config or x-portkey-provider header is required"),
  rateLimited: (retryAfterMs?: number, retryAfterSeconds?: number) => {
    const headers: Record<string, string> = {
      "x-ratelimit-limit-requests": "500",
      "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": `${retryAfterMs ?? (retryAfterSeconds ?? 1) * 1000}ms`,
    };
    if (retryAfterMs !== undefined) headers["retry-after-ms"] = String(retryAfterMs);
    if (retryAfterSeconds !== undefined) headers["retry-after"] = String(retryAfterSeconds);
    const wait = retryAfterMs !== undefined ? `${retryAfterMs}ms` : `${retryAfterSeconds ?? 1}s`;
    return openAIError(
      429,
      {
        message: `Rate limit reached for gpt-4o-mini in organization org-simulator on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in ${wait}.`,
        type: "requests",
        param: null,
        code: "rate_limit_exceeded",
      },
      headers,
    );
  },
  insufficientQuota: () =>
    openAIError(429, {
      message: "You exceeded your current quota, please check your plan and billing details.",
      type: "insufficient_quota",
      param: null,
      code: "insufficient_quota",
    }),
  serverError: () =>
    openAIError(500, {
      message: "The server had an error while processing your request. Sorry about that!",
      type: "server_error",
      param: null,
      code: null,
    }),
  gatewayFailure: () =>
    portkeyFailure(502, "Something went wrong while connecting to the provider: upstream connect error or disconnect/reset before headers"),
} as const;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}

/** Writes a JSON reply unless the client is already gone. */
export function sendReply(res: ServerResponse, reply: Reply, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  const body = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...headers,
    ...reply.headers,
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
  });
  res.end(body);
}
