import { bedrockHost } from "../endpoint/credentials/bedrock-host";
import { ConfigurationError } from "./errors";

/**
 * Everything the relay reads from its environment, validated once at cold start.
 * Only the first block is required in AWS (the CDK stack sets it); every tuning knob has a default, stated once
 * in `EnvironmentSchema` below (docs/configuration.md gives the same, checked by the docs test).
 */
export interface RelayConfig {
  /**
   * Where the Assistants API lives. Default `https://api.portkey.ai/v1`, except when RESPONSES_BASE_URL is Amazon
   * Bedrock: then none (a Bedrock-only deployment; Assistants messages are `api_not_configured`).
   */
  endpointBaseUrl: URL | undefined;
  /** Where the Responses API lives. Default: `endpointBaseUrl` (Portkey and OpenAI serve both under one `/v1`). */
  responsesBaseUrl: URL;
  /** Where the Agents API lives (`AGENTS_BASE_URL`). Default: `endpointBaseUrl` (none at Bedrock only). */
  agentsBaseUrl: URL | undefined;
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

/**
 * The rules of each variable, written by hand rather than as a zod object schema: the environment is read once, at
 * cold start, and building a thirty-field zod object and compiling its first parse cost about 2.5 ms of every cold
 * start (bench/README.md). A rule reads a variable's text (unset and empty are the same: CloudFormation and shells
 * both produce empty strings), or throws the words that follow the variable's name in the ConfigurationError.
 */
interface Rule<T> {
  read(text: string): T;
  /** The value when the variable is unset; `required`: the example named when a required one is missing. */
  unset: { value: T } | { required: string };
}
type ValueOf<R> = R extends Rule<infer T> ? T : never;

class Invalid extends Error {}
const invalid = (words: string): never => {
  throw new Invalid(words);
};

const optional = <T>(read: (text: string) => T): Rule<T | undefined> => ({ read, unset: { value: undefined } });
const withDefault = <T>(value: T, read: (text: string) => T): Rule<T> => ({ read, unset: { value } });

function baseUrl(text: string): URL {
  if (!URL.canParse(text)) return invalid("must be an absolute URL such as https://api.portkey.ai/v1");
  const url = new URL(text.replace(/\/+$/, ""));
  if (url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname))) return url;
  return invalid("must use https (plain http is allowed only for a loopback host such as 127.0.0.1)");
}

const matching = (pattern: RegExp, words: string) => (text: string) => (pattern.test(text) ? text : invalid(words));

const apiVersion = optional(matching(/^[A-Za-z0-9._-]{1,64}$/, "must be an api-version such as v1 or 2025-05-01"));

function oneOf<const T extends string>(values: readonly T[], fallback: T): Rule<T> {
  const words = `must be ${values.map((value) => `"${value}"`).join(" or ")}`;
  return withDefault(fallback, (text) => values.find((value) => value === text) ?? invalid(words));
}

const flag = (fallback: boolean): Rule<boolean> => withDefault(fallback, (text) => oneOf(["true", "false"], "true").read(text) === "true");

function integer(fallback: number, min: number, max: number): Rule<number> {
  return withDefault(fallback, (text) => {
    const value = Number(text);
    if (!Number.isInteger(value)) return invalid("must be a whole number");
    if (value < min) return invalid(`must be at least ${min}`);
    if (value > max) return invalid(`must be at most ${max}`);
    return value;
  });
}

const required = (example: string): Rule<string> => ({ read: (text) => text, unset: { required: example } });

/** Defaults the CDK stack states too (its context options of the same meaning): written here once. */
export const SHARED_DEFAULTS = {
  /** Hosted Portkey, which serves every API under one `/v1` (none when RESPONSES_BASE_URL alone is Amazon Bedrock). */
  endpointBaseUrl: "https://api.portkey.ai/v1",
  maxReceiveCount: 5,
} as const;

/** Every variable of the relay's own configuration and its rule; the defaults are stated here once. */
export const ENVIRONMENT = {
  ENDPOINT_BASE_URL: optional(baseUrl),
  RESPONSES_BASE_URL: optional(baseUrl),
  AGENTS_BASE_URL: optional(baseUrl),
  ENDPOINT_API_VERSION: apiVersion,
  RESPONSES_API_VERSION: apiVersion,
  ENDPOINT_SECRET_ARN: optional((text) => text),
  RELAY_STATE_TABLE: optional(matching(/^[A-Za-z0-9_.-]{3,255}$/, "must be a DynamoDB table name (3–255 of A–Z, a–z, 0–9, _ . -)")),
  RELAY_PAYLOAD_BUCKET: optional(matching(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name")),
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
  RESPONSES_UNCONFIRMED: oneOf(["dead_letter", "resubmit"], "dead_letter"),
  COLLECT_TIMEOUT_SECONDS: integer(3_600, 60, 1_209_600),
  /** Set by the stack: the input queue's retention (SQS's default, 4 days, when unset) and visibility timeout. */
  INPUT_RETENTION_SECONDS: integer(345_600, 60, 1_209_600),
  INPUT_VISIBILITY_TIMEOUT_SECONDS: integer(30, 0, 43_200),
} as const;

/** A variable of the relay's own configuration. */
export type RelayVariable = keyof typeof ENVIRONMENT;
/** The variables as their rules read them. */
export type Environment = { [V in RelayVariable]: ValueOf<(typeof ENVIRONMENT)[V]> };

/**
 * Reads `variables` of `env` by their rules, in their order.
 * @throws ConfigurationError naming the first wrong variable.
 * @example const { DLQ_URL } = readEnvironment(process.env, ["DLQ_URL"]);
 */
export function readEnvironment<V extends RelayVariable>(
  env: Record<string, string | undefined>,
  variables: readonly V[] = Object.keys(ENVIRONMENT) as V[],
): Pick<Environment, V> {
  const read: Partial<Record<RelayVariable, unknown>> = {};
  for (const variable of variables) {
    const rule: Rule<unknown> = ENVIRONMENT[variable];
    const text = env[variable];
    if (text === undefined || text === "") {
      if ("required" in rule.unset) throw new ConfigurationError(variable, `is required (for example ${rule.unset.required})`);
      read[variable] = rule.unset.value;
      continue;
    }
    try {
      read[variable] = rule.read(text);
    } catch (error) {
      if (error instanceof Invalid) throw new ConfigurationError(variable, error.message);
      throw error;
    }
  }
  return read as Pick<Environment, V>;
}

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
] as const satisfies readonly RelayVariable[];

/** The variables that say where the endpoint is and how each API is called there (docs/endpoints.md). */
export const ENDPOINT_VARIABLES = [
  "ENDPOINT_BASE_URL",
  "RESPONSES_BASE_URL",
  "AGENTS_BASE_URL",
  "ENDPOINT_API_VERSION",
  "RESPONSES_API_VERSION",
] as const;

/** The endpoint part of the configuration. */
export type EndpointConfig = Pick<
  RelayConfig,
  "endpointBaseUrl" | "responsesBaseUrl" | "agentsBaseUrl" | "endpointApiVersion" | "responsesApiVersion"
>;

/**
 * Reads and validates only the endpoint's variables (ENDPOINT_VARIABLES), by the same rules as `loadConfig`: for the
 * local stack's `--serve` and the CDK context, which check them before anything runs.
 * @throws ConfigurationError naming the first wrong variable.
 * @example const { responsesBaseUrl } = loadEndpointConfig({ ENDPOINT_BASE_URL: "https://api.openai.com/v1" });
 */
export function loadEndpointConfig(env: Record<string, string | undefined>): EndpointConfig {
  return endpointPart(readEnvironment(env, ENDPOINT_VARIABLES));
}

function endpointPart(e: Pick<Environment, (typeof ENDPOINT_VARIABLES)[number]>): EndpointConfig {
  // Hosted Portkey when nothing is said, unless the Responses API is at Amazon Bedrock: a Bedrock-only deployment.
  const bedrockOnly = e.RESPONSES_BASE_URL !== undefined && bedrockHost(e.RESPONSES_BASE_URL.hostname) !== undefined;
  const endpointBaseUrl = e.ENDPOINT_BASE_URL ?? (bedrockOnly ? undefined : new URL(SHARED_DEFAULTS.endpointBaseUrl));
  return {
    endpointBaseUrl,
    responsesBaseUrl: e.RESPONSES_BASE_URL ?? (endpointBaseUrl as URL),
    agentsBaseUrl: e.AGENTS_BASE_URL ?? endpointBaseUrl,
    endpointApiVersion: e.ENDPOINT_API_VERSION,
    responsesApiVersion: e.RESPONSES_API_VERSION,
  };
}

/**
 * Amazon Bedrock runtime serves the Responses API synchronously only (`background: true` → 400): a runtime host, or
 * SigV4 for service `bedrock` (a runtime reached through another name), whatever the credential.
 */
function isSynchronousOnly(responsesBaseUrl: URL, sigV4Service: string | undefined): boolean {
  return bedrockHost(responsesBaseUrl.hostname)?.endpoint === "runtime" || sigV4Service === "bedrock";
}

const backgroundRefused = () =>
  new ConfigurationError(
    "RESPONSES_BACKGROUND",
    "must not be true at Amazon Bedrock runtime (RESPONSES_BASE_URL at bedrock-runtime, or ENDPOINT_SIGV4_SERVICE=bedrock), " +
      "which answers synchronously only and refuses background: true with a 400; remove it (the relay then waits for each response)",
  );

/**
 * The configuration once the credentials are read: ENDPOINT_SIGV4_SERVICE kept in the secret (not the environment)
 * is known only then, and `bedrock` turns background mode off as at cold start (an explicit RESPONSES_BACKGROUND=true
 * is refused).
 * @example const wired = withSigV4Service(config, env, credentials.ENDPOINT_SIGV4_SERVICE);
 */
export function withSigV4Service(config: RelayConfig, env: Record<string, string | undefined>, service: string | undefined): RelayConfig {
  if (!config.responsesBackground || !isSynchronousOnly(config.responsesBaseUrl, service)) return config;
  if (env.RESPONSES_BACKGROUND === "true") throw backgroundRefused();
  return { ...config, responsesBackground: false };
}

/**
 * Reads and validates the relay's configuration.
 * @throws ConfigurationError naming the first wrong variable.
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(env: Record<string, string | undefined>): RelayConfig {
  const e = readEnvironment(env);
  const endpoint = endpointPart(e);
  const synchronousOnly = isSynchronousOnly(endpoint.responsesBaseUrl, env.ENDPOINT_SIGV4_SERVICE);
  if (synchronousOnly && env.RESPONSES_BACKGROUND === "true") throw backgroundRefused();
  return {
    ...endpoint,
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
    responsesBackground: synchronousOnly ? false : e.RESPONSES_BACKGROUND,
    responsesUnconfirmed: e.RESPONSES_UNCONFIRMED,
    collectTimeoutSeconds: e.COLLECT_TIMEOUT_SECONDS,
    inputRetentionSeconds: e.INPUT_RETENTION_SECONDS,
    inputVisibilityTimeoutSeconds: e.INPUT_VISIBILITY_TIMEOUT_SECONDS,
  };
}
