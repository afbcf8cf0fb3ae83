import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { type FauxqsServer, startFauxqs } from "fauxqs";
import { createStateTable, type DynamodbLocal, startDynamodbLocal } from "./dynamodb-local";

export interface EmbeddedAwsOptions {
  /** FIFO queues and topic, as the CDK stack makes with context `fifo=true`. Default false. */
  fifo?: boolean;
  /** The redrive's max receive count (the CDK stack's default is 5). */
  maxReceiveCount?: number;
  /** The input queue's visibility timeout. Default 30 s. */
  visibilityTimeoutSeconds?: number;
  /** Port on 127.0.0.1. Default 0 (a free one). */
  port?: number;
  region?: string;
}

export interface QueueRef {
  name: string;
  /** On 127.0.0.1 (fauxqs's own URLs use a host name this machine may not resolve). */
  url: string;
  arn: string;
}

export interface EmbeddedAws {
  server: FauxqsServer;
  /** What `AWS_ENDPOINT_URL` should be for the SDK to reach the emulator (SQS, SNS, S3). */
  endpoint: string;
  /** DynamoDB on loopback (dynalite): what `AWS_ENDPOINT_URL_DYNAMODB` should be. */
  dynamodb: DynamodbLocal;
  /** The state table, made as the stack makes it. */
  stateTableName: string;
  /** The payload bucket (fauxqs's S3). */
  payloadBucket: string;
  region: string;
  input: QueueRef;
  dlq: QueueRef;
  resultsTopicArn: string;
  /** Subscribed to the results topic (SNS envelopes, attributes inside), for reading what was published. */
  results: QueueRef;
  sqs: SQSClient;
  sns: SNSClient;
  close(): Promise<void>;
}

/**
 * An in-process SQS/SNS/S3 emulator (fauxqs) and DynamoDB (dynalite) holding the resources the CDK stack
 * creates: the input queue with its redrive to the DLQ, the results topic, the state table, the payload bucket,
 * and a queue subscribed to the topic to read results.
 * @example const aws = await startEmbeddedAws({ maxReceiveCount: 5 }); … await aws.close();
 */
export async function startEmbeddedAws(options: EmbeddedAwsOptions = {}): Promise<EmbeddedAws> {
  const region = options.region ?? "us-east-1";
  const fifo = options.fifo ?? false;
  const suffix = fifo ? ".fifo" : "";
  const fifoAttributes: Record<string, string> = fifo ? { FifoQueue: "true", ContentBasedDeduplication: "true" } : {};
  const server = await startFauxqs({ port: options.port ?? 0, logger: false, defaultRegion: region });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const ref = (created: { queueName: string; queueArn: string }): QueueRef => ({
    name: created.queueName,
    arn: created.queueArn,
    url: `${endpoint}/000000000000/${created.queueName}`,
  });

  const dlq = ref(
    server.createQueue(`tool-outputs-dlq${suffix}`, { attributes: { ...fifoAttributes, MessageRetentionPeriod: "1209600" } }),
  );
  const input = ref(
    server.createQueue(`tool-outputs${suffix}`, {
      attributes: {
        ...fifoAttributes,
        VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 30),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: options.maxReceiveCount ?? 5 }),
      },
    }),
  );
  const topicName = `tool-output-results${suffix}`;
  const { topicArn } = server.createTopic(topicName, { attributes: fifo ? { FifoTopic: "true", ContentBasedDeduplication: "true" } : {} });
  const results = ref(server.createQueue(`tool-output-results-reader${suffix}`, { attributes: fifoAttributes }));
  server.subscribe({ topic: topicName, queue: results.name });

  const dynamodb = await startDynamodbLocal();
  const stateTableName = "tool-output-relay-state";
  await createStateTable({ endpoint: dynamodb.endpoint, region }, stateTableName);
  const payloadBucket = "tool-output-relay-payloads";
  server.createBucket(payloadBucket);

  const clientConfig = { region, endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } };
  const sqs = new SQSClient(clientConfig);
  const sns = new SNSClient(clientConfig);
  return {
    server,
    endpoint,
    dynamodb,
    stateTableName,
    payloadBucket,
    region,
    input,
    dlq,
    resultsTopicArn: topicArn,
    results,
    sqs,
    sns,
    async close() {
      sqs.destroy();
      sns.destroy();
      await server.stop();
      await dynamodb.close();
    },
  };
}
