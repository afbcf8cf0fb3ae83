import { randomUUID } from "node:crypto";
import { StateUnavailableError } from "../config/errors";
import type { TurnIds } from "../dialects/dialect";
import type { Api } from "../dialects/index";
import type { StateItem, StateTable } from "../state/state-table";
import {
  type CollectedMessage,
  type Collection,
  collectionOf,
  type EndedRound,
  type Letters,
  messageAttribute,
  outputAttribute,
  type SubmissionClaim,
  storedMessage,
} from "./collection";

/** A message's outputs as the store compares them. */
export type HashedOutput = { callId: string; hash: string };

/** A message adding its outputs: its id, its outputs' hashes, its record (body placed), and its invocation's lease. */
export interface Adding {
  messageId: string;
  outputs: HashedOutput[];
  message: CollectedMessage;
  leaseUntil: number;
}

/** A message whose outputs were added: the collection after it, and the claim when this add completed the set. */
export interface Added {
  collection: Collection;
  /** This add brought `missing` to 0: the set is this message's to submit, under this attempt. */
  claim?: SubmissionClaim;
}

/** Ended rounds kept per scope: enough for a late copy of the last few rounds of a run or conversation. */
const HISTORY_ROUNDS = 8;
/** Dead-lettered message ids kept per scope (`lettered`): a redelivery comes within the queue's retention, long before. */
const LETTERED_KEPT = 256;
const COLLECTION_SK = "collection";
const pkOf = (scope: string) => `collect#${scope}`;

/**
 * The collections of one state table (the item is described in collection.ts). The common add is one conditional
 * update that needs no read first: it asserts that the collection asks for the message's ids and holds none of them
 * yet, and decrements `missing`; the update that brings it to 0 also writes the claim (owner, attempt, lease), so the
 * message that completes a set learns it, and holds the right to submit it, in the same round trip.
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
    return item ? collectionOf(scope, item) : undefined;
  }

  /**
   * Adds outputs that are all new to the scope's open collection, without knowing its round: undefined when it is
   * not so (no collection, other ids, one of them stored already, the round ended): read it and look. Its condition
   * grows with the outputs (two checks each); a message with more outputs than fit DynamoDB's 4 KB expression
   * (about 60) skips it and is placed by `addSeen`, whose condition does not grow.
   */
  async addNew(scope: string, { messageId, outputs, message, leaseUntil }: Adding) {
    const names: Record<string, string> = {
      "#status": "status",
      "#required": "required",
      "#missing": "missing",
      "#m": messageAttribute(messageId),
    };
    const values: Record<string, unknown> = { ":open": "open", ":m": storedMessage(message), ":k": outputs.length };
    // A message an ended round dead-lettered is never added again (its fate is recorded): place() tells it so.
    const checks = ["#status = :open", "NOT contains(lettered, :me)"];
    values[":me"] = messageId;
    outputs.forEach(({ callId, hash }, i) => {
      names[`#o${i}`] = outputAttribute(callId);
      values[`:o${i}`] = { h: hash, m: messageId };
      values[`:i${i}`] = callId;
      checks.push(`contains(#required, :i${i})`, `attribute_not_exists(#o${i})`);
    });
    if (!fitsExpression(checks.join(" AND "))) return undefined;
    const sets = ["#m = :m", "#missing = #missing - :k", ...outputs.map((_, i) => `#o${i} = :o${i}`)];
    // No add can follow the one that completes the set, so each writes the claim and the completing one keeps it.
    return this.add({ scope, messageId, leaseUntil }, { sets, names, values, checks }, (after) => after.missing === 0);
  }

  /**
   * Adds a message's outputs to a collection as it was read (`seen`, open and asking for them; the caller has
   * refused conflicts): the new outputs stored, the duplicates checked equal, `missing` lowered. Undefined when the
   * collection changed meanwhile: read it again.
   * Its condition is the same size for 1 output or 128 (DynamoDB's 4 KB expression limit): within one opening of a
   * round (`first_at`) outputs are only ever added, and each new one lowers `missing`, so an unchanged `missing`
   * means the stored outputs are exactly those `seen` holds, and the caller's comparison with them still stands.
   */
  async addSeen(seen: Collection, { messageId, outputs, message, leaseUntil }: Adding) {
    const fresh = outputs.filter((o) => !seen.outputs.has(o.callId));
    const names: Record<string, string> = { "#status": "status", "#missing": "missing", "#m": messageAttribute(messageId) };
    const values: Record<string, unknown> = {
      ":open": "open",
      ":round": seen.round,
      ":first": seen.firstAt,
      ":seen": seen.missing,
      ":left": seen.missing - fresh.length,
      ":m": storedMessage(message),
    };
    const checks = ["round = :round", "first_at = :first", "#status = :open", "#missing = :seen", "NOT contains(lettered, :me)"];
    values[":me"] = messageId;
    fresh.forEach(({ callId, hash }, i) => {
      names[`#o${i}`] = outputAttribute(callId);
      values[`:o${i}`] = { h: hash, m: messageId };
    });
    const sets = ["#m = :m", "#missing = :left", ...fresh.map((_, i) => `#o${i} = :o${i}`)];
    // The claim is written only by the add that completes the set (a duplicate of a complete set must not take it).
    const completes = fresh.length > 0 && seen.missing === fresh.length;
    const adding = { scope: seen.scope, messageId, leaseUntil: completes ? leaseUntil : undefined };
    return this.add(adding, { sets, names, values, checks }, () => completes);
  }

  /**
   * Opens a collection for a round with its first message's outputs: where there is none, or `replacing` is the one
   * there and it ended (submitted or closed: it goes to the head of `history`). Undefined when another copy opened
   * first, or the scope moved on.
   */
  async open(
    c: { scope: string; round: string; api: Api; turn: TurnIds; required: string[]; expiresAt?: number; checkDue: number },
    first: Adding,
    replacing?: Collection,
  ): Promise<Added | undefined> {
    const ended: EndedRound[] =
      replacing && replacing.round !== c.round && replacing.status !== "open"
        ? [{ round: replacing.round, required: replacing.required, status: replacing.status, ...pick(replacing, "continuation") }]
        : [];
    const missing = c.required.length - first.outputs.length;
    const attempt = randomUUID();
    // The replaced round's dead-lettered messages stay known to the scope (a copy still in flight may come back).
    const endedLettered = replacing && (replacing.letteredAs !== undefined || replacing.status === "closed");
    const lettered = [...(endedLettered ? replacing.messages.keys() : []), ...(replacing?.lettered ?? [])].slice(0, LETTERED_KEPT);
    const own = endedLettered && replacing.letteredExcept ? [replacing.letteredExcept] : [];
    const letteredOwn = [...own, ...(replacing?.letteredOwn ?? [])].filter((id) => lettered.includes(id));
    const item: StateItem = {
      pk: pkOf(c.scope),
      sk: COLLECTION_SK,
      round: c.round,
      api: c.api,
      turn: c.turn,
      required: c.required,
      status: "open",
      missing,
      first_at: this.now(),
      check_due: c.checkDue,
      history: [...ended, ...(replacing?.history ?? []).filter((h) => h.round !== replacing?.round)].slice(0, HISTORY_ROUNDS),
      lettered,
      lettered_own: letteredOwn,
      [messageAttribute(first.messageId)]: storedMessage(first.message),
      ...Object.fromEntries(first.outputs.map((o) => [outputAttribute(o.callId), { h: o.hash, m: first.messageId }])),
      ...(missing === 0 ? { owner: first.messageId, attempt, lease_until: first.leaseUntil, tries: 1 } : { tries: 0 }),
      ...(c.expiresAt ? { expires_at: c.expiresAt } : {}),
      ttl: this.ttl(),
    };
    const condition = replacing
      ? {
          expression: "round = :old AND #status = :ended",
          names: { "#status": "status" },
          values: { ":old": replacing.round, ":ended": replacing.status },
        }
      : { expression: "attribute_not_exists(pk)" };
    if (!(await this.table.put(item, condition))) return undefined;
    const collection = collectionOf(c.scope, item);
    return { collection, ...(missing === 0 ? { claim: { attempt, collection } } : {}) };
  }

  /**
   * Claims a complete set for `owner` (an SQS message id) until `leaseUntil`: one whose claim was released or whose
   * lease passed (its holder crashed, timed out or handed back), or one this same message held before (its
   * redelivery). Undefined when another invocation holds it.
   */
  async claim(seen: Collection, owner: string, leaseUntil: number): Promise<SubmissionClaim | undefined> {
    const attempt = randomUUID();
    const names = { "#status": "status", "#owner": "owner", "#missing": "missing" };
    const updated = await this.table.update(
      { pk: pkOf(seen.scope), sk: COLLECTION_SK },
      {
        expression: "SET attempt = :attempt, #owner = :owner, lease_until = :lease ADD tries :one",
        names,
        values: { ":attempt": attempt, ":owner": owner, ":lease": leaseUntil, ":one": 1 },
      },
      {
        expression: "round = :round AND #status = :open AND #missing = :zero AND (lease_until < :now OR #owner = :owner)",
        names,
        values: { ":round": seen.round, ":open": "open", ":zero": 0, ":now": this.now() },
      },
    );
    return updated ? { attempt, collection: collectionOf(seen.scope, updated) } : undefined;
  }

  /**
   * Marks that a delivery of the set's own message was acknowledged because this open round holds it (another
   * delivery of it holds the claim): the round then tells that message's fate as any part's. False when the round is
   * no longer open under that claim's message (it ended, or another message claimed it).
   */
  async keepOwner(scope: string, round: string, messageId: string): Promise<boolean> {
    const updated = await this.table.update(
      { pk: pkOf(scope), sk: COLLECTION_SK },
      { expression: "SET kept_owner = :me", values: { ":me": messageId } },
      {
        expression: "round = :round AND #status = :open AND #owner = :me",
        names: { "#status": "status", "#owner": "owner" },
        values: { ":round": round, ":open": "open", ":me": messageId },
      },
    );
    return updated !== undefined;
  }

  /** Gives a claim back after an attempt that handed its message back: anyone may claim the set at once (and looks first). */
  async release(scope: string, round: string, attempt: string): Promise<void> {
    await this.table.update(
      { pk: pkOf(scope), sk: COLLECTION_SK },
      { expression: "SET lease_until = :zero", values: { ":zero": 0 } },
      {
        expression: "round = :round AND attempt = :attempt AND #status = :open",
        names: { "#status": "status" },
        values: { ":round": round, ":attempt": attempt, ":open": "open" },
      },
    );
  }

  /**
   * Ends a round: `submitted` (the set was taken) or `closed` (it never will be: `letters` say how every collected
   * message is dead-lettered), if `attempt` still holds it (or, without one, while it is open). The collection as
   * it ended, or undefined when someone else ended it.
   */
  async finish(
    { scope, round }: { scope: string; round: string },
    end:
      | {
          status: "submitted";
          continuation?: string;
          /** Its submitter publishes an event naming the parts next: counted begun in the same write (`publishing`). */
          publishing?: boolean;
        }
      | { status: "closed"; letters: Letters },
    only: {
      /** The claim's attempt that must still hold the round. */
      attempt?: string;
      /**
       * A close decided from a read (a check, a timeout, a new round): only if the collection is still as read — the
       * same `missing`, and no live claim on a complete set (rule 3: a check never closes a set that is complete or
       * being submitted; a part is never both accepted and dead-lettered).
       */
      seen?: Pick<Collection, "missing">;
    } = {},
  ): Promise<Collection | undefined> {
    const { attempt, seen } = only;
    const values: Record<string, unknown> = { ":status": end.status, ":round": round, ":open": "open" };
    const set = ["#status = :status"];
    const add: string[] = [];
    const updateNames: Record<string, string> = { "#status": "status" };
    if (end.status === "submitted") {
      // A submitted round lives two days past its submission: its check may tell its parts that long after.
      Object.assign(values, { ":at": this.now(), ":ttl": this.ttl() });
      updateNames["#ttl"] = "ttl";
      set.push("submitted_at = :at", "#ttl = :ttl");
      if (end.publishing) {
        values[":one"] = 1;
        add.push("publishing :one");
      }
    }
    if (end.status === "submitted" && end.continuation) {
      values[":continuation"] = end.continuation;
      set.push("continuation = :continuation");
    }
    if (end.status === "closed") {
      values[":letters"] = end.letters;
      values[":reason"] = end.letters.reason;
      set.push("letters = :letters", "closed_reason = :reason", "lettered_as = :reason");
      if (end.letters.except) {
        values[":except"] = end.letters.except;
        set.push("lettered_except = :except");
      }
    }
    if (attempt) values[":attempt"] = attempt;
    const checks = ["round = :round", "#status = :open"];
    if (attempt) checks.push("attempt = :attempt");
    const names: Record<string, string> = { "#status": "status" };
    if (seen) {
      values[":seen"] = seen.missing;
      names["#missing"] = "missing";
      if (seen.missing === 0) values[":now"] = this.now();
      checks.push("#missing = :seen");
      // A claim counts only on a complete set (every add writes one; only the completing add's is a submission's).
      if (seen.missing === 0) checks.push("(attribute_not_exists(lease_until) OR lease_until < :now)");
    }
    const updated = await this.table.update(
      { pk: pkOf(scope), sk: COLLECTION_SK },
      { expression: `SET ${set.join(", ")}${add.length > 0 ? ` ADD ${add.join(", ")}` : ""}`, names: updateNames, values },
      { expression: checks.join(" AND "), names, values },
    );
    return updated ? collectionOf(scope, updated) : undefined;
  }

  /**
   * A submitted round whose event can never be published (rule 2): its messages are to be dead-lettered
   * (`letters`, as for a closed round). `publishing`: the round's count of begun publishes as the caller read it
   * (0 unless it gives up on ones that may have landed, or counts its own that never went out): a publish begun since
   * refuses the write. The collection as it is then, or undefined when the round is not this one.
   */
  async unpublished(scope: string, round: string, letters: Letters, publishing = 0): Promise<Collection | undefined> {
    const updated = await this.table.update(
      { pk: pkOf(scope), sk: COLLECTION_SK },
      {
        expression: `SET letters = :letters, lettered_as = :reason${letters.except ? ", lettered_except = :except" : ""}`,
        values: { ":letters": letters, ":reason": letters.reason, ...(letters.except ? { ":except": letters.except } : {}) },
      },
      {
        // Never after an event named them, nor beside a publish begun meanwhile (rule 2: named or dead-lettered, never both).
        expression:
          "round = :round AND #status = :submitted AND attribute_not_exists(named) AND " +
          (publishing === 0 ? "(attribute_not_exists(publishing) OR publishing = :seen)" : "publishing = :seen"),
        names: { "#status": "status" },
        values: { ":round": round, ":submitted": "submitted", ":seen": publishing },
      },
    );
    return updated ? collectionOf(scope, updated) : undefined;
  }

  /**
   * A publish of an event naming the submitted round's parts is about to go out (rule 2): counted begun first, so that
   * no check dead-letters them while it may land. False when the round already dead-lettered them (or is not this one):
   * then no event may name them.
   */
  async publishing(scope: string, round: string): Promise<boolean> {
    const updated = await this.table.update(
      { pk: pkOf(scope), sk: COLLECTION_SK },
      { expression: "ADD publishing :one", values: { ":one": 1 } },
      {
        expression: "round = :round AND #status = :submitted AND attribute_not_exists(lettered_as)",
        names: { "#status": "status" },
        values: { ":round": round, ":submitted": "submitted" },
      },
    );
    return updated !== undefined;
  }

  /**
   * An event naming the submitted round's parts was published: its parts are told (rule 2). `publisher`: the message
   * that published it (kept in `named_by`: the submitter's own event names the submitter too, a check's does not).
   */
  async named(scope: string, round: string, publisher: string): Promise<void> {
    await this.table.update(
      { pk: pkOf(scope), sk: COLLECTION_SK },
      { expression: "SET named = :yes ADD named_by :by", values: { ":yes": true, ":by": new Set([publisher]) } },
      {
        expression: "round = :round AND #status = :submitted AND attribute_not_exists(lettered_as)",
        names: { "#status": "status" },
        values: { ":round": round, ":submitted": "submitted" },
      },
    );
  }

  /**
   * An event naming the submitted round's parts was not published on this receive (rule 2). Refused by SNS: counted on
   * the round (its check gives up telling them in an event after as many refusals as a message has receives) and its
   * begun publish taken off `publishing`. Whose fate is unknown (`maybeLanded`: its answer was lost): it stays begun,
   * as it may have named them. When it was the submitter's own, its claim is given up at once, so that the check tells
   * the other parts without waiting for the lease to pass.
   */
  async unnamed(scope: string, round: string, publisher: string, maybeLanded = false): Promise<void> {
    if (!maybeLanded)
      await this.table.update(
        { pk: pkOf(scope), sk: COLLECTION_SK },
        { expression: "ADD unpublished_tries :one, publishing :less", values: { ":one": 1, ":less": -1 } },
        {
          expression: "round = :round AND #status = :submitted AND attribute_not_exists(named)",
          names: { "#status": "status" },
          values: { ":round": round, ":submitted": "submitted" },
        },
      );
    await this.table.update(
      { pk: pkOf(scope), sk: COLLECTION_SK },
      { expression: "SET lease_until = :zero", values: { ":zero": 0 } },
      {
        expression: "round = :round AND #status = :submitted AND #owner = :owner AND attribute_not_exists(named)",
        names: { "#status": "status", "#owner": "owner" },
        values: { ":round": round, ":submitted": "submitted", ":owner": publisher },
      },
    );
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
      { expression: "round = :round AND check_due = :was", values: { ":round": round, ":was": from } },
    );
    return updated !== undefined;
  }

  /** Keeps a body too large to sit inline in the collection item in an item of its own. Idempotent. */
  async keepBody(scope: string, messageId: string, body: string): Promise<void> {
    await this.table.put({ pk: pkOf(scope), sk: `msg#${messageId}`, body, ttl: this.ttl() });
  }

  async body(scope: string, messageId: string): Promise<string | undefined> {
    const item = await this.table.get({ pk: pkOf(scope), sk: `msg#${messageId}` });
    return typeof item?.body === "string" ? item.body : undefined;
  }

  /** One add: the message's record and outputs written under `checks`, and the claim (with `leaseUntil`); ours when `completes` after. */
  private async add(
    { scope, messageId, leaseUntil }: { scope: string; messageId: string; leaseUntil: number | undefined },
    u: { sets: string[]; names: Record<string, string>; values: Record<string, unknown>; checks: string[] },
    completes: (after: Collection) => boolean,
  ): Promise<Added | undefined> {
    const { checks } = u;
    const attempt = randomUUID();
    const claim = leaseUntil !== undefined;
    const names = { ...u.names, "#ttl": "ttl", ...(claim ? { "#owner": "owner" } : {}) };
    const values = {
      ...u.values,
      ":ttl": this.ttl(),
      ...(claim ? { ":me": messageId, ":attempt": attempt, ":lease": leaseUntil, ":one": 1 } : {}),
    };
    const claimSets = claim ? ["#owner = :me", "attempt = :attempt", "lease_until = :lease", "tries = :one"] : [];
    const sets = [...u.sets, ...claimSets, "#ttl = :ttl"];
    const updated = await this.table.update(
      { pk: pkOf(scope), sk: COLLECTION_SK },
      { expression: `SET ${sets.join(", ")}`, names, values },
      { expression: checks.join(" AND "), names, values },
    );
    if (!updated) return undefined;
    const collection = collectionOf(scope, updated);
    return { collection, ...(completes(collection) ? { claim: { attempt, collection } } : {}) };
  }
}

function pick<T extends object, K extends keyof T>(value: T, key: K): Partial<Pick<T, K>> {
  return value[key] === undefined ? {} : ({ [key]: value[key] } as Partial<Pick<T, K>>);
}

/**
 * A write refused because the item would pass DynamoDB's 400 KB: the body goes to an item of its own instead.
 * DynamoDB's texts: "Item size has exceeded the maximum allowed size" (PutItem) and "Item size to update has
 * exceeded …" (UpdateItem); an expression over 4 KB ("Invalid …Expression: Expression size has exceeded …") is not one.
 */
export function isItemTooLarge(error: unknown): boolean {
  // The state table reports a failed write as StateUnavailableError with DynamoDB's own error as its cause.
  const cause = error instanceof StateUnavailableError ? (error.cause as Error | undefined) : (error as Error | undefined);
  return cause?.name === "ValidationException" && /^Item size\b/i.test(cause.message);
}

/** DynamoDB's limit on one expression, counted on its bytes as written (placeholders not substituted). */
export const MAX_EXPRESSION_BYTES = 4_096;

function fitsExpression(expression: string): boolean {
  return Buffer.byteLength(expression) <= MAX_EXPRESSION_BYTES;
}
