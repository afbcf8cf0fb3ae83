import type { SQSRecord } from "aws-lambda";
import type { Dialect, TurnIds } from "../dialects/dialect";
import { type Api, scopeOf as scopeOfTurn } from "../dialects/index";
import { toolCallMismatch } from "../endpoint/endpoint-outcome";
import type { Outcome } from "../pipeline/outcome";
import type { RecordContext } from "../pipeline/record-context";
import { type Step, stop } from "../pipeline/result";
import type { CollectCheck } from "./check-message";
import type { CollectorParts } from "./collect-state";
import { CollectedMessages } from "./collected-messages";
import { type Collection, type EndedRound, outputHash, roundOf, type SubmissionClaim, untold, wasLettered } from "./collection";
import { type CheckDialects, CollectionChecks } from "./collection-checks";
import type { Added, HashedOutput } from "./collection-store";
import { type CollectingMessage, type Delivery, SetSubmission } from "./submitting";

/** What a message joins its collection with: the turn's scope, its outputs' hashes, its body (placed once). */
interface Joining {
  scope: string;
  turn: TurnIds;
  hashed: HashedOutput[];
  body: ReturnType<CollectedMessages["bodyFor"]>;
}

/**
 * Collecting outputs (fan-in, docs/collecting.md): a message with `"collect": true` carries
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
  private readonly submission: SetSubmission;

  /** Per scope, the last placement of this execution environment still under way (see `inTurn`). */
  private readonly placing = new Map<string, Promise<void>>();

  constructor(private readonly parts: CollectorParts) {
    this.messages = new CollectedMessages(parts);
    this.checks = new CollectionChecks(parts, this.messages);
    this.submission = new SetSubmission(parts, this.messages);
  }

  /**
   * Messages of one turn in the same batch store their outputs one after another: placed at once, each one's
   * conditional write would refuse the other's, and both would read the collection again (and the first ones of a
   * turn would each ask the endpoint for its calls). In turn, the second finds the collection the first made and
   * joins it with one write. Only the storing waits, never a submission; across execution environments the
   * conditional writes still decide. Written by hand: a per-key chain of promises, a few lines, no library needed.
   */
  private async inTurn<T>(scope: string, work: () => Promise<T>): Promise<T> {
    const before = this.placing.get(scope);
    const mine = before ? before.then(work) : work();
    const done = mine.then(
      () => undefined,
      () => undefined,
    );
    this.placing.set(scope, done);
    try {
      return await mine;
    } finally {
      if (this.placing.get(scope) === done) this.placing.delete(scope);
    }
  }

  async collect<M>(message: M & CollectingMessage, dialect: Dialect<M>, record: SQSRecord, ctx: RecordContext): Promise<Outcome> {
    const scope = scopeOf(message.api, dialect.collecting.turnOf(message));
    if (ctx.receiveCount < this.parts.maxReceiveCount) return this.collectOnce(message, dialect, record, ctx);
    // Its last receive. A part its round already holds has its fate told by the round (the set's event, the check's
    // event or the round's DLQ records): when this receive fails (a write whose answer was lost, a hand-back), it is
    // not dead-lettered on its own as well (rules 2 and 3: never both reported and dead-lettered).
    // (The relay tries a decision that failed on the state table again, a few times, before it gives the message up.)
    let outcome: Outcome;
    try {
      outcome = await this.collectOnce(message, dialect, record, ctx);
    } catch (error) {
      const kept = await this.keptByRound(scope, record.messageId);
      if (kept) return kept;
      throw error;
    }
    if (outcome.kind !== "hand_back") return outcome;
    return (await this.keptByRound(scope, record.messageId)) ?? outcome;
  }

  /**
   * Whether the scope's current round holds this message and tells its fate itself: an acknowledgement then. Not when
   * its fate is its own outcome's: the submitted round's submitter (its event is its own to publish), or the one
   * message of a dead-lettered round whose record its own outcome writes (`letteredExcept`).
   */
  private async keptByRound(scope: string, messageId: string): Promise<Outcome | undefined> {
    const store = await this.parts.state.collections();
    for (let reads = 0; reads < 2; reads++) {
      const current = await store.current(scope).catch(() => undefined);
      if (!current?.messages.has(messageId) || current.letteredExcept === messageId) return undefined;
      // The submitter's own fate: told once its own event was published (it names the submitter too), else its own.
      const ownEvent = current.namedBy.includes(messageId);
      if (current.status === "submitted" && current.owner === messageId && current.letteredAs === undefined && !ownEvent) return undefined;
      // Its set is being submitted by another delivery of this very message: the round takes on telling this message's
      // fate (`keptOwner`), so that, should that delivery die before it does, the round's check tells it as any part's
      // (rules 2 and 3). Refused, the round changed meanwhile: read it again.
      const keeping = current.status === "open" && current.owner === messageId && current.keptOwner !== messageId;
      if (keeping && !(await store.keepOwner(scope, current.round, messageId).catch(() => false))) continue;
      const detail = `collected; its round (${current.status}) tells its fate, and this last receive failed`;
      return { kind: "acknowledge", result: "collected", detail };
    }
    return undefined;
  }

  private async collectOnce<M>(
    message: M & CollectingMessage,
    dialect: Dialect<M>,
    record: SQSRecord,
    ctx: RecordContext,
  ): Promise<Outcome> {
    const store = await this.parts.state.collections();
    const turn = dialect.collecting.turnOf(message);
    const scope = scopeOf(message.api, turn);
    const hashed = message.tool_outputs.map((o) => ({ callId: o.tool_call_id, hash: outputHash(o.output) }));
    const body = this.messages.bodyFor(scope, record, ctx);
    const stored = await this.inTurn(scope, async (): Promise<Step<{ added: Added }>> => {
      // Its turn came after the invocation stopped taking work: nothing stored, it comes back.
      if (ctx.signal.aborted) return stop({ kind: "hand_back", reason: "deadline", detail: "not stored before the invocation's deadline" });
      // The common case, in one conditional write: the turn's open collection asks for these ids and has none yet.
      const fast = await body((placed) =>
        store.addNew(scope, { messageId: record.messageId, outputs: hashed, message: placed, leaseUntil: ctx.leaseUntil }),
      );
      if (!fast.ok) return fast;
      let added = fast.value;
      for (let reads = 1; !added; reads++) {
        if (reads > 5) return stop(retryShortly("the turn's collection kept changing while this message joined it"));
        const step = await this.place({ message, dialect, record, ctx }, { scope, turn, hashed, body });
        if (!step.ok) return step;
        added = step.added;
      }
      return { ok: true, added };
    });
    if (!stored.ok) return stored.outcome;
    const { added } = stored;
    const joining = { scope, turn, hashed, body };
    if (added.claim) return this.submit(added.claim, { message, dialect, record, ctx }, joining);
    const collection = added.collection;
    if (collection.missing > 0) {
      const missing = collection.required.filter((id) => !collection.outputs.has(id));
      return { kind: "acknowledge", result: "collected", detail: `collected; waiting for [${missing.join(", ")}]` };
    }
    // A copy of an output of a complete set: its submitter settles it, unless that claim lapsed or was this message's.
    const retaken =
      collection.owner === record.messageId || (collection.leaseUntil ?? 0) < Date.now()
        ? await store.claim(collection, record.messageId, ctx.leaseUntil)
        : undefined;
    if (retaken) return this.submit(retaken, { message, dialect, record, ctx }, joining);
    if (collection.owner === record.messageId) {
      // The set's submitter is another delivery of this very message (SQS delivered it twice): its fate is its own,
      // never another message's to tell, so it is not acknowledged on that one's behalf. Submitted meanwhile, it
      // reports as the submitter does (the event names every part); else it comes back shortly.
      return this.followRound(
        { message, dialect, record, ctx },
        joining,
        "the set is complete and another delivery of this message is submitting it",
      );
    }
    return { kind: "acknowledge", result: "collected", detail: "collected; the set is complete and another invocation submits it" };
  }

  /** Submits a claimed set; when another attempt decided the round meanwhile, the round as it stands tells the message. */
  private async submit<M>(claim: SubmissionClaim, delivery: Delivery<M>, joining: Joining): Promise<Outcome> {
    const outcome = await this.submission.submit(claim, delivery);
    return outcome.kind === "decided_elsewhere" ? this.followRound(delivery, joining, outcome.detail) : outcome;
  }

  /**
   * A message whose round another attempt is deciding, or decided (rule 3: once, by a conditional write): placed
   * against the round as it stands now. Submitted, it is told as a part of the set (the submitter's own message
   * reports as its submitter does); closed, as the close's DLQ records say; still open (that attempt is at it), it
   * comes back shortly, and on its last receive its round holds it (`keptByRound`).
   */
  private async followRound<M>(delivery: Delivery<M>, joining: Joining, detail: string): Promise<Outcome> {
    const again = await this.place(delivery, joining);
    if (!again.ok) return again.outcome;
    return { kind: "hand_back", reason: "claimed_elsewhere", detail, retryAfterMs: 1_000 };
  }

  /**
   * Where a message goes when the quick add did not take it, from the collection as it is: a late copy of an ended
   * round, a conflict, a new round (opened with this message), or the open round's precise add. `added` undefined:
   * it changed meanwhile, look again.
   */
  private async place<M>(delivery: Delivery<M>, joining: Joining): Promise<Step<{ added: Added | undefined }>> {
    const { dialect, record, ctx } = delivery;
    const { scope, hashed, body } = joining;
    const store = await this.parts.state.collections();
    const given = hashed.map((o) => o.callId);
    const current = await store.current(scope);
    // A round whose DLQ records did not all go out (a crash): they go now, before anything else.
    if (current?.letters) await this.messages.deadLetterAll(current, ctx);
    // A message an ended round dead-lettered (it was still in flight then): in the DLQ already (its letters were sent
    // just above), never in a later round, and no second record.
    if (current && wasLettered(current, record.messageId)) return stop(lettered(current, record.messageId));
    if (current && !within(given, current.required)) {
      // A late copy of an output of a round that already ended: known from the history, no endpoint call.
      const ended = current.history.find((round) => within(given, round.required));
      if (ended) return stop(await this.late(ended, current.turn, dialect, ctx));
    }
    if (!current || !within(given, current.required) || current.status === "closed") {
      const joined = await this.join(delivery, joining, current);
      return joined;
    }
    if (current.status === "submitted" && current.owner !== record.messageId && current.messages.has(record.messageId)) {
      // A part of the submitted set, come again: its fate is the round's to tell (its event, or its check), never its own.
      return stop({ kind: "acknowledge", result: "collected", detail: "collected; its set was submitted and the set's event names it" });
    }
    if (current.status === "submitted") {
      const outcome = await this.late(current, current.turn, dialect, ctx);
      // The set's own message, come again (its event was not published): the event names every part again (rule 2),
      // its publish counted begun first, unless they were dead-lettered meanwhile (then it names only itself).
      if (current.owner === record.messageId && outcome.kind === "report" && current.letteredAs === undefined) {
        if (await store.publishing(scope, current.round))
          return stop({ ...outcome, sources: [...current.messages.keys()].sort(), round: { scope, round: current.round } });
      }
      return stop(outcome);
    }
    const conflict = hashed.find(({ callId, hash }) => (current.outputs.get(callId)?.h ?? hash) !== hash);
    if (conflict) {
      return stop({
        kind: "dead_letter",
        reason: "conflicting_output",
        detail: `an output for ${conflict.callId} is already collected for this turn, and it differs; the first stands`,
        expectedToolCallIds: current.required,
        givenToolCallIds: given,
      });
    }
    const added = await body((stored) =>
      store.addSeen(current, { messageId: record.messageId, outputs: hashed, message: stored, leaseUntil: ctx.leaseUntil }),
    );
    return added.ok ? { ok: true, added: added.value } : added;
  }

  /**
   * What became of a submitted set's event (rule 2): published, its parts are told (the round's check stops looking);
   * refused by SNS, or of unknown fate (its answer lost: it may have named them), the submitter's claim is given up so
   * that the round's check tells the other parts at once; only a refusal counts towards giving up on an event.
   */
  async told(at: { scope: string; round: string }, fate: "published" | "refused" | "unknown", messageId: string): Promise<void> {
    const store = await this.parts.state.collections();
    if (fate === "published") await store.named(at.scope, at.round, messageId);
    else await store.unnamed(at.scope, at.round, messageId, fate === "unknown");
  }

  /**
   * Looks whether an open collection can still complete (collection-checks.ts); in the scope's chain, so that a
   * part in the same batch meets the collection as the check left it (a round closed with its DLQ records sent).
   */
  check(check: CollectCheck, dialects: CheckDialects, ctx: RecordContext) {
    return this.inTurn(check.scope, () => this.checks.check(check, dialects, ctx));
  }

  /**
   * The round a message opens when the scope's current one does not ask for its ids: the turn as the endpoint says
   * it now. `added` undefined: another copy opened it first, look again.
   */
  private async join<M>(
    { message, dialect, record, ctx }: Delivery<M>,
    { scope, turn, hashed, body }: Joining,
    current: Collection | undefined,
  ): Promise<Step<{ added: Added | undefined }>> {
    const { api } = message;
    const rules = dialect.collecting;
    const store = await this.parts.state.collections();
    const given = hashed.map((o) => o.callId);
    const required = await rules.requiredIds(turn, ctx);
    if (!required.ok || !within(given, required.ids)) {
      // The turn may have moved on because another copy just submitted the set this message is part of (SQS delivered
      // it twice): the collection, read again, decides first, so a part its round holds is told by the round, never
      // dead-lettered beside its event (rules 2, 3).
      const now = await store.current(scope);
      if (now !== undefined && (now.round !== current?.round || now.status !== current?.status || now.messages.has(record.messageId)))
        return { ok: true, added: undefined };
      // An id the turn does not ask for, or a turn that cannot take it: this message only, the collection goes on.
      return required.ok ? stop(mismatch(required.ids, given)) : required;
    }
    const round = roundOf(required.ids);
    let previous = current;
    if (previous && previous.round !== round && untold(previous)) {
      // The previous set's parts are not told yet (its event was not published): its check tells them, then this opens.
      const detail = "the turn's previous set was submitted but its parts are not yet told; this round opens once they are";
      return stop({ kind: "hand_back", reason: "claimed_elsewhere", detail, retryAfterMs: 30_000 });
    }
    if (previous?.status === "open" && previous.round !== round) {
      if (previous.missing === 0) {
        // The previous set may have been taken; its own message settles it (it comes back), then this round opens.
        const retryAfterMs = Math.min(30_000, Math.max(1_000, (previous.leaseUntil ?? 0) - Date.now()));
        const detail = "the turn's previous set is being submitted; this round opens once that is settled";
        return stop({ kind: "hand_back", reason: "claimed_elsewhere", detail, retryAfterMs });
      }
      const why = `the turn moved on to other calls [${required.ids.join(", ")}]`;
      previous = (await this.checks.close(previous, "collect_incomplete", why, ctx)) ?? (await store.current(scope));
    }
    if (previous?.status === "open") return { ok: true, added: undefined }; // opened (or still open) meanwhile: look again
    const checkDue = await this.checks.scheduleFirst(scope, round, required.expiresAt, ctx);
    const expiresAt = required.expiresAt !== undefined ? { expiresAt: required.expiresAt } : {};
    const opening = { scope, round, api, turn, required: required.ids, checkDue, ...expiresAt };
    const leaseUntil = ctx.leaseUntil;
    const opened = await body((message) =>
      store.open(opening, { messageId: record.messageId, outputs: hashed, message, leaseUntil }, previous),
    );
    return opened.ok ? { ok: true, added: opened.value } : opened;
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

/** A turn's scope in the state table, as its API's dialect says (the run, the previous response, the conversation). */
export function scopeOf(api: Api, turn: TurnIds): string {
  return scopeOfTurn(api, turn);
}

const within = (given: readonly string[], required: readonly string[]) => given.every((id) => required.includes(id));

function mismatch(expected: string[], given: string[]): Outcome {
  const others = given.filter((id) => !expected.includes(id));
  const detail = `the turn asks for outputs for [${expected.join(", ")}]; this message also answers others: [${others.join(", ")}]`;
  return toolCallMismatch({ expected, given, detail });
}

/**
 * A message an ended round dead-lettered, come again. Of the round as read, its DLQ record is written (place() sends any
 * left first): acknowledged, no second record; unless its record was its own outcome's to write (`except`: that
 * invocation may have died first): then a record of its own (a message may get its record twice, never none).
 */
function lettered(current: Collection, messageId: string): Outcome {
  const ofThisRound = current.messages.has(messageId) && (current.status === "closed" || current.letteredAs !== undefined);
  const own = ofThisRound ? current.letteredExcept === messageId : current.letteredOwn.includes(messageId);
  if (!own) {
    const detail = "this message's collection already ended and dead-lettered it (it came back after that); not collected again";
    return { kind: "acknowledge", result: "collected", detail };
  }
  const reason = (ofThisRound && current.letteredAs) || "collect_incomplete";
  const detail = "this message's collection already ended without it being reported (it came back after that); not collected again";
  return { kind: "dead_letter", reason, detail, expectedToolCallIds: current.required };
}

function retryShortly(detail: string): Outcome {
  return { kind: "hand_back", reason: "endpoint_unavailable", detail, retryAfterMs: 1_000 };
}
