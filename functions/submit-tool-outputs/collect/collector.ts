import type { SQSRecord } from "aws-lambda";
import type { RelaySinks } from "../aws-sinks";
import type { Api, Collecting, Dialect, ToolOutput, TurnIds } from "../dialect";
import type { Outcome } from "../outcome";
import type { RecordContext } from "../record-context";
import type { CollectCheck } from "./check-message";
import { CollectedMessages } from "./collected-messages";
import { CollectionChecks } from "./collection-checks";
import { type Collection, type CollectionStore, type EndedRound, outputHash, roundOf, type SubmissionClaim } from "./collection-store";
import type { PayloadStore } from "./payload-store";

/** A collecting message: its outputs and its turn. */
interface CollectingMessage {
  api: Api;
  type: "tool_outputs";
  tool_outputs: ToolOutput[];
}

export interface CollectorParts {
  /** The state table's collections, opened on first use. */
  store: () => Promise<CollectionStore>;
  /** The payload bucket, opened on first use; none when RELAY_PAYLOAD_BUCKET is unset. */
  payloads?: () => Promise<PayloadStore>;
  sinks: RelaySinks;
  maxReceiveCount: number;
  collectTimeoutSeconds: number;
}

/**
 * Collecting outputs (fan-in, docs/contract.md "Collecting outputs"): a message with `"collect": true` carries
 * some of a turn's outputs; each is stored durably in the state table and the message is acknowledged then (its
 * receives are never spent waiting for siblings; its fate is reported in the submission's event, or in a DLQ
 * record of its own). The invocation that completes the set claims it and submits all of them in ONE request
 * through its API's normal path; a claim whose holder handed its message back, crashed or timed out is taken
 * again, and that attempt looks before it submits. A check message per open collection (collection-checks.ts)
 * dead-letters every collected message, with its own body, when the turn can no longer take the set.
 * @example const outcome = await collector.collect(message, dialect, record, ctx);
 */
export class Collector {
  private readonly messages: CollectedMessages;
  private readonly checks: CollectionChecks;

  constructor(private readonly parts: CollectorParts) {
    this.messages = new CollectedMessages(parts);
    this.checks = new CollectionChecks(parts, this.messages);
  }

  async collect<M>(message: M & CollectingMessage, dialect: Dialect<M>, record: SQSRecord, ctx: RecordContext): Promise<Outcome> {
    const store = await this.parts.store();
    const rules = dialect.collecting;
    const turn = rules.turnOf(message);
    const scope = scopeOf(message.api, turn);
    const given = message.tool_outputs.map((o) => o.tool_call_id);

    let current = await store.current(scope);
    // A closed round whose DLQ records did not all go out (a crash): they go now, before anything else.
    if (current?.status === "closed" && current.letters) await this.messages.deadLetterAll(current, ctx);
    if (current && !within(given, current.required)) {
      // A late copy of an output of a round that already ended: known from the history, no endpoint call.
      const ended = current.history.find((round) => within(given, round.required));
      if (ended) return this.late(ended, current.turn, dialect, ctx);
    }
    if (!current || !within(given, current.required) || current.status === "closed") {
      const joined = await this.join(scope, message.api, turn, given, current, rules, ctx);
      if (!joined.ok) return joined.outcome;
      current = joined.collection;
    }
    if (current.status === "submitted") return this.late(current, current.turn, dialect, ctx);
    const round = current.round;

    // Kept durably before its outputs count, so the invocation that completes the set can read them all.
    const kept = await this.messages.keep(scope, round, record, ctx);
    if (!kept.ok) return kept.outcome;
    const hashed = message.tool_outputs.map((o) => ({ callId: o.tool_call_id, hash: outputHash(o.output) }));
    const result = await store.addOutputs(scope, round, record.messageId, hashed);
    if (!result.stored) {
      if (result.why === "conflict") {
        return {
          kind: "dead_letter",
          reason: "conflicting_output",
          detail: `an output for ${result.callId} is already collected for this turn, and it differs; the first stands`,
          expectedToolCallIds: result.collection.required,
          givenToolCallIds: given,
        };
      }
      if (result.why === "other_round") return retryShortly("the turn's collection moved to another round while this message joined it");
      return this.late(result.collection, result.collection.turn, dialect, ctx);
    }
    const collection = result.collection;
    const missing = collection.required.filter((id) => collection.outputs[id] === undefined);
    if (missing.length > 0) return { kind: "acknowledge", result: "collected", detail: `collected; waiting for [${missing.join(", ")}]` };
    return this.submit(collection, message, dialect, record, ctx);
  }

  /** Looks whether an open collection can still complete (collection-checks.ts). */
  check(check: CollectCheck, dialects: Record<Api, { collecting: Pick<Collecting<unknown>, "standing"> }>, ctx: RecordContext) {
    return this.checks.check(check, dialects, ctx);
  }

  /** The round a message joins when the scope's current one does not ask for its ids: the turn as the endpoint says it now. */
  private async join(
    scope: string,
    api: Api,
    turn: TurnIds,
    given: string[],
    current: Collection | undefined,
    rules: Collecting<unknown>,
    ctx: RecordContext,
  ): Promise<{ ok: true; collection: Collection } | { ok: false; outcome: Outcome }> {
    const store = await this.parts.store();
    const required = await rules.requiredIds(turn, ctx);
    if (!required.ok) return required;
    // An id the turn does not ask for: this message only, the collection goes on.
    if (!within(given, required.ids)) return { ok: false, outcome: mismatch(required.ids, given) };
    const round = roundOf(required.ids);
    let previous = current;
    if (previous && previous.round !== round) {
      if (previous.status === "submitting") {
        // The previous set may have been taken; its own message settles it (it comes back), then this round opens.
        const retryAfterMs = Math.min(30_000, Math.max(1_000, (previous.leaseUntil ?? 0) - Date.now()));
        const detail = "the turn's previous set is being submitted; this round opens once that is settled";
        return { ok: false, outcome: { kind: "hand_back", reason: "claimed_elsewhere", detail, retryAfterMs } };
      }
      if (previous.status === "open") {
        const why = `the turn moved on to other calls [${required.ids.join(", ")}]`;
        previous = (await this.checks.close(previous, "collect_incomplete", why, ctx)) ?? (await store.current(scope));
      }
    }
    if (!previous || previous.round !== round || previous.status === "closed") {
      const replacing = previous && (previous.status === "submitted" || previous.status === "closed") ? previous : undefined;
      if (previous && !replacing) return { ok: false, outcome: retryShortly("the turn's collection changed while this message joined it") };
      const checkDue = await this.checks.scheduleFirst(scope, round, required.expiresAt, ctx);
      const expiresAt = required.expiresAt !== undefined ? { expiresAt: required.expiresAt } : {};
      await store.open({ scope, round, api, turn, required: required.ids, checkDue, ...expiresAt }, replacing);
    }
    const now = await store.current(scope);
    if (!now || now.round !== round || now.status === "closed")
      return { ok: false, outcome: retryShortly("the turn's collection changed while this message joined it") };
    return { ok: true, collection: now };
  }

  /** A complete set: the one invocation that claims it submits every output in ONE request. */
  private async submit<M>(
    collection: Collection,
    message: M & CollectingMessage,
    dialect: Dialect<M>,
    record: SQSRecord,
    ctx: RecordContext,
  ): Promise<Outcome> {
    const store = await this.parts.store();
    const { scope, round } = collection;
    const claim = await store.claimSubmission(scope, round, record.messageId, ctx.leaseUntil);
    if (!claim)
      return { kind: "acknowledge", result: "collected", detail: "collected; the set is complete and another invocation submits it" };
    let outcome: Outcome;
    try {
      const outputs = await this.messages.outputsOf(claim.collection, ctx);
      // Taken from an earlier attempt, which may have reached the endpoint: the API's path looks before it submits.
      const decideCtx = claim.collection.tries > 1 ? { ...ctx, receiveCount: Math.max(ctx.receiveCount, 2) } : ctx;
      outcome = await dialect.decide(dialect.collecting.combine(message, outputs), decideCtx);
    } catch (error) {
      await store.release(scope, round, claim.attempt).catch(() => undefined);
      throw error;
    }
    return this.afterSubmission(outcome, claim, record, ctx);
  }

  /** Records what became of the set: submitted (the event names every collected message), refused, or to try again. */
  private async afterSubmission(outcome: Outcome, claim: SubmissionClaim, record: SQSRecord, ctx: RecordContext): Promise<Outcome> {
    const store = await this.parts.store();
    const { scope, round } = claim.collection;
    const close = async (reason: Extract<Outcome, { kind: "dead_letter" }>["reason"], detail: string) => {
      const ended = await store.finish(
        scope,
        round,
        { status: "closed", letters: { reason, detail, except: record.messageId } },
        claim.attempt,
      );
      if (ended) await this.messages.deadLetterAll(ended, ctx);
    };
    switch (outcome.kind) {
      case "report":
      case "watch": {
        const continuation = continuationOf(outcome);
        const ended = await store.finish(scope, round, { status: "submitted", continuation }, claim.attempt);
        // Messages stored while the set was being submitted count too: the round as it ended names them all.
        const collected = (ended ?? (await store.current(scope)) ?? claim.collection).messages;
        const sources = [...new Set([...collected, record.messageId])].sort();
        return outcome.kind === "report" ? { ...outcome, sources } : outcome;
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

  /** A message for a round that already ended: a late copy of a submitted set's output, or too late for a closed one. */
  private async late<M>(
    round: Pick<Collection | EndedRound, "status" | "continuation">,
    turn: TurnIds,
    dialect: Dialect<M>,
    ctx: RecordContext,
  ) {
    if (round.status === "closed") {
      return {
        kind: "dead_letter",
        reason: "collect_incomplete",
        detail: "this turn's collection already ended without a complete set",
      } as const;
    }
    // Its outputs went with the set: report the turn's state as it is now (the same event id as the set's, when unchanged).
    const report = dialect.collecting.reportAfterSubmission(turn, round.continuation);
    if (report) return dialect.decide(report, ctx);
    return { kind: "acknowledge", result: "collected", detail: "these outputs were already submitted with the turn's set" } as const;
  }
}

/** A turn's scope in the state table: the run, the previous response, or the conversation. */
export function scopeOf(api: Api, turn: TurnIds): string {
  if (api === "assistants") return `run#${turn.thread_id}#${turn.run_id}`;
  return turn.conversation_id !== undefined ? `conv#${turn.conversation_id}` : `resp#${turn.response_id}`;
}

const within = (given: readonly string[], required: readonly string[]) => given.every((id) => required.includes(id));

function continuationOf(outcome: Extract<Outcome, { kind: "report" | "watch" }>): string | undefined {
  if (outcome.kind === "watch") return outcome.followUp.type === "watch_response" ? outcome.followUp.response_id : undefined;
  return outcome.state.api === "responses" && "response" in outcome.state ? outcome.state.response.id : undefined;
}

function mismatch(expected: string[], given: string[]): Outcome {
  const others = given.filter((id) => !expected.includes(id));
  return {
    kind: "dead_letter",
    reason: "tool_call_mismatch",
    detail: `the turn asks for outputs for [${expected.join(", ")}]; this message also answers others: [${others.join(", ")}]`,
    expectedToolCallIds: expected,
    givenToolCallIds: given,
  };
}

function retryShortly(detail: string): Outcome {
  return { kind: "hand_back", reason: "endpoint_unavailable", detail, retryAfterMs: 1_000 };
}
