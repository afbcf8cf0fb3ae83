import { fileURLToPath } from "node:url";
import { type Duration, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as sns from "aws-cdk-lib/aws-sns";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { RELAY_BUNDLE } from "../bundling";
import type { EndpointSecret } from "./endpoint-secret";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Powertools' service name: the relay's logs and metrics carry it (metrics as the `service` dimension). */
export const SERVICE_NAME = "tool-output-relay";
/** The CloudWatch namespace of the relay's own metrics. */
export const METRICS_NAMESPACE = "ToolOutputRelay";

/** The relay's handler in this repository. */
export const RELAY_HANDLER_ENTRY = `${REPO_ROOT}functions/submit-tool-outputs/handler.ts`;

export interface RelayFunctionProps {
  readonly inputQueue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly resultsTopic: sns.ITopic;
  readonly endpointSecret: EndpointSecret;
  readonly endpointBaseUrl: string;
  readonly maxReceiveCount: number;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly batchSize: number;
  /** Zero for none. */
  readonly batchingWindow: Duration;
  readonly maxConcurrency: number;
  readonly logRetention: logs.RetentionDays;
  readonly logLevel: "DEBUG" | "INFO" | "WARN" | "ERROR";
  /** The relay's tuning variables (validated by the context), added to its environment. */
  readonly tuning?: Readonly<Record<string, string>>;
  /** Defaults to the relay handler in this repository; tests that skip bundling pass a stand-in. */
  readonly entry?: string;
}

/**
 * The relay Lambda, fed by the input queue, with exactly the permissions its job needs:
 * consume and re-enqueue (`watch_run`) on the input queue, write reasoned records to the DLQ,
 * publish to the results topic, read the endpoint secret.
 */
export class RelayFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: RelayFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, "Logs", { retention: props.logRetention });

    // An own role instead of AWSLambdaBasicExecutionRole: logs may be written to this log group only.
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: "tool-output-relay function",
    });
    this.logGroup.grant(this.role, "logs:CreateLogStream", "logs:PutLogEvents");

    this.function = new nodejs.NodejsFunction(this, "Function", {
      description: "Submits tool outputs from SQS to the endpoint and publishes the run's next state",
      entry: props.entry ?? RELAY_HANDLER_ENTRY,
      handler: "handler",
      projectRoot: REPO_ROOT,
      depsLockFilePath: `${REPO_ROOT}package-lock.json`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize,
      role: this.role,
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel[props.logLevel],
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      // Target, main fields and the `require` banner are shared with `npm run build`, so benchmarks measure this bundle.
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: RELAY_BUNDLE.target,
        mainFields: [...RELAY_BUNDLE.mainFields],
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // Bundling the AWS SDK (instead of the runtime's copy) starts faster and pins the version we test with.
        bundleAwsSDK: true,
        externalModules: [],
        banner: RELAY_BUNDLE.banner,
        forceDockerBundling: false,
        logLevel: nodejs.LogLevel.WARNING,
      },
      environment: {
        ENDPOINT_BASE_URL: props.endpointBaseUrl,
        ENDPOINT_SECRET_ARN: props.endpointSecret.secret.secretArn,
        RESULTS_TOPIC_ARN: props.resultsTopic.topicArn,
        DLQ_URL: props.deadLetterQueue.queueUrl,
        INPUT_QUEUE_URL: props.inputQueue.queueUrl,
        MAX_RECEIVE_COUNT: String(props.maxReceiveCount),
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...props.tuning,
      },
    });

    this.function.addEventSource(
      new SqsEventSource(props.inputQueue, {
        batchSize: props.batchSize,
        maxBatchingWindow: props.batchingWindow.toSeconds() > 0 ? props.batchingWindow : undefined,
        maxConcurrency: props.maxConcurrency,
        // The relay answers batchItemFailures: only the failed records come back.
        reportBatchItemFailures: true,
      }),
    );
    props.inputQueue.grantSendMessages(this.function); // follow-up `watch_run` messages
    props.deadLetterQueue.grantSendMessages(this.function); // reasoned DLQ records
    // Spelled out rather than grantPublish(), which allows kms:GenerateDataKey* where Publish needs GenerateDataKey only.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ["sns:Publish"], resources: [props.resultsTopic.topicArn] }));
    props.resultsTopic.masterKey?.grant(this.role, "kms:GenerateDataKey", "kms:Decrypt");
    props.endpointSecret.grantRead(this.function);

    Validations.of(this.role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) support no resource-level permissions; every other statement names its resource.",
    });
  }
}
