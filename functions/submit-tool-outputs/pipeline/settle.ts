import type { SQSRecord } from "aws-lambda";
import type { RelaySinks } from "../out/aws-sinks";
import { buildDlqRecord, type DlqRecordInput } from "../out/dlq-record";
import { buildResultsEvent, type RestingState, statusOf } from "../out/results-event";
import type { MessageContext } from "./message";
import { type DlqReason, type FollowUp, type HandBackReason, lastReceiveReason, type Outcome } from "./outcome";
import { redeliveryDelaySeconds, retentionAllowsSeconds } from "./retry-timing";

export interface SettleLimits {
  maxReceiveCount: number;
  retryVisibilityBaseSeconds: number;
  retryVisibilityMaxSeconds: number;
  /** The input queue's retention and visibility timeout (rule 1: no message outlives the retention). */
  inputRetentionSeconds: number;
  inputVisibilityTimeoutSeconds: number;
}

/** The message an outcome is about. */
export interface SettledMessage {
  record: SQSRecord;
  /** Its ids and metadata, as far as they could be read. */
  context: MessageContext;
  /** `ApproximateReceiveCount`, read once (record-context.ts). */
  receiveCount: number;
  /** Epoch ms when the invocation began: SQS counts a visibility timeout's 12 hours from the receive. */
  invokedAt: number;
  /** The function's timeout (ms), as much as one more receive can take (rule 1's margin, with the visibility timeout). */
  functionTimeoutMs?: number;
  /** What reports the message's fate if the endpoint may have taken its outputs (its dialect's followUpIfTaken). */
  followUpIfTaken?: FollowUp;
}

/** How a record ended in this invocation: for the batch response, the log line and the metrics. */
export interface Settled {
  done: boolean;
  result: "reported" | "watching" | "dead_lettered" | "handed_back" | "collected" | "checked";
  reason?: DlqReason | HandBackReason | "dead_letter_unavailable";
  via?: string;
  status?: string;
}

/** Hand-backs after which the endpoint may have taken the outputs all the same. */
const MAYBE_TAKEN: ReadonlySet<HandBackReason> = new Set(["endpoint_unavailable", "deadline", "unexpected_error", "state_unavailable"]);

/**
 * Carries out an outcome: publish, DLQ, follow-up, or hand back. On the last permitted receive a
 * hand-back becomes a DLQ record written by the relay, so every DLQ entry says why; what is only
 * extra there (a follow-up, a state to publish) is best effort and never replaces the reason.
 * Nothing is acknowledged before its effects are written: when a sink fails the message goes back to
 * SQS. Every AWS call ends at `signal` (the invocation's cutoff). Never throws.
 * @example const settled = await settle(outcome, message, sinks, limits, cutoff);
 */
export async function settle(
  outcome: Outcome,
  message: SettledMessage,
  sinks: RelaySinks,
  limits: SettleLimits,
  signal?: AbortSignal,
): Promise<Settled> {
  const { record, context, receiveCount } = message;
  // Rule 1: a hand-back never outlasts the input queue's retention; when no further receive fits, this one is the last.
  const retentionAllows = retentionAllowsSeconds({
    sentAt: Number(record.attributes.SentTimestamp),
    retentionSeconds: limits.inputRetentionSeconds,
    visibilityTimeoutSeconds: limits.inputVisibilityTimeoutSeconds,
    functionTimeoutSeconds: Math.ceil((message.functionTimeoutMs ?? 0) / 1000),
  });
  const retentionEnds = retentionAllows === undefined;
  const lastReceive = receiveCount >= limits.maxReceiveCount || retentionEnds;
  const source = { body: record.body, messageId: record.messageId, receiveCount };
  const lastTry = retentionEnds
    ? `receive ${receiveCount} of ${limits.maxReceiveCount}, the last one the input queue's retention (${limits.inputRetentionSeconds} s from when the message was sent) leaves time for`
    : `receive ${receiveCount} of ${limits.maxReceiveCount}, the last one`;
  const deadLetter = (input: DlqRecordInput) => sinks.writeDeadLetter(buildDlqRecord(input, context, source), record, signal);
  const publish = (state: RestingState, sources?: string[]) =>
    sinks.publishResult(
      buildResultsEvent(state, { sourceMessageId: record.messageId, sourceMessageIds: sources, metadata: context.metadata }),
      signal,
    );
  const watch = (followUp: FollowUp) =>
    sinks.enqueueWatch({ ...followUp, ...(context.metadata ? { metadata: context.metadata } : {}) }, record, signal);
  const bestEffort = (write: () => Promise<void>) =>
    write().then(
      () => true,
      () => false,
    );
  const handBack = async (reason: Settled["reason"], retryAfterMs?: number): Promise<Settled> => {
    if (!signal?.aborted) {
      const sinceInvocationSeconds = (Date.now() - message.invokedAt) / 1000;
      const limitsSeconds = { baseSeconds: limits.retryVisibilityBaseSeconds, maxSeconds: limits.retryVisibilityMaxSeconds };
      const wanted = redeliveryDelaySeconds(receiveCount, limitsSeconds, retryAfterMs, Math.random, sinceInvocationSeconds);
      const seconds = Math.min(wanted, retentionAllows ?? 0);
      // Best effort: if the delay cannot be set, the queue's own visibility timeout still brings it back.
      await sinks.delayRedelivery(record, seconds, signal).catch(() => undefined);
    }
    return { done: false, result: "handed_back", reason };
  };
  /** Writes the DLQ record; if that fails, SQS tries again (and its redrive is the last resort). */
  const deadLettered = async (write: () => Promise<void>, reason: DlqReason): Promise<Settled> =>
    (await bestEffort(write)) ? { done: true, result: "dead_lettered", reason } : handBack("dead_letter_unavailable");

  try {
    switch (outcome.kind) {
      case "report":
        await publish(outcome.state, outcome.sources);
        return { done: true, result: "reported", via: outcome.via, status: statusOf(outcome.state) };
      case "watch":
        await watch(outcome.followUp);
        return { done: true, result: "watching", status: outcome.status };
      case "acknowledge":
        return { done: true, result: outcome.result };
      case "dead_letter": {
        // Before the last receive a failed publish sends the message back to try again; on it, the
        // DLQ record goes out regardless and says the state was not published.
        const state = outcome.publish;
        let published = true;
        if (state && lastReceive) published = await bestEffort(() => publish(state));
        else if (state) await publish(state);
        const detail = published || !state ? outcome.detail : `${outcome.detail}; the state (${statusOf(state)}) could not be published`;
        return await deadLettered(() => deadLetter({ ...outcome, detail }), outcome.reason);
      }
      case "hand_back": {
        if (!lastReceive) return await handBack(outcome.reason, outcome.retryAfterMs);
        const reason = lastReceiveReason(outcome.reason);
        // The endpoint may have taken the outputs on this last try: a follow-up reports the next state if
        // it did (and repeats the current one, same event id, if it did not).
        const followUp = MAYBE_TAKEN.has(outcome.reason) ? message.followUpIfTaken : undefined;
        const watched = followUp !== undefined && (await bestEffort(() => watch(followUp)));
        const detail = `${outcome.detail}; ${lastTry}${watched ? `; a ${followUp.type} follows up in case the endpoint took the outputs` : ""}`;
        return await deadLettered(() => deadLetter({ ...outcome, reason, detail }), reason);
      }
    }
  } catch (error) {
    // Publishing a state (or sending a follow-up) failed: SNS or SQS unreachable, an event SNS
    // refuses, the cutoff. On the last receive the message still gets a reasoned DLQ record.
    if (lastReceive && !signal?.aborted) {
      const detail = `results or follow-up could not be written (${(error as Error)?.name ?? "Error"}); ${lastTry}`;
      return deadLettered(() => deadLetter({ reason: "results_unpublished", detail }), "results_unpublished");
    }
    return handBack("results_unavailable");
  }
}
