import type { Environment } from "aws-cdk-lib";
import { IMPORTED_SECRET_ARN, SECRET_KEY_ARN } from "./relay-stack";

/** A deployment the README documents: its context options. */
export interface DocumentedVariant {
  variant: string;
  context: Record<string, unknown>;
}

/** The documented ways to deploy the stack, each synthesized by the matrix, cdk-nag and cfn-guard tests. */
export const DOCUMENTED_VARIANTS: DocumentedVariant[] = [
  { variant: "defaults (standard queues, created secret, no subscriptions)", context: {} },
  { variant: "FIFO", context: { fifo: true } },
  {
    variant: "FIFO with a FIFO results queue filtered on type and a created alarm topic",
    context: {
      fifo: true,
      resultsSubscriptionQueueArn: "arn:aws:sqs:eu-west-1:123456789012:run-results.fifo",
      resultsSubscriptionTypes: "run.requires_action",
      alarmEmail: "ops@example.com",
    },
  },
  {
    variant: "imported secret by its complete ARN, with its customer managed key",
    context: { secretArn: IMPORTED_SECRET_ARN, secretKmsKeyArn: SECRET_KEY_ARN },
  },
  {
    variant: "imported secret by a partial ARN, in another region",
    context: { secretArn: "arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:relay/keys" },
  },
  {
    variant: "existing alarm topic and an alarm e-mail",
    context: { alarmTopicArn: "arn:aws:sns:eu-west-1:123456789012:ops-alarms", alarmEmail: "ops@example.com" },
  },
  {
    variant: "Azure AI Foundry: classic agents (api-version v1) and the Responses API at the project's /openai/v1",
    context: {
      endpointBaseUrl: "https://acme.services.ai.azure.com/api/projects/relay",
      endpointApiVersion: "v1",
      responsesBaseUrl: "https://acme.services.ai.azure.com/api/projects/relay/openai/v1",
    },
  },
  {
    variant: "Amazon Bedrock runtime only (the role signs; no endpointBaseUrl, no secret)",
    context: {
      responsesBaseUrl: "https://bedrock-runtime.us-east-1.amazonaws.com/openai/v1",
      bedrockModels: "us.openai.gpt-5.6-sol,global.openai.gpt-5.6-terra",
    },
  },
  {
    variant: "Amazon Bedrock Mantle only, in another region than the stack",
    context: { responsesBaseUrl: "https://bedrock-mantle.eu-west-1.api.aws/v1", bedrockModels: ["openai.gpt-oss-120b"] },
  },
  {
    variant: "Amazon Bedrock Mantle's /openai/v1 with a Bedrock API key in an imported secret",
    context: {
      responsesBaseUrl: "https://bedrock-mantle.us-east-2.api.aws/openai/v1",
      bedrockModels: "openai.gpt-5.5",
      secretArn: "arn:aws:secretsmanager:us-east-2:123456789012:secret:bedrock-api-key-AbCdEf",
    },
  },
  { variant: "results queue", context: { resultsSubscriptionQueueArn: "arn:aws:sqs:eu-west-1:123456789012:run-results" } },
  {
    variant: "results e-mail filtered on two types",
    context: { resultsSubscriptionEmail: "dev@example.com", resultsSubscriptionTypes: ["run.completed", "run.failed"] },
  },
  { variant: "batching window with large batches", context: { batchSize: 100, batchingWindowSeconds: 5, maxConcurrency: 50 } },
  {
    variant: "tuned: timeouts, receives, retention, expiry, relay tuning, a long stack name",
    context: {
      stackName: `Relay${"x".repeat(59)}`,
      functionTimeoutSeconds: 120,
      functionMemoryMb: 1024,
      maxReceiveCount: 10,
      logRetentionDays: 365,
      logLevel: "DEBUG",
      oldestMessageAlarmSeconds: 600,
      payloadExpiryDays: 2,
      relayTuning: { FOLLOW_BUDGET_MS: 30_000, RETRY_VISIBILITY_MAX_SECONDS: 3600, DEADLINE_RESERVE_MS: 5000 },
    },
  },
];

/** A combination of options that would synthesize but fail on AWS, and the option the refusal must name. */
export interface InvalidCombination {
  combination: string;
  context: Record<string, unknown>;
  env?: Environment;
  option: string;
  /** Also in the message. */
  says: string;
}

export const INVALID_COMBINATIONS: InvalidCombination[] = [
  {
    combination: "a FIFO results queue on a standard topic",
    context: { resultsSubscriptionQueueArn: "arn:aws:sqs:eu-west-1:123456789012:run-results.fifo" },
    option: "resultsSubscriptionQueueArn",
    says: 'set context option "fifo" to true',
  },
  {
    combination: "an alarm topic in another region than the stack",
    context: { alarmTopicArn: "arn:aws:sns:eu-west-1:123456789012:ops-alarms" },
    env: { region: "eu-central-1" },
    option: "alarmTopicArn",
    says: "CloudWatch alarms can notify only a topic in their own region",
  },
  {
    combination: "retries that outlast the input queue's retention",
    context: { maxReceiveCount: 400 },
    option: "maxReceiveCount",
    says: "it would expire before reaching the DLQ",
  },
  {
    combination: "hand-back delays that outlast the input queue's retention",
    context: { maxReceiveCount: 30, relayTuning: { RETRY_VISIBILITY_MAX_SECONDS: 43_200 } },
    option: "maxReceiveCount",
    says: "RETRY_VISIBILITY_MAX_SECONDS",
  },
  {
    combination: "a batching window on FIFO queues",
    context: { fifo: true, batchingWindowSeconds: 5 },
    option: "batchingWindowSeconds",
    says: "fifo=true",
  },
  { combination: "FIFO batches above 10", context: { fifo: true, batchSize: 20 }, option: "batchSize", says: "at most 10" },
  {
    combination: "batches above 10 without a batching window",
    context: { batchSize: 100 },
    option: "batchSize",
    says: "batchingWindowSeconds",
  },
  {
    combination: "an e-mail subscription on a FIFO topic",
    context: { fifo: true, resultsSubscriptionEmail: "dev@example.com" },
    option: "resultsSubscriptionEmail",
    says: "FIFO topics deliver to SQS only",
  },
  {
    combination: "a type filter without a subscription",
    context: { resultsSubscriptionTypes: "run.completed" },
    option: "resultsSubscriptionTypes",
    says: "needs resultsSubscriptionQueueArn",
  },
  {
    combination: "a secret key without an imported secret",
    context: { secretKmsKeyArn: SECRET_KEY_ARN },
    option: "secretKmsKeyArn",
    says: "needs secretArn",
  },
  {
    combination: "an api-version that is not one",
    context: { endpointApiVersion: "v1&x=1" },
    option: "endpointApiVersion",
    says: "must be an api-version",
  },
  {
    combination: "Amazon Bedrock without bedrockModels",
    context: { responsesBaseUrl: "https://bedrock-runtime.us-east-1.amazonaws.com/openai/v1" },
    option: "bedrockModels",
    says: "must name the model ids",
  },
  {
    combination: "a bare model id at Bedrock runtime, which routes inference profiles only",
    context: { responsesBaseUrl: "https://bedrock-runtime.us-east-1.amazonaws.com/openai/v1", bedrockModels: "openai.gpt-5.6-sol" },
    option: "bedrockModels",
    says: "must be inference-profile ids",
  },
  {
    combination: "Bedrock Mantle in a region without a Mantle endpoint",
    context: { responsesBaseUrl: "https://bedrock-mantle.ca-central-1.api.aws/v1", bedrockModels: "openai.gpt-oss-120b" },
    option: "responsesBaseUrl",
    says: "has no Mantle endpoint",
  },
  {
    combination: "background mode at Bedrock runtime, which answers synchronously only",
    context: {
      responsesBaseUrl: "https://bedrock-runtime.us-east-1.amazonaws.com/openai/v1",
      bedrockModels: "us.openai.gpt-5.6-sol",
      relayTuning: { RESPONSES_BACKGROUND: "true" },
    },
    option: "relayTuning",
    says: "RESPONSES_BACKGROUND: must not be true at Amazon Bedrock runtime",
  },
  {
    combination: "bedrockModels without a Bedrock responsesBaseUrl",
    context: { bedrockModels: "openai.gpt-oss-120b" },
    option: "bedrockModels",
    says: "needs responsesBaseUrl at an Amazon Bedrock host",
  },
  {
    combination: "a deadline reserve as long as the function's timeout",
    context: { functionTimeoutSeconds: 10, relayTuning: { DEADLINE_RESERVE_MS: 10_000 } },
    option: "relayTuning",
    says: "DEADLINE_RESERVE_MS must be below the function's timeout",
  },
];
