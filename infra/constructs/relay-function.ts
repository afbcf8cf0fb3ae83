import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { AssetHashType, Duration, Names, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as sns from "aws-cdk-lib/aws-sns";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import type { TUNING_VARIABLES } from "../../functions/submit-tool-outputs/config/config";
import type { RelayEnvironment } from "../../functions/submit-tool-outputs/config/environment";
import { METRICS_NAMESPACE, SERVICE_NAME } from "../../functions/submit-tool-outputs/config/names";
import { bundleLambdaSync } from "../bundling";
import { INPUT_RETENTION_SECONDS } from "../retry-window";
import type { EndpointSecret } from "./endpoint-secret";
import type { PayloadBucket } from "./payload-bucket";
import { visibilityTimeoutFor } from "./relay-queues";
import type { StateTable } from "./state-table";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export { METRICS_NAMESPACE, SERVICE_NAME } from "../../functions/submit-tool-outputs/config/names";

/** The relay's handler in this repository. */
export const RELAY_HANDLER_ENTRY = `${REPO_ROOT}functions/submit-tool-outputs/handler.ts`;

export interface RelayFunctionProps {
  /** The queue that feeds the function (event source mapping) and takes its `watch_run` follow-ups. */
  readonly inputQueue: sqs.IQueue;
  /** Where the function writes reasoned DLQ records. */
  readonly deadLetterQueue: sqs.IQueue;
  /** Where the function publishes run results. */
  readonly resultsTopic: sns.ITopic;
  /** The endpoint credentials, read once per cold start. */
  readonly endpointSecret: EndpointSecret;
  /** The state table of the Responses API's exactly-once submissions and of collecting (RELAY_STATE_TABLE). */
  readonly stateTable: StateTable;
  /** The bucket for outputs too large for the state table (RELAY_PAYLOAD_BUCKET). */
  readonly payloadBucket: PayloadBucket;
  /** The Assistants-compatible endpoint (ENDPOINT_BASE_URL). */
  readonly endpointBaseUrl: string;
  /**
   * Where the Responses API lives (RESPONSES_BASE_URL), e.g. Azure AI Foundry's `…/api/projects/<project>/openai/v1`.
   * @default endpointBaseUrl
   */
  readonly responsesBaseUrl?: string;
  /**
   * `api-version` on every Assistants-API call (ENDPOINT_API_VERSION); Azure AI Foundry classic agents need `v1`.
   * @default none
   */
  readonly endpointApiVersion?: string;
  /**
   * `api-version` on every Responses-API call (RESPONSES_API_VERSION).
   * @default none (Azure's `/openai/v1` takes none)
   */
  readonly responsesApiVersion?: string;
  /** The input queue's max receive count, so the relay knows the last attempt (MAX_RECEIVE_COUNT). Required: it must match the queue. */
  readonly maxReceiveCount: number;
  /** The function's timeout. */
  readonly timeout: Duration;
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
   * Concurrent invocations fed by the queue.
   * @default 10
   */
  readonly maxConcurrency?: number;
  /**
   * Retention of the function's log group.
   * @default one month
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The relay's application log level.
   * @default "INFO"
   */
  readonly logLevel?: "DEBUG" | "INFO" | "WARN" | "ERROR";
  /**
   * The relay's tuning variables (validated by the context), added to its environment.
   * @default none (the relay's defaults)
   */
  readonly tuning?: Readonly<Partial<Record<(typeof TUNING_VARIABLES)[number], string>>>;
  /**
   * The handler to bundle; tests that skip bundling pass a stand-in.
   * @default the relay handler in this repository
   */
  readonly entry?: string;
}

/**
 * The relay Lambda, fed by the input queue, with exactly the permissions its job needs, each statement
 * written out (CDK's grants add actions the relay never calls, such as GetQueueUrl and DescribeSecret):
 * consume, hand back and re-enqueue (`watch_run`) on the input queue, write reasoned records to the DLQ,
 * publish to the results topic, read the endpoint secret, keep state in the table and large outputs in the bucket.
 * test/infra/iam-evaluation.test.ts runs the bundle against loopback AWS and checks every call against these.
 */
export class RelayFunction extends Construct {
  readonly function: lambda.Function;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: RelayFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, "Logs", { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });

    // An own role instead of AWSLambdaBasicExecutionRole: logs may be written to this log group only.
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: "tool-output-relay function",
    });
    // On the log group's ARN (`…:log-group:<name>:*`), which covers its streams: IAM authorizes both actions on the
    // stream. LogGroup.grant would add the bare group ARN as well, which neither action is evaluated against.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [this.logGroup.logGroupArn] }),
    );

    const entry = props.entry ?? RELAY_HANDLER_ENTRY;
    this.function = new lambda.Function(this, "Function", {
      description: "Submits tool outputs from SQS to the endpoint and publishes the run's next state",
      // Bundled here with esbuild's API, as `npm run build` and the benchmarks bundle it (infra/bundling.ts): code
      // split at dynamic imports, which NodejsFunction's esbuild command line (one --outfile) cannot do.
      code: lambda.Code.fromAsset(dirname(entry), {
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          image: lambda.Runtime.NODEJS_24_X.bundlingImage,
          local: {
            tryBundle(outputDir) {
              bundleLambdaSync(entry, outputDir);
              return true;
            },
          },
        },
      }),
      handler: "index.handler",
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize ?? 512,
      role: this.role,
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel[props.logLevel ?? "INFO"],
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      environment: {
        ENDPOINT_BASE_URL: props.endpointBaseUrl,
        ...(props.responsesBaseUrl ? { RESPONSES_BASE_URL: props.responsesBaseUrl } : {}),
        ...(props.endpointApiVersion ? { ENDPOINT_API_VERSION: props.endpointApiVersion } : {}),
        ...(props.responsesApiVersion ? { RESPONSES_API_VERSION: props.responsesApiVersion } : {}),
        ENDPOINT_SECRET_ARN: props.endpointSecret.secret.secretArn,
        RESULTS_TOPIC_ARN: props.resultsTopic.topicArn,
        DLQ_URL: props.deadLetterQueue.queueUrl,
        INPUT_QUEUE_URL: props.inputQueue.queueUrl,
        MAX_RECEIVE_COUNT: String(props.maxReceiveCount),
        // Rule 1: the relay cuts every hand-back to what the input queue's retention leaves (less one receive).
        INPUT_RETENTION_SECONDS: String(INPUT_RETENTION_SECONDS),
        INPUT_VISIBILITY_TIMEOUT_SECONDS: String(
          visibilityTimeoutFor(props.timeout, props.batchingWindow ?? Duration.seconds(0)).toSeconds(),
        ),
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        RELAY_STATE_TABLE: props.stateTable.table.tableName,
        RELAY_PAYLOAD_BUCKET: props.payloadBucket.bucket.bucketName,
        ...props.tuning,
      } satisfies RelayEnvironment,
    });

    // What SqsEventSource makes, with its id (an existing mapping is updated, not replaced: two mappings of one queue
    // and function conflict), minus its grantConsumeMessages, which adds GetQueueUrl; the statement below is exact.
    this.function.addEventSourceMapping(`SqsEventSource:${Names.nodeUniqueId(props.inputQueue.node)}`, {
      eventSourceArn: props.inputQueue.queueArn,
      batchSize: props.batchSize ?? 10,
      maxBatchingWindow: props.batchingWindow && props.batchingWindow.toSeconds() > 0 ? props.batchingWindow : undefined,
      maxConcurrency: props.maxConcurrency ?? 10,
      // The relay answers batchItemFailures: only the failed records come back.
      reportBatchItemFailures: true,
    });
    const allow = (actions: string[], resources: string[]) =>
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
    allow(
      [
        // The event source mapping polls and deletes with the function's role.
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        // The relay: hand-back delays and follow-up `watch_run` messages.
        "sqs:ChangeMessageVisibility",
        "sqs:SendMessage",
      ],
      [props.inputQueue.queueArn],
    );
    allow(["sqs:SendMessage"], [props.deadLetterQueue.queueArn]); // reasoned DLQ records
    allow(["sns:Publish"], [props.resultsTopic.topicArn]);
    // SNS encrypts with the topic's key on the publisher's behalf.
    props.resultsTopic.masterKey?.grant(this.role, "kms:GenerateDataKey", "kms:Decrypt");
    props.endpointSecret.grantRead(this.role);
    props.stateTable.grantStateAccess(this.role);
    props.payloadBucket.grantPayloadAccess(this.role);

    Validations.of(this.role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) support no resource-level permissions; every other statement names its resource.",
    });
  }
}
