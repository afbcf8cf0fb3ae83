import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { explainAwsError, UsageError } from "./cli-error";

/** Flags every command takes to find the relay's queues and topic. */
export const TARGET_OPTIONS = {
  stack: { type: "string" },
  "input-queue": { type: "string" },
  dlq: { type: "string" },
  "results-queue": { type: "string" },
  topic: { type: "string" },
  region: { type: "string" },
  "endpoint-url": { type: "string" },
} as const;

export interface TargetFlags {
  stack?: string;
  "input-queue"?: string;
  dlq?: string;
  "results-queue"?: string;
  topic?: string;
  region?: string;
  "endpoint-url"?: string;
}

/** Where the relay's resources are, and clients to reach them. */
export interface Targets {
  inputQueueUrl?: string;
  dlqUrl?: string;
  resultsQueueUrl?: string;
  resultsTopicArn?: string;
  /** The relay's state table (`dlq redrive --go-ahead` marks the go-ahead there). */
  stateTable?: string;
  /** Set when talking to an emulator (AWS_ENDPOINT_URL or --endpoint-url), not to AWS. */
  endpoint?: string;
  region?: string;
  sqs: SQSClient;
  sns: SNSClient;
}

/** The stack's CloudFormation outputs the CLI reads (infra/relay-stack.ts). */
const STACK_OUTPUTS = {
  InputQueueUrl: "inputQueueUrl",
  DeadLetterQueueUrl: "dlqUrl",
  ResultsTopicArn: "resultsTopicArn",
  StateTableName: "stateTable",
} as const;

/**
 * Resolves queue URLs and the topic: a flag first, then the stack's outputs (with --stack), then the
 * environment (INPUT_QUEUE_URL, DLQ_URL, RESULTS_QUEUE_URL, RESULTS_TOPIC_ARN).
 * @example const targets = await resolveTargets({ stack: "ToolOutputRelay" }, process.env);
 */
export async function resolveTargets(flags: TargetFlags, env: Record<string, string | undefined>): Promise<Targets> {
  const endpoint = flags["endpoint-url"] ?? (env.AWS_ENDPOINT_URL || undefined);
  const region = flags.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined);
  const config = { ...(region ? { region } : {}), ...(endpoint ? { endpoint } : {}) };
  const fromStack = flags.stack ? await readStackOutputs(flags.stack, config, endpoint) : {};
  const resultsTopicArn = flags.topic ?? fromStack.resultsTopicArn ?? (env.RESULTS_TOPIC_ARN || undefined);
  return {
    inputQueueUrl: flags["input-queue"] ?? fromStack.inputQueueUrl ?? (env.INPUT_QUEUE_URL || undefined),
    dlqUrl: flags.dlq ?? fromStack.dlqUrl ?? (env.DLQ_URL || undefined),
    // Reading a queue consumes it; a topic lets `tail` subscribe a queue of its own. So the topic wins
    // over RESULTS_QUEUE_URL from the environment; an explicit --results-queue wins over both.
    resultsQueueUrl: flags["results-queue"] ?? (resultsTopicArn ? undefined : env.RESULTS_QUEUE_URL || undefined),
    resultsTopicArn,
    stateTable: fromStack.stateTable ?? (env.RELAY_STATE_TABLE || undefined),
    endpoint,
    region,
    sqs: new SQSClient(config),
    sns: new SNSClient(config),
  };
}

async function readStackOutputs(stackName: string, config: { region?: string; endpoint?: string }, endpoint: string | undefined) {
  const cfn = new CloudFormationClient(config);
  try {
    const { Stacks = [] } = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs: Partial<Record<(typeof STACK_OUTPUTS)[keyof typeof STACK_OUTPUTS], string>> = {};
    for (const output of Stacks[0]?.Outputs ?? []) {
      const key = STACK_OUTPUTS[output.OutputKey as keyof typeof STACK_OUTPUTS];
      if (key && output.OutputValue) outputs[key] = output.OutputValue;
    }
    return outputs;
  } catch (error) {
    if ((error as { name?: string }).name === "ValidationError") {
      throw new UsageError(
        `stack ${stackName} not found in ${config.region ?? "the default region"}: check --stack and AWS_REGION (deploy it with npx cdk deploy).`,
      );
    }
    throw explainAwsError(error, { endpoint, what: `reading the outputs of stack ${stackName}` });
  } finally {
    cfn.destroy();
  }
}

/** The value, or a usage error saying where it can come from. */
export function need(value: string | undefined, what: { name: string; flag: string; env: string; stackOutput?: string }): string {
  if (value) return value;
  const fromStack = what.stackOutput ? `, --stack ToolOutputRelay (output ${what.stackOutput})` : "";
  throw new UsageError(
    `no ${what.name}: pass --${what.flag} <url>, set ${what.env}${fromStack}. For the local stack, \`npm start -- --serve\` prints the env lines.`,
  );
}
