import { createHash, randomUUID } from "node:crypto";
import type { Api, TurnIds } from "../dialect";
import type { DlqReason } from "../outcome";
import type { StateItem, StateTable } from "../state/state-table";

/**
 * Collections in the state table (docs/contract.md, "The state table"). One item per turn scope holds the
 * current collection (`sk` = `collection`): its round (the hash of the ids it asks for), the ids, the stored
 * outputs' hashes (`o_<call id>`, with the message that gave each), the collected message ids, the `due` of its
 * one live check message, and, while one invocation submits the set, its claim. The last rounds that ended
 * stay summed up in `history`, so a late copy of an earlier round's output is known without asking the endpoint.
 * Each collected message's body sits in an item of its own (`sk` = `msg#<round>#<message id>`), or in the payload
 * bucket when it is too large for an item.
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
  /** The message whose invocation holds (or last held) the claim. */
  owner?: string;
  leaseUntil?: number;
  /** Claims taken so far: more than one means an earlier attempt may have submitted the set. */
  tries: number;
  /** Responses: the continuation the submitted set created. */
  continuation?: string;
  /** The `due` of the collection's one live check message (an older copy finds another here and drops itself). */
  checkDue?: number;
  /** The last rounds of this scope that ended, newest first. */
  history: EndedRound[];
  /** A closed round's DLQ records, until every collected message has its own (then removed). */
  letters?: Letters;
}

/** What every collected message of a closed round is dead-lettered with. */
export interface Letters {
  reason: DlqReason;
  detail: string;
  /** The message whose own outcome writes its record (the one whose submission was refused). */
  except?: string;
}

/** A round that ended, as kept in its successor's `history`. */
export interface EndedRound {
  round: string;
  required: string[];
  status: "submitted" | "closed";
  continuation?: string;
}

/** A claim on a complete set: the attempt that holds it, and the collection as the claim left it. */
export interface SubmissionClaim {
  attempt: string;
  collection: Collection;
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
/** Ended rounds kept per scope: enough for a late copy of the last few rounds of a run or conversation. */
const HISTORY_ROUNDS = 8;
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
   * Opens a collection for a round: only where there is none, or `replacing` is the one there and it ended
   * (submitted or closed; the caller closed it, or it is this round closed earlier and asked for again). The ended
   * round goes to the head of `history`. False when another copy opened first, or the scope moved on.
   */
  async open(
    c: { scope: string; round: string; api: Api; turn: TurnIds; required: string[]; expiresAt?: number; checkDue: number },
    replacing?: Collection,
  ): Promise<boolean> {
    const ended: EndedRound[] =
      replacing && replacing.round !== c.round && (replacing.status === "submitted" || replacing.status === "closed")
        ? [
            {
              round: replacing.round,
              required: replacing.required,
              status: replacing.status,
              ...(replacing.continuation ? { continuation: replacing.continuation } : {}),
            },
          ]
        : [];
    const history = [...ended, ...(replacing?.history ?? []).filter((h) => h.round !== replacing?.round)].slice(0, HISTORY_ROUNDS);
    const item: StateItem = {
      pk: pkOf(c.scope),
      sk: COLLECTION_SK,
      round: c.round,
      api: c.api,
      turn: c.turn,
      required: c.required,
      status: "open",
      first_at: this.now(),
      check_due: c.checkDue,
      tries: 0,
      history,
      ...(c.expiresAt ? { expires_at: c.expiresAt } : {}),
      ttl: this.ttl(),
    };
    const condition = replacing
      ? {
          expression: "round = :old AND (#status = :submitted OR #status = :closed)",
          names: { "#status": "status" },
          values: { ":old": replacing.round, ":submitted": "submitted", ":closed": "closed" },
        }
      : { expression: "attribute_not_exists(pk)" };
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
    tries = 1,
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
    // The item changed between the write and the read (another message's outputs, a claim): try again, a few times.
    if (tries >= 5) throw new Error(`collection ${scope} kept changing while storing`);
    return this.addOutputs(scope, round, messageId, outputs, tries + 1);
  }

  /**
   * Claims the submission of a complete set for `owner` (an SQS message id) until `leaseUntil`: an open set, one
   * whose claim was released or whose lease passed (its holder crashed or timed out), or one this same message
   * claimed before (its redelivery). Undefined when another invocation holds it.
   */
  async claimSubmission(scope: string, round: string, owner: string, leaseUntil: number): Promise<SubmissionClaim | undefined> {
    const attempt = randomUUID();
    const names = { "#status": "status", "#owner": "owner" };
    const updated = await this.table.update(
      { pk: pkOf(scope), sk: COLLECTION_SK },
      {
        expression: "SET #status = :submitting, attempt = :attempt, #owner = :owner, lease_until = :lease ADD tries :one",
        names,
        values: { ":submitting": "submitting", ":attempt": attempt, ":owner": owner, ":lease": leaseUntil, ":one": 1 },
      },
      {
        expression: "round = :round AND (#status = :open OR (#status = :submitting AND (lease_until < :now OR #owner = :owner)))",
        names,
        values: { ":round": round, ":open": "open", ":now": this.now() },
      },
    );
    return updated ? { attempt, collection: fromItem(scope, updated) } : undefined;
  }

  /**
   * Gives a claim back after an attempt that handed its message back: the set stays `submitting` (the attempt may
   * have reached the endpoint, so the next one looks first) but anyone may claim it at once.
   */
  async release(scope: string, round: string, attempt: string): Promise<void> {
    await this.table.update(
      { pk: pkOf(scope), sk: COLLECTION_SK },
      { expression: "SET lease_until = :zero", values: { ":zero": 0 } },
      {
        expression: "round = :round AND attempt = :attempt AND #status = :submitting",
        names: { "#status": "status" },
        values: { ":round": round, ":attempt": attempt, ":submitting": "submitting" },
      },
    );
  }

  /**
   * Ends a round: `submitted` (the set was taken) or `closed` (it never will be: `letters` say how every collected
   * message is dead-lettered), if `attempt` (or, without one, nobody in particular) still holds it. The collection
   * as it ended, or undefined when someone else ended it.
   */
  async finish(
    scope: string,
    round: string,
    end: { status: "submitted"; continuation?: string } | { status: "closed"; letters: Letters },
    attempt?: string,
  ): Promise<Collection | undefined> {
    const values: Record<string, unknown> = { ":status": end.status, ":round": round };
    const set = ["#status = :status"];
    if (end.status === "submitted" && end.continuation) {
      values[":continuation"] = end.continuation;
      set.push("continuation = :continuation");
    }
    if (end.status === "closed") {
      values[":letters"] = end.letters;
      values[":reason"] = end.letters.reason;
      set.push("letters = :letters", "closed_reason = :reason");
    }
    const held = attempt ? "attempt = :attempt" : "(#status = :open OR #status = :submitting)";
    if (attempt) values[":attempt"] = attempt;
    else Object.assign(values, { ":open": "open", ":submitting": "submitting" });
    const updated = await this.table.update(
      { pk: pkOf(scope), sk: COLLECTION_SK },
      { expression: `SET ${set.join(", ")}`, names: { "#status": "status" }, values },
      { expression: `round = :round AND ${held}`, names: { "#status": "status" }, values },
    );
    return updated ? fromItem(scope, updated) : undefined;
  }

  /** Every collected message of the closed round has its DLQ record. */
  async lettersSent(scope: string, round: string): Promise<void> {
    await this.table.update(
      { pk: pkOf(scope), sk: COLLECTION_SK },
      { expression: "REMOVE letters" },
      { expression: "round = :round", values: { ":round": round } },
    );
  }

  /** Hands the round's check on to its next copy (`due`), if `from` is still the live one. */
  async moveCheck(scope: string, round: string, from: number, due: number): Promise<boolean> {
    const updated = await this.table.update(
      { pk: pkOf(scope), sk: COLLECTION_SK },
      { expression: "SET check_due = :due", values: { ":due": due } },
      { expression: "round = :round AND check_due = :from", values: { ":round": round, ":from": from } },
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
    ...(typeof item.owner === "string" ? { owner: item.owner } : {}),
    ...(typeof item.lease_until === "number" ? { leaseUntil: item.lease_until } : {}),
    tries: Number(item.tries ?? 0),
    ...(typeof item.continuation === "string" ? { continuation: item.continuation } : {}),
    ...(typeof item.check_due === "number" ? { checkDue: item.check_due } : {}),
    history: Array.isArray(item.history) ? (item.history as EndedRound[]) : [],
    ...(item.letters && typeof item.letters === "object" ? { letters: item.letters as Letters } : {}),
  };
}
