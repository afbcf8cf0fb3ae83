import { createHash, randomUUID } from "node:crypto";
import { ttlInDays } from "../../state/lazy-state-table";
import type { StateItem, StateTable } from "../../state/state-table";

/**
 * Exactly-once submission for the Responses API, whose endpoint keeps no guard: the same outputs sent twice on
 * one `previous_response_id` fork silently. Before the POST a conditional write claims the turn (its previous
 * response or conversation, and the call ids) with the owner and a lease until the owner's Lambda deadline;
 * after it, the new response's id is recorded. Item layout (docs/contract.md, "The state table"):
 * `pk` = `resp#<previous_response_id>` or `conv#<conversation_id>`, `sk` = `submit#<hash of the sorted call ids>`.
 */

/** A claim outlives what it guards: a stored response is kept 30 days, a duplicate cannot continue it after that. */
const CLAIM_TTL_DAYS = 31;

/** The turn a submission answers. */
export interface TurnKey {
  pk: string;
  sk: string;
}

export function turnKey(turn: { previousResponseId?: string; conversationId?: string }, callIds: readonly string[]): TurnKey {
  const pk = turn.conversationId !== undefined ? `conv#${turn.conversationId}` : `resp#${turn.previousResponseId}`;
  const ids = [...callIds].sort().join(",");
  return { pk, sk: `submit#${createHash("sha256").update(ids).digest("hex").slice(0, 40)}` };
}

/** What a claim found. */
export type ClaimVerdict =
  /** Ours: submit. `attempt` makes the later writes conditional on still holding it. */
  | { kind: "claimed"; attempt: string; claimedAt: string }
  /** Already submitted (a duplicate, or our own earlier attempt): the recorded continuation, if its id is known. */
  | { kind: "submitted"; responseId?: string; outputsHash?: string }
  /** Another copy holds a live lease: it is submitting right now. */
  | { kind: "held"; leaseUntil: number; outputsHash?: string }
  /** A claim whose lease passed with nothing recorded: its owner crashed or timed out, maybe after the POST. */
  | {
      kind: "unconfirmed";
      claimedAt: string;
      owner: string;
      attempt: string;
      leaseUntil: number;
      outputsHash?: string;
      /** The attempt the operator gave the go-ahead to submit again for (`dlq redrive --go-ahead`), if any. */
      goAhead?: string;
    };

export interface ClaimRequest {
  key: TurnKey;
  /** The SQS message id of the copy claiming. */
  owner: string;
  /** Epoch ms: the owner's Lambda deadline. */
  leaseUntil: number;
  callIds: readonly string[];
  /** The hash of the outputs submitted under this claim: a later copy with other outputs is conflicting, not a duplicate. */
  outputsHash: string;
  previousResponseId?: string;
  conversationId?: string;
}

/**
 * The claims of one state table.
 * @example const verdict = await claims.claim({ key, owner: messageId, leaseUntil, callIds });
 */
export class SubmissionClaims {
  /**
   * Records this execution environment could not write before its deadline (rule 4), by turn: the next copy that
   * meets the same claim here writes them first, instead of taking a known submission for an unconfirmed one.
   */
  private readonly unwritten = new Map<string, { attempt: string; responseId: string | undefined }>();

  constructor(
    private readonly table: StateTable,
    private readonly now: () => number = Date.now,
  ) {}

  /** A record that could not be written: kept for the next copy in this environment (see `unwritten`). */
  remember(key: TurnKey, attempt: string, responseId: string | undefined): void {
    this.unwritten.set(`${key.pk}\u0000${key.sk}`, { attempt, responseId });
  }

  /** What the table holds for a turn now, without claiming it: undefined when it is free (none, or one released). */
  async peek(key: TurnKey): Promise<ClaimVerdict | undefined> {
    const found = await this.table.get(key);
    // A claim released after a definite refusal took nothing: free, as `claim` treats it.
    return found && found.phase !== "released" ? verdictOf(found, this.now()) : undefined;
  }

  /** Claims the turn, or says who has it: a conditional put, then (only when it failed) a consistent read. */
  async claim(request: ClaimRequest): Promise<ClaimVerdict> {
    const attempt = randomUUID();
    const claimedAt = new Date(this.now()).toISOString();
    const item: StateItem = {
      ...request.key,
      phase: "claimed",
      owner: request.owner,
      attempt,
      lease_until: request.leaseUntil,
      claimed_at: claimedAt,
      call_ids: [...request.callIds],
      outputs_hash: request.outputsHash,
      ...(request.previousResponseId ? { previous_response_id: request.previousResponseId } : {}),
      ...(request.conversationId ? { conversation_id: request.conversationId } : {}),
      ttl: ttlInDays(CLAIM_TTL_DAYS, this.now()),
    };
    // Free: no claim yet, or one released after a definite refusal (nothing was taken).
    const free = { expression: "attribute_not_exists(pk) OR phase = :released", values: { ":released": "released" } };
    if (await this.table.put(item, free)) return { kind: "claimed", attempt, claimedAt };
    const found = await this.table.get(request.key);
    if (!found) return this.claim(request); // released and gone between the two calls: try again
    const id = `${request.key.pk}\u0000${request.key.sk}`;
    const unwritten = this.unwritten.get(id);
    if (unwritten && found.phase === "claimed" && found.attempt === unwritten.attempt) {
      // This environment knows what that attempt submitted: the record goes in now (it throws while the table fails).
      await this.record(request.key, unwritten.attempt, unwritten.responseId);
      this.unwritten.delete(id);
      return { kind: "submitted", ...(unwritten.responseId ? { responseId: unwritten.responseId } : {}), ...hashOf(found) };
    }
    return verdictOf(found, this.now());
  }

  /** Takes over a lapsed claim to submit again (`RESPONSES_UNCONFIRMED=resubmit`); false when someone else did first. */
  async takeOver(key: TurnKey, lapsed: { attempt: string }, owner: string, leaseUntil: number): Promise<{ attempt: string } | undefined> {
    const attempt = randomUUID();
    const updated = await this.table.update(
      key,
      {
        // The go-ahead named the lapsed attempt: it is spent with it.
        expression: "SET #owner = :owner, attempt = :attempt, lease_until = :lease REMOVE go_ahead",
        names: { "#owner": "owner" },
        values: { ":owner": owner, ":attempt": attempt, ":lease": leaseUntil },
      },
      { expression: "attempt = :lapsed AND phase = :claimed", values: { ":lapsed": lapsed.attempt, ":claimed": "claimed" } },
    );
    return updated ? { attempt } : undefined;
  }

  /** Records the continuation a submission created (its id, when the endpoint said it). */
  async record(key: TurnKey, attempt: string, responseId: string | undefined): Promise<void> {
    await this.table.update(
      key,
      {
        expression: "SET phase = :submitted, response_id = :id, submitted_at = :at",
        values: { ":submitted": "submitted", ":id": responseId ?? null, ":at": new Date(this.now()).toISOString() },
      },
      { expression: "attempt = :attempt", values: { ":attempt": attempt } },
    );
  }

  /**
   * Ends the lease of a claim whose POST may have been taken when its owner stops working on it (it dead-letters
   * or hands the message back): a later copy then treats it as unconfirmed at once, as after a crash, instead of
   * waiting for the lease of an owner that is gone (and hearing that "another copy is submitting").
   */
  async lapse(key: TurnKey, attempt: string): Promise<void> {
    await this.table.update(
      key,
      { expression: "SET lease_until = :now", values: { ":now": this.now() } },
      { expression: "attempt = :attempt AND phase = :claimed", values: { ":attempt": attempt, ":claimed": "claimed" } },
    );
  }

  /** Gives the turn back after a definite refusal: nothing was taken, a later copy may claim it. */
  async release(key: TurnKey, attempt: string): Promise<void> {
    await this.table.update(
      key,
      { expression: "SET phase = :released, lease_until = :zero", values: { ":released": "released", ":zero": 0 } },
      { expression: "attempt = :attempt AND phase = :claimed", values: { ":attempt": attempt, ":claimed": "claimed" } },
    );
  }
}

/** The latest response the relay created on a conversation: where a conversation-mode message takes its settings from. */
export class ConversationLatest {
  constructor(
    private readonly table: StateTable,
    private readonly now: () => number = Date.now,
  ) {}

  /** The latest response id the relay created on the conversation, or the settings of its latest turn when no id was learnt. */
  async get(conversationId: string): Promise<{ responseId?: string; settings?: Record<string, unknown> }> {
    const item = await this.table.get({ pk: `conv#${conversationId}`, sk: "latest" });
    if (typeof item?.response_id === "string") return { responseId: item.response_id };
    if (item?.settings && typeof item.settings === "object") return { settings: item.settings as Record<string, unknown> };
    return {};
  }

  async remember(conversationId: string, responseId: string): Promise<void> {
    await this.table.put({
      pk: `conv#${conversationId}`,
      sk: "latest",
      response_id: responseId,
      ttl: ttlInDays(CLAIM_TTL_DAYS, this.now()),
    });
  }

  /**
   * A turn the conversation took whose new response id the relay never learnt (the POST's answer was lost): the
   * settings it was sent with, so that the answer to its `{conversation_id}` reply can continue the same way.
   */
  async rememberSettings(conversationId: string, settings: Record<string, unknown>): Promise<void> {
    await this.table.put({ pk: `conv#${conversationId}`, sk: "latest", settings, ttl: ttlInDays(CLAIM_TTL_DAYS, this.now()) });
  }
}

function hashOf(item: StateItem): { outputsHash?: string } {
  return typeof item.outputs_hash === "string" ? { outputsHash: item.outputs_hash } : {};
}

function verdictOf(item: StateItem, now: number): ClaimVerdict {
  const hash = hashOf(item);
  if (item.phase === "submitted")
    return { kind: "submitted", ...(typeof item.response_id === "string" ? { responseId: item.response_id } : {}), ...hash };
  const leaseUntil = Number(item.lease_until ?? 0);
  if (leaseUntil > now) return { kind: "held", leaseUntil, ...hash };
  return {
    kind: "unconfirmed",
    claimedAt: String(item.claimed_at),
    owner: String(item.owner),
    attempt: String(item.attempt),
    leaseUntil,
    ...hash,
    ...(typeof item.go_ahead === "string" ? { goAhead: item.go_ahead } : {}),
  };
}

/**
 * The hash a claim keeps of the outputs it submits, in call-id order (the same outputs in another order are the
 * same submission).
 */
export function outputsHashOf(outputs: ReadonlyArray<{ tool_call_id: string; output: unknown }>): string {
  const sorted = [...outputs].sort((a, b) => (a.tool_call_id < b.tool_call_id ? -1 : a.tool_call_id > b.tool_call_id ? 1 : 0));
  return createHash("sha256")
    .update(JSON.stringify(sorted.map((o) => [o.tool_call_id, o.output])))
    .digest("hex")
    .slice(0, 40);
}
