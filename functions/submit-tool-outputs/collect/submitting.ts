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
 * Submitting a complete, claimed set (the half of collect/ after placing, collector.ts): every output in ONE request
 * through its API's own path, then what became of it recorded on the round — submitted (its event names every part,
 * or every part is dead-lettered when the event can never be published), refused (every part dead-lettered), or to
 * try again (the claim released; closed on the last receive).
 * @example const outcome = await submitting.submit(claim, { message, dialect, record, ctx });
 */
export class SetSubmission {
  constructor(
    private readonly parts: CollectorParts,
    private readonly messages: CollectedMessages,
  ) {}

  /** A complete set, claimed: this invocation submits every output in ONE request. */
  async submit<M>(claim: SubmissionClaim, { message, dialect, record, ctx }: Delivery<M>) {
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
  private async afterSubmission(outcome: Outcome, claim: SubmissionClaim, record: SQSRecord, ctx: RecordContext): Promise<Outcome> {
    const store = await this.parts.state.collections();
    const { scope, round } = claim.collection;
    const close = async (reason: Extract<Outcome, { kind: "dead_letter" }>["reason"], detail: string) => {
      const letters = { reason, detail, except: record.messageId };
      const ended = await store.finish({ scope, round }, { status: "closed", letters }, { attempt: claim.attempt });
      if (ended) await this.messages.deadLetterAll(ended, ctx);
    };
    switch (outcome.kind) {
      case "report":
      case "watch": {
        const continuation = continuationOf(claim.collection.api, outcome);
        // The endpoint took the set: the round is submitted whoever holds the claim now (another delivery of this same
        // message may have claimed it meanwhile: the claim lets a message take its own set again). Conditional on the
        // attempt, the round would stay open behind an event that names its parts, and its timeout dead-letter them.
        const ended = await store.finish({ scope, round }, { status: "submitted", continuation });
        // Messages stored while the set was being submitted count too: the round as it ended names them all.
        const collected = [...(ended ?? (await store.current(scope)) ?? claim.collection).messages.keys()];
        const sources = [...new Set([...collected, record.messageId])].sort();
        if (outcome.kind !== "report") return outcome;
        // Rule 2: an event that cannot be made to fit SNS's 256 KB is never published; every part is told in the DLQ.
        const metadata = parseMessage(record.body).context.metadata;
        const event = buildResultsEvent(outcome.state, { sourceMessageId: record.messageId, sourceMessageIds: sources, metadata });
        if (!eventFits(event)) {
          const detail =
            `the collected set was submitted, but its results event (${Buffer.byteLength(JSON.stringify(event))} bytes, function ` +
            "call arguments included) cannot be made to fit SNS's 256 KB; it was not published";
          const told = await store.unpublished(scope, round, { reason: "results_unpublished", detail, except: record.messageId });
          if (told) await this.messages.deadLetterAll(told, ctx);
          return { kind: "dead_letter", reason: "results_unpublished", detail };
        }
        return { ...outcome, sources, round: { scope, round } };
      }
      case "dead_letter":
        await close(outcome.reason, `the collected set was refused: ${outcome.detail}`);
        return outcome;
      case "hand_back":
        // On the last receive the set will never be submitted from here: every collected message says so.
        if (ctx.receiveCount >= this.parts.maxReceiveCount)
          await close("collect_incomplete", `the collected set could not be submitted: ${outcome.detail}`);
        else await store.release(scope, round, claim.attempt);
        return outcome;
      default:
        return outcome;
    }
  }
}
