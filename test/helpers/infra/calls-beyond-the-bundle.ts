/**
 * For the IAM evaluation (test/infra/iam-evaluation.test.ts): the deployments it synthesizes and runs, and the AWS
 * calls of the relay's role that the bundle does not make in the scenarios — what AWS services call with the role on
 * the function's behalf, the second reading of an imported secret ARN, and what must be refused.
 */
import type { LoopbackRelay } from "./relay-on-loopback-aws";
import type { AwsCall } from "./role-evaluation";

export interface Deployment {
  name: string;
  context: Record<string, unknown>;
  /** A customer managed key of an imported secret, which the template cannot show: its key policy, for the evaluator. */
  secretKey?: { arn: string; policy: unknown };
}

export const SECRET_KEY_ARN = "arn:aws:kms:ap-southeast-2:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab";

export const DEPLOYMENTS: Deployment[] = [
  { name: "the default deployment", context: {} },
  {
    name: "a deployment importing a secret of another region, encrypted with its own key",
    context: { secretArn: "arn:aws:secretsmanager:ap-southeast-2:000000000000:secret:relay-keys-AbCdEf", secretKmsKeyArn: SECRET_KEY_ARN },
    // The default key policy: the account's IAM policies decide (the README asks for this, or for the role named).
    secretKey: {
      arn: SECRET_KEY_ARN,
      policy: {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::000000000000:root" }, Action: "kms:*", Resource: "*" }],
      },
    },
  },
];

/**
 * Calls AWS services make with the function's role on its behalf: the bundle does not make them, so the proxy
 * cannot see them (Lambda's event source mapping polling the queue, Lambda writing the function's logs and X-Ray
 * segments, SNS encrypting a published result with the topic's key).
 */
export function onBehalfOfTheFunction(relay: LoopbackRelay, deployment: Deployment): Array<AwsCall & { by: string }> {
  const { region, account } = relay.environment;
  const inputQueue = arnOfQueue(relay, relay.inputQueueUrl);
  const logGroup = relay.resolver.resolve(relay.template.Resources[relay.functionId]!.Properties!.LoggingConfig.LogGroup) as string;
  const logStream = `arn:aws:logs:${region}:${account}:log-group:${logGroup}:log-stream:2026/01/01/[$LATEST]0123456789abcdef`;
  const topicKey = relay.resolver.resolve(relay.template.Resources[topicIdOf(relay)]!.Properties!.KmsMasterKeyId) as string;
  const throughSns = { "kms:ViaService": `sns.${region}.amazonaws.com`, "kms:CallerAccount": account };
  return [
    { by: "Lambda's SQS event source mapping", action: "sqs:ReceiveMessage", resource: inputQueue },
    { by: "Lambda's SQS event source mapping", action: "sqs:DeleteMessage", resource: inputQueue },
    { by: "Lambda's SQS event source mapping", action: "sqs:GetQueueAttributes", resource: inputQueue },
    { by: "Lambda, writing the function's logs", action: "logs:CreateLogStream", resource: logStream },
    { by: "Lambda, writing the function's logs", action: "logs:PutLogEvents", resource: logStream },
    { by: "Lambda's active tracing", action: "xray:PutTraceSegments", resource: "*" },
    { by: "Lambda's active tracing", action: "xray:PutTelemetryRecords", resource: "*" },
    { by: "SNS, encrypting a result the function publishes", action: "kms:GenerateDataKey", resource: topicKey, context: throughSns },
    { by: "SNS, encrypting a result the function publishes", action: "kms:Decrypt", resource: topicKey, context: throughSns },
    ...(deployment.secretKey
      ? [
          {
            by: "Secrets Manager, decrypting the imported secret with its customer managed key",
            action: "kms:Decrypt",
            resource: deployment.secretKey.arn,
            context: { "kms:ViaService": `secretsmanager.${secretRegionOf(relay)}.amazonaws.com`, "kms:CallerAccount": account },
          },
        ]
      : []),
  ];
}

/** Where the function reads its secret: the region of the secret's ARN. */
export function secretRegionOf(relay: LoopbackRelay): string {
  return relay.functionEnvironment.ENDPOINT_SECRET_ARN!.split(":")[3]!;
}

/**
 * The second reading of an imported secret ARN that looks complete (ends in - and six characters): it may be a
 * partial ARN of a name that happens to end so, whose secret's ARN then has a suffix more. The stack grants both
 * readings (infra/constructs/endpoint-secret.ts); a loopback secret can only be one of them.
 */
export function theOtherReadingOfTheSecretArn(relay: LoopbackRelay, deployment: Deployment): AwsCall[] {
  const arn = relay.functionEnvironment.ENDPOINT_SECRET_ARN!;
  return deployment.context.secretArn && /-[A-Za-z0-9]{6}$/.test(arn)
    ? [{ action: "secretsmanager:GetSecretValue", resource: `${arn}-Q1w2E3` }]
    : [];
}

/** What the relay never needs: each must be refused, which also shows that the evaluator does refuse. */
export function neverNeeded(relay: LoopbackRelay): AwsCall[] {
  const { region, account } = relay.environment;
  const env = relay.functionEnvironment;
  const table = `arn:aws:dynamodb:${region}:${account}:table/${env.RELAY_STATE_TABLE}`;
  return [
    { action: "sqs:SendMessage", resource: `arn:aws:sqs:${region}:${account}:someone-elses-queue` },
    { action: "sqs:ReceiveMessage", resource: arnOfQueue(relay, relay.deadLetterQueueUrl) },
    { action: "sqs:PurgeQueue", resource: arnOfQueue(relay, relay.inputQueueUrl) },
    { action: "sqs:GetQueueUrl", resource: arnOfQueue(relay, relay.inputQueueUrl) },
    { action: "sns:Publish", resource: `arn:aws:sns:${region}:${account}:someone-elses-topic` },
    { action: "secretsmanager:DescribeSecret", resource: env.ENDPOINT_SECRET_ARN! },
    { action: "secretsmanager:GetSecretValue", resource: `arn:aws:secretsmanager:${region}:${account}:secret:other-AbCdEf` },
    { action: "dynamodb:Scan", resource: table },
    { action: "dynamodb:DeleteItem", resource: table },
    { action: "dynamodb:Query", resource: `${table}/index/any` },
    { action: "s3:DeleteObject", resource: `arn:aws:s3:::${env.RELAY_PAYLOAD_BUCKET}/collect/x` },
    { action: "s3:ListBucket", resource: `arn:aws:s3:::${env.RELAY_PAYLOAD_BUCKET}` },
    { action: "kms:Decrypt", resource: `arn:aws:kms:${region}:${account}:key/11111111-2222-4333-8444-555555555555` },
  ];
}

export function arnOfQueue(relay: LoopbackRelay, url: string): string {
  return `arn:aws:sqs:${relay.environment.region}:${relay.environment.account}:${url.split("/").pop()}`;
}

function topicIdOf(relay: LoopbackRelay): string {
  const arn = relay.functionEnvironment.RESULTS_TOPIC_ARN;
  return Object.keys(relay.physical).find((id) => relay.physical[id]!.attributes.TopicArn === arn)!;
}
