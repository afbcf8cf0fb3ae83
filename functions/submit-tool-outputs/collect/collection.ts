import { createHash } from "node:crypto";
import type { TurnIds } from "../dialects/dialect";
import type { Api } from "../dialects/index";
import type { DlqReason } from "../pipeline/outcome";
import type { StateItem } from "../state/state-table";

/**
 * A collection as the state table holds it (collection-store.ts writes it): one item per turn scope
 * (`pk` = `collect#<scope>`, `sk` = `collection`) with the current round (the hash of the ids it asks for), the ids,
 * `missing` (how many have no output yet), each stored output's hash and the message that gave it (`o_<call id>`),
 * each collected message's receive count, group and body (`m_<message id>`: the body inline when small, else in an
 * item of its own or the payload bucket), the claim on the submission (owner, attempt, lease, tries), the `due` of
 * its one live check, and the last rounds that ended (`history`).
 */

/** `open` while collecting and while a complete set (`missing` 0) is being submitted by its claim's owner. */
export type CollectionStatus = "open" | "submitted" | "closed";

/** A collected message's record: what its DLQ record and the submission need, and where its body is. */
export interface CollectedMessage {
  receiveCount: number;
  groupId?: string;
  /** The body, inline in the collection item. */
  body?: string;
  /** The body is in an item of its own (`sk` = `msg#<message id>`). */
  inItem?: true;
  /** The body is in the payload bucket under this key. */
  payloadKey?: string;
}

export interface Collection {
  scope: string;
  round: string;
  api: Api;
  turn: TurnIds;
  required: string[];
  status: CollectionStatus;
  /** Required ids with no output yet: 0 means the set is complete (and claimed by `owner` until `leaseUntil`). */
  missing: number;
  /** Epoch ms of the first stored output: the timeout counts from it. */
  firstAt: number;
  expiresAt?: number;
  /** Call id → the hash of its stored output and the message that gave it (a Map: ids are data, never object keys). */
  outputs: Map<string, { h: string; m: string }>;
  /** Message id → its record, for every message whose outputs counted. */
  messages: Map<string, CollectedMessage>;
  /** The claim on a complete set: the message whose invocation submits it, that attempt, and until when. */
  owner?: string;
  attempt?: string;
  leaseUntil?: number;
  /** Claims so far: more than one means an earlier attempt may have submitted the set. */
  tries: number;
  /** Responses: the continuation the submitted set created. */
  continuation?: string;
  /** The `due` of the collection's one live check message (any other copy only looks). */
  checkDue?: number;
  /** The last rounds of this scope that ended, newest first. */
  history: EndedRound[];
  /** A closed round's DLQ records, until every collected message has its own (then removed). */
  letters?: Letters;
  /**
   * The reason every message of this round was dead-lettered with (a closed round, or a submitted one whose event can
   * never be published), kept after its letters went out: the round's durable decision that its parts are not named.
   */
  letteredAs?: DlqReason;
  /** The one message of such a round whose record was its own outcome's to write (`Letters.except`), kept likewise. */
  letteredExcept?: string;
  /**
   * Messages an earlier round of this scope dead-lettered (closed, or submitted with an unpublishable event), newest
   * first: such a message, come again (it was still in flight when its round ended), is never taken by a later round.
   */
  lettered: string[];
  /** Of `lettered`, those whose record was their own outcome's to write (`Letters.except`): not surely in the DLQ. */
  letteredOwn: string[];
  /** A submitted round: an event naming its parts was published (by its submitter, or by its check). */
  named?: true;
  /**
   * The set's own message (`owner`), when one of its deliveries was acknowledged because this round holds it (its last
   * receive, while another delivery of it was submitting the set): its fate is then the round's to tell, as any
   * part's, should that other delivery die before telling it (`toldByRound`).
   */
  keptOwner?: string;
  /** The messages whose published event named the round's parts (the submitter's names the submitter too). */
  namedBy: string[];
  /**
   * A submitted round: publishes of an event naming its parts that SNS refused. Its check dead-letters the untold parts
   * (`results_unpublished`) only after as many refusals as a message has receives, and only when `publishing` is 0.
   */
  unpublishedTries: number;
  /**
   * A submitted round: publishes of an event naming its parts that were begun (marked before they go out, the
   * submitter's by the write that marks the round submitted) and not known refused: each may have named them (it
   * landed, or its answer was lost, or its publisher died before it could say). Until it is 0, or an event is known to
   * have named them, the parts are never dead-lettered as unpublished (rule 2), short of `MAYBE_NAMED_GIVE_UP_MS`.
   */
  publishing: number;
  /** Epoch ms the round was marked submitted. */
  submittedAt?: number;
}

/** A round that ended, as kept in its successor's `history`. */
export interface EndedRound {
  round: string;
  required: string[];
  status: "submitted" | "closed";
  continuation?: string;
}

/** What every collected message of a closed round is dead-lettered with. */
export interface Letters {
  reason: DlqReason;
  detail: string;
  /** The message whose own outcome writes its record (the one whose submission was refused). */
  except?: string;
}

/** A claim on a complete set: the attempt that holds it, and the collection as the claim left it. */
export interface SubmissionClaim {
  attempt: string;
  collection: Collection;
}

/**
 * Whether this message was dead-lettered by a round of this scope that ended: the round as read (closed, or
 * submitted with letters for an event that can never be published) holds it, or an earlier round did (`lettered`).
 * Its fate is recorded: it is never added to a round again (rules 2 and 3: never both dead-lettered and reported).
 */
export function wasLettered(collection: Collection, messageId: string): boolean {
  if (collection.lettered.includes(messageId)) return true;
  return (collection.status === "closed" || collection.letteredAs !== undefined) && collection.messages.has(messageId);
}

/**
 * A submitted round whose parts other than its submitter's message are not yet told: no event naming them was
 * published and they were not dead-lettered. Its check tells them (collection-checks.ts), and no later round opens
 * over it meanwhile (rule 2).
 */
export function untold(collection: Collection): boolean {
  if (collection.status !== "submitted" || collection.named || collection.letteredAs !== undefined) return false;
  return toldByRound(collection).length > 0;
}

/**
 * The messages whose fate the round tells (in an event naming them, or in DLQ records): every part but the set's own
 * message, whose fate is its own outcome's (it comes back, or ends in the DLQ) — unless a delivery of it was
 * acknowledged because the round holds it (`keptOwner`).
 */
export function toldByRound(collection: Collection): string[] {
  return [...collection.messages.keys()].filter((id) => id !== collection.owner || collection.keptOwner === id);
}

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

export const outputAttribute = (callId: string) => `o_${callId}`;
export const messageAttribute = (messageId: string) => `m_${messageId}`;

/** The item's attributes, read back as a Collection. */
export function collectionOf(scope: string, item: StateItem): Collection {
  // A call id is any string the API allows, `__proto__` and `constructor` included: read into Maps, never object keys.
  const outputs: Collection["outputs"] = new Map();
  const messages: Collection["messages"] = new Map();
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith("o_")) outputs.set(name.slice(2), value as { h: string; m: string });
    else if (name.startsWith("m_")) messages.set(name.slice(2), messageOf(value as Record<string, unknown>));
  }
  const text = (name: string) => (typeof item[name] === "string" ? (item[name] as string) : undefined);
  const number = (name: string) => (typeof item[name] === "number" ? (item[name] as number) : undefined);
  return {
    scope,
    round: String(item.round),
    api: item.api as Api,
    turn: (item.turn ?? {}) as TurnIds,
    required: (item.required ?? []) as string[],
    status: item.status as CollectionStatus,
    missing: Number(item.missing ?? 0),
    firstAt: Number(item.first_at ?? 0),
    outputs,
    messages,
    tries: Number(item.tries ?? 0),
    unpublishedTries: Number(item.unpublished_tries ?? 0),
    publishing: Number(item.publishing ?? 0),
    namedBy: item.named_by instanceof Set ? [...(item.named_by as Set<string>)] : [],
    history: Array.isArray(item.history) ? (item.history as EndedRound[]) : [],
    lettered: Array.isArray(item.lettered) ? (item.lettered as string[]) : [],
    letteredOwn: Array.isArray(item.lettered_own) ? (item.lettered_own as string[]) : [],
    ...defined({
      expiresAt: number("expires_at"),
      owner: text("owner"),
      attempt: text("attempt"),
      leaseUntil: number("lease_until"),
      continuation: text("continuation"),
      submittedAt: number("submitted_at"),
      checkDue: number("check_due"),
      letters: item.letters && typeof item.letters === "object" ? (item.letters as Letters) : undefined,
      letteredAs: text("lettered_as") as DlqReason | undefined,
      letteredExcept: text("lettered_except"),
      keptOwner: text("kept_owner"),
      named: item.named === true ? (true as const) : undefined,
    }),
  };
}

/** A message's record as stored (short names: it sits in the collection item once per collected message). */
export function storedMessage(m: CollectedMessage): Record<string, unknown> {
  return defined({ rc: m.receiveCount, g: m.groupId, b: m.body, i: m.inItem, k: m.payloadKey });
}

function messageOf(stored: Record<string, unknown>): CollectedMessage {
  return {
    receiveCount: Number(stored.rc ?? 1),
    ...defined({
      groupId: typeof stored.g === "string" ? stored.g : undefined,
      body: typeof stored.b === "string" ? stored.b : undefined,
      inItem: stored.i === true ? (true as const) : undefined,
      payloadKey: typeof stored.k === "string" ? stored.k : undefined,
    }),
  };
}

function defined<T extends Record<string, unknown>>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
