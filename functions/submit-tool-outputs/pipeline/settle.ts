import type { SQSRecord } from "aws-lambda";
import { errorName } from "../config/errors";
import { buildResultsEvent, statusOf } from "../dialects/index";
import { mayHaveLanded, type RelaySinks } from "../out/aws-sinks";
import { buildDlqRecord, type DlqRecordInput } from "../out/dlq-record";
import type { MessageContext } from "./message";
import { type DlqReason, type FollowUp, type HandBackReason, lastReceiveReason, type Outcome, type RestingState } from "./outcome";
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
  /** What reports the message's fate if the endpoint may have taken its outputs (its dialect's followUpIfTaken). */
  followUpIfTaken?: FollowUp;
  /** The function's timeout (ms), as much as one more receive can take (rule 1's margin, with the visibility timeout). */
  functionTimeoutMs?: number;
}

/** How a record ended in this invocation: for the batch response, the log line and the metrics. */
export interface Settled {
  done: boolean;
  result: "reported" | "watching" | "dead_lettered" | "handed_back" | "collected" | "checked";
  reason?: DlqReason | HandBackReason | "dead_letter_unavailable";
  via?: string;
  status?: string;
  /** A publish failed that may still have reached SNS (its answer lost, a 5xx, a retried call): see `mayHaveLanded`. */
  publishMayHaveLanded?: true;
}

/** Publishes tried on the last receive before its DLQ record says the state was not published. */
const LAST_RECEIVE_PUBLISHES = 3;

/** Hand-backs after which the endpoint may have taken the outputs all the same. */
const MAYBE_TAKEN: ReadonlySet<HandBackReason> = new Set(["endpoint_unavailable", "deadline", "unexpected_error", "state_unavailable"]);

/** What settling needs besides the outcome and its message: where effects go, the limits, the invocation's cutoff. */
export interface SettleParts {
  sinks: RelaySinks;
  limits: SettleLimits;
  signal?: AbortSignal;
}

type OutcomeOf<Kind extends Outcome["kind"]> = Extract<Outcome, { kind: Kind }>;

/**
 * One message's settling: its effects (publish, DLQ record, follow-up, redelivery delay) written through the sinks.
 * Each outcome kind is one method, dispatched from `BY_KIND` (one place per kind, the way the table reads).
 */
class Settling {
  private readonly lastReceive: boolean;
  private readonly lastTry: string;
  /** Rule 1: the longest hand-back delay the input queue's retention leaves room for; undefined when none does. */
  private readonly retentionAllows: number | undefined;
  /** A failed publish of this settling may have reached SNS all the same (rule 2: never counted as refused). */
  publishMayHaveLanded = false;

  constructor(
    private readonly message: SettledMessage,
    private readonly parts: SettleParts,
  ) {
    const { limits } = parts;
    this.retentionAllows = retentionAllowsSeconds({
      sentAt: Number(message.record.attributes.SentTimestamp),
      retentionSeconds: limits.inputRetentionSeconds,
      visibilityTimeoutSeconds: limits.inputVisibilityTimeoutSeconds,
      functionTimeoutSeconds: Math.ceil((message.functionTimeoutMs ?? 0) / 1000),
    });
    // When no further receive fits in the retention, this one is the last: the DLQ record is written now, saying why.
    const retentionEnds = this.retentionAllows === undefined;
    this.lastReceive = message.receiveCount >= limits.maxReceiveCount || retentionEnds;
    this.lastTry = retentionEnds
      ? `receive ${message.receiveCount} of ${limits.maxReceiveCount}, the last one the input queue's retention (${limits.inputRetentionSeconds} s from when the message was sent) leaves time for`
      : `receive ${message.receiveCount} of ${limits.maxReceiveCount}, the last one`;
  }

  /** At rest: publish its state, acknowledge. */
  async report(outcome: OutcomeOf<"report">): Promise<Settled> {
    await this.publish(outcome.state, outcome.sources);
    return { done: true, result: "reported", via: outcome.via, status: statusOf(outcome.state) };
  }

  /** Taken, still moving: send the follow-up, acknowledge. */
  async watch(outcome: OutcomeOf<"watch">): Promise<Settled> {
    await this.sendWatch(outcome.followUp);
    return { done: true, result: "watching", status: outcome.status };
  }

  async acknowledge(outcome: OutcomeOf<"acknowledge">): Promise<Settled> {
    return { done: true, result: outcome.result };
  }

  /**
   * A DLQ record with the reason. Before the last receive a failed publish sends the message back to try again; on it,
   * the DLQ record goes out regardless and says the state was not published.
   */
  async dead_letter(outcome: OutcomeOf<"dead_letter">): Promise<Settled> {
    const state = outcome.publish;
    let published = true;
    if (state && this.lastReceive) published = await bestEffort(() => this.publish(state));
    else if (state) await this.publish(state);
    const detail = published || !state ? outcome.detail : `${outcome.detail}; the state (${statusOf(state)}) could not be published`;
    return this.deadLettered({ ...outcome, detail });
  }

  /**
   * Back to SQS with a growing delay; on the last permitted receive, a DLQ record with the reason it becomes. The
   * endpoint may have taken the outputs on this last try: a follow-up reports the next state if it did (and repeats
   * the current one, same event id, if it did not).
   */
  async hand_back(outcome: OutcomeOf<"hand_back">): Promise<Settled> {
    if (!this.lastReceive) return this.handBack(outcome.reason, outcome.retryAfterMs);
    const reason = lastReceiveReason(outcome.reason);
    const followUp = MAYBE_TAKEN.has(outcome.reason) ? this.message.followUpIfTaken : undefined;
    const watched = followUp !== undefined && (await bestEffort(() => this.sendWatch(followUp)));
    const watching = watched ? `; a ${followUp.type} follows up in case the endpoint took the outputs` : "";
    return this.deadLettered({ ...outcome, reason, detail: `${outcome.detail}; ${this.lastTry}${watching}` });
  }

  /**
   * Publishing a state (or sending a follow-up) failed: SNS or SQS unreachable, an event SNS refuses, the cutoff. On the
   * last receive the message still gets a reasoned DLQ record.
   */
  async unwritten(error: unknown): Promise<Settled> {
    if (this.lastReceive && !this.parts.signal?.aborted) {
      const detail = `results or follow-up could not be written (${errorName(error)}); ${this.lastTry}`;
      return this.deadLettered({ reason: "results_unpublished", detail });
    }
    return this.handBack("results_unavailable");
  }

  /**
   * Publishes the state. On the last receive a failed publish is tried again (a few times, within the cutoff) before
   * the DLQ record says it was not published: a publish whose answer was lost may have landed, and its event named the
   * message; a second copy of the same event (the same event id) is one a consumer drops, a DLQ record beside a
   * published event breaks the promise (reported or dead-lettered, never both). Earlier receives hand back instead.
   */
  private async publish(state: RestingState, sources?: string[]): Promise<void> {
    const { record, context } = this.message;
    const source = { sourceMessageId: record.messageId, sourceMessageIds: sources, metadata: context.metadata };
    const event = buildResultsEvent(state, source);
    const { sinks, signal } = this.parts;
    for (let attempt = 1; ; attempt++) {
      try {
        return await sinks.publishResult(event, signal);
      } catch (error) {
        if (mayHaveLanded(error)) this.publishMayHaveLanded = true;
        if (!this.lastReceive || attempt >= LAST_RECEIVE_PUBLISHES || signal?.aborted) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }

  private sendWatch(followUp: FollowUp): Promise<void> {
    const { record, context } = this.message;
    const message = { ...followUp, ...(context.metadata ? { metadata: context.metadata } : {}) };
    return this.parts.sinks.enqueueWatch(message, record, this.parts.signal);
  }

  /** Writes the DLQ record; if that fails, SQS tries again (and its redrive is the last resort). */
  private async deadLettered(input: DlqRecordInput): Promise<Settled> {
    const { record, context, receiveCount } = this.message;
    const source = { body: record.body, messageId: record.messageId, receiveCount };
    const written = await bestEffort(() =>
      this.parts.sinks.writeDeadLetter(buildDlqRecord(input, context, source), record, this.parts.signal),
    );
    return written ? { done: true, result: "dead_lettered", reason: input.reason } : this.handBack("dead_letter_unavailable");
  }

  private async handBack(reason: Settled["reason"], retryAfterMs?: number): Promise<Settled> {
    const { signal, limits, sinks } = this.parts;
    if (!signal?.aborted) {
      const sinceInvocationSeconds = (Date.now() - this.message.invokedAt) / 1000;
      const limitsSeconds = { baseSeconds: limits.retryVisibilityBaseSeconds, maxSeconds: limits.retryVisibilityMaxSeconds };
      const wanted = redeliveryDelaySeconds(this.message.receiveCount, limitsSeconds, { retryAfterMs, sinceInvocationSeconds });
      const seconds = Math.min(wanted, this.retentionAllows ?? 0);
      // Best effort: if the delay cannot be set, the queue's own visibility timeout still brings it back.
      await sinks.delayRedelivery(this.message.record, seconds, signal).catch(() => undefined);
    }
    return { done: false, result: "handed_back", reason };
  }
}

const bestEffort = (write: () => Promise<void>) =>
  write().then(
    () => true,
    () => false,
  );

/**
 * Carries out an outcome: publish, DLQ, follow-up, or hand back. On the last permitted receive a
 * hand-back becomes a DLQ record written by the relay, so every DLQ entry says why; what is only
 * extra there (a follow-up, a state to publish) is best effort and never replaces the reason.
 * Nothing is acknowledged before its effects are written: when a sink fails the message goes back to
 * SQS. Every AWS call ends at `signal` (the invocation's cutoff). Never throws.
 * @example const settled = await settle(outcome, message, { sinks, limits, signal: cutoff });
 */
export async function settle(outcome: Outcome, message: SettledMessage, parts: SettleParts): Promise<Settled> {
  const settling = new Settling(message, parts);
  let settled: Settled;
  try {
    settled = await carryOut(settling, outcome);
  } catch (error) {
    settled = await settling.unwritten(error);
  }
  return settling.publishMayHaveLanded ? { ...settled, publishMayHaveLanded: true } : settled;
}

/** Each outcome kind's method (the switch is exhaustive: a new kind does not compile until it has one). */
function carryOut(settling: Settling, outcome: Outcome): Promise<Settled> {
  switch (outcome.kind) {
    case "report":
      return settling.report(outcome);
    case "watch":
      return settling.watch(outcome);
    case "acknowledge":
      return settling.acknowledge(outcome);
    case "dead_letter":
      return settling.dead_letter(outcome);
    case "hand_back":
      return settling.hand_back(outcome);
  }
}
