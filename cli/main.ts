/**
 * tool-output-relay: the operator CLI. `npx tool-output-relay --help`.
 * Works against AWS (the SDK's usual credentials and region; queues from --stack or flags/env) or the
 * local stack (AWS_ENDPOINT_URL, as `npm start -- --serve` prints).
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { need, resolveTargets, TARGET_OPTIONS, type TargetFlags } from "./aws-targets";
import { CliError, explainAwsError, UsageError } from "./cli-error";
import {
  approximateDepth,
  checkReasons,
  chooseRedriveMethod,
  formatDeadLetters,
  listDeadLetters,
  redriveDeadLetters,
  startMoveTask,
} from "./dlq-commands";
import { giveGoAhead } from "./go-ahead";
import { queueName, SEND_OPTIONS, type SendFlags, sendCommand } from "./send-command";
import { eventTypes, tailResults } from "./tail-command";

export interface CliIo {
  env: Record<string, string | undefined>;
  /** Results of the command (stdout). */
  out: (line: string) => void;
  /** Progress, notes and errors (stderr). */
  err: (line: string) => void;
  /** Aborts long-running commands (tail, redrive progress); the launcher wires Ctrl-C to it. */
  signal?: AbortSignal;
}

export const HELP = `tool-output-relay <command> [flags]

Commands
  send        send tool outputs to the input queue, checked against the relay's contract first
                Assistants API: --thread <thread_id> --run <run_id>
                Responses API:  --response <response_id>, or --conversation <conversation_id> [--model <model>]
                Agents API:     --session <session_id> --turn <turn_id>
                then --output <tool_call_id>=<output> [--output …] (for the Responses and Agents APIs, the call_id)
                Agents API: --error <call_id>=<what failed> tells the agent the tool failed
                [--metadata key=value …] [--stream] [--group-id <id>] [--dedup-id <id>] [--delay-seconds <n>]
                or --file message.json (- for stdin; sent as it is, e.g. a watch_run, watch_response or watch_session)
                an output of @path reads the output from a file; FIFO: the group defaults to the
                thread, conversation, response or session id
  tail        print results events of every API as they arrive (Ctrl-C stops)
                [--type requires_action[,run.completed,response.completed]] [--json] [--max <n>]
                (a bare status such as requires_action means run.… and response.…)
  dlq list    what is in the DLQ, by reason, without taking anything out   [--max <n>] [--json]
  dlq redrive move DLQ messages back to the input queue
                [--reason <reason>[,…]] [--max <n>] [--method auto|copy|move-task]
                a submission_unconfirmed record moved back this way is dead-lettered again; to submit its
                outputs, look for the response's children, then give the go-ahead for that one record:
                --go-ahead <message id> [--state-table <name>]   (RELAY_STATE_TABLE; with --stack, its output)

Where the queues are (a flag wins, then --stack, then the environment)
  --stack <name>           read the CloudFormation stack's outputs (e.g. ToolOutputRelay)
  --input-queue <url>      INPUT_QUEUE_URL
  --dlq <url>              DLQ_URL
  --topic <arn>            RESULTS_TOPIC_ARN   (tail subscribes a temporary queue to it)
  --results-queue <url>    RESULTS_QUEUE_URL   (tail reads and consumes this queue instead)
  --region <region>        AWS_REGION
  --endpoint-url <url>     AWS_ENDPOINT_URL    (the local stack: see \`npm start -- --serve\`)
`;

type Values = Record<string, string | boolean | string[] | undefined>;

function parse(argv: string[], options: ParseArgsConfig["options"]): Values {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, ...TARGET_OPTIONS, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    }).values as Values;
  } catch (error) {
    throw new UsageError(
      `${(error as Error).message.replace(/\. To specify a positional argument.*$/s, ".")}\nRun \`tool-output-relay --help\` for the flags.`,
    );
  }
}

function positiveInteger(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a whole number of at least 1.`);
  return n;
}

/**
 * Runs one CLI command; resolves to the exit code (0 done, 1 failed, 2 usage error: nothing was done).
 * @example process.exitCode = await runCli(process.argv.slice(2), { env: process.env, out: console.log, err: console.error });
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    if (error instanceof CliError) {
      io.err(`error: ${error.message}`);
      return error.exitCode;
    }
    io.err(`error: ${(error as Error).message ?? String(error)}`);
    return 1;
  }
}

async function dispatch(argv: string[], io: CliIo): Promise<number> {
  const [command, sub] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    io.out(HELP);
    return command === undefined ? 2 : 0;
  }
  const signal = io.signal ?? new AbortController().signal;
  switch (command) {
    case "send": {
      const values = parse(argv.slice(1), SEND_OPTIONS);
      if (values.help) return help(io);
      const targets = await resolveTargets(values as TargetFlags, io.env);
      io.out(await sendCommand(values as SendFlags, targets));
      return 0;
    }
    case "tail": {
      const values = parse(argv.slice(1), { type: { type: "string", multiple: true }, json: { type: "boolean" }, max: { type: "string" } });
      if (values.help) return help(io);
      // Checked before anything is resolved or subscribed: a misspelt type would never match.
      const types = (values.type as string[] | undefined)?.flatMap((t) => t.split(",")).flatMap(eventTypes);
      const targets = await resolveTargets(values as TargetFlags, io.env);
      await tailResults(targets, {
        types,
        json: values.json === true,
        max: positiveInteger(values.max, "--max"),
        signal,
        print: io.out,
        note: io.err,
      });
      return 0;
    }
    case "dlq": {
      if (sub === "list") return dlqList(argv.slice(2), io);
      if (sub === "redrive") return dlqRedrive(argv.slice(2), io, signal);
      throw new UsageError(`dlq takes list or redrive${sub ? `, not ${sub}` : ""}.`);
    }
    default:
      throw new UsageError(`unknown command ${command}: use send, tail, dlq list or dlq redrive (--help shows all).`);
  }
}

function help(io: CliIo): number {
  io.out(HELP);
  return 0;
}

async function dlqList(argv: string[], io: CliIo): Promise<number> {
  const values = parse(argv, { max: { type: "string" }, json: { type: "boolean" } });
  if (values.help) return help(io);
  const targets = await resolveTargets(values as TargetFlags, io.env);
  const dlqUrl = need(targets.dlqUrl, { name: "DLQ", flag: "dlq", env: "DLQ_URL", stackOutput: "DeadLetterQueueUrl" });
  const letters = await guarded(targets.endpoint, "reading the DLQ", () =>
    listDeadLetters(targets.sqs, dlqUrl, { max: positiveInteger(values.max, "--max") ?? 100 }),
  );
  if (values.json) {
    for (const letter of letters) io.out(JSON.stringify(letter));
    return 0;
  }
  const depth = await approximateDepth(targets.sqs, dlqUrl).catch(() => undefined);
  for (const line of formatDeadLetters(letters, depth)) io.out(line);
  return 0;
}

async function dlqRedrive(argv: string[], io: CliIo, signal: AbortSignal): Promise<number> {
  const values = parse(argv, {
    reason: { type: "string", multiple: true },
    max: { type: "string" },
    method: { type: "string" },
    "go-ahead": { type: "string" },
    "state-table": { type: "string" },
  });
  if (values.help) return help(io);
  if (values["go-ahead"] !== undefined) return goAhead(String(values["go-ahead"]), values, io);
  const requested = (values.method ?? "auto") as string;
  if (requested !== "auto" && requested !== "copy" && requested !== "move-task")
    throw new UsageError("--method is auto, copy or move-task.");
  const reasons = checkReasons(values.reason as string[] | undefined);
  const max = positiveInteger(values.max, "--max");
  const targets = await resolveTargets(values as TargetFlags, io.env);
  const { dlqUrl, inputQueueUrl } = redriveQueues(targets);
  if (max !== undefined && requested === "move-task")
    throw new UsageError("a message-move task moves everything: drop --max, or use --method copy.");
  const { method, why } =
    max !== undefined && requested === "auto"
      ? { method: "copy" as const, why: "--max picks messages; a move task moves them all" }
      : await chooseRedriveMethod({ local: targets.endpoint !== undefined, requested, reasons });
  const total = await approximateDepth(targets.sqs, dlqUrl).catch(() => undefined);
  io.err(
    `redriving ${queueName(dlqUrl)} → ${queueName(inputQueueUrl)} by ${method === "copy" ? "copying each original body back" : "SQS's message-move task"} (${why})`,
  );
  if (method === "move-task") {
    const done = await guarded(targets.endpoint, "the message-move task", () =>
      startMoveTask({
        sqs: targets.sqs,
        dlqUrl,
        inputQueueUrl,
        onProgress: (p) => io.err(`  ${p.status}: ${p.moved}${p.toMove !== undefined ? ` of ${p.toMove}` : ""} moved`),
      }),
    );
    io.out(`moved ${done.moved} message${done.moved === 1 ? "" : "s"} back to ${queueName(inputQueueUrl)} (${done.status})`);
    return done.status === "COMPLETED" ? 0 : 1;
  }
  const result = await guarded(targets.endpoint, "redriving", () =>
    redriveDeadLetters({
      sqs: targets.sqs,
      dlqUrl,
      inputQueueUrl,
      reasons,
      max,
      onProgress: (p) => {
        if (!signal.aborted)
          io.err(
            `  ${p.moved}${total !== undefined ? ` of ~${total}` : ""} moved${p.skipped ? `, ${p.skipped} left (other reasons)` : ""}`,
          );
      },
    }),
  );
  io.out(
    `moved ${result.moved} message${result.moved === 1 ? "" : "s"} back to ${queueName(inputQueueUrl)}${result.skipped ? `; ${result.skipped} left in the DLQ (other reasons)` : ""}`,
  );
  return 0;
}

/** The two queues a redrive moves between, each named by its flag, variable or stack output. */
function redriveQueues(targets: Awaited<ReturnType<typeof resolveTargets>>): { dlqUrl: string; inputQueueUrl: string } {
  return {
    dlqUrl: need(targets.dlqUrl, { name: "DLQ", flag: "dlq", env: "DLQ_URL", stackOutput: "DeadLetterQueueUrl" }),
    inputQueueUrl: need(targets.inputQueueUrl, {
      name: "input queue",
      flag: "input-queue",
      env: "INPUT_QUEUE_URL",
      stackOutput: "InputQueueUrl",
    }),
  };
}

/** `dlq redrive --go-ahead <message id>`: one submission_unconfirmed record, after showing what is known (go-ahead.ts). */
async function goAhead(messageId: string, values: Values, io: CliIo): Promise<number> {
  if (values.reason !== undefined || values.max !== undefined || values.method !== undefined)
    throw new UsageError("--go-ahead names one record: drop --reason, --max and --method.");
  const targets = await resolveTargets(values as TargetFlags, io.env);
  const { dlqUrl, inputQueueUrl } = redriveQueues(targets);
  const tableName = need((values["state-table"] as string | undefined) ?? targets.stateTable, {
    name: "state table",
    flag: "state-table",
    env: "RELAY_STATE_TABLE",
    stackOutput: "StateTableName",
  });
  const { DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
  const { DynamoDBDocumentClient } = await import("@aws-sdk/lib-dynamodb");
  const dynamoEndpoint = io.env.AWS_ENDPOINT_URL_DYNAMODB || targets.endpoint;
  const client = new DynamoDBClient({
    ...(targets.region ? { region: targets.region } : {}),
    ...(dynamoEndpoint ? { endpoint: dynamoEndpoint } : {}),
  });
  try {
    const { sentMessageId } = await guarded(targets.endpoint, "giving the go-ahead", () =>
      giveGoAhead({
        sqs: targets.sqs,
        dynamodb: DynamoDBDocumentClient.from(client),
        tableName,
        dlqUrl,
        inputQueueUrl,
        messageId,
        show: (line) => io.err(line),
      }),
    );
    io.out(
      `go-ahead given for message ${messageId}: its record is back on ${queueName(inputQueueUrl)} as ${sentMessageId}; the relay submits its outputs once`,
    );
    return 0;
  } finally {
    client.destroy();
  }
}

async function guarded<T>(endpoint: string | undefined, what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw explainAwsError(error, { endpoint, what });
  }
}
