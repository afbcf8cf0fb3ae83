import { CHECK_EVERY_MS, type Collecting, type SetFate } from "../dialects/dialect";
import type { Api } from "../dialects/index";
import type { RelaySinks } from "../out/aws-sinks";
import type { DlqReason, Outcome } from "../pipeline/outcome";
import type { RecordContext } from "../pipeline/record-context";
import type { CollectCheck } from "./check-message";
import type { CollectState } from "./collect-state";
import type { CollectedMessages } from "./collected-messages";
import { type Collection, toldByRound, untold } from "./collection";

/** A check received again this long after its due was not handed back as early: an earlier receive of it failed. */
const OVERDUE_MS = 30_000;
/** A check received at most this long before its due is due (SQS counts its delays in whole seconds). */
const EARLY_MARGIN_MS = 1_000;
/** How long after the next check's due its guard comes (two looks' time: the chain normally moved on by then). */
const GUARD_AFTER_MS = 2 * CHECK_EVERY_MS;
/** A live check this long overdue never passed the chain on: a guard takes it over. */
const ADOPT_AFTER_MS = CHECK_EVERY_MS;
/**
 * How long after its submission a round whose parts an event may have named (a publish of unknown fate) waits for one
 * to be confirmed before its check dead-letters them anyway (rule 2's one undecidable case: SNS refusing every publish
 * after one whose answer was lost). Well within the two days a submitted round's item lives.
 */
const MAYBE_NAMED_GIVE_UP_MS = 12 * 3_600_000;

export interface CollectionChecksParts {
  /** The collections, opened on first use. */
  state: CollectState;
  sinks: RelaySinks;
  maxReceiveCount: number;
  collectTimeoutSeconds: number;
  /**
   * How long after COLLECT_TIMEOUT_SECONDS a complete set may still wait for its submitter (its message handed back,
   * its receives not used up): the longest its receives can take. Default: no wait.
   */
  submitterWindowMs?: number;
}

/**
 * The `collect_check` follow-ups (check-message.ts): each open collection has one live check on the input queue,
 * due within a minute (or just after its run's `expires_at`). It looks whether the turn can still take the set and,
 * when it cannot (expired, answered elsewhere, COLLECT_TIMEOUT_SECONDS passed), closes the round and dead-letters
 * every collected message; else the live check (the one whose `due` the collection holds) sends the next. Any other
 * copy (a duplicate send, one sent by hand, a check for a round that never opened) looks once and ends there, so
 * the chain never forks.
 * @example const checkDue = await checks.scheduleFirst(scope, round, run.expiresAt, ctx);
 */
/** What a check asks each collecting API: whether a turn still stands, and (to tell a submitted set's parts) its state. */
export type CheckDialects = Partial<
  Record<
    Api,
    {
      collecting: Pick<Collecting<unknown>, "standing"> & Partial<Pick<Collecting<unknown>, "reportAfterSubmission" | "fateOfSet">>;
      decide?: (message: unknown, ctx: RecordContext) => Promise<Outcome>;
    }
  >
>;

export class CollectionChecks {
  constructor(
    private readonly parts: CollectionChecksParts,
    private readonly messages: CollectedMessages,
  ) {}

  /** Sends the first check of a round about to open (before it opens: a collection never stands without one). */
  async scheduleFirst(scope: string, round: string, expiresAt: number | undefined, ctx: RecordContext): Promise<number> {
    const soon = Date.now() + CHECK_EVERY_MS;
    const due = Math.max(Date.now() + 1_000, expiresAt !== undefined ? Math.min(soon, expiresAt + 1_000) : soon);
    await this.send({ type: "collect_check", scope, round, due }, ctx);
    // Its guard (rule 9): takes the chain over should every receive of the first check die; otherwise looks once.
    await this.send({ type: "collect_check", scope, round, due: due + GUARD_AFTER_MS, guard: true }, ctx);
    return due;
  }

  /** One check: early, wait; due, look (collection-checks.ts header); never lost to the DLQ. */
  async check(check: CollectCheck, dialects: CheckDialects, ctx: RecordContext): Promise<Outcome> {
    const lastReceive = ctx.receiveCount >= this.parts.maxReceiveCount;
    if (check.due > Date.now() + EARLY_MARGIN_MS) {
      // Early (a FIFO queue delivers at once): handed back, it is seen again when due. A fresh copy is sent only on
      // the last receive, which a hand-back until due never reaches early (re-sending each time would loop).
      if (!lastReceive)
        return { kind: "hand_back", reason: "not_due", detail: "the check is not due yet", retryAfterMs: check.due - Date.now() };
      await this.send(check, ctx);
      return checked("not due yet; sent again for later");
    }
    if (!lastReceive && earlierReceiveEnded(check, ctx)) {
      // An earlier receive of this check failed (an error, or the whole invocation: a crash, a timeout). Before it can
      // run out of receives (and be moved raw to the DLQ), the chain passes to a fresh copy (rule 9): the same check
      // (same due, so it is live if this one was), with its receives ahead of it. Only the queue is needed, not the
      // table nor the endpoint; should the send fail, this copy is handed back and tries again on its next receive.
      // Were this copy not acknowledged after all, the two would each look once, and only one of them moves the chain
      // on (moveCheck).
      await this.send(check, ctx);
      return checked(`receive ${ctx.receiveCount}: an earlier receive failed; passed on to a fresh copy`);
    }
    if (!lastReceive) return this.look(check, dialects, ctx);
    // Its last receive, after one that failed, passes the chain on first, to a fresh copy (the same check: live if
    // this one is), and only then looks: a look that dies with its invocation (a crash, a timeout) or fails can no
    // longer take the chain with it (rule 9). Should this copy's look move the chain on, the fresh copy only looks
    // once. (A first receive never passes on first, even when it is the last: no loop of copies without a fault.)
    const passed =
      ctx.receiveCount >= 2 &&
      (await this.send(check, ctx).then(
        () => true,
        () => false,
      ));
    try {
      const outcome = await this.look(check, dialects, ctx);
      // Handed back on its last receive (the endpoint could not be read): the fresh copy looks again, this one ends.
      return outcome.kind === "hand_back" && passed ? checked(`${outcome.detail}; passed on`) : outcome;
    } catch (error) {
      if (!passed) await this.send(check, ctx);
      return checked(`the look failed (${(error as Error)?.name ?? "Error"}); passed on`);
    }
  }

  private async look(check: CollectCheck, dialects: CheckDialects, ctx: RecordContext): Promise<Outcome> {
    const store = await this.parts.state.collections();
    const collection = await store.current(check.scope);
    if (!collection || collection.round !== check.round) return checked("the collection has ended");
    if (collection.letters) {
      await this.messages.deadLetterAll(collection, ctx); // a crash left some of its DLQ records unwritten
      return checked(`${collection.status}; its DLQ records are written`);
    }
    if (untold(collection)) return this.tell(collection, check, dialects, ctx);
    if (collection.status === "submitted" || collection.status === "closed") return checked("the collection has ended");

    const timeoutAt = collection.firstAt + this.parts.collectTimeoutSeconds * 1000;
    const timedOut = Date.now() >= timeoutAt;
    // A close is conditional on the collection as read (rule 3): refused, it changed meanwhile (a part stored, the set
    // claimed, the round ended), and the chain goes on to look again (rule 9), never ends with the round still open.
    if (timedOut && !this.submitterMayCome(collection, timeoutAt)) {
      const ended = await this.endTimedOut(collection, check, dialects, ctx);
      if (ended) return ended;
    }
    // A complete set is its submitter's to settle; only one still collecting is looked at.
    const standing =
      collection.missing > 0
        ? ((await dialects[collection.api]?.collecting.standing(collection.turn, collection.required, ctx)) ?? { ok: true as const })
        : { ok: true as const };
    if (!standing.ok && (await this.close(collection, standing.reason, standing.detail, ctx))) return checked(standing.reason);
    // Another copy is the live one, unless that one is long overdue (every receive of it died): then this copy, the
    // guard sent beside it, takes the chain over (rule 9), conditional on the live due it read.
    const live = collection.checkDue ?? check.due;
    const adopting = live !== check.due && Date.now() - live > ADOPT_AFTER_MS;
    if (live !== check.due && !adopting) return checked("still open; another check of this collection is the live one");
    const checkBy = standing.ok ? standing.checkBy : undefined;
    const next = timedOut ? Date.now() + CHECK_EVERY_MS : Math.min(checkBy ?? Date.now() + CHECK_EVERY_MS, timeoutAt);
    const due = Math.max(Date.now() + 1_000, next);
    const { guard: _guard, ...plain } = check;
    await this.send({ ...plain, due }, ctx);
    // The guard: a second copy, due later, that takes the chain over should every receive of the next one die (a check
    // has no other witness: nothing else on the queue would ever look at this round again). It looks once otherwise.
    await this.send({ ...plain, due: due + GUARD_AFTER_MS, guard: true }, ctx);
    await store.moveCheck(check.scope, check.round, live, due);
    return checked(adopting ? `still open; its live check (due ${live}) never passed the chain on: taken over` : "still open");
  }

  /**
   * Ends a round past its timeout that nothing else will end; undefined when it changed meanwhile (or cannot be told
   * yet): the chain goes on and looks again. A set still incomplete is closed (`collect_incomplete`). A complete one
   * was claimed, and its submitter is gone, maybe after its POST: the turn is looked at first (rule 3: a set the
   * endpoint took is never declared `collect_incomplete`). Taken, the round is marked submitted (conditional on the
   * collection as read) and told like any whose submitter died before telling its parts; maybe taken (the API cannot
   * tell), every part goes to the DLQ as `submission_unconfirmed`; not taken, it is closed as an incomplete one is.
   */
  private async endTimedOut(
    collection: Collection,
    check: CollectCheck,
    dialects: CheckDialects,
    ctx: RecordContext,
  ): Promise<Outcome | undefined> {
    const why = `no complete set within COLLECT_TIMEOUT_SECONDS (${this.parts.collectTimeoutSeconds} s) of its first output`;
    const fate = collection.missing === 0 ? await this.fateOf(collection, dialects, ctx) : { kind: "not_taken" as const };
    switch (fate.kind) {
      case "taken": {
        const store = await this.parts.state.collections();
        const continuation = fate.continuation !== undefined ? { continuation: fate.continuation } : {};
        const ended = await store.finish(collection, { status: "submitted", ...continuation }, { seen: collection });
        if (!ended) return undefined;
        if (untold(ended)) return this.tell(ended, check, dialects, ctx);
        return checked("its complete set was taken by the turn; marked submitted");
      }
      case "unconfirmed": {
        const detail = `the collected set was complete, but ${fate.detail}`;
        return (await this.close(collection, "submission_unconfirmed", detail, ctx)) ? checked("submission_unconfirmed") : undefined;
      }
      case "not_taken":
        return (await this.close(collection, "collect_incomplete", why, ctx)) ? checked("timed out") : undefined;
      case "unknown":
        return undefined;
    }
  }

  /** What the turn did with the round's complete set, as its API shows it (not taken, for an API that cannot say). */
  private async fateOf(collection: Collection, dialects: CheckDialects, ctx: RecordContext): Promise<SetFate> {
    const fateOfSet = dialects[collection.api]?.collecting.fateOfSet;
    if (!fateOfSet) return { kind: "not_taken" };
    return fateOfSet(collection.turn, await this.messages.outputsOf(collection, ctx), ctx);
  }

  /**
   * Whether a complete set past its timeout is still its submitter's to settle: its claim is live, or its holder
   * has receives left (it was handed back and comes again; on its last receive it closes the set itself), within
   * the window those receives can take. Only then does the timeout wait: a set that nothing ends still closes.
   */
  private submitterMayCome(collection: Collection, timeoutAt: number): boolean {
    if (collection.missing > 0 || Date.now() >= timeoutAt + (this.parts.submitterWindowMs ?? 0)) return false;
    return (collection.leaseUntil ?? 0) > Date.now() || collection.tries < this.parts.maxReceiveCount;
  }

  /**
   * A submitted round whose other parts are not told yet (rule 2): its submitter's event was not published, or not
   * known to be (SNS refused it, its answer was lost, the invocation died). While the submitter's claim is live, look
   * again later; then the check publishes an event of the round naming them (its submitter's own message keeps its own
   * fate: it comes back, or ends in the DLQ), each publish counted begun before it goes out. They go to the DLQ as
   * `results_unpublished` only when no event may have named them: as many publishes as a message has receives refused
   * by SNS, and none begun whose fate is unknown (`publishing`). A publish that may have landed is never taken for a
   * refused one; should none be confirmed for `MAYBE_NAMED_GIVE_UP_MS` (SNS refusing every publish since), the parts
   * go to the DLQ all the same, their record saying an event may have named them. Naming twice is harmless.
   */
  private async tell(collection: Collection, check: CollectCheck, dialects: CheckDialects, ctx: RecordContext): Promise<Outcome> {
    const leaseUntil = collection.leaseUntil ?? 0;
    if (leaseUntil > Date.now()) {
      const due = Math.max(Date.now() + 1_000, Math.min(leaseUntil + 1_000, Date.now() + CHECK_EVERY_MS));
      await this.send({ ...check, due }, ctx);
      return checked("submitted; its submitter is still at it");
    }
    const others = toldByRound(collection).sort();
    const at = { scope: collection.scope, round: collection.round };
    const dialect = dialects[collection.api];
    const follow = dialect?.collecting.reportAfterSubmission?.(collection.turn, collection.continuation);
    const store = await this.parts.state.collections();
    // Dead-lettering them is the last resort, after publishes SNS refused (counted on the round), never for want of a
    // try, nor while one may have landed: a submitter that published and died before marking the round named (or whose
    // answer was lost) left an event that may name them.
    const maybeNamed = collection.publishing > 0;
    const givenUp = maybeNamed && Date.now() >= (collection.submittedAt ?? collection.firstAt) + MAYBE_NAMED_GIVE_UP_MS;
    const publishAgain = maybeNamed ? !givenUp : collection.unpublishedTries < this.parts.maxReceiveCount;
    if (publishAgain && follow !== undefined && dialect?.decide) {
      const outcome = await dialect.decide(follow, ctx);
      if (outcome.kind === "report") {
        if (await store.publishing(at.scope, at.round)) return { ...outcome, sources: others, round: at };
        return checked("submitted; its other parts were told in the DLQ meanwhile");
      }
      if (outcome.kind === "hand_back") return outcome;
    }
    const lookAgain = async (detail: string) => {
      await this.send({ ...check, due: Date.now() + CHECK_EVERY_MS }, ctx);
      return checked(detail);
    };
    // No event of its own to publish, while one may have named them: the submitter's message may still confirm it.
    if (maybeNamed && !givenUp) return lookAgain("submitted; an event of unknown fate may have named its parts");
    const detail =
      "the collected set was submitted, but no results event naming this message could be published (SNS refused it, " +
      "or the message that completed the set never published it)" +
      (maybeNamed
        ? `; a publish whose fate is unknown (its answer was lost, or its publisher died) may have named it, and none was confirmed within ${MAYBE_NAMED_GIVE_UP_MS / 3_600_000} h`
        : "");
    // The owner's fate is its own outcome's, unless the round kept it (a last receive acknowledged on its behalf).
    const except = collection.owner !== undefined && !others.includes(collection.owner) ? { except: collection.owner } : {};
    const letters = { reason: "results_unpublished" as const, detail, ...except };
    const told = await store.unpublished(at.scope, at.round, letters, collection.publishing);
    if (!told) return lookAgain("submitted; an event naming its parts was begun meanwhile, or named them");
    await this.messages.deadLetterAll(told, ctx);
    return checked("submitted; its other parts told in the DLQ");
  }

  /**
   * Closes an open round and dead-letters every message collected for it; the collection as it ended, or
   * undefined when someone else ended it first.
   */
  async close(collection: Collection, reason: DlqReason, why: string, ctx: RecordContext): Promise<Collection | undefined> {
    const store = await this.parts.state.collections();
    const missing = collection.required.filter((id) => !collection.outputs.has(id));
    const detail = `${why}; missing outputs for [${missing.join(", ")}]`;
    // Conditional on the collection as it was read (rule 3): a part stored or a set claimed meanwhile keeps it open.
    const ended = await store.finish(collection, { status: "closed", letters: { reason, detail } }, { seen: collection });
    if (ended) await this.messages.deadLetterAll(ended, ctx);
    return ended;
  }

  private async send(check: CollectCheck, ctx: RecordContext): Promise<void> {
    await this.parts.sinks.enqueueCheck(check, Math.ceil((check.due - Date.now()) / 1000), ctx.signal);
  }
}

/**
 * Whether an earlier receive of this check ended without settling it: a receive after the first, when the first came
 * on time (at its due, so it was not handed back as early: only a failed look, or an invocation that died, brings it
 * back), or long past its due (an early copy handed back until due comes back at its due, not this late). A failed
 * look is handed back for only a few seconds: by lateness alone its next receive would look again, and two deaths
 * after one failure would lose the chain.
 */
function earlierReceiveEnded(check: CollectCheck, ctx: RecordContext): boolean {
  if (ctx.receiveCount < 2) return false;
  const cameDue = ctx.firstReceivedAt !== undefined && check.due <= ctx.firstReceivedAt + EARLY_MARGIN_MS;
  return cameDue || Date.now() - check.due > OVERDUE_MS;
}

function checked(detail: string): Outcome {
  return { kind: "acknowledge", result: "checked", detail };
}
