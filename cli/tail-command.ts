import { SubscribeCommand, UnsubscribeCommand } from "@aws-sdk/client-sns";
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import type { ResultsEvent } from "../functions/submit-tool-outputs/dialects/index";
import { readPublishedResult, subjectOf } from "../functions/submit-tool-outputs/dialects/index";
import type { Targets } from "./aws-targets";
import { explainAwsError, UsageError } from "./cli-error";
import { deleteMessages, receiveBatch } from "./queue-io";

export interface TailOptions {
  /** Only these event types (`run.completed`, `response.requires_action`, or a bare status for both APIs: `completed`). */
  types?: string[];
  /** Print each event as one JSON line instead of a summary. */
  json?: boolean;
  /** Stop after this many printed events. */
  max?: number;
  signal: AbortSignal;
  print: (line: string) => void;
  /** Told where the events come from, before the first one. */
  note?: (line: string) => void;
}

/**
 * Prints results events as they arrive until the signal aborts (Ctrl-C) or `max` were printed.
 * From a results queue (--results-queue, RESULTS_QUEUE_URL: reading consumes it), or else from the topic
 * through a queue of its own, subscribed for the duration and deleted afterwards (takes nothing from anyone).
 * @example await tailResults(targets, { signal: ac.signal, print: console.log, types: ["run.requires_action"] });
 */
export async function tailResults(targets: Targets, o: TailOptions): Promise<number> {
  const types = o.types?.flatMap((t) => t.split(",")).flatMap(eventTypes);
  const source = targets.resultsQueueUrl
    ? { url: targets.resultsQueueUrl, cleanup: async () => undefined }
    : await subscribeTemporaryQueue(targets, types);
  o.note?.(
    targets.resultsQueueUrl ? `reading ${targets.resultsQueueUrl} (consumes it)` : `subscribed to ${targets.resultsTopicArn}; Ctrl-C stops`,
  );
  let printed = 0;
  try {
    while (!o.signal.aborted && (o.max === undefined || printed < o.max)) {
      let messages: Awaited<ReturnType<typeof receiveBatch>>;
      try {
        messages = await receiveBatch(targets.sqs, source.url, { max: 10, waitSeconds: 5, signal: o.signal });
      } catch (error) {
        if (o.signal.aborted) break;
        throw explainAwsError(error, { endpoint: targets.endpoint, what: "reading results" });
      }
      for (const message of messages) {
        let event: ResultsEvent;
        try {
          event = readPublishedResult(message).event;
        } catch {
          continue; // not a results event: nothing to show
        }
        if (types && !types.includes(event.type)) continue;
        if (o.max !== undefined && printed >= o.max) break;
        o.print(o.json ? JSON.stringify(event) : formatResultLine(event));
        printed += 1;
      }
      await deleteMessages(
        targets.sqs,
        source.url,
        messages.map((m) => m.ReceiptHandle!),
      );
    }
  } finally {
    await source.cleanup();
  }
  return printed;
}

/** `run.x` and `response.x` name one type; a bare status (`completed`) names that status in both APIs. */
function eventTypes(type: string): string[] {
  const trimmed = type.trim();
  if (trimmed.startsWith("run.") || trimmed.startsWith("response.")) return [trimmed];
  return [`run.${trimmed}`, `response.${trimmed}`];
}

/** One line per event: time, type, ids, what it asks for, where it came from. */
export function formatResultLine(event: ResultsEvent): string {
  const calls = event.tool_calls ?? [];
  const asks = calls.length ? `  asks for ${calls.map((c) => `${c.id}${c.function.name ? ` (${c.function.name})` : ""}`).join(", ")}` : "";
  const failure = event.api === "assistants" ? event.run.last_error : event.response.error;
  const code = (failure as { code?: string } | null | undefined)?.code;
  const error = code ? `  ${event.api === "assistants" ? "last_error" : "error"} ${code}` : "";
  const metadata =
    event.metadata && Object.keys(event.metadata).length
      ? `  ${Object.entries(event.metadata)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ")}`
      : "";
  return `${event.at}  ${event.type.padEnd(24)} ${subjectOf(event)}${asks}${error}  from ${event.source_message_id}${metadata}`;
}

async function subscribeTemporaryQueue(
  targets: Targets,
  types: string[] | undefined,
): Promise<{ url: string; cleanup: () => Promise<void> }> {
  const topicArn = targets.resultsTopicArn;
  if (!topicArn) {
    throw new UsageError(
      "tail needs the results topic (--topic, RESULTS_TOPIC_ARN, or --stack ToolOutputRelay) or a queue subscribed to it (--results-queue, RESULTS_QUEUE_URL).",
    );
  }
  const fifo = topicArn.endsWith(".fifo");
  const name = `tool-output-relay-tail-${crypto.randomUUID().slice(0, 8)}${fifo ? ".fifo" : ""}`;
  const what = { endpoint: targets.endpoint, what: "subscribing a temporary queue to the results topic" };
  let url: string | undefined;
  let subscriptionArn: string | undefined;
  try {
    const created = await targets.sqs.send(
      new CreateQueueCommand({ QueueName: name, Attributes: { ...(fifo ? { FifoQueue: "true" } : {}), MessageRetentionPeriod: "3600" } }),
    );
    // An emulator may answer with a host name only it knows: keep its path on the endpoint we reached it at.
    url = targets.endpoint ? new URL(new URL(created.QueueUrl!).pathname, targets.endpoint).toString() : created.QueueUrl!;
    const { Attributes } = await targets.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }));
    const queueArn = Attributes!.QueueArn!;
    const policy = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "sns.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: queueArn,
          Condition: { ArnEquals: { "aws:SourceArn": topicArn } },
        },
      ],
    };
    await targets.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: JSON.stringify(policy) } }));
    const subscribed = await targets.sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: "sqs",
        Endpoint: queueArn,
        ReturnSubscriptionArn: true,
        ...(types ? { Attributes: { FilterPolicy: JSON.stringify({ type: types }) } } : {}),
      }),
    );
    subscriptionArn = subscribed.SubscriptionArn;
  } catch (error) {
    if (url) await targets.sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
    throw explainAwsError(error, what);
  }
  const queueUrl = url;
  return {
    url: queueUrl,
    async cleanup() {
      if (subscriptionArn) await targets.sns.send(new UnsubscribeCommand({ SubscriptionArn: subscriptionArn })).catch(() => undefined);
      await targets.sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
    },
  };
}
