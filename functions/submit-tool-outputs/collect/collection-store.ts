import { createHash, randomUUID } from "node:crypto";
import type { Api, TurnIds } from "../dialect";
import type { StateItem, StateTable } from "../state/state-table";

/**
 * Collections in the state table (docs/contract.md, "The state table"). One item per turn scope holds the
 * current collection (`sk` = `collection`): its round (the hash of the ids it asks for), the ids, the stored
 * outputs' hashes (`o_<call id>`, with the message that gave each), the collected message ids, and, while one
 * invocation submits the set, its claim. Each collected message's body sits in an item of its own
 * (`sk` = `msg#<round>#<message id>`), or in the payload bucket when it is too large for an item.
 */

export type CollectionStatus = "open" | "submitting" | "submitted" | "closed";

export interface Collection {
  scope: string;
  round: string;
  api: Api;
  turn: TurnIds;
  required: string[];
  status: CollectionStatus;
  /** Epoch ms of the first stored output: the timeout counts from it. */
  firstAt: number;
  expiresAt?: number;
  /** Call id → the hash of its stored output and the message that gave it. */
  outputs: Record<string, { h: string; m: string }>;
  messages: string[];
  attempt?: string;
  leaseUntil?: number;
  /** Responses: the continuation the submitted set created. */
  continuation?: string;
}

/** A collected message as stored: its body inline, or where the payload bucket keeps it. */
export interface StoredMessage {
  messageId: string;
  receiveCount: number;
  groupId?: string;
  body?: string;
  payloadKey?: string;
}

export type StoreResult =
  | { stored: true; collection: Collection }
  | { stored: false; why: "other_round" | "finished"; collection: Collection }
  | { stored: false; why: "conflict"; callId: string; collection: Collection };

const COLLECTION_SK = "collection";
const outputName = (callId: string) => `o_${callId}`;

/** A round is the set of ids a turn asks for. */
export function roundOf(required: readonly string[]): string {
  return createHash("sha256")
    .update([...required].sort().join(","))
    .digest("hex")
    .slice(0, 32);
}

/** The hash an output is compared by (a duplicate has the same; a conflicting one another). */
export function outputHash(output: unknown): string {
  return createHash("sha256").update(JSON.stringify(output)).digest("hex").slice(0, 32);
}

/**
 * The collections of one state table.
 * @example const store = new CollectionStore(table, 3_600); await store.current("run#thread_a#run_b");
 */
export class CollectionStore {
  constructor(
    private readonly table: StateTable,
    /** Every item outlives the longest wait (the collection's timeout) by two days. */
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  private ttl(): number {
    return Math.ceil(this.now() / 1000 + this.ttlSeconds + 2 * 86_400);
  }

  /** The scope's current collection, if any. */
  async current(scope: string): Promise<Collection | undefined> {
    const item = await this.table.get({ pk: pkOf(scope), sk: COLLECTION_SK });
    return item ? fromItem(scope, item) : undefined;
  }

  /**
   * Opens a collection for a round: only where there is none, or the one there is finished (submitted or
   * closed), or it is `replacing` (an earlier round, already closed by the caller). False when another copy
   * opened this round first, or the scope moved on.
   */
  async open(
    c: { scope: string; round: string; api: Api; turn: TurnIds; required: string[]; expiresAt?: number },
    replacing?: string,
  ): Promise<boolean> {
    const item: StateItem = {
      pk: pkOf(c.scope),
      sk: COLLECTION_SK,
      round: c.round,
      api: c.api,
      turn: c.turn,
      required: c.required,
      status: "open",
      first_at: this.now(),
      ...(c.expiresAt ? { expires_at: c.expiresAt } : {}),
      ttl: this.ttl(),
    };
    const condition = replacing
      ? {
          expression: "round = :old AND (#status = :submitted OR #status = :closed)",
          names: { "#status": "status" },
          values: { ":old": replacing, ":submitted": "submitted", ":closed": "closed" },
        }
      : {
          expression: "attribute_not_exists(pk) OR #status = :submitted OR #status = :closed",
          names: { "#status": "status" },
          values: { ":submitted": "submitted", ":closed": "closed" },
        };
    return this.table.put(item, condition);
  }

  /** Keeps a collected message's body (or where it is), before its outputs count. Idempotent. */
  async keepMessage(scope: string, round: string, message: StoredMessage): Promise<void> {
    await this.table.put({
      pk: pkOf(scope),
      sk: `msg#${round}#${message.messageId}`,
      receive_count: message.receiveCount,
      ...(message.groupId ? { group_id: message.groupId } : {}),
      ...(message.body !== undefined ? { body: message.body } : {}),
      ...(message.payloadKey !== undefined ? { payload_key: message.payloadKey } : {}),
      ttl: this.ttl(),
    });
  }

  /**
   * Adds a message's outputs to the round: one conditional update that refuses a different output for an id
   * already stored (the same output again changes nothing) and a round that moved on or finished.
   */
  async addOutputs(
    scope: string,
    round: string,
    messageId: string,
    outputs: Array<{ callId: string; hash: string }>,
  ): Promise<StoreResult> {
    const names: Record<string, string> = { "#status": "status", "#ttl": "ttl" };
    const values: Record<string, unknown> = {
      ":round": round,
      ":open": "open",
      ":submitting": "submitting",
      ":message": new Set([messageId]),
      ":ttl": this.ttl(),
    };
    const sets: string[] = ["#ttl = :ttl"];
    const checks: string[] = [];
    outputs.forEach(({ callId, hash }, i) => {
      names[`#o${i}`] = outputName(callId);
      values[`:o${i}`] = { h: hash, m: messageId };
      values[`:h${i}`] = hash;
      sets.push(`#o${i} = if_not_exists(#o${i}, :o${i})`);
      checks.push(`(attribute_not_exists(#o${i}) OR #o${i}.h = :h${i})`);
    });
    const updated = await this.table.update(
      { pk: pkOf(scope), sk: COLLECTION_SK },
      { expression: `SET ${sets.join(", ")} ADD messages :message`, names, values },
      { expression: ["round = :round", "(#status = :open OR #status = :submitting)", ...checks].join(" AND "), names, values },
    );
    if (updated) return { stored: true, collection: fromItem(scope, updated) };
    // Why not: read it (conditional writes here say nothing of why, and dynalite gives no old item back).
    const now = await this.current(scope);
    if (!now) throw new Error(`collection ${scope} vanished while storing`);
    if (now.round !== round) return { stored: false, why: "other_round", collection: now };
    if (now.status === "submitted" || now.status === "closed") return { stored: false, why: "finished", collection: now };
    const conflict = outputs.find(({ callId, hash }) => now.outputs[callId] !== undefined && now.outputs[callId]!.h !== hash);
    if (conflict) return { stored: false, why: "conflict", callId: conflict.callId, collection: now };
    return this.addOutputs(scope, round, messageId, outputs); // changed meanwhile (e.g. a lease lapsed): try again
  }

  /** Claims the submission of a complete set: open, or submitting under a lease that passed. */
  async claimSubmission(scope: string, round: string, leaseUntil: number): Promise<{ attempt: string } | undefined> {
    const attempt = randomUUID();
    const updated = await this.table.update(
      { pk: pkOf(scope), sk: COLLECTION_SK },
      {
        expression: "SET #status = :submitting, attempt = :attempt, lease_until = :lease",
        names: { "#status": "status" },
        values: { ":submitting": "submitting", ":attempt": attempt, ":lease": leaseUntil },
      },
      {
        expression: "round = :round AND (#status = :open OR (#status = :submitting AND lease_until < :now))",
        names: { "#status": "status" },
        values: { ":round": round, ":open": "open", ":now": this.now() },
      },
    );
    return updated ? { attempt } : undefined;
  }

  /** Ends a round: `submitted` (the set was taken) or `closed` (it never will be), if `attempt` (or no one) still holds it. */
  async finish(
    scope: string,
    round: string,
    status: "submitted" | "closed",
    o: { attempt?: string; continuation?: string; reason?: string } = {},
  ): Promise<boolean> {
    const values: Record<string, unknown> = { ":status": status, ":round": round };
    if (o.continuation) values[":continuation"] = o.continuation;
    if (o.reason) values[":reason"] = o.reason;
    const set = [
      "#status = :status",
      ...(o.continuation ? ["continuation = :continuation"] : []),
      ...(o.reason ? ["closed_reason = :reason"] : []),
    ];
    const held = o.attempt ? "attempt = :attempt" : "(#status = :open OR #status = :submitting)";
    if (o.attempt) values[":attempt"] = o.attempt;
    else Object.assign(values, { ":open": "open", ":submitting": "submitting" });
    const updated = await this.table.update(
      { pk: pkOf(scope), sk: COLLECTION_SK },
      { expression: `SET ${set.join(", ")}`, names: { "#status": "status" }, values },
      { expression: `round = :round AND ${held}`, names: { "#status": "status" }, values },
    );
    return updated !== undefined;
  }

  /** The round's collected messages, as stored. */
  async messages(scope: string, round: string): Promise<StoredMessage[]> {
    const items = await this.table.query(pkOf(scope), `msg#${round}#`);
    return items.map((item) => ({
      messageId: item.sk.slice(`msg#${round}#`.length),
      receiveCount: Number(item.receive_count ?? 1),
      ...(typeof item.group_id === "string" ? { groupId: item.group_id } : {}),
      ...(typeof item.body === "string" ? { body: item.body } : {}),
      ...(typeof item.payload_key === "string" ? { payloadKey: item.payload_key } : {}),
    }));
  }
}

const pkOf = (scope: string) => `collect#${scope}`;

function fromItem(scope: string, item: StateItem): Collection {
  const outputs: Collection["outputs"] = {};
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith("o_")) outputs[name.slice(2)] = value as { h: string; m: string };
  }
  const messages =
    item.messages instanceof Set ? [...(item.messages as Set<string>)] : Array.isArray(item.messages) ? (item.messages as string[]) : [];
  return {
    scope,
    round: String(item.round),
    api: item.api as Api,
    turn: (item.turn ?? {}) as TurnIds,
    required: (item.required ?? []) as string[],
    status: item.status as CollectionStatus,
    firstAt: Number(item.first_at ?? 0),
    ...(typeof item.expires_at === "number" ? { expiresAt: item.expires_at } : {}),
    outputs,
    messages,
    ...(typeof item.attempt === "string" ? { attempt: item.attempt } : {}),
    ...(typeof item.lease_until === "number" ? { leaseUntil: item.lease_until } : {}),
    ...(typeof item.continuation === "string" ? { continuation: item.continuation } : {}),
  };
}
