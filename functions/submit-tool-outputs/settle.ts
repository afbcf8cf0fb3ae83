import type { SQSRecord } from "aws-lambda";
import { redeliveryDelaySeconds, type RelaySinks } from "./aws-sinks";
import { buildDlqRecord, type DlqRecordInput } from "./dlq-record";
import type { MessageContext } from "./message";
import { lastReceiveReason, type HandBackReason, type Outcome } from "./outcome";
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

/** Hand-backs after which the endpoint may have taken the outputs all the same. */
const MAYBE_TAKEN: ReadonlySet<HandBackReason> = new Set(["endpoint_unavailable", "deadline", "unexpected_error"]);

/**
 * Carries out an outcome: publish, DLQ, follow-up, or hand back. On the last permitted receive a
 * hand-back becomes a DLQ record written by the relay, so every DLQ entry says why. Nothing is
 * acknowledged before its effects are written: when a sink fails the message goes back to SQS.
 * Every AWS call ends at `signal` (the invocation's cutoff). Never throws.
 * @example const settled = await settle(outcome, record, parsed.context, sinks, limits, cutoff);
 */
export async function settle(
  outcome: Outcome,
  record: SQSRecord,
  context: MessageContext,
  sinks: RelaySinks,
  limits: SettleLimits,
  signal?: AbortSignal,
): Promise<Settled> {
  const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
  const lastReceive = receiveCount >= limits.maxReceiveCount;
  const source = { body: record.body, messageId: record.messageId, receiveCount };
  const deadLetter = (input: DlqRecordInput) => sinks.writeDeadLetter(buildDlqRecord(input, context, source), record, signal);
  const publish = (run: Parameters<typeof buildResultsEvent>[0]) =>
    sinks.publishResult(buildResultsEvent(run, { threadId: context.thread_id ?? "", sourceMessageId: record.messageId, metadata: context.metadata }), signal);
  const watch = () =>
    context.thread_id && context.run_id
      ? sinks.enqueueWatch({ type: "watch_run", thread_id: context.thread_id, run_id: context.run_id, metadata: context.metadata }, record, signal)
      : Promise.resolve();

  // Which write failed decides what a failure means, so keep the step.
  let step: "results" | "dead_letter" = "results";
  try {
    switch (outcome.kind) {
      case "report":
        await publish(outcome.run);
        return { done: true, result: "reported", via: outcome.via, status: outcome.run.status };
      case "watch":
        await watch();
        return { done: true, result: "watching", status: outcome.run?.status };
      case "dead_letter":
        if (outcome.publish) await publish(outcome.publish);
        step = "dead_letter";
        await deadLetter(outcome);
        return { done: true, result: "dead_lettered", reason: outcome.reason };
      case "hand_back": {
        if (!lastReceive) break;
        const reason = lastReceiveReason(outcome.reason);
        const maybeTaken = MAYBE_TAKEN.has(outcome.reason) && context.thread_id !== undefined;
        // The endpoint may have taken the outputs on this last try: a watch reports the run's next state
        // if it did (and repeats its current one, same event id, if it did not).
        if (maybeTaken) await watch();
        step = "dead_letter";
        const detail = `${outcome.detail}; receive ${receiveCount} of ${limits.maxReceiveCount}, the last one${maybeTaken ? "; a watch_run follows the run in case the endpoint took the outputs" : ""}`;
        await deadLetter({ ...outcome, reason, detail });
        return { done: true, result: "dead_lettered", reason };
      }
    }
  } catch (error) {
    // A sink failed (SNS or SQS unreachable, an event SNS refuses, the cutoff). On the last receive a
    // failed publish or follow-up still leaves a reasoned record; a failed DLQ write is retried by SQS.
    if (lastReceive && step === "results" && !signal?.aborted) {
      const detail = `results or follow-up could not be written (${(error as Error)?.name ?? "Error"}); receive ${receiveCount} of ${limits.maxReceiveCount}, the last one`;
      const written = await deadLetter({ reason: "results_unpublished", detail }).then(
        () => true,
        () => false,
      );
      if (written) return { done: true, result: "dead_lettered", reason: "results_unpublished" };
    }
    await delay(record, receiveCount, undefined, sinks, limits, signal);
    return { done: false, result: "handed_back", reason: step === "results" ? "results_unavailable" : "dead_letter_unavailable" };
  }
  await delay(record, receiveCount, outcome.retryAfterMs, sinks, limits, signal);
  return { done: false, result: "handed_back", reason: outcome.reason };
}

async function delay(record: SQSRecord, receiveCount: number, retryAfterMs: number | undefined, sinks: RelaySinks, limits: SettleLimits, signal?: AbortSignal) {
  if (signal?.aborted) return;
  const seconds = redeliveryDelaySeconds(receiveCount, { baseSeconds: limits.retryVisibilityBaseSeconds, maxSeconds: limits.retryVisibilityMaxSeconds }, retryAfterMs);
  // Best effort: if the delay cannot be set, the queue's own visibility timeout still brings it back.
  await sinks.delayRedelivery(record, seconds, signal).catch(() => undefined);
}
