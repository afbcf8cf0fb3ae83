import type { SQSRecord } from "aws-lambda";
import type { RelaySinks } from "../aws-sinks";
import type { ToolOutput } from "../dialect";
import { buildDlqRecord } from "../dlq-record";
import { parseMessage } from "../message";
import type { Outcome } from "../outcome";
import type { RecordContext } from "../record-context";
import type { Collection, CollectionStore, StoredMessage } from "./collection-store";
import type { PayloadStore } from "./payload-store";

/** A body this large cannot sit in a state-table item (400 KB with its attributes): it goes to the payload bucket. */
export const MAX_ITEM_BODY_BYTES = 350_000;

export interface CollectedMessagesParts {
  store: () => Promise<CollectionStore>;
  /** The payload bucket, opened on first use; none when RELAY_PAYLOAD_BUCKET is unset. */
  payloads?: () => Promise<PayloadStore>;
  sinks: RelaySinks;
}

/**
 * The collected messages' bodies: kept durably beside their collection before their outputs count (inline, or in
 * the payload bucket when too large for an item; never truncated), read back to submit the set, and sent to the
 * DLQ, each with its own original body, when the set will never be submitted.
 * @example const kept = await messages.keep(scope, round, record, ctx);
 */
export class CollectedMessages {
  constructor(private readonly parts: CollectedMessagesParts) {}

  /** Keeps the message's body for the round; refuses it (`output_too_large`) when it fits nowhere. */
  async keep(scope: string, round: string, record: SQSRecord, ctx: RecordContext): Promise<{ ok: true } | { ok: false; outcome: Outcome }> {
    const store = await this.parts.store();
    const base = { messageId: record.messageId, receiveCount: ctx.receiveCount, groupId: record.attributes.MessageGroupId };
    const bytes = Buffer.byteLength(record.body);
    if (bytes <= MAX_ITEM_BODY_BYTES) {
      await store.keepMessage(scope, round, { ...base, body: record.body });
      return { ok: true };
    }
    if (!this.parts.payloads) {
      const detail =
        `the message (${bytes} bytes) is larger than a state-table item takes (${MAX_ITEM_BODY_BYTES} bytes) ` +
        "and RELAY_PAYLOAD_BUCKET is not set; it was not collected";
      return { ok: false, outcome: { kind: "dead_letter", reason: "output_too_large", detail } };
    }
    const payloadKey = `collect/${round}/${record.messageId}`;
    await (await this.parts.payloads()).put(payloadKey, record.body, ctx.signal);
    await store.keepMessage(scope, round, { ...base, payloadKey });
    return { ok: true };
  }

  /** Each required id's output, from the message its first stored output came in. */
  async outputsOf(collection: Collection, ctx: RecordContext): Promise<ToolOutput[]> {
    const byMessage = new Map<string, ToolOutput[]>();
    for (const message of await this.collected(collection)) {
      const parsed = parseMessage(await this.bodyOf(message, ctx));
      if (parsed.ok && "tool_outputs" in parsed.message) byMessage.set(message.messageId, parsed.message.tool_outputs as ToolOutput[]);
    }
    return collection.required.map((id) => {
      const from = collection.outputs[id]?.m;
      const output = from === undefined ? undefined : byMessage.get(from)?.find((o) => o.tool_call_id === id);
      if (!output) throw new Error(`collected output ${id} (message ${from}) is missing from the state table`);
      return output;
    });
  }

  /**
   * Every message whose outputs the closed round stored, in the DLQ with its own original body and the letters'
   * reason (as the round's `letters` say; `except`: the message that gets its own record from its outcome), then
   * the letters marked sent. Safe to repeat after a crash: a message may get its record twice, never none.
   */
  async deadLetterAll(collection: Collection, ctx: RecordContext): Promise<void> {
    const letters = collection.letters;
    if (!letters) return;
    for (const stored of await this.collected(collection)) {
      if (stored.messageId === letters.except) continue;
      const body = await this.bodyOf(stored, ctx);
      const parsed = parseMessage(body);
      const given = parsed.ok && "tool_outputs" in parsed.message ? parsed.message.tool_outputs.map((o) => o.tool_call_id) : [];
      const input = { reason: letters.reason, detail: letters.detail, expectedToolCallIds: collection.required, givenToolCallIds: given };
      const record = buildDlqRecord(input, parsed.context, { body, messageId: stored.messageId, receiveCount: stored.receiveCount });
      await this.parts.sinks.writeDeadLetter(
        record,
        { messageId: stored.messageId, attributes: { MessageGroupId: stored.groupId } },
        ctx.signal,
      );
    }
    await (await this.parts.store()).lettersSent(collection.scope, collection.round);
  }

  /** The stored messages whose outputs count (a message refused after it was kept, e.g. a conflict, does not). */
  private async collected(collection: Collection): Promise<StoredMessage[]> {
    const counted = new Set(collection.messages);
    const stored = await (await this.parts.store()).messages(collection.scope, collection.round);
    return stored.filter((m) => counted.has(m.messageId));
  }

  private async bodyOf(stored: StoredMessage, ctx: RecordContext): Promise<string> {
    if (stored.body !== undefined) return stored.body;
    if (!stored.payloadKey) return "";
    if (!this.parts.payloads) throw new Error(`message ${stored.messageId} is in the payload bucket and RELAY_PAYLOAD_BUCKET is not set`);
    return (await this.parts.payloads()).get(stored.payloadKey, ctx.signal);
  }
}
