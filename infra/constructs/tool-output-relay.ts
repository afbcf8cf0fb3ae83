import { Duration, Names } from "aws-cdk-lib";
import type * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import type * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type * as sns from "aws-cdk-lib/aws-sns";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { loadConfig, SHARED_DEFAULTS, TUNING_VARIABLES } from "../../functions/submit-tool-outputs/config/config";
import type { RelayEnvironment } from "../../functions/submit-tool-outputs/config/environment";
import { ConfigurationError } from "../../functions/submit-tool-outputs/config/errors";
import { bedrockModelsProblem, bedrockSelection } from "../bedrock-hosts";
import { INPUT_RETENTION_SECONDS, worstCaseRetrySeconds } from "../retry-window";
import { BedrockAccess } from "./bedrock-access";
import { EndpointSecret } from "./endpoint-secret";
import { PayloadBucket } from "./payload-bucket";
import { RelayAlarms } from "./relay-alarms";
import { RelayDashboard } from "./relay-dashboard";
import { RelayFunction } from "./relay-function";
import { RelayQueues, visibilityTimeoutFor } from "./relay-queues";
import { ResultsTopic } from "./results-topic";
import { StateTable } from "./state-table";

/** A relay tuning variable (docs/configuration.md), such as `FOLLOW_BUDGET_MS`. */
export type RelayTuningVariable = (typeof TUNING_VARIABLES)[number];

export interface ToolOutputRelayProps {
  // ── Bring your own ──────────────────────────────────────────────────────────────────────────────────────────────
  /**
   * The queue tool workers send to, if you have one. Its visibility timeout should be at least six times `timeout`
   * (AWS's rule for SQS-fed functions), and it needs a dead-letter queue: its own redrive policy (an `sqs.Queue`
   * made with `deadLetterQueue`) or `existingDeadLetterQueue`.
   * @default a queue created: SSE-SQS, TLS only, 4 days' retention, redriving to a created DLQ
   */
  readonly existingInputQueue?: sqs.IQueue;
  /**
   * The dead-letter queue of `existingInputQueue` and its max receive count; the relay writes its reasoned records there.
   * @default the redrive target of `existingInputQueue` when it is an `sqs.Queue` with one; a created DLQ otherwise
   */
  readonly existingDeadLetterQueue?: sqs.DeadLetterQueue;
  /**
   * How long `existingInputQueue` keeps a message: the relay never hands a message back for longer than is left, and
   * writes its DLQ record itself when no further receive fits.
   * @default 4 days (SQS's default retention)
   */
  readonly existingInputQueueRetention?: Duration;
  /**
   * The topic the relay publishes results events to. If it is encrypted with a customer managed key, give the topic
   * with its `masterKey` so the relay's role may use it.
   * @default a topic created, encrypted with a rotating key of its own, TLS only
   */
  readonly existingResultsTopic?: sns.ITopic;
  /**
   * The state table (partition key `pk`, sort key `sk`, TTL attribute `ttl`, all strings; docs/state-table.md).
   * @default a table created: on demand, point-in-time recovery, deletion protection, retained
   */
  readonly existingStateTable?: dynamodb.ITable;
  /**
   * The secret holding the endpoint credentials as JSON (docs/endpoints.md); its `encryptionKey`, when set, may be
   * used by the relay through Secrets Manager only.
   * @default a secret created with placeholder values to replace after deploy
   */
  readonly existingEndpointSecret?: secretsmanager.ISecret;
  /**
   * Whether the relay reads its endpoint credentials from a secret. `false`: no secret is made or read, and the
   * function's environment holds what its endpoint needs (for an endpoint the function's `role` signs for).
   * @default true
   */
  readonly endpointSecret?: boolean;
  /**
   * The topic alarms notify (in the stack's region: CloudWatch notifies no other).
   * @default a topic created when `alarmEmail` is set, otherwise none (the alarms still show in the console)
   */
  readonly existingAlarmTopic?: sns.ITopic;

  // ── Queues ──────────────────────────────────────────────────────────────────────────────────────────────────────
  /**
   * FIFO input queue, DLQ and results topic (producers use the thread, response or session id as message group).
   * Ignored for what you bring.
   * @default false
   */
  readonly fifo?: boolean;
  /**
   * Receives of a message before it goes to the DLQ (ignored when you bring the input queue: its redrive policy counts).
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Prefix of the created queues' names (`<prefix>-input`, `<prefix>-dlq`; `.fifo` added when FIFO).
   * @default a name unique to this construct in the app
   */
  readonly queueNamePrefix?: string;

  // ── Endpoint ────────────────────────────────────────────────────────────────────────────────────────────────────
  /**
   * The endpoint of the Assistants API, and of the other APIs unless they have their own (ENDPOINT_BASE_URL).
   * `null`: none (a deployment whose APIs all have their own, such as the Responses API alone at `responsesBaseUrl`;
   * a message for an API without an endpoint is dead-lettered as `api_not_configured`).
   * @default "https://api.portkey.ai/v1"
   */
  readonly endpointBaseUrl?: string | null;
  /**
   * The Responses API's base URL (RESPONSES_BASE_URL), e.g. Azure AI Foundry's `…/api/projects/<project>/openai/v1`.
   * @default endpointBaseUrl
   */
  readonly responsesBaseUrl?: string;
  /**
   * At Amazon Bedrock (`responsesBaseUrl` at `bedrock-runtime.<region>.amazonaws.com` or
   * `bedrock-mantle.<region>.api.aws`): the model ids the role may use (inference-profile ids at runtime, model ids
   * at Mantle). The function's role is granted exactly what those calls need (docs/endpoints.md, "Amazon Bedrock").
   * @default none (required when `responsesBaseUrl` is at Bedrock)
   */
  readonly bedrockModels?: readonly string[];
  /**
   * The OpenAI Agents API's base URL (AGENTS_BASE_URL), when not under `endpointBaseUrl`.
   * @default endpointBaseUrl
   */
  readonly agentsBaseUrl?: string;
  /**
   * `api-version` on every Assistants-API call (ENDPOINT_API_VERSION).
   * @default none
   */
  readonly endpointApiVersion?: string;
  /**
   * `api-version` on every Responses-API call (RESPONSES_API_VERSION).
   * @default none
   */
  readonly responsesApiVersion?: string;
  /**
   * The relay's tuning variables (docs/configuration.md), such as `{ FOLLOW_BUDGET_MS: "30000" }`.
   * @default none: the relay's defaults
   */
  readonly tuning?: Partial<Record<RelayTuningVariable, string>>;
  /**
   * Further relay variables that have no prop here (an endpoint option of an API added later, for example).
   * A variable this construct sets itself is refused.
   * @default none
   */
  readonly environment?: RelayEnvironment;

  // ── Function ────────────────────────────────────────────────────────────────────────────────────────────────────
  /**
   * The function's timeout; the created input queue's visibility timeout is six times this plus `batchingWindow`.
   * @default Duration.seconds(60)
   */
  readonly timeout?: Duration;
  /**
   * Memory in MB.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Messages per invocation.
   * @default 10
   */
  readonly batchSize?: number;
  /**
   * How long the event source waits to fill a batch.
   * @default none
   */
  readonly batchingWindow?: Duration;
  /**
   * Concurrent invocations fed by the queue: protects the endpoint's rate limit.
   * @default 10
   */
  readonly maxConcurrency?: number;
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The relay's application log level.
   * @default "INFO"
   */
  readonly logLevel?: "DEBUG" | "INFO" | "WARN" | "ERROR";
  /**
   * The handler to bundle (tests pass a stand-in).
   * @default the relay's handler (its sources in this repository, the prebuilt bundle in the published package)
   */
  readonly handlerEntry?: string;

  // ── Payloads, alarms, dashboard ─────────────────────────────────────────────────────────────────────────────────
  /**
   * How long the payload bucket keeps a large collected output; must outlast COLLECT_TIMEOUT_SECONDS by a day.
   * @default Duration.days(7)
   */
  readonly payloadExpiry?: Duration;
  /**
   * Alarm when the input queue's oldest message is older than this.
   * @default Duration.minutes(30)
   */
  readonly oldestMessageAlarmAge?: Duration;
  /**
   * An address that receives the alarms (through `existingAlarmTopic`, or a topic created for it).
   * @default no e-mail
   */
  readonly alarmEmail?: string;
  /**
   * Results to deliver to a queue of yours, with raw message delivery (filter with `resultsSubscriptionTypes`).
   * @default no queue subscription
   */
  readonly resultsSubscriptionQueue?: sqs.IQueue;
  /**
   * An address that receives results (standard topics only; filter with `resultsSubscriptionTypes`).
   * @default no e-mail subscription
   */
  readonly resultsSubscriptionEmail?: string;
  /**
   * Only these event types (e.g. `run.requires_action`) go to the results subscriptions above.
   * @default every type
   */
  readonly resultsSubscriptionTypes?: readonly string[];
  /**
   * A CloudWatch dashboard of the relay (docs/operations.md).
   * @default true
   */
  readonly dashboard?: boolean;
  /**
   * The dashboard's name.
   * @default generated by CloudFormation
   */
  readonly dashboardName?: string;
}

/**
 * The tool-output relay in your own CDK app: tool workers send to `inputQueue`, the relay function submits the
 * outputs and follows the run, response or session, results go to `resultsTopic`, and whatever cannot be delivered
 * ends in `deadLetterQueue` with its reason. Bring any of the queue, topic, table, secret and alarm topic; the rest is
 * created, with exactly the permissions the relay needs, alarms and a dashboard.
 * @example
 * const relay = new ToolOutputRelay(this, "Relay", { existingResultsTopic: myTopic, alarmEmail: "ops@example.com" });
 * relay.inputQueue.grantSendMessages(workerRole);
 */
export class ToolOutputRelay extends Construct {
  readonly inputQueue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly maxReceiveCount: number;
  readonly resultsTopic: sns.ITopic;
  readonly stateTable: dynamodb.ITable;
  /** The role's Amazon Bedrock permissions, when `responsesBaseUrl` is at Bedrock. */
  readonly bedrock?: BedrockAccess;
  /** Absent with `endpointSecret: false`. */
  readonly endpointSecret?: secretsmanager.ISecret;
  /** True when the construct created the secret: its placeholder value has to be replaced after deploy. */
  readonly endpointSecretCreated: boolean;
  readonly payloadBucket: s3.IBucket;
  readonly relayFunction: lambda.Function;
  /** The function's role: grant it what an endpoint of yours needs (for example an IAM-signed one). */
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly alarms: readonly cloudwatch.Alarm[];
  readonly alarmTopic?: sns.ITopic;
  readonly dashboard?: cloudwatch.Dashboard;
  /** The parts, for a stack that adds to them (outputs, undelivered-results queues). */
  readonly parts: {
    readonly queues?: RelayQueues;
    readonly results: ResultsTopic;
    readonly secret?: EndpointSecret;
    readonly state?: StateTable;
    readonly payloads: PayloadBucket;
    readonly relay: RelayFunction;
    readonly alarms: RelayAlarms;
  };

  constructor(scope: Construct, id: string, props: ToolOutputRelayProps = {}) {
    super(scope, id);
    const unknownTuning = Object.keys(props.tuning ?? {}).filter((name) => !(TUNING_VARIABLES as readonly string[]).includes(name));
    if (unknownTuning.length > 0) throw new Error(`tuning: knows ${TUNING_VARIABLES.join(", ")}; not ${unknownTuning.join(", ")}`);
    const timeout = props.timeout ?? Duration.seconds(60);
    checkTuning(props, timeout);
    const prefix = props.queueNamePrefix ?? Names.uniqueResourceName(this, { maxLength: 60 });

    // The ids below are the ones RelayStack has always used: with this construct at id "Default" (CDK leaves that id
    // out of logical ids), an existing stack keeps every resource instead of replacing its queues and table.
    let queues: RelayQueues | undefined;
    if (props.existingInputQueue) {
      const redrive = props.existingDeadLetterQueue ?? (props.existingInputQueue as sqs.Queue).deadLetterQueue;
      if (!redrive)
        throw new Error(
          "existingInputQueue: give existingDeadLetterQueue ({ queue, maxReceiveCount }), or a queue made with deadLetterQueue",
        );
      this.inputQueue = props.existingInputQueue;
      this.deadLetterQueue = redrive.queue;
      this.maxReceiveCount = redrive.maxReceiveCount;
    } else {
      queues = new RelayQueues(this, "Queues", {
        fifo: props.fifo,
        maxReceiveCount: props.maxReceiveCount ?? 5,
        functionTimeout: timeout,
        batchingWindow: props.batchingWindow,
        inputQueueName: `${prefix}-input`,
        deadLetterQueueName: `${prefix}-dlq`,
      });
      this.inputQueue = queues.input;
      this.deadLetterQueue = queues.deadLetter;
      this.maxReceiveCount = props.maxReceiveCount ?? 5;
    }

    const results = new ResultsTopic(this, "Results", {
      existingTopic: props.existingResultsTopic,
      fifo: props.fifo,
      subscriptionQueue: props.resultsSubscriptionQueue,
      subscriptionEmail: props.resultsSubscriptionEmail,
      subscriptionTypes: props.resultsSubscriptionTypes,
      deadLetterQueueName: `${prefix}-sns-dlq`,
    });
    this.resultsTopic = results.topic;

    if (props.endpointSecret === false && props.existingEndpointSecret)
      throw new Error("existingEndpointSecret: given with endpointSecret: false; drop one");
    const bedrock = bedrockSelection(props.responsesBaseUrl);
    // Bedrock alone (no other endpoint, no secret brought): the role signs every call, there is no key to store.
    const bedrockOnly = bedrock !== undefined && props.endpointBaseUrl === null && props.existingEndpointSecret === undefined;
    const secret =
      (props.endpointSecret ?? !bedrockOnly) === false
        ? undefined
        : new EndpointSecret(this, "EndpointSecret", { existingSecret: props.existingEndpointSecret });
    this.endpointSecret = secret?.secret;
    this.endpointSecretCreated = secret?.created ?? false;

    const state = props.existingStateTable ? undefined : new StateTable(this, "State");
    this.stateTable = props.existingStateTable ?? (state as StateTable).table;

    const payloads = new PayloadBucket(this, "Payloads", { expiryDays: (props.payloadExpiry ?? Duration.days(7)).toDays() });
    this.payloadBucket = payloads.bucket;

    const relay = new RelayFunction(this, "Relay", {
      inputQueue: this.inputQueue,
      deadLetterQueue: this.deadLetterQueue,
      resultsTopic: this.resultsTopic,
      endpointSecret: secret,
      stateTable: this.stateTable,
      payloadBucket: payloads,
      endpointBaseUrl: props.endpointBaseUrl === null ? undefined : (props.endpointBaseUrl ?? SHARED_DEFAULTS.endpointBaseUrl),
      responsesBaseUrl: props.responsesBaseUrl,
      agentsBaseUrl: props.agentsBaseUrl,
      endpointApiVersion: props.endpointApiVersion,
      responsesApiVersion: props.responsesApiVersion,
      maxReceiveCount: this.maxReceiveCount,
      inputRetention: props.existingInputQueue ? (props.existingInputQueueRetention ?? Duration.days(4)) : undefined,
      timeout,
      memorySize: props.memorySize,
      batchSize: props.batchSize,
      batchingWindow: props.batchingWindow,
      maxConcurrency: props.maxConcurrency,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      logLevel: props.logLevel,
      tuning: props.tuning,
      environment: props.environment,
      entry: props.handlerEntry,
    });
    this.relayFunction = relay.function;
    this.role = relay.role;
    if (bedrock !== undefined) {
      const problem = bedrockModelsProblem(bedrock, props.bedrockModels ?? []);
      if (problem !== undefined) throw new Error(`bedrockModels: ${problem}`);
      this.bedrock = new BedrockAccess(this, "Bedrock", { role: this.role, host: bedrock, models: props.bedrockModels ?? [] });
    }
    this.logGroup = relay.logGroup;

    const alarms = new RelayAlarms(this, "Alarms", {
      inputQueue: this.inputQueue,
      deadLetterQueue: this.deadLetterQueue,
      function: relay.function,
      resultsTopic: this.resultsTopic,
      undeliveredResults: results.undelivered?.queue,
      oldestMessageAge: props.oldestMessageAlarmAge ?? Duration.minutes(30),
      alarmTopic: props.existingAlarmTopic,
      alarmEmail: props.alarmEmail,
    });
    this.alarms = alarms.alarms;
    this.alarmTopic = alarms.topic;

    if (props.dashboard ?? true) {
      this.dashboard = new RelayDashboard(this, "Dashboard", {
        inputQueue: this.inputQueue,
        deadLetterQueue: this.deadLetterQueue,
        function: relay.function,
        stateTable: this.stateTable,
        dashboardName: props.dashboardName,
        alarms: this.alarms,
      }).dashboard;
    }
    this.parts = { queues, results, secret, state, payloads, relay, alarms };
  }
}

/** Stand-ins for what the construct sets itself, so the relay's own loader can judge the tuning alone. */
const PLACEHOLDERS = {
  RESULTS_TOPIC_ARN: "arn:aws:sns:us-east-1:000000000000:placeholder",
  DLQ_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/placeholder",
  INPUT_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/placeholder",
};

/**
 * The relay's own checks of its tuning, at synth rather than at the first cold start, and, for queues the construct
 * creates, that every receive fits in the input queue's retention (a message that outlives it vanishes without a DLQ
 * record). A brought queue's retention and visibility are its owner's to keep.
 * @throws Error naming the prop.
 */
function checkTuning(props: ToolOutputRelayProps, timeout: Duration): void {
  let relay: ReturnType<typeof loadConfig>;
  try {
    relay = loadConfig({ ...PLACEHOLDERS, ...props.tuning });
  } catch (error) {
    if (error instanceof ConfigurationError) throw new Error(`tuning: ${error.message}`);
    throw error;
  }
  if (relay.deadlineReserveMs >= timeout.toMilliseconds())
    throw new Error(`tuning: DEADLINE_RESERVE_MS must be below the function's timeout (${timeout.toSeconds()} s)`);
  if (props.existingInputQueue) return;
  const batchingWindow = props.batchingWindow ?? Duration.seconds(0);
  const maxReceiveCount = props.maxReceiveCount ?? 5;
  const retrying = worstCaseRetrySeconds({
    maxReceiveCount,
    visibilityTimeoutSeconds: visibilityTimeoutFor(timeout, batchingWindow).toSeconds(),
    functionTimeoutSeconds: timeout.toSeconds(),
    batchingWindowSeconds: batchingWindow.toSeconds(),
    retryVisibilityBaseSeconds: relay.retryVisibilityBaseSeconds,
    retryVisibilityMaxSeconds: relay.retryVisibilityMaxSeconds,
  });
  if (retrying > INPUT_RETENTION_SECONDS)
    throw new Error(
      `maxReceiveCount: ${maxReceiveCount} receives can take up to ${retrying} s, longer than the input queue keeps a message ` +
        `(${INPUT_RETENTION_SECONDS} s): it would expire before reaching the DLQ. Lower maxReceiveCount, timeout or the hand-back delays`,
    );
}
