import type { SQSRecord } from "aws-lambda";
import { redeliveryDelaySeconds, type RelaySinks } from "./aws-sinks";
import { buildDlqRecord } from "./dlq-record";
import type { MessageContext } from "./message";
import { lastReceiveReason, type Outcome } from "./outcome";
import { buildResultsEvent } from "./results-event";

export interface SettleLimits {
  maxReceiveCount: number;
  retryVisibilityBaseSeconds: number;
  retryVisibilityMaxSeconds: number;
}

/** How a record ended in this invocation: for the batch response, the log line and the metrics. */
export interface Settled {
  done: boolean;
  result: "reported" | "watching" | "dead_lettered" | "handed_back";
  reason?: string;
  via?: string;
  status?: string;
}

/**
 * Carries out an outcome: publish, DLQ, follow-up, or hand back. On the last permitted receive a
 * hand-back becomes a DLQ record written by the relay, so every DLQ entry says why. When a sink fails
 * the message goes back to SQS: nothing is acknowledged before its effects are written.
 * @example const settled = await settle(outcome, record, parsed.context, sinks, limits);
 */
export async function settle(
  outcome: Outcome,
  record: SQSRecord,
  context: MessageContext,
  sinks: RelaySinks,
  limits: SettleLimits,
): Promise<Settled> {
  const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
  const threadId = context.thread_id ?? "";
  try {
    switch (outcome.kind) {
      case "report":
        await sinks.publishResult(buildResultsEvent(outcome.run, { threadId, sourceMessageId: record.messageId, metadata: context.metadata }));
        return { done: true, result: "reported", via: outcome.via, status: outcome.run.status };
      case "watch":
        if (!context.thread_id || !context.run_id) throw new Error("watch without ids");
        await sinks.enqueueWatch({ type: "watch_run", thread_id: context.thread_id, run_id: context.run_id, metadata: context.metadata }, record);
        return { done: true, result: "watching", status: outcome.run?.status };
      case "dead_letter":
        if (outcome.publish) {
          await sinks.publishResult(buildResultsEvent(outcome.publish, { threadId, sourceMessageId: record.messageId, metadata: context.metadata }));
        }
        await sinks.writeDeadLetter(buildDlqRecord(outcome, context, { body: record.body, messageId: record.messageId, receiveCount }), record);
        return { done: true, result: "dead_lettered", reason: outcome.reason };
      case "hand_back":
        if (receiveCount >= limits.maxReceiveCount) {
          const reason = lastReceiveReason(outcome.reason);
          const detail = `${outcome.detail}; receive ${receiveCount} of ${limits.maxReceiveCount}, the last one`;
          await sinks.writeDeadLetter(buildDlqRecord({ ...outcome, reason, detail }, context, { body: record.body, messageId: record.messageId, receiveCount }), record);
          return { done: true, result: "dead_lettered", reason };
        }
        await delay(record, receiveCount, outcome.retryAfterMs, sinks, limits);
        return { done: false, result: "handed_back", reason: outcome.reason };
    }
  } catch (error) {
    // A sink failed (SNS or SQS unreachable, an event SNS refuses): hand the message back; the next
    // receive reconciles with the endpoint before anything is submitted again. On the last receive,
    // try to leave a reasoned DLQ record rather than a bare redrive.
    if (receiveCount >= limits.maxReceiveCount) {
      const detail = `results or follow-up could not be written (${(error as Error)?.name ?? "Error"}); receive ${receiveCount} of ${limits.maxReceiveCount}, the last one`;
      const written = await sinks
        .writeDeadLetter(buildDlqRecord({ reason: "results_unpublished", detail }, context, { body: record.body, messageId: record.messageId, receiveCount }), record)
        .then(() => true, () => false);
      if (written) return { done: true, result: "dead_lettered", reason: "results_unpublished" };
    }
    await delay(record, receiveCount, undefined, sinks, limits);
    return { done: false, result: "handed_back", reason: "results_unavailable" };
  }
}

async function delay(record: SQSRecord, receiveCount: number, retryAfterMs: number | undefined, sinks: RelaySinks, limits: SettleLimits) {
  const seconds = redeliveryDelaySeconds(receiveCount, { baseSeconds: limits.retryVisibilityBaseSeconds, maxSeconds: limits.retryVisibilityMaxSeconds }, retryAfterMs);
  // Best effort: if the delay cannot be set, the queue's own visibility timeout still brings it back.
  await sinks.delayRedelivery(record, seconds).catch(() => undefined);
}
