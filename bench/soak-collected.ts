/**
 * What became of the soak's collected turns (bench/soak-plan.ts `CollectedTurn`): each turn's messages are judged
 * together, since a collected message is acknowledged once stored and its fate is told later, by the set's results
 * event (`source_message_ids`) or by a DLQ record of its own.
 */

import type { DeliveryLedger } from "../local/delivery-ledger";
import type { EndpointSimulator } from "../local/endpoint-simulator";
import type { CollectedExpectation, CollectedTurn } from "./soak-plan";

export interface CollectedReport {
  turns: number;
  completeTurns: number;
  incompleteTurns: number;
  /** Messages of collected turns sent, duplicates included. */
  messages: number;
  duplicates: number;
  /** Complete sets the endpoint took exactly once, every part acknowledged and named by the set's results event. */
  submittedOnce: number;
  /**
   * Complete sets that ended in the DLQ, every part of them, with a reason the outcome tables allow under transient
   * faults: the completing message gave up (`retries_exhausted`, its siblings `collect_incomplete` "could not be
   * submitted"), or its POST failed ambiguously off any conversation (`submission_unconfirmed`).
   */
  endedInDlq: Array<{ turn: string; reasons: string[]; why: string }>;
  /** Sets the endpoint took more than once: must be 0. */
  submittedTwice: number;
  /** Incomplete sets every message of which is in the DLQ (`collect_incomplete`, or `run_expired`), none submitted. */
  incompleteInDlq: number;
  /** Incomplete sets the endpoint took anyway: must be 0. */
  incompleteSubmitted: number;
  /** Messages neither acknowledged nor dead-lettered, or acknowledged without their set being reported: must be none. */
  lostIds: string[];
  unexpected: Array<{ messageId: string; expected: string; got: string }>;
}

/** Reasons a complete set's parts may end with when the relay could not submit it under transient faults. */
const GAVE_UP = new Set(["retries_exhausted", "collect_incomplete"]);
/** Reasons an incomplete set's parts end with. */
const INCOMPLETE = new Set(["collect_incomplete", "run_expired"]);

/** Each collected turn with the ids of its messages: the parts first sent, and duplicate deliveries. */
function turnsOf(expectations: Map<string, CollectedExpectation>): Map<CollectedTurn, { parts: string[]; duplicates: string[] }> {
  const turns = new Map<CollectedTurn, { parts: string[]; duplicates: string[] }>();
  for (const [id, e] of expectations) {
    const ids = turns.get(e.turn) ?? { parts: [], duplicates: [] };
    (e.duplicate ? ids.duplicates : ids.parts).push(id);
    turns.set(e.turn, ids);
  }
  return turns;
}

/** Every message id a results event names as its cause: `source_message_id`, and a collected set's `source_message_ids`. */
function namedByEvents(ledger: DeliveryLedger): Set<string> {
  const named = new Set<string>();
  for (const { event } of ledger.results) {
    named.add(event.source_message_id);
    for (const id of event.source_message_ids ?? []) named.add(id);
  }
  return named;
}

/**
 * Whether every collected message has reached its end: an incomplete set's in the DLQ; a complete set's parts in
 * the DLQ, or acknowledged and named by a results event. The soak waits for this after the stack settles, since
 * an incomplete set ends only at its collection's check (COLLECT_TIMEOUT_SECONDS after its first output).
 */
export function collectedSettled(expectations: Map<string, CollectedExpectation>, ledger: DeliveryLedger): boolean {
  const named = namedByEvents(ledger);
  for (const [turn, ids] of turnsOf(expectations)) {
    for (const id of [...ids.parts, ...ids.duplicates]) {
      if (ledger.deadLetterOf(id)) continue;
      if (!ledger.acknowledged.has(id) || !turn.complete) return false;
    }
    if (turn.complete && ids.parts.some((id) => !ledger.deadLetterOf(id) && !named.has(id))) return false;
  }
  return true;
}

/** How a continuation ends without answering: the outputs sent again then are a retry (simulator `retriesAfterFailure`). */
const ENDED_WITHOUT_ANSWER = new Set(["failed", "incomplete", "cancelled"]);

/**
 * How many answers to the turn's set stand: the run moved past its calls; the response's continuations, less those
 * that ended without answering (a failed one retried counts once).
 */
function timesTaken(sim: EndpointSimulator, turn: CollectedTurn): number {
  if (turn.scope.api === "responses") {
    const children = sim.children(turn.scope.responseId);
    const standing = children.filter((id) => !ENDED_WITHOUT_ANSWER.has(sim.response(id)?.status ?? "failed")).length;
    return children.length > 0 ? Math.max(1, standing) : 0;
  }
  const run = sim.run(turn.scope.threadId, turn.scope.runId);
  if (run === undefined || run.status === "expired") return 0;
  const asked = run.required_action?.submit_tool_outputs.tool_calls.map((call) => call.id) ?? [];
  return run.status === "requires_action" && asked.some((id) => turn.callIds.includes(id)) ? 0 : 1;
}

/** Why a complete set's parts are in the DLQ, in a few words (the soak report counts them by it). */
function whyInDlq(letters: Array<{ reason: string; record: { detail?: string } }>): string {
  const details = letters.map((l) => `${l.reason}: ${l.record.detail ?? ""}`);
  if (details.some((d) => d.startsWith("retries_exhausted"))) return "the completing message gave up (retries_exhausted)";
  if (details.some((d) => d.startsWith("submission_unconfirmed"))) return "its POST failed ambiguously (submission_unconfirmed)";
  if (details.some((d) => d.includes("COLLECT_TIMEOUT_SECONDS"))) return "a part came after COLLECT_TIMEOUT_SECONDS (collect_incomplete)";
  if (details.some((d) => d.includes("could not be submitted")))
    return "its submission was handed back on the last receive (collect_incomplete)";
  return details[0]!.slice(0, 120);
}

const label = (turn: CollectedTurn) => {
  const s = turn.subject;
  const what = s.api === "assistants" ? s.runKey : s.api === "agents" ? s.sessionId : "conversation" in s ? s.conversation : s.answers;
  return `${turn.complete ? "complete" : "incomplete"} set of ${turn.parts} (${what})`;
};

/**
 * Judges every collected turn once the soak has settled. Runs given the same outputs twice and forked responses
 * are counted by the simulator for the whole soak as well.
 * @example const collected = collectedOutcome(expectations, stack.ledger, stack.sim!);
 */
export function collectedOutcome(
  expectations: Map<string, CollectedExpectation>,
  ledger: DeliveryLedger,
  sim: EndpointSimulator,
): CollectedReport {
  const named = namedByEvents(ledger);
  const report: CollectedReport = {
    turns: 0,
    completeTurns: 0,
    incompleteTurns: 0,
    messages: expectations.size,
    duplicates: 0,
    submittedOnce: 0,
    endedInDlq: [],
    submittedTwice: 0,
    incompleteInDlq: 0,
    incompleteSubmitted: 0,
    lostIds: [],
    unexpected: [],
  };
  const reasonOf = (id: string) => ledger.deadLetterOf(id)?.reason;
  const got = (id: string) => {
    const letter = ledger.deadLetterOf(id);
    if (letter) return `DLQ ${letter.reason}: ${(letter.record.detail ?? "").slice(0, 200)}`;
    return ledger.acknowledged.has(id) ? "acknowledged" : "pending";
  };
  for (const [turn, ids] of turnsOf(expectations)) {
    report.turns++;
    report.duplicates += ids.duplicates.length;
    const all = [...ids.parts, ...ids.duplicates];
    const taken = timesTaken(sim, turn);
    if (taken > 1) report.submittedTwice++;
    report.lostIds.push(...all.filter((id) => !ledger.deadLetterOf(id) && !ledger.acknowledged.has(id)));

    if (!turn.complete) {
      report.incompleteTurns++;
      if (taken > 0) report.incompleteSubmitted++;
      const wrong = all.filter((id) => ledger.acknowledged.has(id) && !INCOMPLETE.has(reasonOf(id) ?? ""));
      for (const id of wrong) report.unexpected.push({ messageId: id, expected: `DLQ collect_incomplete (${label(turn)})`, got: got(id) });
      if (wrong.length === 0 && all.every((id) => INCOMPLETE.has(reasonOf(id) ?? "")) && taken === 0) report.incompleteInDlq++;
      continue;
    }

    report.completeTurns++;
    const dead = ids.parts.filter((id) => reasonOf(id) !== undefined);
    if (dead.length === 0) {
      // Acknowledged: the set must have been taken once and every part named by its event.
      const silent = ids.parts.filter((id) => ledger.acknowledged.has(id) && !named.has(id));
      report.lostIds.push(...silent);
      for (const id of ids.duplicates.filter((d) => reasonOf(d) !== undefined))
        report.unexpected.push({ messageId: id, expected: `acknowledged (duplicate, ${label(turn)})`, got: got(id) });
      if (taken === 1 && silent.length === 0) report.submittedOnce++;
      else if (taken !== 1)
        report.unexpected.push({ messageId: ids.parts[0]!, expected: `taken once (${label(turn)})`, got: `taken ${taken} times` });
      continue;
    }
    // In the DLQ: all of its parts, each with a reason allowed under faults, and taken at most once.
    const reasons = [...new Set(dead.map((id) => reasonOf(id)!))].sort();
    const allowed = (reason: string) => GAVE_UP.has(reason) || (turn.unconfirmable && reason === "submission_unconfirmed");
    const stray = ids.parts.filter((id) => reasonOf(id) === undefined || !allowed(reasonOf(id)!));
    for (const id of stray)
      report.unexpected.push({ messageId: id, expected: `every part in the DLQ together (${label(turn)})`, got: got(id) });
    if (stray.length === 0)
      report.endedInDlq.push({ turn: label(turn), reasons, why: whyInDlq(dead.map((id) => ledger.deadLetterOf(id)!)) });
  }
  return report;
}
