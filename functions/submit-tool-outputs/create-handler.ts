import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { collectorOnFirstUse, type RelayCollector } from "./collect/collector-on-first-use";
import { loadConfig, type RelayConfig, withSigV4Service } from "./config/config";
import type { RelayEnvironment } from "./config/environment";
import { createDialects, endpointDestinations } from "./dialects/index";
import { checkCredentialDestinations, loadCredentials, openEndpointAuth } from "./endpoint/credentials/credentials";
import { awsSinks, type RelaySinks } from "./out/aws-sinks";
import { logger, metrics, powertoolsTelemetry, withMetricsTally } from "./out/observability";
import { createRelay } from "./pipeline/relay";
import { lazyStateTable } from "./state/lazy-state-table";
import type { StateTable } from "./state/state-table";

/**
 * Builds the Lambda handler from an environment. Configuration is validated here, at cold start, and a
 * wrong variable fails the init with its name; credentials are read once, on the first invocation, and kept.
 * @example export const handler = createHandler(process.env);
 */
export function createHandler(env: RelayEnvironment) {
  const config = loadConfig(env);
  // AWS_ENDPOINT_URL / AWS_REGION are the SDK's own; passed explicitly so an env object (tests, local stack) works too.
  const aws = {
    ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
    ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}),
  };
  // Records still deciding may add to a batch call; when none is, the sinks send at once (no linger).
  const deciding = { count: 0 };
  const sinks = awsSinks({
    moreMayCome: () => deciding.count > 0,
    sqs: new SQSClient(aws),
    sns: new SNSClient(aws),
    resultsTopicArn: config.resultsTopicArn,
    dlqUrl: config.dlqUrl,
    inputQueueUrl: config.inputQueueUrl,
    watchDelaySeconds: config.watchDelaySeconds,
  });

  const state = stateFor(config, env, sinks);
  let relay: Promise<ReturnType<typeof createRelay>> | undefined;
  const relayOnce = () => {
    relay ??= loadCredentials(config.endpointSecretArn, env, endpointDestinations(config))
      .then(async (credentials) => {
        checkCredentialDestinations(credentials, endpointDestinations(config));
        const auth = await openEndpointAuth(credentials, { timeoutMs: config.endpointTimeoutMs, env });
        const http = { ...auth, timeoutMs: config.endpointTimeoutMs, onCall: powertoolsTelemetry.endpointCall };
        const wired = withSigV4Service(config, env, credentials.ENDPOINT_SIGV4_SERVICE);
        const dialects = createDialects(wired, http, state.table);
        return createRelay({ config: wired, dialects, collector: state.collector, sinks, telemetry: powertoolsTelemetry, deciding });
      })
      .catch((error) => {
        // Not cached: the next invocation tries again (the batch goes back to SQS meanwhile).
        relay = undefined;
        throw error;
      });
    return relay;
  };

  // The relay stops taking work `deadlineReserveMs` before Lambda's timeout and settles what is left in
  // that time; Middy's early timeout, a quarter of the reserve before the end, is only the last resort.
  // Start reading the credentials during init (faster CPU, not billed on the first message's time);
  // a failure here is retried by the first invocation.
  relayOnce().catch(() => undefined);

  return (
    middy<SQSEvent, SQSBatchResponse>({ timeoutEarlyInMillis: Math.floor(config.deadlineReserveMs / 4) })
      // logEvent: false whatever POWERTOOLS_LOGGER_LOG_EVENT says: the event holds tool outputs.
      .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
      .use(logMetrics(metrics, { captureColdStartMetric: true }))
      .handler(async (event, context, { signal }) => {
        const relay = await relayOnce();
        return withMetricsTally(() => relay(event, context, signal));
      })
  );
}

/** The state table, opened on first use, and the collector that needs it (built on first use too); none when RELAY_STATE_TABLE is unset. */
function stateFor(
  config: RelayConfig,
  env: RelayEnvironment,
  sinks: RelaySinks,
): { table?: () => Promise<StateTable>; collector?: RelayCollector } {
  if (config.stateTableName === undefined) return {};
  const table = lazyStateTable({
    tableName: config.stateTableName,
    region: env.AWS_REGION,
    endpoint: env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL,
  });
  const bucket = config.payloadBucket;
  const s3 = { region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL };
  const collector = collectorOnFirstUse(async () => {
    const [{ Collector }, { CollectState }] = await Promise.all([import("./collect/collector"), import("./collect/collect-state")]);
    return new Collector({
      state: new CollectState({
        table,
        collectTimeoutSeconds: config.collectTimeoutSeconds,
        ...(bucket ? { payloadBucket: { bucket, ...s3 } } : {}),
      }),
      sinks,
      maxReceiveCount: config.maxReceiveCount,
      collectTimeoutSeconds: config.collectTimeoutSeconds,
      // A complete set's submitter, handed back, returns within its receives' hand-back delays and Lambda's longest
      // timeout each; capped at 12 h, inside what the payload bucket (the timeout plus a day at least) and the
      // collection item's TTL (plus two days) keep.
      submitterWindowMs: Math.min(43_200_000, config.maxReceiveCount * (config.retryVisibilityMaxSeconds + 900) * 1000),
    });
  });
  return { table, collector };
}
