import type { CREDENTIAL_KEYS } from "../endpoint/credentials/credentials";
import type { RelayVariable } from "./config";

/** The AWS SDK's own variables the relay passes to its clients (docs/configuration.md). */
type AwsSdkVariable =
  | "AWS_REGION"
  | "AWS_ENDPOINT_URL"
  | "AWS_ENDPOINT_URL_DYNAMODB"
  | "AWS_ENDPOINT_URL_S3"
  // The function's own credentials: SigV4 signs the endpoint calls with them (endpoint/credentials/sigv4.ts).
  | "AWS_ACCESS_KEY_ID"
  | "AWS_SECRET_ACCESS_KEY"
  | "AWS_SESSION_TOKEN";
/** Powertools' variables the stack sets. */
type PowertoolsVariable = "POWERTOOLS_SERVICE_NAME" | "POWERTOOLS_METRICS_NAMESPACE" | "POWERTOOLS_LOG_LEVEL";

export type { RelayVariable };

/**
 * The function's environment, by name: the CDK construct, the local stack, the tests and the bench build it
 * with this type, so a misspelt variable fails to compile instead of being silently ignored.
 * @example const env = { RESULTS_TOPIC_ARN: topicArn, DLQ_URL: dlqUrl } satisfies RelayEnvironment;
 */
export type RelayEnvironment = Partial<
  Record<RelayVariable | (typeof CREDENTIAL_KEYS)[number] | AwsSdkVariable | PowertoolsVariable, string>
>;
