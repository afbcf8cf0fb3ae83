import type { SQSRecord } from "aws-lambda";
import type { ToolOutput } from "../dialects/dialect";
import type { RelaySinks } from "../out/aws-sinks";
import { buildDlqRecord } from "../out/dlq-record";
import { parseMessage } from "../pipeline/message";
import type { Outcome } from "../pipeline/outcome";
import type { RecordContext } from "../pipeline/record-context";
import type { CollectState } from "./collect-state";
import type { CollectedMessage, Collection } from "./collection";
import { isItemTooLarge } from "./collection-store";

/** A body this large cannot sit in a state-table item (400 KB with its attributes): it goes to the payload bucket. */
export const MAX_ITEM_BODY_BYTES = 350_000;
/** Bodies up to this size sit inline in the collection item (one write, read back with the set); larger in their own. */
export const INLINE_BODY_BYTES = 32_000;

export interface CollectedMessagesParts {
  /** The collections and the payload bucket, each opened on first use. */
  state: CollectState;
  sinks: RelaySinks;
}

/**
 * The collected messages' bodies: kept durably with their outputs (inline in the collection item, in an item of
 * their own when larger, or in the payload bucket when too large for any item; never truncated), read back to
 * submit the set, and sent to the DLQ, each with its own original body, when the set will never be submitted.
 * @example const body = messages.bodyFor(scope, record, ctx);
 */
export class CollectedMessages {
  constructor(private readonly parts: CollectedMessagesParts) {}

  /**
   * The message's body, placed once (inline when small, else kept first where it fits; refused, `output_too_large`,
   * when it fits nowhere), for the writes that add its outputs: `write` gets the message's record, and an inline
   * body that no longer fits the collection item moves to an item of its own.
   * @example const body = messages.bodyFor(scope, record, ctx); const added = await body((stored) => store.addNew(scope, { …, message: stored }));
   */
  bodyFor(scope: string, record: SQSRecord, ctx: RecordContext) {
    const groupId = record.attributes.MessageGroupId;
    const base: CollectedMessage = { receiveCount: ctx.receiveCount, ...(groupId ? { groupId } : {}) };
    const bytes = Buffer.byteLength(record.body);
    let placed: CollectedMessage | undefined = bytes <= INLINE_BODY_BYTES ? { ...base, body: record.body } : undefined;
    const keep = async (): Promise<{ ok: true; message: CollectedMessage } | { ok: false; outcome: Outcome }> => {
      if (bytes <= MAX_ITEM_BODY_BYTES) {
        await (await this.parts.state.collections()).keepBody(scope, record.messageId, record.body);
        return { ok: true, message: { ...base, inItem: true } };
      }
      if (!this.parts.state.hasPayloads) {
        const detail =
          `the message (${bytes} bytes) is larger than a state-table item takes (${MAX_ITEM_BODY_BYTES} bytes) ` +
          "and RELAY_PAYLOAD_BUCKET is not set; it was not collected";
        return { ok: false, outcome: { kind: "dead_letter", reason: "output_too_large", detail } };
      }
      const payloadKey = `collect/${record.messageId}`;
      await (await this.parts.state.payloads()).put(payloadKey, record.body, ctx.signal);
      return { ok: true, message: { ...base, payloadKey } };
    };
    return async <T>(
      write: (message: CollectedMessage) => Promise<T>,
    ): Promise<{ ok: true; value: T } | { ok: false; outcome: Outcome }> => {
      if (placed?.body !== undefined) {
        try {
          return { ok: true, value: await write(placed) };
        } catch (error) {
          if (!isItemTooLarge(error)) throw error; // the collection item is full: this body goes to an item of its own
          placed = undefined;
        }
      }
      if (!placed) {
        const kept = await keep();
        if (!kept.ok) return kept;
        placed = kept.message;
      }
      return { ok: true, value: await write(placed) };
    };
  }

  /** Each required id's output, from the message its first stored output came in. */
  async outputsOf(collection: Collection, ctx: RecordContext): Promise<ToolOutput[]> {
    const byMessage = new Map<string, ToolOutput[]>();
    for (const from of new Set([...collection.outputs.values()].map((o) => o.m))) {
      const stored = collection.messages.get(from);
      const parsed = stored ? parseMessage(await this.bodyOf(collection.scope, from, stored, ctx)) : undefined;
      if (parsed?.ok && "tool_outputs" in parsed.message) byMessage.set(from, parsed.message.tool_outputs as ToolOutput[]);
    }
    return collection.required.map((id) => {
      const from = collection.outputs.get(id)?.m;
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
    for (const [messageId, stored] of collection.messages) {
      // The excepted message's own outcome writes its record, unless a delivery of it was acknowledged on the round's
      // word (`keptOwner`): then it gets one here too (twice, at worst; never none).
      if (messageId === letters.except && collection.keptOwner !== messageId) continue;
      const body = await this.bodyOf(collection.scope, messageId, stored, ctx);
      const parsed = parseMessage(body);
      const given = parsed.ok && "tool_outputs" in parsed.message ? parsed.message.tool_outputs.map((o) => o.tool_call_id) : [];
      const input = { reason: letters.reason, detail: letters.detail, expectedToolCallIds: collection.required, givenToolCallIds: given };
      const record = buildDlqRecord(input, parsed.context, { body, messageId, receiveCount: stored.receiveCount });
      await this.parts.sinks.writeDeadLetter(record, { messageId, attributes: { MessageGroupId: stored.groupId } }, ctx.signal);
    }
    await (await this.parts.state.collections()).lettersSent(collection.scope, collection.round);
  }

  private async bodyOf(scope: string, messageId: string, stored: CollectedMessage, ctx: RecordContext): Promise<string> {
    if (stored.body !== undefined) return stored.body;
    if (stored.inItem) {
      const body = await (await this.parts.state.collections()).body(scope, messageId);
      if (body === undefined) throw new Error(`collected message ${messageId} is missing from the state table`);
      return body;
    }
    if (!stored.payloadKey) throw new Error(`collected message ${messageId} has no body stored`);
    if (!this.parts.state.hasPayloads) throw new Error(`message ${messageId} is in the payload bucket and RELAY_PAYLOAD_BUCKET is not set`);
    return (await this.parts.state.payloads()).get(stored.payloadKey, ctx.signal);
  }
}
