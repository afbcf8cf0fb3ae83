import type { SQSRecord } from "aws-lambda";
import type { RelaySinks } from "../aws-sinks";
import type { Api, Collecting, Dialect, ToolOutput, TurnIds } from "../dialect";
import { buildDlqRecord } from "../dlq-record";
import { parseMessage } from "../message";
import type { DlqReason, Outcome } from "../outcome";
import type { RecordContext } from "../record-context";
import type { CollectCheck } from "./check-message";
import { type Collection, type CollectionStore, outputHash, roundOf, type StoredMessage } from "./collection-store";
import type { PayloadStore } from "./payload-store";

/** A body this large cannot sit in a state-table item (400 KB with its attributes): it goes to the payload bucket. */
const MAX_ITEM_BODY_BYTES = 350_000;

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
  /** Standard queues delay a check message; a FIFO queue cannot, and an early check waits by its visibility. */
  fifoInput: boolean;
}

/**
 * Collecting outputs (fan-in, docs/contract.md "Collecting outputs"): a message with `"collect": true` carries
 * some of a turn's outputs; each is stored durably in the state table and the message is acknowledged then (its
 * receives are never spent waiting for siblings; its fate is reported in the submission's event, or in a DLQ
 * record of its own). The invocation that completes the set submits all of them in ONE request through its API's
 * normal path. A check message per open collection dead-letters every collected message, with its own body, when
 * the turn can no longer take the set or the collection times out.
 * @example const outcome = await collector.collect(message, dialect, record, ctx);
 */
export class Collector {
  constructor(private readonly parts: CollectorParts) {}

  async collect<M>(message: M & CollectingMessage, dialect: Dialect<M>, record: SQSRecord, ctx: RecordContext): Promise<Outcome> {
    const store = await this.parts.store();
    const rules = dialect.collecting;
    const turn = rules.turnOf(message);
    const scope = scopeOf(message.api, turn);
    const given = message.tool_outputs.map((o) => o.tool_call_id);

    // The round: the current collection's, if it asks for these ids; else the turn as the endpoint says it now.
    let current = await store.current(scope);
    if (!current || !given.every((id) => current!.required.includes(id))) {
      const required = await rules.requiredIds(turn, ctx);
      if (!required.ok) return required.outcome;
      if (!given.every((id) => required.ids.includes(id))) {
        // An id the turn does not ask for: this message only, the collection goes on.
        return mismatch(required.ids, given);
      }
      const round = roundOf(required.ids);
      if (!current || current.round !== round) {
        if (current && (current.status === "open" || current.status === "submitting")) {
          await this.close(current, "collect_incomplete", `the turn moved on to other calls [${required.ids.join(", ")}]`, ctx);
        }
        const opened = await store.open(
          { scope, round, api: message.api, turn, required: required.ids, expiresAt: required.expiresAt },
          current?.round,
        );
        if (opened) await this.scheduleCheck(scope, round, Date.now() + 60_000, required.expiresAt, ctx);
      }
      current = await store.current(scope);
      if (!current || current.round !== round) return retryShortly("the turn's collection changed while this message joined it");
    }
    const round = current.round;

    // Kept durably before its outputs count, so the invocation that completes the set can read them all.
    const kept = await this.keep(scope, round, record, ctx);
    if (!kept.ok) return kept.outcome;
    const hashed = message.tool_outputs.map((o) => ({ callId: o.tool_call_id, hash: outputHash(o.output) }));
    const result = await store.addOutputs(scope, round, record.messageId, hashed);
    if (!result.stored) {
      if (result.why === "conflict") {
        return {
          kind: "dead_letter",
          reason: "conflicting_output",
          detail: `an output for ${result.callId} is already collected for this turn, and it differs; the first stands`,
          givenToolCallIds: given,
        };
      }
      if (result.why === "other_round") return retryShortly("the turn's collection moved to another round while this message joined it");
      return this.afterFinished(result.collection, dialect, ctx);
    }
    const collection = result.collection;
    const missing = collection.required.filter((id) => collection.outputs[id] === undefined);
    if (missing.length > 0) {
      return { kind: "acknowledge", result: "collected", detail: `collected; waiting for [${missing.join(", ")}]` };
    }
    return this.submit(collection, message, dialect, record, ctx);
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
    const claim = await store.claimSubmission(collection.scope, collection.round, ctx.leaseUntil);
    if (!claim)
      return { kind: "acknowledge", result: "collected", detail: "collected; the set is complete and another invocation submits it" };
    const stored = await store.messages(collection.scope, collection.round);
    const outputs = await this.outputsOf(collection, stored, ctx);
    const sources = [...new Set([...collection.messages, record.messageId])].sort();
    const outcome = await dialect.decide(dialect.collecting.combine(message, outputs), ctx);
    const siblings = stored.filter((m) => m.messageId !== record.messageId);
    switch (outcome.kind) {
      case "report":
      case "watch": {
        const continuation =
          outcome.kind === "report"
            ? continuationOf(outcome)
            : outcome.followUp.type === "watch_response"
              ? outcome.followUp.response_id
              : undefined;
        await store.finish(collection.scope, collection.round, "submitted", { attempt: claim.attempt, continuation });
        return outcome.kind === "report" ? { ...outcome, sources } : outcome;
      }
      case "dead_letter":
        await store.finish(collection.scope, collection.round, "closed", { attempt: claim.attempt, reason: outcome.reason });
        await this.deadLetterAll(siblings, collection, outcome.reason, `the collected set was refused: ${outcome.detail}`, ctx);
        return outcome;
      case "hand_back":
        // On the last receive the set will never be submitted from here: every collected message says so.
        if (ctx.receiveCount >= this.parts.maxReceiveCount) {
          await store.finish(collection.scope, collection.round, "closed", { attempt: claim.attempt, reason: outcome.reason });
          await this.deadLetterAll(
            siblings,
            collection,
            "collect_incomplete",
            `the collected set could not be submitted: ${outcome.detail}`,
            ctx,
          );
        }
        return outcome;
      default:
        return outcome;
    }
  }

  /** A message for a round that already ended: a late duplicate of a submitted set, or too late for a closed one. */
  private async afterFinished<M>(collection: Collection, dialect: Dialect<M>, ctx: RecordContext): Promise<Outcome> {
    if (collection.status === "closed") {
      return { kind: "dead_letter", reason: "collect_incomplete", detail: "this turn's collection already ended without a complete set" };
    }
    // Its outputs went with the set: report the turn's state as it is now (the same event id as the set's, when unchanged).
    const report = dialect.collecting.reportAfterSubmission(collection.turn, collection.continuation);
    if (report) return dialect.decide(report, ctx);
    return { kind: "acknowledge", result: "collected", detail: "these outputs were already submitted with the turn's set" };
  }

  /** Looks whether an open collection can still complete (see CollectCheckSchema). */
  async check(
    check: CollectCheck,
    dialects: Record<Api, { collecting: Pick<Collecting<unknown>, "standing"> }>,
    ctx: RecordContext,
  ): Promise<Outcome> {
    if (check.due > Date.now() + 1_000) {
      // Early (a FIFO queue delivers at once): wait by the visibility timeout, or start a fresh copy before the
      // receives would run out.
      if (ctx.receiveCount < this.parts.maxReceiveCount - 1)
        return { kind: "hand_back", reason: "not_due", detail: "the check is not due yet", retryAfterMs: check.due - Date.now() };
      await this.scheduleCheck(check.scope, check.round, check.due, undefined, ctx);
      return { kind: "acknowledge", result: "checked", detail: "re-sent for later" };
    }
    const store = await this.parts.store();
    const collection = await store.current(check.scope);
    if (!collection || collection.round !== check.round || collection.status === "submitted" || collection.status === "closed") {
      return { kind: "acknowledge", result: "checked", detail: "the collection has ended" };
    }
    const timeoutAt = collection.firstAt + this.parts.collectTimeoutSeconds * 1000;
    if (Date.now() >= timeoutAt) {
      await this.close(
        collection,
        "collect_incomplete",
        `no complete set within COLLECT_TIMEOUT_SECONDS (${this.parts.collectTimeoutSeconds} s)`,
        ctx,
      );
      return { kind: "acknowledge", result: "checked", detail: "timed out" };
    }
    const standing =
      collection.status === "open"
        ? await dialects[collection.api].collecting.standing(collection.turn, collection.required, ctx)
        : { open: true as const };
    if (!standing.open) {
      await this.close(collection, standing.reason, standing.detail, ctx);
      return { kind: "acknowledge", result: "checked", detail: standing.reason };
    }
    await this.scheduleCheck(
      collection.scope,
      collection.round,
      Math.min(standing.checkBy ?? Date.now() + 60_000, timeoutAt),
      undefined,
      ctx,
    );
    return { kind: "acknowledge", result: "checked", detail: "still open" };
  }

  /** Closes an open round and dead-letters every message collected for it. */
  private async close(collection: Collection, reason: DlqReason, why: string, ctx: RecordContext): Promise<void> {
    const store = await this.parts.store();
    if (!(await store.finish(collection.scope, collection.round, "closed", { reason }))) return; // someone else ended it
    const missing = collection.required.filter((id) => collection.outputs[id] === undefined);
    const detail = `${why}; missing [${missing.join(", ")}]`;
    await this.deadLetterAll(await store.messages(collection.scope, collection.round), collection, reason, detail, ctx);
  }

  /** Every given message in the DLQ with its own original body and the reason. */
  private async deadLetterAll(
    messages: StoredMessage[],
    collection: Collection,
    reason: DlqReason,
    detail: string,
    ctx: RecordContext,
  ): Promise<void> {
    for (const stored of messages) {
      const body = await this.bodyOf(stored, ctx);
      const parsed = parseMessage(body);
      const given = parsed.ok && "tool_outputs" in parsed.message ? parsed.message.tool_outputs.map((o) => o.tool_call_id) : [];
      const input = { reason, detail, expectedToolCallIds: collection.required, givenToolCallIds: given };
      const dlqRecord = buildDlqRecord(input, parsed.context, { body, messageId: stored.messageId, receiveCount: stored.receiveCount });
      await this.parts.sinks.writeDeadLetter(
        dlqRecord,
        { messageId: stored.messageId, attributes: { MessageGroupId: stored.groupId } },
        ctx.signal,
      );
    }
  }

  private async keep(
    scope: string,
    round: string,
    record: SQSRecord,
    ctx: RecordContext,
  ): Promise<{ ok: true } | { ok: false; outcome: Outcome }> {
    const store = await this.parts.store();
    const base = { messageId: record.messageId, receiveCount: ctx.receiveCount, groupId: record.attributes.MessageGroupId };
    if (Buffer.byteLength(record.body) <= MAX_ITEM_BODY_BYTES) {
      await store.keepMessage(scope, round, { ...base, body: record.body });
      return { ok: true };
    }
    if (!this.parts.payloads) {
      const detail = `the message (${Buffer.byteLength(record.body)} bytes) is too large for the state table and RELAY_PAYLOAD_BUCKET is not set`;
      return { ok: false, outcome: { kind: "dead_letter", reason: "output_too_large", detail } };
    }
    const payloadKey = `collect/${round}/${record.messageId}`;
    await (await this.parts.payloads()).put(payloadKey, record.body, ctx.signal);
    await store.keepMessage(scope, round, { ...base, payloadKey });
    return { ok: true };
  }

  private async bodyOf(stored: StoredMessage, ctx: RecordContext): Promise<string> {
    if (stored.body !== undefined) return stored.body;
    if (!stored.payloadKey || !this.parts.payloads) return "";
    return (await this.parts.payloads()).get(stored.payloadKey, ctx.signal);
  }

  /** Each required id's output, from the message its first output came in. */
  private async outputsOf(collection: Collection, stored: StoredMessage[], ctx: RecordContext): Promise<ToolOutput[]> {
    const byMessage = new Map<string, ToolOutput[]>();
    for (const message of stored) {
      const parsed = parseMessage(await this.bodyOf(message, ctx));
      if (parsed.ok && "tool_outputs" in parsed.message) byMessage.set(message.messageId, parsed.message.tool_outputs as ToolOutput[]);
    }
    return collection.required.map((id) => {
      const from = collection.outputs[id]!.m;
      const output = byMessage.get(from)?.find((o) => o.tool_call_id === id);
      if (!output) throw new Error(`collected output ${id} (message ${from}) is missing from the table`);
      return output;
    });
  }

  private async scheduleCheck(scope: string, round: string, due: number, expiresAt: number | undefined, ctx: RecordContext): Promise<void> {
    const at = Math.max(Date.now() + 1_000, expiresAt !== undefined ? Math.min(due, expiresAt + 1_000) : due);
    await this.parts.sinks.enqueueCheck({ type: "collect_check", scope, round, due: at }, Math.ceil((at - Date.now()) / 1000), ctx.signal);
  }
}

/** A turn's scope in the state table: the run, the previous response, or the conversation. */
export function scopeOf(api: Api, turn: TurnIds): string {
  if (api === "assistants") return `run#${turn.thread_id}#${turn.run_id}`;
  return turn.conversation_id !== undefined ? `conv#${turn.conversation_id}` : `resp#${turn.response_id}`;
}

function continuationOf(outcome: Extract<Outcome, { kind: "report" }>): string | undefined {
  return outcome.state.api === "responses" && "response" in outcome.state ? outcome.state.response.id : undefined;
}

function mismatch(expected: string[], given: string[]): Outcome {
  return {
    kind: "dead_letter",
    reason: "tool_call_mismatch",
    detail: `the turn asks for outputs for [${expected.join(", ")}]; this message also answers others: [${given.filter((id) => !expected.includes(id)).join(", ")}]`,
    expectedToolCallIds: expected,
    givenToolCallIds: given,
  };
}

function retryShortly(detail: string): Outcome {
  return { kind: "hand_back", reason: "endpoint_unavailable", detail, retryAfterMs: 1_000 };
}
