import * as z from "zod/mini";
import "./zod-messages";
import { ConfigurationError } from "./errors";

/**
 * Everything the relay reads from its environment, validated once at cold start.
 * Only the first block is required in AWS (the CDK stack sets it); every tuning knob has a default, stated once
 * in `EnvironmentSchema` below (docs/configuration.md gives the same, checked by the docs test).
 */
export interface RelayConfig {
  /** Where the Assistants API lives. */
  endpointBaseUrl: URL;
  /** Where the Responses API lives. Default: `endpointBaseUrl` (Portkey and OpenAI serve both under one `/v1`). */
  responsesBaseUrl: URL;
  /** `api-version` on every Assistants-API call (Azure AI Foundry classic agents), when set. */
  endpointApiVersion?: string;
  /** `api-version` on every Responses-API call, when set. */
  responsesApiVersion?: string;
  /** The state table (exactly-once Responses submissions, collecting); Responses messages need it. */
  stateTableName?: string;
  /** The bucket for collected outputs too large for a table item; without it they are refused (`output_too_large`). */
  payloadBucket?: string;
  /** Secrets Manager secret with the endpoint credentials as JSON; when absent, credentials come from the environment. */
  endpointSecretArn?: string;
  resultsTopicArn: string;
  dlqUrl: string;
  inputQueueUrl: string;
  maxReceiveCount: number;

  /** Per HTTP call to the endpoint. */
  endpointTimeoutMs: number;
  /** Submit attempts inside one invocation before the message is handed back. */
  maxAttempts: number;
  /** Backoff between attempts: base × 2^n capped at max, minus up to 25 % jitter. */
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /** How long one invocation follows a run after submitting before leaving it to a `watch_run` message. */
  followBudgetMs: number;
  /** Poll interval when the endpoint sends no `openai-poll-after-ms`. */
  pollIntervalMs: number;
  /** Delay of a follow-up `watch_run` message (standard queues only; FIFO has no per-message delay). */
  watchDelaySeconds: number;
  /** Records of one batch in flight at once. */
  batchConcurrency: number;
  /** Time kept before the Lambda deadline to settle unfinished records. */
  deadlineReserveMs: number;
  /** Visibility delay of a handed-back message: base × 2^(receives−1), capped. */
  retryVisibilityBaseSeconds: number;
  retryVisibilityMaxSeconds: number;
  /** Responses: submit with `background: true` (the POST answers at once with the new id). */
  responsesBackground: boolean;
  /** Responses, chained mode: what an ambiguous failure of the POST leads to. */
  responsesUnconfirmed: "dead_letter" | "resubmit";
  /** A collection that nothing ends closes this long after its first stored output. */
  collectTimeoutSeconds: number;
  /**
   * `INPUT_RETENTION_SECONDS` and `INPUT_VISIBILITY_TIMEOUT_SECONDS` (set by the stack): no hand-back delay outlasts
   * what is left of the retention, counted from the message's SentTimestamp, less one receive (rule 1).
   */
  inputRetentionSeconds: number;
  inputVisibilityTimeoutSeconds: number;
}

const LOOPBACK_HOSTS = new Set(["localhost", "[::1]", "::1"]);

/** True for hosts that never leave the machine: plain http is allowed only there. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(\.\d{1,3}){3}$/.test(hostname);
}

const endpointBaseUrl = z
  .pipe(
    z.url({ error: "must be an absolute URL such as https://api.portkey.ai/v1" }),
    z.transform((value: string) => new URL(value.replace(/\/+$/, ""))),
  )
  .check(
    z.refine((url) => url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname)), {
      error: "must use https (plain http is allowed only for a loopback host such as 127.0.0.1)",
    }),
  );

const apiVersion = z.string().check(z.regex(/^[A-Za-z0-9._-]{1,64}$/, { error: "must be an api-version such as v1 or 2025-05-01" }));

const flag = (fallback: boolean) =>
  z._default(
    z.pipe(
      z.enum(["true", "false"], { error: 'must be "true" or "false"' }),
      z.transform((value: "true" | "false") => value === "true"),
    ),
    fallback,
  );

const integer = (fallback: number, min: number, max: number) =>
  z._default(
    z.coerce
      .number({ error: "must be a whole number" })
      .check(
        z.refine(Number.isInteger, { error: "must be a whole number", abort: true }),
        z.minimum(min, { error: `must be at least ${min}` }),
        z.maximum(max, { error: `must be at most ${max}` }),
      ),
    fallback,
  );

const required = (example: string) =>
  z.string({ error: `is required (for example ${example})` }).check(z.minLength(1, { error: `is required (for example ${example})` }));

/** Defaults the CDK stack states too (its context options of the same meaning): written here once. */
export const SHARED_DEFAULTS = {
  /** Hosted Portkey, which serves every API under one `/v1`. */
  endpointBaseUrl: "https://api.portkey.ai/v1",
  maxReceiveCount: 5,
} as const;

export const EnvironmentSchema = z.object({
  ENDPOINT_BASE_URL: z._default(endpointBaseUrl, () => new URL(SHARED_DEFAULTS.endpointBaseUrl)),
  RESPONSES_BASE_URL: z.optional(endpointBaseUrl),
  ENDPOINT_API_VERSION: z.optional(apiVersion),
  RESPONSES_API_VERSION: z.optional(apiVersion),
  ENDPOINT_SECRET_ARN: z.optional(z.string().check(z.minLength(1))),
  RELAY_STATE_TABLE: z.optional(
    z.string().check(z.regex(/^[A-Za-z0-9_.-]{3,255}$/, { error: "must be a DynamoDB table name (3–255 of A–Z, a–z, 0–9, _ . -)" })),
  ),
  RELAY_PAYLOAD_BUCKET: z.optional(z.string().check(z.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: "must be an S3 bucket name" }))),
  RESULTS_TOPIC_ARN: required("arn:aws:sns:eu-west-1:123456789012:tool-output-results"),
  DLQ_URL: required("https://sqs.eu-west-1.amazonaws.com/123456789012/tool-outputs-dlq"),
  INPUT_QUEUE_URL: required("https://sqs.eu-west-1.amazonaws.com/123456789012/tool-outputs"),
  MAX_RECEIVE_COUNT: integer(SHARED_DEFAULTS.maxReceiveCount, 1, 1000),
  ENDPOINT_TIMEOUT_MS: integer(10_000, 100, 900_000),
  ENDPOINT_MAX_ATTEMPTS: integer(4, 1, 20),
  RETRY_BASE_DELAY_MS: integer(500, 0, 60_000),
  RETRY_MAX_DELAY_MS: integer(8_000, 0, 300_000),
  FOLLOW_BUDGET_MS: integer(20_000, 0, 900_000),
  POLL_INTERVAL_MS: integer(1_000, 10, 60_000),
  WATCH_DELAY_SECONDS: integer(10, 0, 900),
  BATCH_CONCURRENCY: integer(10, 1, 100),
  DEADLINE_RESERVE_MS: integer(3_000, 100, 60_000),
  RETRY_VISIBILITY_BASE_SECONDS: integer(10, 0, 43_200),
  RETRY_VISIBILITY_MAX_SECONDS: integer(900, 0, 43_200),
  RESPONSES_BACKGROUND: flag(true),
  RESPONSES_UNCONFIRMED: z._default(z.enum(["dead_letter", "resubmit"], { error: 'must be "dead_letter" or "resubmit"' }), "dead_letter"),
  COLLECT_TIMEOUT_SECONDS: integer(3_600, 60, 1_209_600),
  /** Set by the stack: the input queue's retention (SQS's default, 4 days, when unset) and visibility timeout. */
  INPUT_RETENTION_SECONDS: integer(345_600, 60, 1_209_600),
  INPUT_VISIBILITY_TIMEOUT_SECONDS: integer(30, 0, 43_200),
});

/** The optional settings (everything but what the stack itself sets), for the CDK stack's `relayTuning` option. */
export const TUNING_VARIABLES = [
  "ENDPOINT_TIMEOUT_MS",
  "ENDPOINT_MAX_ATTEMPTS",
  "RETRY_BASE_DELAY_MS",
  "RETRY_MAX_DELAY_MS",
  "FOLLOW_BUDGET_MS",
  "POLL_INTERVAL_MS",
  "WATCH_DELAY_SECONDS",
  "BATCH_CONCURRENCY",
  "DEADLINE_RESERVE_MS",
  "RETRY_VISIBILITY_BASE_SECONDS",
  "RETRY_VISIBILITY_MAX_SECONDS",
  "RESPONSES_BACKGROUND",
  "RESPONSES_UNCONFIRMED",
  "COLLECT_TIMEOUT_SECONDS",
] as const satisfies ReadonlyArray<keyof z.input<typeof EnvironmentSchema>>;

/** The variables that say where the endpoint is and how each API is called there (docs/endpoints.md). */
export const ENDPOINT_VARIABLES = ["ENDPOINT_BASE_URL", "RESPONSES_BASE_URL", "ENDPOINT_API_VERSION", "RESPONSES_API_VERSION"] as const;

const EndpointSchema = z.pick(EnvironmentSchema, {
  ENDPOINT_BASE_URL: true,
  RESPONSES_BASE_URL: true,
  ENDPOINT_API_VERSION: true,
  RESPONSES_API_VERSION: true,
});

/** The endpoint part of the configuration. */
export type EndpointConfig = Pick<RelayConfig, "endpointBaseUrl" | "responsesBaseUrl" | "endpointApiVersion" | "responsesApiVersion">;

/** Parses `env` with `schema`; empty strings mean "unset" (CloudFormation and shells both produce them). */
function parsed<T>(schema: z.ZodMiniType<T>, env: Record<string, string | undefined>): T {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const result = schema.safeParse(present);
  if (!result.success) {
    const [issue] = result.error.issues;
    throw new ConfigurationError(String(issue?.path[0] ?? "environment"), issue?.message ?? "is not valid");
  }
  return result.data;
}

/**
 * Reads and validates only the endpoint's variables (ENDPOINT_VARIABLES), by the same rules as `loadConfig`: for the
 * local stack's `--serve` and the CDK context, which check them before anything runs.
 * @throws ConfigurationError naming the first wrong variable.
 * @example const { responsesBaseUrl } = loadEndpointConfig({ ENDPOINT_BASE_URL: "https://api.openai.com/v1" });
 */
export function loadEndpointConfig(env: Record<string, string | undefined>): EndpointConfig {
  return endpointPart(parsed(EndpointSchema, env));
}

function endpointPart(e: z.output<typeof EndpointSchema>): EndpointConfig {
  return {
    endpointBaseUrl: e.ENDPOINT_BASE_URL,
    responsesBaseUrl: e.RESPONSES_BASE_URL ?? e.ENDPOINT_BASE_URL,
    endpointApiVersion: e.ENDPOINT_API_VERSION,
    responsesApiVersion: e.RESPONSES_API_VERSION,
  };
}

/**
 * Reads and validates the relay's configuration.
 * @throws ConfigurationError naming the first wrong variable.
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(env: Record<string, string | undefined>): RelayConfig {
  const e = parsed(EnvironmentSchema, env);
  return {
    ...endpointPart(e),
    stateTableName: e.RELAY_STATE_TABLE,
    payloadBucket: e.RELAY_PAYLOAD_BUCKET,
    endpointSecretArn: e.ENDPOINT_SECRET_ARN,
    resultsTopicArn: e.RESULTS_TOPIC_ARN,
    dlqUrl: e.DLQ_URL,
    inputQueueUrl: e.INPUT_QUEUE_URL,
    maxReceiveCount: e.MAX_RECEIVE_COUNT,
    endpointTimeoutMs: e.ENDPOINT_TIMEOUT_MS,
    maxAttempts: e.ENDPOINT_MAX_ATTEMPTS,
    retryBaseDelayMs: e.RETRY_BASE_DELAY_MS,
    retryMaxDelayMs: e.RETRY_MAX_DELAY_MS,
    followBudgetMs: e.FOLLOW_BUDGET_MS,
    pollIntervalMs: e.POLL_INTERVAL_MS,
    watchDelaySeconds: e.WATCH_DELAY_SECONDS,
    batchConcurrency: e.BATCH_CONCURRENCY,
    deadlineReserveMs: e.DEADLINE_RESERVE_MS,
    retryVisibilityBaseSeconds: e.RETRY_VISIBILITY_BASE_SECONDS,
    retryVisibilityMaxSeconds: e.RETRY_VISIBILITY_MAX_SECONDS,
    responsesBackground: e.RESPONSES_BACKGROUND,
    responsesUnconfirmed: e.RESPONSES_UNCONFIRMED,
    collectTimeoutSeconds: e.COLLECT_TIMEOUT_SECONDS,
    inputRetentionSeconds: e.INPUT_RETENTION_SECONDS,
    inputVisibilityTimeoutSeconds: e.INPUT_VISIBILITY_TIMEOUT_SECONDS,
  };
}
