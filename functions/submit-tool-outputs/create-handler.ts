import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { CollectionStore } from "./collect/collection-store";
import { Collector } from "./collect/collector";
import { loadConfig, type RelayConfig } from "./config/config";
import type { RelayEnvironment } from "./config/environment";
import { AgentsClient } from "./dialects/agents/client";
import { agentsDialect } from "./dialects/agents/dialect";
import { AssistantsClient } from "./dialects/assistants/client";
import { assistantsDialect } from "./dialects/assistants/dialect";
import { ResponsesClient } from "./dialects/responses/client";
import type { ResponsesDeps } from "./dialects/responses/decide";
import { responsesDialect } from "./dialects/responses/dialect";
import { ConversationLatest, SubmissionClaims } from "./dialects/responses/submission-claims";
import {
  checkCredentialDestinations,
  credentialHeaders,
  type EndpointCredentials,
  loadCredentials,
  usesEntraId,
} from "./endpoint/credentials/credentials";
import type { Authorize, EndpointHttpOptions } from "./endpoint/endpoint-http";
import { awsSinks, type RelaySinks } from "./out/aws-sinks";
import { logger, metrics, powertoolsTelemetry } from "./out/observability";
import { createRelay, type Dialects } from "./pipeline/relay";
import { lazyStateTable } from "./state/lazy-state-table";

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
    relay ??= loadCredentials(config.endpointSecretArn, env)
      .then(async (credentials) => {
        checkCredentialDestinations(credentials, config);
        const http = {
          headers: credentialHeaders(credentials),
          timeoutMs: config.endpointTimeoutMs,
          onCall: powertoolsTelemetry.endpointCall,
          authorize: usesEntraId(credentials) ? await entraAuthorize(credentials, config) : undefined,
        };
        const dialects = dialectsFor(config, http, state.claims);
        return createRelay({ config, dialects, collector: state.collector, sinks, telemetry: powertoolsTelemetry, deciding });
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
      .handler(async (event, context, { signal }) => (await relayOnce())(event, context, signal))
  );
}

/** Each API's dialect, with its endpoint client. */
function dialectsFor(config: RelayConfig, http: Omit<EndpointHttpOptions, "baseUrl" | "query">, state: ResponsesDeps["state"]): Dialects {
  const limits = {
    maxAttempts: config.maxAttempts,
    retryBaseDelayMs: config.retryBaseDelayMs,
    retryMaxDelayMs: config.retryMaxDelayMs,
    followBudgetMs: config.followBudgetMs,
    pollIntervalMs: config.pollIntervalMs,
  };
  const version = (value: string | undefined) => (value === undefined ? {} : { query: { "api-version": value } });
  return {
    assistants: assistantsDialect({
      endpoint: new AssistantsClient({ ...http, baseUrl: config.endpointBaseUrl, ...version(config.endpointApiVersion) }),
      ...limits,
    }),
    responses: responsesDialect({
      endpoint: new ResponsesClient({ ...http, baseUrl: config.responsesBaseUrl, ...version(config.responsesApiVersion) }),
      state,
      background: config.responsesBackground,
      unconfirmed: config.responsesUnconfirmed,
      ...limits,
    }),
    // No api-version: the Agents API is OpenAI's own (Azure has no such surface).
    agents: agentsDialect({
      endpoint: new AgentsClient({ ...http, baseUrl: config.agentsBaseUrl }),
      maxReceiveCount: config.maxReceiveCount,
      ...limits,
    }),
  };
}

/** What needs the state table, opened on first use: the Responses claims and the collector; none when RELAY_STATE_TABLE is unset. */
function stateFor(
  config: RelayConfig,
  env: RelayEnvironment,
  sinks: RelaySinks,
): { claims?: ResponsesDeps["state"]; collector?: Collector } {
  if (config.stateTableName === undefined) return {};
  const table = lazyStateTable({
    tableName: config.stateTableName,
    region: env.AWS_REGION,
    endpoint: env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL,
  });
  const once = <T>(open: () => Promise<T>) => {
    let opened: Promise<T> | undefined;
    return () => {
      opened ??= open();
      return opened;
    };
  };
  const bucket = config.payloadBucket;
  const s3 = { region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL };
  const collector = new Collector({
    store: once(async () => new CollectionStore(await table(), config.collectTimeoutSeconds)),
    // Loaded only when a collected body is too large for an item: the S3 client stays out of every other path.
    payloads: bucket ? once(async () => new (await import("./collect/payload-store")).PayloadStore(bucket, s3)) : undefined,
    sinks,
    maxReceiveCount: config.maxReceiveCount,
    collectTimeoutSeconds: config.collectTimeoutSeconds,
    // A complete set's submitter, handed back, returns within its receives' hand-back delays and Lambda's longest
    // timeout each; capped at 12 h, inside what the payload bucket (the timeout plus a day at least) and the
    // collection item's TTL (plus two days) keep.
    submitterWindowMs: Math.min(43_200_000, config.maxReceiveCount * (config.retryVisibilityMaxSeconds + 900) * 1000),
  });
  return {
    claims: once(async () => ({ claims: new SubmissionClaims(await table()), latest: new ConversationLatest(await table()) })),
    collector,
  };
}

/** Entra ID tokens, shared by every request of the execution environment; the token code loads only in this mode. */
async function entraAuthorize(credentials: EndpointCredentials, config: RelayConfig): Promise<Authorize> {
  const { entraTokenSourceFromCredentials, sendWithToken } = await import("./endpoint/credentials/entra-token");
  const tokens = entraTokenSourceFromCredentials(credentials, { timeoutMs: config.endpointTimeoutMs });
  return (send, signal) => sendWithToken(tokens, signal, send);
}
