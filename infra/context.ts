import { Duration } from "aws-cdk-lib";
import * as z from "zod";
import { loadConfig, loadEndpointConfig, SHARED_DEFAULTS, TUNING_VARIABLES } from "../functions/submit-tool-outputs/config/config";
import { ConfigurationError } from "../functions/submit-tool-outputs/config/errors";
import { RESULTS_EVENT_TYPES } from "../functions/submit-tool-outputs/dialects/index";
import { visibilityTimeoutFor } from "./constructs/relay-queues";
import { INPUT_RETENTION_SECONDS, oneReceiveSeconds, worstCaseRetrySeconds } from "./retry-window";

/**
 * The CDK context options of the relay stack: `npx cdk deploy -c fifo=true -c maxReceiveCount=3`,
 * or the `context` block of cdk.json. Values from `-c` arrive as strings, so numbers and booleans
 * are accepted in both forms. Every option is documented in docs/deploy.md ("Context options").
 */

/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const ARN_PARTITION = "arn:aws[a-z-]*";
const REGION_ACCOUNT = "[a-z]{2}(-[a-z]+)+-\\d:\\d{12}";

const arn = (pattern: string, example: string) =>
  z.string().regex(new RegExp(`^${ARN_PARTITION}:${pattern}$`), { error: `must be an ARN such as ${example}` });

const bool = (fallback: boolean) =>
  z
    .union([z.boolean(), z.enum(["true", "false"]).transform((value) => value === "true")], {
      error: "must be true or false",
    })
    .default(fallback);

const integer = (min: number, max: number) =>
  z
    .union(
      [
        z.number(),
        z
          .string()
          .regex(/^-?\d+$/)
          .transform(Number),
      ],
      { error: "must be a whole number" },
    )
    .pipe(
      z
        .number()
        .int({ error: "must be a whole number" })
        .min(min, { error: `must be at least ${min}` })
        .max(max, { error: `must be at most ${max}` }),
    );

/** Every results event type the relay publishes, as each API's dialect declares it (dialects/index.ts). */
const EVENT_TYPES = RESULTS_EVENT_TYPES;

/** Event types as a JSON array in cdk.json, or comma-separated on the command line. */
const eventTypes = z
  .union([z.array(z.string()), z.string().transform((value) => value.split(",").map((part) => part.trim()))], {
    error: "must be a list (comma-separated on the command line)",
  })
  .pipe(
    z
      .array(z.enum(EVENT_TYPES, { error: `must list event types among ${EVENT_TYPES.join(", ")}` }))
      .min(1, { error: "must name at least one event type" }),
  );

const ContextSchema = z
  .object({
    /** Name of the CloudFormation stack; also prefixes the input queue's name. */
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/, {
        error: "must start with a letter and hold at most 64 letters, digits and hyphens",
      })
      .default("ToolOutputRelay"),
    /** Base URL of the Assistants-compatible endpoint; https only in AWS. */
    endpointBaseUrl: z
      .url({ protocol: /^https$/, error: "must be an https URL such as https://api.portkey.ai/v1" })
      .default(SHARED_DEFAULTS.endpointBaseUrl),
    /** Base URL of the Responses API when it is not at endpointBaseUrl (Azure AI Foundry: …/openai/v1); https only. */
    responsesBaseUrl: z
      .url({
        protocol: /^https$/,
        error: "must be an https URL such as https://<resource>.services.ai.azure.com/api/projects/<project>/openai/v1",
      })
      .optional(),
    /** `api-version` on every Assistants-API call (Azure AI Foundry classic agents: v1). */
    endpointApiVersion: z.string({ error: "must be an api-version such as v1 or 2025-05-01" }).optional(),
    /** `api-version` on every Responses-API call (unset for Azure's /openai/v1). */
    responsesApiVersion: z.string({ error: "must be an api-version such as v1 or 2025-05-01" }).optional(),
    /** FIFO input queue, DLQ and results topic instead of standard ones. */
    fifo: bool(false),
    /** Receives of a message before it goes to the DLQ; passed to the relay as MAX_RECEIVE_COUNT. */
    maxReceiveCount: integer(1, 1000).default(SHARED_DEFAULTS.maxReceiveCount),
    functionTimeoutSeconds: integer(10, 900).default(60),
    functionMemoryMb: integer(128, 10_240).default(512),
    batchSize: integer(1, 10_000).default(10),
    /** 0 = invoke as soon as messages arrive. */
    batchingWindowSeconds: integer(0, 300).default(0),
    /** Upper bound of concurrent relay invocations fed by the queue; protects the endpoint's rate limit. */
    maxConcurrency: integer(2, 1000).default(10),
    logRetentionDays: integer(1, 3653)
      .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
        error: `must be one of ${LOG_RETENTION_DAYS.join(", ")}`,
      })
      .default(30),
    logLevel: z.enum(["DEBUG", "INFO", "WARN", "ERROR"], { error: "must be DEBUG, INFO, WARN or ERROR" }).default("INFO"),
    /** An existing Secrets Manager secret with the endpoint credentials; otherwise the stack creates one. */
    secretArn: arn(
      `secretsmanager:${REGION_ACCOUNT}:secret:[A-Za-z0-9/_+=.@-]+`,
      "arn:aws:secretsmanager:eu-west-1:123456789012:secret:portkey-AbCdEf",
    ).optional(),
    /** The customer managed KMS key that encrypts the imported secret, if it is not the AWS managed one. */
    secretKmsKeyArn: arn(
      `kms:${REGION_ACCOUNT}:key/[A-Za-z0-9-]+`,
      "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ).optional(),
    /** An existing SQS queue to subscribe to the results topic (raw delivery). */
    resultsSubscriptionQueueArn: arn(
      `sqs:${REGION_ACCOUNT}:[A-Za-z0-9_-]{1,80}(\\.fifo)?`,
      "arn:aws:sqs:eu-west-1:123456789012:run-results",
    ).optional(),
    /** An e-mail address to subscribe to the results topic. */
    resultsSubscriptionEmail: z.email({ error: "must be an e-mail address" }).optional(),
    /** Only deliver these event types to the subscriptions above, for example run.requires_action. */
    resultsSubscriptionTypes: eventTypes.optional(),
    /** E-mail address that receives the alarms (through the alarm topic). */
    alarmEmail: z.email({ error: "must be an e-mail address" }).optional(),
    /** An existing SNS topic for the alarms; otherwise one is created when alarmEmail is set. */
    alarmTopicArn: arn(`sns:${REGION_ACCOUNT}:[A-Za-z0-9_-]{1,256}`, "arn:aws:sns:eu-west-1:123456789012:ops-alarms").optional(),
    /** Alarm when the oldest message of the input queue is older than this. */
    oldestMessageAlarmSeconds: integer(60, 1_209_600).default(1800),
    /** Days the payload bucket keeps an object (large tool outputs being collected) before S3 expires it. */
    payloadExpiryDays: integer(1, 365).default(7),
    /** The relay's tuning variables (FOLLOW_BUDGET_MS, BATCH_CONCURRENCY, …): an object in cdk.json, JSON after `-c`. */
    relayTuning: z
      .union([z.record(z.string(), z.union([z.string(), z.number()])), z.string().transform((text, ctx) => parseJsonObject(text, ctx))], {
        error: 'must be an object of variables, such as {"FOLLOW_BUDGET_MS": 30000}',
      })
      .transform((tuning) => Object.fromEntries(Object.entries(tuning).map(([name, value]) => [name, String(value)])))
      .default({}),
  })
  .superRefine((options, ctx) => {
    const fail = (option: string, message: string) => ctx.addIssue({ code: "custom", path: [option], message });
    if (options.fifo && options.batchingWindowSeconds > 0)
      fail("batchingWindowSeconds", "must be 0 with fifo=true (Lambda has no batching window for FIFO queues)");
    if (options.fifo && options.batchSize > 10) fail("batchSize", "must be at most 10 with fifo=true");
    if (!options.fifo && options.batchSize > 10 && options.batchingWindowSeconds === 0)
      fail("batchSize", "above 10 needs batchingWindowSeconds of at least 1");
    if (options.fifo && options.resultsSubscriptionEmail)
      fail("resultsSubscriptionEmail", "cannot be used with fifo=true (FIFO topics deliver to SQS only)");
    if (!options.fifo && options.resultsSubscriptionQueueArn?.endsWith(".fifo"))
      fail(
        "resultsSubscriptionQueueArn",
        'names a FIFO queue, which SNS subscribes to FIFO topics only: set context option "fifo" to true, or subscribe a standard queue',
      );
    if (options.resultsSubscriptionTypes && !options.resultsSubscriptionQueueArn && !options.resultsSubscriptionEmail)
      fail("resultsSubscriptionTypes", "needs resultsSubscriptionQueueArn or resultsSubscriptionEmail to filter");
    if (options.secretKmsKeyArn && !options.secretArn)
      fail("secretKmsKeyArn", "needs secretArn (a secret the stack creates uses the AWS managed key)");
    // The relay's own rules for its endpoint variables, at synth time rather than at the first cold start.
    try {
      loadEndpointConfig(endpointEnvironment(options));
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      const option = ENDPOINT_OPTIONS[error.variable as keyof typeof ENDPOINT_OPTIONS] ?? "endpointBaseUrl";
      fail(option, error.message.slice(`${error.variable}: `.length));
    }
    const unknown = Object.keys(options.relayTuning).filter((name) => !(TUNING_VARIABLES as readonly string[]).includes(name));
    if (unknown.length > 0) fail("relayTuning", `knows ${TUNING_VARIABLES.join(", ")}; not ${unknown.join(", ")}`);
    else {
      // The relay's own validation, at synth time rather than at the first cold start.
      try {
        const relay = loadConfig({ ...SYNTH_PLACEHOLDERS, ...options.relayTuning });
        if (relay.deadlineReserveMs >= options.functionTimeoutSeconds * 1000)
          fail("relayTuning", `DEADLINE_RESERVE_MS must be below the function's timeout (${options.functionTimeoutSeconds} s)`);
        const retrying = worstCaseRetrySeconds({
          maxReceiveCount: options.maxReceiveCount,
          visibilityTimeoutSeconds: visibilityTimeoutFor(
            Duration.seconds(options.functionTimeoutSeconds),
            Duration.seconds(options.batchingWindowSeconds),
          ).toSeconds(),
          functionTimeoutSeconds: options.functionTimeoutSeconds,
          batchingWindowSeconds: options.batchingWindowSeconds,
          retryVisibilityBaseSeconds: relay.retryVisibilityBaseSeconds,
          retryVisibilityMaxSeconds: relay.retryVisibilityMaxSeconds,
        });
        // A collected body kept in the payload bucket must outlive its collection (and a day to dead-letter it).
        if (options.payloadExpiryDays * 86_400 < relay.collectTimeoutSeconds + 86_400)
          fail(
            "payloadExpiryDays",
            `must keep payloads a day longer than a collection can stay open (relayTuning's COLLECT_TIMEOUT_SECONDS, ${relay.collectTimeoutSeconds} s)`,
          );
        const spare = oneReceiveSeconds({
          visibilityTimeoutSeconds: visibilityTimeoutFor(
            Duration.seconds(options.functionTimeoutSeconds),
            Duration.seconds(options.batchingWindowSeconds),
          ).toSeconds(),
          functionTimeoutSeconds: options.functionTimeoutSeconds,
        });
        if (retrying + spare > INPUT_RETENTION_SECONDS)
          fail(
            "maxReceiveCount",
            `is too high for the other settings: ${options.maxReceiveCount} receives can take up to ${retrying} s ` +
              "(visibility timeout from functionTimeoutSeconds and batchingWindowSeconds, hand-back delays from relayTuning's " +
              `RETRY_VISIBILITY_BASE_SECONDS and RETRY_VISIBILITY_MAX_SECONDS), longer than the input queue keeps a message ` +
              `(${INPUT_RETENTION_SECONDS} s, less one receive to spare): it would expire before reaching the DLQ. Lower maxReceiveCount or the delays`,
          );
      } catch (error) {
        if (!(error instanceof ConfigurationError)) throw error;
        fail("relayTuning", error.message);
      }
    }
  });

/** Each endpoint variable of the relay, and the context option that sets it. */
const ENDPOINT_OPTIONS = {
  ENDPOINT_BASE_URL: "endpointBaseUrl",
  RESPONSES_BASE_URL: "responsesBaseUrl",
  ENDPOINT_API_VERSION: "endpointApiVersion",
  RESPONSES_API_VERSION: "responsesApiVersion",
} as const;

/**
 * The relay's endpoint variables as the context sets them, for the function's environment (only those given).
 * @example endpointEnvironment(parseContext({ endpointApiVersion: "v1" })) // { ENDPOINT_BASE_URL: "https://api.portkey.ai/v1", ENDPOINT_API_VERSION: "v1" }
 */
function endpointEnvironment(
  options: Pick<RelayContext, "endpointBaseUrl" | "responsesBaseUrl" | "endpointApiVersion" | "responsesApiVersion">,
): Partial<Record<keyof typeof ENDPOINT_OPTIONS, string>> {
  return Object.fromEntries(
    Object.entries(ENDPOINT_OPTIONS).flatMap(([variable, option]) => (options[option] ? [[variable, options[option]]] : [])),
  );
}

/** Stand-ins for what the stack sets itself, so the relay's loader can judge the tuning alone. */
const SYNTH_PLACEHOLDERS = {
  RESULTS_TOPIC_ARN: "arn:aws:sns:us-east-1:000000000000:placeholder",
  DLQ_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/placeholder",
  INPUT_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/placeholder",
};

function parseJsonObject(text: string, ctx: z.RefinementCtx): Record<string, string | number> {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, string | number>;
  } catch {
    // reported below
  }
  ctx.addIssue({ code: "custom", message: 'must be a JSON object, such as {"FOLLOW_BUDGET_MS": 30000}' });
  return z.NEVER;
}

/** The validated context: every option present, defaults applied. */
export type RelayContext = z.output<typeof ContextSchema>;

/** Names of all context options, as written in cdk.json or after `-c`. */
export const CONTEXT_OPTIONS = Object.keys(ContextSchema.shape) as ReadonlyArray<keyof RelayContext>;

/** A context option with a bad value, or an unknown option that looks like a misspelt one. */
export class InvalidContextError extends Error {
  constructor(
    /** The options at fault, in the order found. */
    readonly options: readonly string[],
    message: string,
  ) {
    super(message);
    this.name = "InvalidContextError";
  }
}

/**
 * Validates the app's context and applies defaults.
 * Keys written like our options (camelCase) but unknown are rejected, so a typo fails synth instead of
 * silently falling back to a default; CDK's own keys (`@aws-cdk/…`, `aws:cdk:…`, kebab-case) are ignored.
 * @throws InvalidContextError naming every bad option.
 * @example const config = parseContext(app.node.getAllContext());
 */
export function parseContext(context: Record<string, unknown>): RelayContext {
  const unknown = Object.keys(context).filter(
    (key) => /^[a-z][A-Za-z0-9]*$/.test(key) && !(CONTEXT_OPTIONS as readonly string[]).includes(key),
  );
  if (unknown.length > 0) {
    throw new InvalidContextError(
      unknown,
      `Unknown context option ${unknown.map((key) => `"${key}"`).join(", ")}; known options: ${CONTEXT_OPTIONS.join(", ")}`,
    );
  }
  const ours = Object.fromEntries(CONTEXT_OPTIONS.filter((key) => context[key] !== undefined).map((key) => [key, context[key]]));
  const parsed = ContextSchema.safeParse(ours);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const option = String(issue.path[0]);
    return { option, text: `context option "${option}" ${issue.message} (got ${JSON.stringify(ours[option])})` };
  });
  throw new InvalidContextError(
    problems.map((problem) => problem.option),
    `Invalid context: ${problems.map((problem) => problem.text).join("; ")}`,
  );
}
