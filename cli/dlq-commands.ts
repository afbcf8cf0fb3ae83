import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type Message,
  SendMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from "@aws-sdk/client-sqs";
import { ID_FIELDS, type MessageIds } from "../functions/submit-tool-outputs/dialects/index";
import { type DeadLetter, readDeadLetter } from "../functions/submit-tool-outputs/out/dlq-record";
import { UsageError } from "./cli-error";
import { deleteMessages, receiveBatch, releaseMessages as release } from "./queue-io";

/** A DLQ entry as the operator sees it: ids, reason, sizes; never the original's tool outputs. */
export interface DeadLetterSummary {
  messageId: string;
  sourceMessageId: string;
  reason: string;
  writtenBy: DeadLetter["writtenBy"];
  /** The message's ids for its API (the registry's id fields the record carries): `--json` prints them as they are. */
  ids: MessageIds;
  detail: string;
  httpStatus?: number;
  receiveCount?: number;
  originalBytes: number;
  at?: string;
}

/** How long listed or skipped messages stay hidden while the CLI pages through the DLQ; released at the end. */
const HOLD_SECONDS = 60;

/**
 * Reads up to `max` DLQ entries without deleting them. Each page is held briefly (so the next receive
 * sees the next messages, which a visibility-0 peek cannot promise beyond ten) and released at the end.
 * @example const letters = await listDeadLetters(sqs, dlqUrl, { max: 100 });
 */
export async function listDeadLetters(sqs: SQSClient, dlqUrl: string, options: { max?: number } = {}): Promise<DeadLetterSummary[]> {
  const max = options.max ?? 100;
  const held: Message[] = [];
  try {
    while (held.length < max) {
      const page = await receiveBatch(sqs, dlqUrl, { max: Math.min(10, max - held.length), visibilityTimeout: HOLD_SECONDS });
      if (page.length === 0) break;
      held.push(...page);
    }
    return held.map((m) => summarize(readDeadLetter(m)));
  } finally {
    await release(sqs, dlqUrl, held);
  }
}

export function summarize(letter: DeadLetter): DeadLetterSummary {
  const r = letter.record;
  return {
    messageId: letter.messageId,
    sourceMessageId: letter.sourceMessageId,
    reason: letter.reason,
    writtenBy: letter.writtenBy,
    ids: Object.fromEntries(
      ID_FIELDS.flatMap((field) => {
        const value = (r as Record<string, unknown>)[field];
        return typeof value === "string" ? [[field, value]] : [];
      }),
    ),
    detail: r.detail ?? "moved by SQS's redrive after the max receive count: a crash or timeout the relay could not catch",
    ...(r.http_status !== undefined ? { httpStatus: r.http_status } : {}),
    ...(r.receive_count !== undefined ? { receiveCount: r.receive_count } : {}),
    originalBytes: Buffer.byteLength(letter.original),
    ...(r.at ? { at: r.at } : {}),
  };
}

/** One line per entry plus a count by reason: what `dlq list` prints. */
export function formatDeadLetters(letters: DeadLetterSummary[], approximateTotal?: number): string[] {
  const byReason = new Map<string, number>();
  for (const l of letters) byReason.set(l.reason, (byReason.get(l.reason) ?? 0) + 1);
  const counts = [...byReason]
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => `${n} ${reason}`)
    .join(", ");
  const lines = [
    letters.length === 0
      ? "the DLQ is empty"
      : `${letters.length} message${letters.length === 1 ? "" : "s"}${approximateTotal !== undefined && approximateTotal > letters.length ? ` (of ~${approximateTotal}; --max shows more)` : ""}: ${counts}`,
  ];
  for (const l of letters) {
    // In the registry's order (an API's ids together): `thread / run`, the response, the conversation, …
    const values = Object.values(l.ids);
    const ids = values.length > 0 ? values.join(" / ") : "(no readable ids)";
    const detail = l.detail.length > 120 ? `${l.detail.slice(0, 117)}…` : l.detail;
    const status = l.httpStatus !== undefined ? ` HTTP ${l.httpStatus}` : "";
    lines.push(
      `${l.messageId.slice(0, 8)}  ${l.reason.padEnd(20)} ${ids}  receives ${l.receiveCount ?? "?"}${status}  ${l.originalBytes} bytes  ${detail}`,
    );
  }
  return lines;
}

export interface RedriveOptions {
  sqs: SQSClient;
  dlqUrl: string;
  inputQueueUrl: string;
  /** Only entries with one of these reasons; the others stay in the DLQ. */
  reasons?: string[];
  max?: number;
  onProgress?: (progress: { moved: number; skipped: number }) => void;
}

export interface RedriveResult {
  moved: number;
  skipped: number;
  /** The new input-queue message ids, in the order sent. */
  messageIds: string[];
}

/**
 * Moves DLQ entries back to the input queue by receive → send the DLQ message as it is → delete, as SQS's own
 * message-move task would: the relay reads a record it wrote as its original message, and learns the record's
 * reason (a `submission_unconfirmed` record sent back is the operator's go-ahead to submit). A message is deleted
 * from the DLQ only after its copy was sent: a crash in between makes a duplicate, which the relay handles,
 * never a loss.
 * @example const { moved } = await redriveDeadLetters({ sqs, dlqUrl, inputQueueUrl, reasons: ["unauthorized"] });
 */
export async function redriveDeadLetters(o: RedriveOptions): Promise<RedriveResult> {
  const fifo = o.inputQueueUrl.endsWith(".fifo");
  const wanted = o.reasons?.length ? new Set(o.reasons) : undefined;
  const max = o.max ?? Infinity;
  const skipped: Message[] = [];
  const result: RedriveResult = { moved: 0, skipped: 0, messageIds: [] };
  try {
    while (result.moved < max) {
      const page = await receiveBatch(o.sqs, o.dlqUrl, { max: 10, visibilityTimeout: HOLD_SECONDS });
      if (page.length === 0) break;
      const done: Message[] = [];
      for (const message of page) {
        const letter = readDeadLetter(message);
        if ((wanted && !wanted.has(letter.reason)) || result.moved >= max) {
          skipped.push(message);
          continue;
        }
        const sent = await o.sqs.send(
          new SendMessageCommand({
            QueueUrl: o.inputQueueUrl,
            MessageBody: letter.body,
            ...(fifo
              ? {
                  MessageGroupId: message.Attributes?.MessageGroupId ?? letter.record.thread_id ?? "redrive",
                  MessageDeduplicationId: `redrive-${letter.messageId}-${Date.now()}`.slice(0, 128),
                }
              : {}),
          }),
        );
        result.messageIds.push(sent.MessageId!);
        result.moved += 1;
        done.push(message);
      }
      await deleteMessages(
        o.sqs,
        o.dlqUrl,
        done.map((m) => m.ReceiptHandle!),
      );
      result.skipped = skipped.length;
      o.onProgress?.({ moved: result.moved, skipped: result.skipped });
    }
  } finally {
    await release(o.sqs, o.dlqUrl, skipped);
  }
  return result;
}

export interface MoveTaskOptions {
  sqs: SQSClient;
  dlqUrl: string;
  inputQueueUrl: string;
  onProgress?: (progress: { moved: number; toMove?: number; status: string }) => void;
  pollMs?: number;
}

/**
 * SQS's own message-move task (on AWS): moves every DLQ message as it is back to the input queue.
 * Not available on emulators.
 */
export async function startMoveTask(o: MoveTaskOptions): Promise<{ moved: number; status: string }> {
  const arnOf = async (url: string) =>
    (await o.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }))).Attributes!.QueueArn!;
  const sourceArn = await arnOf(o.dlqUrl);
  const { TaskHandle } = await o.sqs.send(
    new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: await arnOf(o.inputQueueUrl) }),
  );
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, o.pollMs ?? 2_000));
    const { Results = [] } = await o.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 10 }));
    const task = Results.find((t) => t.TaskHandle === TaskHandle) ?? Results[0];
    if (!task) continue;
    const status = task.Status ?? "UNKNOWN";
    o.onProgress?.({ moved: task.ApproximateNumberOfMessagesMoved ?? 0, toMove: task.ApproximateNumberOfMessagesToMove, status });
    if (status === "FAILED")
      throw new UsageError(`the message-move task failed: ${task.FailureReason ?? "no reason given"}. Try --method copy.`);
    if (status !== "RUNNING" && status !== "CANCELLING") return { moved: task.ApproximateNumberOfMessagesMoved ?? 0, status };
  }
}

/**
 * Which way `dlq redrive` moves messages. On AWS, SQS's own message-move task: it moves bodies as they
 * are, and the relay reads a record it wrote as its `original`, so records and raw messages go back alike.
 * Emulators have no move task, and a move task cannot pick messages by reason: then copy and delete.
 */
export async function chooseRedriveMethod(o: {
  local: boolean;
  requested: "auto" | "copy" | "move-task";
  reasons?: string[];
}): Promise<{ method: "copy" | "move-task"; why: string }> {
  if (o.requested === "move-task") {
    if (o.local)
      throw new UsageError("the local emulator has no message-move task (StartMessageMoveTask): use --method copy, or leave --method out.");
    if (o.reasons?.length) throw new UsageError("a message-move task moves everything: drop --reason, or use --method copy.");
    return { method: "move-task", why: "asked for" };
  }
  if (o.requested === "copy") return { method: "copy", why: "asked for" };
  if (o.local) return { method: "copy", why: "local emulator (no message-move task)" };
  if (o.reasons?.length) return { method: "copy", why: "--reason picks messages; a move task moves them all" };
  return { method: "move-task", why: "SQS's own message-move task (the relay reads its DLQ records as their original messages)" };
}

export async function approximateDepth(sqs: SQSClient, url: string): Promise<number | undefined> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages"] }));
  return Attributes?.ApproximateNumberOfMessages === undefined ? undefined : Number(Attributes.ApproximateNumberOfMessages);
}

export function checkReasons(reasons: string[] | undefined): string[] | undefined {
  if (!reasons) return undefined;
  const list = reasons
    .flatMap((r) => r.split(","))
    .map((r) => r.trim())
    .filter(Boolean);
  if (list.some((r) => !/^[a-z_]+$/.test(r)))
    throw new UsageError("--reason takes reasons such as run_expired, unauthorized or redriven_by_sqs (see `dlq list`).");
  return list;
}
