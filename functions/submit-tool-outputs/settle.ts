import type { SQSRecord } from "aws-lambda";
import { type RelaySinks, redeliveryDelaySeconds } from "./aws-sinks";
import { buildDlqRecord, type DlqRecordInput } from "./dlq-record";
import type { MessageContext } from "./message";
import { type DlqReason, type HandBackReason, lastReceiveReason, type Outcome } from "./outcome";
import { buildResultsEvent } from "./results-event";
import type { Run } from "./run-state";

export interface SettleLimits {
  maxReceiveCount: number;
  retryVisibilityBaseSeconds: number;
  retryVisibilityMaxSeconds: number;
}

/** The message an outcome is about. */
export interface SettledMessage {
  record: SQSRecord;
  /** Its ids and metadata, as far as they could be read. */
  context: MessageContext;
  /** A tool-output message (not a watch_run, not an invalid body): the endpoint may have taken its outputs. */
  carriesOutputs: boolean;
}

/** How a record ended in this invocation: for the batch response, the log line and the metrics. */
export interface Settled {
  done: boolean;
  result: "reported" | "watching" | "dead_lettered" | "handed_back";
  reason?: DlqReason | HandBackReason | "dead_letter_unavailable";
  via?: string;
  status?: string;
}

/** Hand-backs after which the endpoint may have taken the outputs all the same. */
const MAYBE_TAKEN: ReadonlySet<HandBackReason> = new Set(["endpoint_unavailable", "deadline", "unexpected_error"]);

/**
 * Carries out an outcome: publish, DLQ, follow-up, or hand back. On the last permitted receive a
 * hand-back becomes a DLQ record written by the relay, so every DLQ entry says why; what is only
 * extra there (a follow-up, a run state to publish) is best effort and never replaces the reason.
 * Nothing is acknowledged before its effects are written: when a sink fails the message goes back to
 * SQS. Every AWS call ends at `signal` (the invocation's cutoff). Never throws.
 * @example const settled = await settle(outcome, { record, context, carriesOutputs }, sinks, limits, cutoff);
 */
export async function settle(
  outcome: Outcome,
  { record, context, carriesOutputs }: SettledMessage,
  sinks: RelaySinks,
  limits: SettleLimits,
  signal?: AbortSignal,
): Promise<Settled> {
  const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
  const lastReceive = receiveCount >= limits.maxReceiveCount;
  const source = { body: record.body, messageId: record.messageId, receiveCount };
  const lastTry = `receive ${receiveCount} of ${limits.maxReceiveCount}, the last one`;
  const deadLetter = (input: DlqRecordInput) => sinks.writeDeadLetter(buildDlqRecord(input, context, source), record, signal);
  const publish = (run: Run) =>
    sinks.publishResult(
      buildResultsEvent(run, { threadId: context.thread_id ?? "", sourceMessageId: record.messageId, metadata: context.metadata }),
      signal,
    );
  const watch = () => {
    if (!context.thread_id || !context.run_id) return Promise.reject(new Error("no run to watch"));
    return sinks.enqueueWatch(
      { type: "watch_run", thread_id: context.thread_id, run_id: context.run_id, metadata: context.metadata },
      record,
      signal,
    );
  };
  const bestEffort = (write: () => Promise<void>) =>
    write().then(
      () => true,
      () => false,
    );

  try {
    switch (outcome.kind) {
      case "report":
        await publish(outcome.run);
        return { done: true, result: "reported", via: outcome.via, status: outcome.run.status };
      case "watch":
        await watch();
        return { done: true, result: "watching", status: outcome.run?.status };
      case "dead_letter": {
        // Before the last receive a failed publish sends the message back to try again; on it, the
        // DLQ record goes out regardless and says the state was not published.
        let published = true;
        if (outcome.publish && lastReceive) published = await bestEffort(() => publish(outcome.publish!));
        else if (outcome.publish) await publish(outcome.publish);
        const detail = published
          ? outcome.detail
          : `${outcome.detail}; the run's state (${outcome.publish?.status}) could not be published`;
        return await deadLettered(() => deadLetter({ ...outcome, detail }), outcome.reason);
      }
      case "hand_back": {
        if (!lastReceive) break;
        const reason = lastReceiveReason(outcome.reason);
        // The endpoint may have taken the outputs on this last try: a watch reports the run's next
        // state if it did (and repeats its current one, same event id, if it did not).
        const watched = carriesOutputs && MAYBE_TAKEN.has(outcome.reason) && (await bestEffort(watch));
        const detail = `${outcome.detail}; ${lastTry}${watched ? "; a watch_run follows the run in case the endpoint took the outputs" : ""}`;
        return await deadLettered(() => deadLetter({ ...outcome, reason, detail }), reason);
      }
    }
  } catch (error) {
    // Publishing a run state (or sending a follow-up) failed: SNS or SQS unreachable, an event SNS
    // refuses, the cutoff. On the last receive the message still gets a reasoned DLQ record.
    if (lastReceive && !signal?.aborted) {
      const detail = `results or follow-up could not be written (${(error as Error)?.name ?? "Error"}); ${lastTry}`;
      return deadLettered(() => deadLetter({ reason: "results_unpublished", detail }), "results_unpublished");
    }
    await delay(record, receiveCount, undefined, sinks, limits, signal);
    return { done: false, result: "handed_back", reason: "results_unavailable" };
  }
  await delay(record, receiveCount, outcome.retryAfterMs, sinks, limits, signal);
  return { done: false, result: "handed_back", reason: outcome.reason };

  /** Writes the DLQ record; if that fails, SQS tries again (and its redrive is the last resort). */
  async function deadLettered(write: () => Promise<void>, reason: DlqReason): Promise<Settled> {
    if (await bestEffort(write)) return { done: true, result: "dead_lettered", reason };
    await delay(record, receiveCount, undefined, sinks, limits, signal);
    return { done: false, result: "handed_back", reason: "dead_letter_unavailable" };
  }
}

async function delay(
  record: SQSRecord,
  receiveCount: number,
  retryAfterMs: number | undefined,
  sinks: RelaySinks,
  limits: SettleLimits,
  signal?: AbortSignal,
) {
  if (signal?.aborted) return;
  const seconds = redeliveryDelaySeconds(
    receiveCount,
    { baseSeconds: limits.retryVisibilityBaseSeconds, maxSeconds: limits.retryVisibilityMaxSeconds },
    retryAfterMs,
  );
  // Best effort: if the delay cannot be set, the queue's own visibility timeout still brings it back.
  await sinks.delayRedelivery(record, seconds, signal).catch(() => undefined);
}
