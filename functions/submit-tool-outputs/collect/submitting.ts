import type { SQSRecord } from "aws-lambda";
import type { Dialect, ToolOutput } from "../dialects/dialect";
import { type Api, buildResultsEvent, continuationOf } from "../dialects/index";
import { eventFits } from "../out/results-event";
import { parseMessage } from "../pipeline/message";
import type { Outcome } from "../pipeline/outcome";
import type { RecordContext } from "../pipeline/record-context";
import type { CollectorParts } from "./collect-state";
import type { CollectedMessages } from "./collected-messages";
import type { SubmissionClaim } from "./collection";

/** A collecting message: its outputs and its turn. */
export interface CollectingMessage {
  api: Api;
  type: "tool_outputs";
  tool_outputs: ToolOutput[];
}

/** A collecting message as one invocation holds it: the message, its API's dialect, its SQS record and context. */
export interface Delivery<M> {
  message: M & CollectingMessage;
  dialect: Dialect<M>;
  record: SQSRecord;
  ctx: RecordContext;
}

/**
 * A set whose close this attempt's conditional write lost: another attempt (whoever holds the round now, or another
 * delivery of this same message that took the set again) decided the round's fate first. This attempt's own
 * conclusion is void (rule 3: a round's fate is decided once); the round as it now stands tells the message.
 */
export interface DecidedElsewhere {
  kind: "decided_elsewhere";
  detail: string;
}

/**
 * Submitting a complete, claimed set (the half of collect/ after placing, collector.ts): every output in ONE request
 * through its API's own path, then what became of it recorded on the round — submitted (its event names every part,
 * or every part is dead-lettered when the event can never be published), refused (every part dead-lettered), or to
 * try again (the claim released; closed on the last receive). A close refused (the round decided by another
 * attempt) gives `decided_elsewhere`, never this attempt's own DLQ record.
 * @example const outcome = await submitting.submit(claim, { message, dialect, record, ctx });
 */
export class SetSubmission {
  constructor(
    private readonly parts: CollectorParts,
    private readonly messages: CollectedMessages,
  ) {}

  /** A complete set, claimed: this invocation submits every output in ONE request. */
  async submit<M>(claim: SubmissionClaim, { message, dialect, record, ctx }: Delivery<M>): Promise<Outcome | DecidedElsewhere> {
    const store = await this.parts.state.collections();
    const firstAttempt = claim.collection.tries <= 1;
    let outcome: Outcome;
    try {
      const outputs = await this.messages.outputsOf(claim.collection, ctx);
      // Taken from an earlier attempt, which may have reached the endpoint: the API's path looks before it submits.
      const decideCtx = firstAttempt ? ctx : { ...ctx, receiveCount: Math.max(ctx.receiveCount, 2) };
      outcome = await dialect.decide(dialect.collecting.combine(message, outputs), decideCtx);
      // Part 1's "a run that moved on took these outputs" is for messages that do not collect: a set is only reported
      // as taken when it was this set that the turn took (rules 12 and 13).
      if (outcome.kind === "report" && outcome.via === "already_accepted") {
        const why = await dialect.collecting.answeredElsewhere(claim.collection.turn, outputs, firstAttempt, ctx);
        if (why) outcome = { kind: "dead_letter", reason: "collect_incomplete", detail: why };
      }
      // The turn took other outputs for these ids: it was answered without this collection.
      if (outcome.kind === "dead_letter" && outcome.reason === "conflicting_output")
        outcome = { ...outcome, reason: "collect_incomplete", detail: `the turn was answered without this collection: ${outcome.detail}` };
    } catch (error) {
      await store.release(claim.collection.scope, claim.collection.round, claim.attempt).catch(() => undefined);
      throw error;
    }
    return this.afterSubmission(outcome, claim, record, ctx);
  }

  /** Records what became of the set: submitted (the event names every collected message), refused, or to try again. */
  private async afterSubmission(
    outcome: Outcome,
    claim: SubmissionClaim,
    record: SQSRecord,
    ctx: RecordContext,
  ): Promise<Outcome | DecidedElsewhere> {
    const store = await this.parts.state.collections();
    const { scope, round } = claim.collection;
    /** Closes the round under this attempt; false when the round is no longer this attempt's to close. */
    const close = async (reason: Extract<Outcome, { kind: "dead_letter" }>["reason"], detail: string) => {
      const letters = { reason, detail, except: record.messageId };
      const ended = await store.finish({ scope, round }, { status: "closed", letters }, { attempt: claim.attempt });
      if (ended) await this.messages.deadLetterAll(ended, ctx);
      return ended !== undefined;
    };
    // Refused, the round was decided by another attempt: what this one concluded may rest on that attempt's own work
    // (a first attempt that finds the turn answered by another delivery of its message, which took the set again and
    // submitted it), so it is never this message's fate on its own (rule 3): the round tells it.
    const elsewhere = (detail: string): DecidedElsewhere => ({
      kind: "decided_elsewhere",
      detail: `this attempt's close was refused (another attempt decided the round) after: ${detail}`,
    });
    switch (outcome.kind) {
      case "report":
      case "watch": {
        const continuation = continuationOf(claim.collection.api, outcome);
        // The endpoint took the set: the round is submitted whoever holds the claim now (another delivery of this same
        // message may have claimed it meanwhile: the claim lets a message take its own set again). Conditional on the
        // attempt, the round would stay open behind an event that names its parts, and its timeout dead-letter them.
        // A report's event goes out next: its publish is counted begun by the same write (rule 2: no check dead-letters
        // the parts while it may land).
        const report = outcome.kind === "report";
        const ended = await store.finish({ scope, round }, { status: "submitted", continuation, publishing: report });
        // Messages stored while the set was being submitted count too: the round as it ended names them all.
        const now = ended ?? (await store.current(scope)) ?? claim.collection;
        const collected = [...now.messages.keys()];
        const sources = [...new Set([...collected, record.messageId])].sort();
        if (outcome.kind !== "report") return outcome;
        // Rule 2: an event that cannot be made to fit SNS's 256 KB is never published; every part is told in the DLQ.
        const metadata = parseMessage(record.body).context.metadata;
        const event = buildResultsEvent(outcome.state, { sourceMessageId: record.messageId, sourceMessageIds: sources, metadata });
        if (!eventFits(event)) {
          const detail =
            `the collected set was submitted, but its results event (${Buffer.byteLength(JSON.stringify(event))} bytes, function ` +
            "call arguments included) cannot be made to fit SNS's 256 KB; it was not published";
          // Conditional on the begun publishes as read: this attempt's own (counted by its finish) never goes out.
          const letters = { reason: "results_unpublished" as const, detail, except: record.messageId };
          const told = await store.unpublished(scope, round, letters, now.publishing);
          if (told) await this.messages.deadLetterAll(told, ctx);
          return { kind: "dead_letter", reason: "results_unpublished", detail };
        }
        // Submitted by another attempt meanwhile: this publish is counted begun on its own; refused, the parts were
        // dead-lettered meanwhile, and the event names only this message.
        if (!ended && !(await store.publishing(scope, round))) return outcome;
        return { ...outcome, sources, round: { scope, round } };
      }
      case "dead_letter":
        if (!(await close(outcome.reason, `the collected set was refused: ${outcome.detail}`))) return elsewhere(outcome.detail);
        return outcome;
      case "hand_back":
        // On the last receive the set will never be submitted from here: every collected message says so.
        if (ctx.receiveCount < this.parts.maxReceiveCount) await store.release(scope, round, claim.attempt);
        else if (!(await close("collect_incomplete", `the collected set could not be submitted: ${outcome.detail}`)))
          return elsewhere(outcome.detail);
        return outcome;
      default:
        return outcome;
    }
  }
}
