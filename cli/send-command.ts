import { readFile } from "node:fs/promises";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { parseMessage } from "../functions/submit-tool-outputs/message";
import { need, type Targets } from "./aws-targets";
import { explainAwsError, UsageError } from "./cli-error";

export const SEND_OPTIONS = {
  thread: { type: "string" },
  run: { type: "string" },
  output: { type: "string", multiple: true },
  metadata: { type: "string", multiple: true },
  stream: { type: "boolean" },
  file: { type: "string" },
  "group-id": { type: "string" },
  "dedup-id": { type: "string" },
  "delay-seconds": { type: "string" },
} as const;

export interface SendFlags {
  thread?: string;
  run?: string;
  /** `call_id=text`, or `call_id=@path` to read the output from a file. */
  output?: string[];
  /** `key=value` */
  metadata?: string[];
  stream?: boolean;
  /** A whole message as JSON (`-` reads stdin); sent byte for byte. */
  file?: string;
  "group-id"?: string;
  "dedup-id"?: string;
  "delay-seconds"?: string;
}

/**
 * Builds the SQS body from flags (or takes a file as is) and checks it against the relay's contract, so
 * a wrong message fails here with every problem listed instead of in the DLQ.
 * @example await buildMessageBody({ thread: "thread_a", run: "run_a", output: ["call_1=42"] }) // '{"thread_id":"thread_a",…}'
 */
export async function buildMessageBody(flags: SendFlags, readText: (path: string) => Promise<string> = readInput): Promise<string> {
  let body: string;
  if (flags.file !== undefined) {
    const mixed = (["thread", "run", "output", "metadata", "stream"] as const).filter((f) => flags[f] !== undefined);
    if (mixed.length > 0)
      throw new UsageError(`--file sends the file as it is: drop ${mixed.map((f) => `--${f}`).join(", ")}, or drop --file.`);
    body = await readText(flags.file);
  } else {
    if (!flags.thread || !flags.run || !flags.output?.length) {
      throw new UsageError(
        "send needs --thread <thread_id> --run <run_id> and at least one --output <tool_call_id>=<output> (or --file message.json).",
      );
    }
    const tool_outputs = [];
    for (const item of flags.output) {
      const [id, value] = splitPair(item, "--output", "<tool_call_id>=<output>");
      tool_outputs.push({ tool_call_id: id, output: value.startsWith("@") ? await readText(value.slice(1)) : value });
    }
    const metadata = flags.metadata?.length
      ? Object.fromEntries(flags.metadata.map((m) => splitPair(m, "--metadata", "<key>=<value>")))
      : undefined;
    body = JSON.stringify({
      thread_id: flags.thread,
      run_id: flags.run,
      tool_outputs,
      ...(flags.stream ? { stream: true } : {}),
      ...(metadata ? { metadata } : {}),
    });
  }
  const parsed = parseMessage(body);
  if (!parsed.ok)
    throw new UsageError(
      `the message does not meet the relay's contract; nothing was sent:\n${parsed.problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  return body;
}

/** Sends one message to the input queue; returns a line to print (ids and sizes only, never outputs). */
export async function sendCommand(flags: SendFlags, targets: Targets): Promise<string> {
  const body = await buildMessageBody(flags);
  const queueUrl = need(targets.inputQueueUrl, {
    name: "input queue",
    flag: "input-queue",
    env: "INPUT_QUEUE_URL",
    stackOutput: "InputQueueUrl",
  });
  const message = JSON.parse(body) as { thread_id?: string; run_id?: string; tool_outputs?: unknown[]; type?: string };
  const delay = flags["delay-seconds"] === undefined ? undefined : Number(flags["delay-seconds"]);
  if (delay !== undefined && !(Number.isInteger(delay) && delay >= 0 && delay <= 900))
    throw new UsageError("--delay-seconds must be a whole number from 0 to 900.");
  const fifo = queueUrl.endsWith(".fifo");
  if (fifo && delay) throw new UsageError("FIFO queues take no per-message delay: drop --delay-seconds.");
  try {
    const sent = await targets.sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: body,
        ...(delay ? { DelaySeconds: delay } : {}),
        ...(fifo
          ? {
              MessageGroupId: flags["group-id"] ?? message.thread_id ?? "tool-output-relay",
              ...(flags["dedup-id"] ? { MessageDeduplicationId: flags["dedup-id"] } : {}),
            }
          : {}),
      }),
    );
    const what =
      message.type === "watch_run"
        ? "watch_run"
        : `${message.tool_outputs?.length ?? 0} tool output${message.tool_outputs?.length === 1 ? "" : "s"}`;
    return `sent ${sent.MessageId} (${message.thread_id} / ${message.run_id}, ${what}, ${Buffer.byteLength(body)} bytes) to ${queueName(queueUrl)}`;
  } catch (error) {
    throw explainAwsError(error, { endpoint: targets.endpoint, what: `sending to ${queueName(queueUrl)}` });
  }
}

function splitPair(item: string, flag: string, shape: string): [string, string] {
  const at = item.indexOf("=");
  // The value is not quoted back: it may be a tool output.
  if (at <= 0) throw new UsageError(`${flag} takes ${shape}: one was given without a name before "=".`);
  return [item.slice(0, at), item.slice(at + 1)];
}

async function readInput(path: string): Promise<string> {
  try {
    if (path === "-") {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    }
    return await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

export function queueName(url: string): string {
  return url.slice(url.lastIndexOf("/") + 1);
}
