/**
 * The relay as `cdk synth` bundles it (the real index.mjs), with its template's environment resolved to loopback
 * resources, run in a process of its own as Lambda would run it, against loopback AWS behind a recording proxy:
 * fauxqs (SQS, SNS, S3), dynalite (DynamoDB), a loopback Secrets Manager, and the endpoint simulator. The test
 * plays the event source mapping: it receives from the input queue, invokes the handler, deletes what succeeded.
 */
import { type ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type Message, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { type FauxqsServer, startFauxqs } from "fauxqs";
import { deleteMessages, drainQueue, receiveBatch } from "../../../cli/queue-io";
import { bedrockHost } from "../../../functions/submit-tool-outputs/endpoint/credentials/bedrock-host";
import { createRelayApp } from "../../../infra/app";
import { startDynamodbLocal } from "../../../local/dynamodb-local";
import { type EndpointSimulator, startEndpointSimulator } from "../../../local/endpoint-simulator";
import { deleteSucceeded, receiveEvent } from "../../../local/lambda-invocation";
import { type SecretsManagerServer, startSecretsManagerServer } from "../secrets-manager-server";
import { type RecordingProxy, startRecordingProxy } from "./recording-proxy";
import { CDK_JSON } from "./relay-stack";
import { type PhysicalResource, physicalResources, type SimulatedEnvironment, TemplateResolver } from "./template-resolver";

const BUNDLE_HOST = fileURLToPath(new URL("./fixtures/bundle-host.mjs", import.meta.url));
export const LOOPBACK_API_KEY = "pk-loopback-api-key";
export const LOOPBACK_VIRTUAL_KEY = "vk-loopback-virtual-key";
/** The role's session as Lambda would put it in the function's environment (the bundle signs Bedrock calls with it). */
const ROLE_SESSION = { accessKeyId: "ASIALOCALRELAYROLE00", secretAccessKey: "local", sessionToken: "local" };

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, any> }> };

export interface LoopbackRelay {
  environment: SimulatedEnvironment;
  template: Template;
  resolver: TemplateResolver;
  physical: Record<string, PhysicalResource>;
  /** The logical ids of the function and its role. */
  functionId: string;
  roleId: string;
  /** The function's environment as the template sets it, resolved (ENDPOINT_BASE_URL points at the simulator). */
  functionEnvironment: Record<string, string>;
  sim: EndpointSimulator;
  fauxqs: FauxqsServer;
  /** The AWS calls the function made, as the recording proxy saw them. */
  proxy: RecordingProxy;
  /** A client for the test's own calls (sending, playing the event source mapping): straight to fauxqs, never recorded. */
  sqs: SQSClient;
  inputQueueUrl: string;
  deadLetterQueueUrl: string;
  send(message: unknown): Promise<string>;
  receive(queueUrl: string, max?: number): Promise<Message[]>;
  /** One event source mapping cycle on the input queue. */
  deliver(timeoutMs?: number): Promise<{ event: SQSEvent; response: SQSBatchResponse }>;
  /** Every results event published so far (drains a reader queue subscribed to the results topic). */
  results(): Promise<Array<Record<string, any>>>;
  remove(queueUrl: string, messages: Array<{ ReceiptHandle?: string; receiptHandle?: string }>): Promise<void>;
  close(): Promise<void>;
}

export interface LoopbackRelayOptions {
  /** Context options of the synthesized app (cdk.json's feature flags are always applied). */
  context?: Record<string, unknown>;
}

/**
 * Synthesizes the app with real bundling, stands up its resources on loopback, and starts the bundle.
 * @example const relay = await startRelayOnLoopbackAws({ context: { relayTuning: { FOLLOW_BUDGET_MS: 1500 } } });
 */
export async function startRelayOnLoopbackAws(options: LoopbackRelayOptions = {}): Promise<LoopbackRelay> {
  const { app, stack } = createRelayApp({ context: { ...CDK_JSON.context, ...options.context }, builtinCloudFormationValidation: false });
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as Template;
  const [functionId, fn] = Object.entries(template.Resources).find(([, resource]) => resource.Type === "AWS::Lambda::Function")!;
  const bundle = join(assembly.directory, `asset.${String(fn.Properties!.Code.S3Key).replace(/\.zip$/, "")}`, "index.mjs");
  const roleId = fn.Properties!.Role["Fn::GetAtt"][0] as string;

  const environment: SimulatedEnvironment = { account: "000000000000", region: "eu-west-1", partition: "aws", stackName: stack.stackName };
  const fauxqs = await startFauxqs({ port: 0, logger: false, defaultRegion: environment.region });
  const fauxqsEndpoint = `http://127.0.0.1:${fauxqs.port}`;
  const dynamo = await startDynamodbLocal();
  const dynamoEndpoint = dynamo.endpoint;

  // The secret's ARN is known only once the resources have names; the proxy must exist before the names (queue URLs carry its origin).
  let secretsManager: SecretsManagerServer | undefined;
  const proxyUpstreams: Record<string, string> = { sqs: fauxqsEndpoint, sns: fauxqsEndpoint, s3: fauxqsEndpoint, dynamodb: dynamoEndpoint };
  const proxy = await startRecordingProxy(proxyUpstreams, environment.account);
  const physical = physicalResources(template, environment, { sqsOrigin: proxy.endpoint });
  const resolver = new TemplateResolver(environment, physical);
  const resolved = resolver.resolve(fn.Properties!.Environment.Variables) as Record<string, string>;

  // Amazon Bedrock (responsesBaseUrl at its host): the simulator plays it, verifying the signatures the bundle makes for
  // the real host name; the bundle's calls to that name are redirected to it (bundle-host.mjs), its environment unchanged.
  const bedrockUrl = resolved.RESPONSES_BASE_URL ? new URL(resolved.RESPONSES_BASE_URL) : undefined;
  const bedrock = bedrockUrl ? bedrockHost(bedrockUrl.hostname) : undefined;
  const sim = await startEndpointSimulator({
    ...(bedrock
      ? {
          bedrock: {
            endpoint: bedrock.endpoint,
            region: bedrock.region,
            credentials: [ROLE_SESSION],
            accountId: environment.account,
            publicHost: bedrockUrl!.host,
          },
        }
      : { apiKey: LOOPBACK_API_KEY, virtualKey: LOOPBACK_VIRTUAL_KEY }),
    pollAfterMs: 20,
    processingMs: 30,
  });
  const functionEnvironment: Record<string, string> =
    bedrock && resolved.ENDPOINT_BASE_URL === undefined ? { ...resolved } : { ...resolved, ENDPOINT_BASE_URL: sim.baseUrl };
  const redirect: Record<string, string> = bedrock
    ? { RELAY_TEST_REDIRECT: JSON.stringify({ [bedrockUrl!.origin]: new URL(sim.baseUrl).origin }) }
    : {};
  const credentials = JSON.stringify({ PORTKEY_API_KEY: LOOPBACK_API_KEY, PORTKEY_VIRTUAL_KEY: LOOPBACK_VIRTUAL_KEY });
  secretsManager = await startSecretsManagerServer(
    resolved.ENDPOINT_SECRET_ARN && /-[A-Za-z0-9]{6}$/.test(resolved.ENDPOINT_SECRET_ARN)
      ? [{ arn: resolved.ENDPOINT_SECRET_ARN, value: credentials }]
      : [],
  );
  proxyUpstreams.secretsmanager = secretsManager.endpoint;

  // The template's resources, created in the emulators.
  const dynamoClient = new DynamoDBClient({
    region: environment.region,
    endpoint: dynamoEndpoint,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  for (const [id, resource] of Object.entries(template.Resources)) {
    const p = resolver.resolve(resource.Properties ?? {}) as Record<string, any>;
    const name = physical[id]!;
    if (resource.Type === "AWS::SQS::Queue") {
      const attributes: Record<string, string> = {};
      for (const key of [
        "FifoQueue",
        "ContentBasedDeduplication",
        "VisibilityTimeout",
        "MessageRetentionPeriod",
        "DeduplicationScope",
        "FifoThroughputLimit",
      ]) {
        if (p[key] !== undefined) attributes[key] = String(p[key]);
      }
      if (p.RedrivePolicy) attributes.RedrivePolicy = JSON.stringify(p.RedrivePolicy);
      fauxqs.createQueue(name.attributes.QueueName!, { region: environment.region, attributes });
    } else if (resource.Type === "AWS::SNS::Topic") {
      const attributes: Record<string, string> = p.FifoTopic
        ? { FifoTopic: "true", ContentBasedDeduplication: String(Boolean(p.ContentBasedDeduplication)) }
        : {};
      fauxqs.createTopic(name.attributes.TopicName!, { region: environment.region, attributes });
    } else if (resource.Type === "AWS::S3::Bucket") {
      fauxqs.createBucket(name.ref);
    } else if (resource.Type === "AWS::DynamoDB::Table") {
      await dynamoClient.send(
        new CreateTableCommand({
          TableName: name.ref,
          KeySchema: p.KeySchema,
          AttributeDefinitions: p.AttributeDefinitions,
          BillingMode: p.BillingMode,
        }),
      );
    }
  }
  dynamoClient.destroy();

  // A reader of the results topic, for the test (raw delivery: the body is the results event).
  const topicName = functionEnvironment.RESULTS_TOPIC_ARN!.split(":").pop()!;
  const reader = fauxqs.createQueue(`results-reader${topicName.endsWith(".fifo") ? ".fifo" : ""}`, {
    region: environment.region,
    attributes: topicName.endsWith(".fifo") ? { FifoQueue: "true" } : {},
  });
  fauxqs.subscribe({ topic: topicName, queue: reader.queueName, region: environment.region, attributes: { RawMessageDelivery: "true" } });
  const readerUrl = `${proxy.endpoint}/${environment.account}/${reader.queueName}`;

  const child = await startBundle(bundle, {
    ...functionEnvironment,
    // What Lambda sets for every function, and the SDK's own per-service endpoint variables.
    AWS_REGION: environment.region,
    AWS_DEFAULT_REGION: environment.region,
    AWS_ACCESS_KEY_ID: ROLE_SESSION.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ROLE_SESSION.secretAccessKey,
    AWS_SESSION_TOKEN: ROLE_SESSION.sessionToken,
    ...redirect,
    AWS_LAMBDA_FUNCTION_NAME: physical[functionId]!.ref,
    AWS_ENDPOINT_URL_SQS: proxy.endpoint,
    AWS_ENDPOINT_URL_SNS: proxy.endpoint,
    AWS_ENDPOINT_URL_S3: proxy.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: proxy.endpoint,
    PATH: process.env.PATH ?? "",
  });

  const sqs = new SQSClient({
    region: environment.region,
    endpoint: fauxqsEndpoint,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  const inputQueueUrl = functionEnvironment.INPUT_QUEUE_URL!;
  const inputQueueArn = `arn:aws:sqs:${environment.region}:${environment.account}:${inputQueueUrl.split("/").pop()}`;
  const receive = (queueUrl: string, max = 10) => receiveBatch(sqs, queueUrl, { max, waitSeconds: 1 });
  const remove = async (queueUrl: string, messages: Array<{ ReceiptHandle?: string; receiptHandle?: string }>) => {
    await deleteMessages(
      sqs,
      queueUrl,
      messages.map((message) => (message.ReceiptHandle ?? message.receiptHandle)!),
    );
  };

  return {
    environment,
    template,
    resolver,
    physical,
    functionId,
    roleId,
    functionEnvironment,
    sim,
    fauxqs,
    proxy,
    sqs,
    inputQueueUrl,
    deadLetterQueueUrl: functionEnvironment.DLQ_URL!,
    async send(message) {
      const body = typeof message === "string" ? message : JSON.stringify(message);
      return (await sqs.send(new SendMessageCommand({ QueueUrl: inputQueueUrl, MessageBody: body }))).MessageId!;
    },
    receive,
    async deliver(timeoutMs = 20_000) {
      const queue = { url: inputQueueUrl, arn: inputQueueArn };
      const event = await receiveEvent(sqs, queue, environment.region, { waitSeconds: 1 });
      const response = await child.invoke(event, timeoutMs);
      const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
      await deleteSucceeded(
        sqs,
        queue,
        event,
        event.Records.map((r) => r.messageId).filter((id) => !failed.has(id)),
      );
      return { event, response };
    },
    async results() {
      const all: Array<Record<string, any>> = [];
      for (const message of await drainQueue(sqs, readerUrl)) all.push(JSON.parse(message.Body!));
      return all;
    },
    remove,
    async close() {
      child.process.kill();
      sqs.destroy();
      await sim.close();
      await proxy.close();
      await secretsManager?.close();
      await dynamo.close();
      await fauxqs.stop();
    },
  };
}

interface BundleProcess {
  process: ChildProcess;
  invoke(event: SQSEvent, timeoutMs: number): Promise<SQSBatchResponse>;
}

/** Starts the bundle host with exactly this environment and waits for the bundle's cold start. */
async function startBundle(bundle: string, env: Record<string, string>): Promise<BundleProcess> {
  const child = fork(BUNDLE_HOST, [bundle], { env, execArgv: [], stdio: ["ignore", "pipe", "pipe", "ipc"] });
  let output = "";
  child.stdout!.on("data", (chunk) => (output = (output + chunk).slice(-20_000)));
  child.stderr!.on("data", (chunk) => (output = (output + chunk).slice(-20_000)));
  const pending = new Map<number, { resolve: (response: SQSBatchResponse) => void; reject: (error: Error) => void }>();
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the bundle host exited (${code}) before it was ready:\n${output}`)));
    child.on("message", (message: { ready?: boolean; id?: number; response?: SQSBatchResponse; error?: string }) => {
      if (message.ready) return resolve();
      const waiting = pending.get(message.id!);
      pending.delete(message.id!);
      if (message.error) waiting?.reject(new Error(`${message.error}\n${output}`));
      else waiting?.resolve(message.response!);
    });
  });
  return {
    process: child,
    invoke: (event, timeoutMs) =>
      new Promise((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve, reject });
        child.send({ id, event, timeoutMs });
      }),
  };
}
