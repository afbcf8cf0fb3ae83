import { readFile } from "node:fs/promises";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { parseMessage } from "../functions/submit-tool-outputs/pipeline/message";
import { need, type Targets } from "./aws-targets";
import { explainAwsError, UsageError } from "./cli-error";

export const SEND_OPTIONS = {
  thread: { type: "string" },
  run: { type: "string" },
  response: { type: "string" },
  conversation: { type: "string" },
  session: { type: "string" },
  turn: { type: "string" },
  model: { type: "string" },
  output: { type: "string", multiple: true },
  error: { type: "string", multiple: true },
  metadata: { type: "string", multiple: true },
  stream: { type: "boolean" },
  file: { type: "string" },
  "group-id": { type: "string" },
  "dedup-id": { type: "string" },
  "delay-seconds": { type: "string" },
} as const;

export interface SendFlags {
  /** Assistants API: `thread_id` and `run_id`. */
  thread?: string;
  run?: string;
  /** Responses API: `response_id` (the response whose function calls these outputs answer) … */
  response?: string;
  /** … or `conversation_id` (the calls waiting at the conversation's tail). */
  conversation?: string;
  /** Agents API: `session_id` and `turn_id` (the turn whose pending calls these results answer). */
  session?: string;
  turn?: string;
  /** Responses API: `request.model` of the continuation (a conversation the relay has not seen needs it). */
  model?: string;
  /** `call_id=text`, or `call_id=@path` to read the output from a file. */
  output?: string[];
  /** Agents API: `call_id=text`, a tool's failure told to the agent instead of an output. */
  error?: string[];
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
    const mixed = MESSAGE_FLAGS.filter((f) => flags[f] !== undefined);
    if (mixed.length > 0)
      throw new UsageError(`--file sends the file as it is: drop ${mixed.map((f) => `--${f}`).join(", ")}, or drop --file.`);
    body = await readText(flags.file);
  } else {
    const named = flags.thread ?? flags.run ?? flags.response ?? flags.conversation ?? flags.session ?? flags.turn;
    if (named === undefined || !(flags.output?.length || flags.error?.length)) {
      throw new UsageError(
        "send needs --thread <thread_id> --run <run_id> (Assistants API), or --response <response_id> or --conversation <conversation_id> " +
          "(Responses API), or --session <session_id> --turn <turn_id> (Agents API), and at least one --output <tool_call_id>=<output> " +
          "(Agents API: or --error <tool_call_id>=<what failed>) (or --file message.json).",
      );
    }
    const tool_outputs: Array<Record<string, string>> = [];
    for (const item of flags.output ?? []) {
      const [id, value] = splitPair(item, "--output", "<tool_call_id>=<output>");
      tool_outputs.push({ tool_call_id: id, output: value.startsWith("@") ? await readText(value.slice(1)) : value });
    }
    for (const item of flags.error ?? []) {
      const [id, value] = splitPair(item, "--error", "<tool_call_id>=<what failed>");
      tool_outputs.push({ tool_call_id: id, error: value });
    }
    const metadata = flags.metadata?.length
      ? Object.fromEntries(flags.metadata.map((m) => splitPair(m, "--metadata", "<key>=<value>")))
      : undefined;
    // Every id given goes in: a mix of both APIs' ids is the contract's to refuse, with its own words, below.
    body = JSON.stringify({
      ...(flags.thread !== undefined ? { thread_id: flags.thread } : {}),
      ...(flags.run !== undefined ? { run_id: flags.run } : {}),
      ...(flags.response !== undefined ? { response_id: flags.response } : {}),
      ...(flags.conversation !== undefined ? { conversation_id: flags.conversation } : {}),
      ...(flags.session !== undefined ? { session_id: flags.session } : {}),
      ...(flags.turn !== undefined ? { turn_id: flags.turn } : {}),
      tool_outputs,
      ...(flags.stream ? { stream: true } : {}),
      ...(metadata ? { metadata } : {}),
      ...(flags.model !== undefined ? { request: { model: flags.model } } : {}),
    });
  }
  const parsed = parseMessage(body);
  if (!parsed.ok)
    throw new UsageError(
      `the message does not meet the relay's contract; nothing was sent:\n${parsed.problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  return body;
}

/** The flags that build a message, which --file replaces. */
const MESSAGE_FLAGS = [
  "thread",
  "run",
  "response",
  "conversation",
  "session",
  "turn",
  "model",
  "output",
  "error",
  "metadata",
  "stream",
] as const;

/** Sends one message to the input queue; returns a line to print (ids and sizes only, never outputs). */
export async function sendCommand(flags: SendFlags, targets: Targets): Promise<string> {
  const body = await buildMessageBody(flags);
  const queueUrl = need(targets.inputQueueUrl, {
    name: "input queue",
    flag: "input-queue",
    env: "INPUT_QUEUE_URL",
    stackOutput: "InputQueueUrl",
  });
  const message = JSON.parse(body) as MessageIds & { tool_outputs?: unknown[]; type?: string };
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
              MessageGroupId: flags["group-id"] ?? groupOf(message),
              ...(flags["dedup-id"] ? { MessageDeduplicationId: flags["dedup-id"] } : {}),
            }
          : {}),
      }),
    );
    const what = message.type?.startsWith("watch_")
      ? message.type
      : `${message.tool_outputs?.length ?? 0} tool output${message.tool_outputs?.length === 1 ? "" : "s"}`;
    return `sent ${sent.MessageId} (${subjectOf(message)}, ${what}, ${Buffer.byteLength(body)} bytes) to ${queueName(queueUrl)}`;
  } catch (error) {
    throw explainAwsError(error, { endpoint: targets.endpoint, what: `sending to ${queueName(queueUrl)}` });
  }
}

type MessageIds = {
  thread_id?: string;
  run_id?: string;
  response_id?: string;
  conversation_id?: string;
  session_id?: string;
  turn_id?: string;
};

/**
 * The FIFO group a message goes in by default: its thread, else its conversation, else its response, so one
 * thread's (conversation's) messages stay in order.
 */
function groupOf(message: MessageIds): string {
  return message.thread_id ?? message.conversation_id ?? message.response_id ?? message.session_id ?? "tool-output-relay";
}

/** What the message is for, in the words `tail` prints. */
function subjectOf(message: MessageIds): string {
  if (message.response_id !== undefined) return message.response_id;
  if (message.conversation_id !== undefined) return `conversation ${message.conversation_id}`;
  if (message.session_id !== undefined) return `${message.session_id}${message.turn_id ? ` / ${message.turn_id}` : ""}`;
  return `${message.thread_id} / ${message.run_id}`;
}

function splitPair(item: string, flag: string, shape: string): [string, string] {
  const at = item.indexOf("=");
  // The value is not quoted back: it may be a tool output.
  if (at < 0) throw new UsageError(`${flag} takes ${shape}: the "=" is missing in one of them.`);
  if (at === 0) throw new UsageError(`${flag} takes ${shape}: one was given without a name before "=".`);
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
