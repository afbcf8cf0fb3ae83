/** What one soak found (bench/soak.ts), and how `npm run soak` prints it. */
import { billingLines, type SoakBilling } from "./lib/soak-billing";
import type { CollectedReport } from "./soak-collected";

export interface SoakReport {
  sent: number;
  valid: number;
  /** Of the valid turns: runs, and responses (conversation mode included). */
  validRuns: number;
  validResponses: number;
  /** Of the valid messages: those answering Agents sessions (a turn answered by two workers counts twice). */
  validSessions: number;
  /** Agents: results the sessions admitted, and results sent for a call a session had already taken (must be 0). */
  agentResultsAdmitted: number;
  agentResultsForAnsweredCalls: number;
  /** Agents API calls (events POSTs, session and turn reads, item lists, streams). */
  agentCalls: number;
  duplicates: number;
  poison: number;
  /** The collected turns (outputs from 2–4 messages each): their messages are counted in `sent`, not in `valid`. */
  collected: CollectedReport;
  /** Messages the tool worker sent for second rounds (both APIs), and how many of them the soak sent twice. */
  secondRounds: number;
  secondRoundDuplicates: number;
  accepted: number;
  deadLettered: Record<string, number>;
  /** Never settled, or acknowledged without any trace (no result, no DLQ record): must be 0. */
  lost: number;
  lostIds: string[];
  /** What each lost message was and how it was lost, in words (no bodies). */
  lostAs: string[];
  /** Messages that ended other than expected (a valid one acknowledged without trace, a poison one with the wrong reason, …). */
  unexpected: Array<{ messageId: string; expected: string; got: string }>;
  /**
   * Messages the relay gave up on after the last receive because the endpoint kept failing: in the DLQ as
   * `retries_exhausted`, which the outcome table allows under transient faults (not lost, but worth watching).
   */
  gaveUp: Array<{ messageId: string; expected: string; detail: string }>;
  /**
   * Responses turns off any conversation whose POST failed ambiguously: in the DLQ as `submission_unconfirmed`
   * (RESPONSES_UNCONFIRMED=dead_letter, the default), which the contract prescribes: the API cannot tell whether it
   * was taken, so the relay does not submit again (not lost, and no fork).
   */
  unconfirmed: Array<{ messageId: string; expected: string }>;
  /** Runs that received the same outputs twice (the simulator's count): must be 0. */
  doubleAcceptances: number;
  /** Responses continued more than once (the simulator's `forks`): must be 0. */
  forks: number;
  /**
   * Responses continued again after their continuation ended failed (the simulator's `retriesAfterFailure`): a
   * conversation turn whose ambiguous POST started a response that failed shows no outputs, so the next receive
   * submits again (conversation-mode recovery): allowed, no answer stands beside it.
   */
  retriesAfterFailure: number;
  /** Valid runs whose outputs the endpoint never took. */
  runsNeverAccepted: number;
  /** Valid responses (previous_response_id mode) never continued: only those the relay gave up on may be. */
  responsesNeverContinued: number;
  endpointCalls: number;
  /** Of which to the Responses and Conversations APIs. */
  responsesCalls: number;
  faultsInjected: number;
  faultRate: number;
  invocations: number;
  batchItemFailures: number;
  wallMs: number;
  messagesPerSecond: number;
  peakRssBytes: number;
  /** What the invocations would be billed (lib/soak-billing.ts). */
  billing: SoakBilling;
}

const examples = (list: Array<{ expected: string }>) =>
  list.length
    ? `  expected: ${list
        .map((g) => g.expected)
        .slice(0, 5)
        .join("; ")}`
    : "";

/** The complete sets in the DLQ, counted by why. */
function inDlqByWhy(sets: Array<{ why: string }>): string[] {
  const counts = new Map<string, number>();
  for (const { why } of sets) counts.set(why, (counts.get(why) ?? 0) + 1);
  return [...counts].sort(([, a], [, b]) => b - a).map(([why, n]) => `    ${String(n).padStart(5)}  ${why}`);
}

/** @example console.log(formatSoakReport(await runSoak({ messages: 300 }))); */
export function formatSoakReport(r: SoakReport): string {
  const reasons = Object.entries(r.deadLettered)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([reason, n]) => `    ${reason.padEnd(30)} ${n}`)
    .join("\n");
  return [
    `sent                      ${r.sent} (${r.valid} valid: ${r.validRuns} runs, ${r.validResponses} responses, ${r.validSessions} Agents messages; ${r.duplicates} duplicate deliveries, ${r.poison} poison)`,
    `collected turns           ${r.collected.turns} (${r.collected.completeTurns} complete, ${r.collected.incompleteTurns} with a part held back) in ${r.collected.messages} messages (${r.collected.duplicates} duplicate deliveries)`,
    `  complete sets           ${r.collected.submittedOnce} submitted once and reported, ${r.collected.endedInDlq.length} in the DLQ under faults, ${r.collected.submittedTwice} submitted twice`,
    ...inDlqByWhy(r.collected.endedInDlq),
    `  incomplete sets         ${r.collected.incompleteInDlq} with every message in the DLQ, ${r.collected.incompleteSubmitted} submitted`,
    `second rounds             ${r.secondRounds} sent by the tool worker, ${r.secondRoundDuplicates} of them sent twice (included in sent)`,
    `endpoint calls            ${r.endpointCalls} (${r.responsesCalls} to the Responses API, ${r.agentCalls} to the Agents API), ${r.faultsInjected} failed on purpose (${(r.faultRate * 100).toFixed(1)}%)`,
    `accepted (acknowledged)   ${r.accepted}`,
    `dead-lettered             ${Object.values(r.deadLettered).reduce((a, b) => a + b, 0)}`,
    reasons,
    `lost                      ${r.lost}${r.lost ? `  e.g. ${r.lostIds.slice(0, 3).join(", ")}: ${[...new Set(r.lostAs)].slice(0, 4).join("; ")}` : ""}`,
    `unexpected outcomes       ${r.unexpected.length}${r.unexpected.length ? `  e.g. ${JSON.stringify(r.unexpected.slice(0, 3))}` : ""}`,
    `gave up (retries_exh.)    ${r.gaveUp.length}${examples(r.gaveUp)}`,
    `unconfirmed (allowed)     ${r.unconfirmed.length}${examples(r.unconfirmed)}`,
    `runs given outputs twice  ${r.doubleAcceptances}`,
    `responses forked          ${r.forks}`,
    `Agents results admitted   ${r.agentResultsAdmitted}; sent again for a call already taken: ${r.agentResultsForAnsweredCalls}`,
    `retried after a failure   ${r.retriesAfterFailure} (a response continued again once its continuation failed; allowed)`,
    `valid runs never accepted ${r.runsNeverAccepted}`,
    `responses never continued ${r.responsesNeverContinued}`,
    `invocations               ${r.invocations} (${r.batchItemFailures} records handed back)`,
    `wall time                 ${(r.wallMs / 1000).toFixed(1)} s`,
    `throughput                ${r.messagesPerSecond.toFixed(0)} msgs/s`,
    `peak memory (RSS)         ${(r.peakRssBytes / 1024 / 1024).toFixed(0)} MiB`,
    ...billingLines(r.billing, r.sent),
  ].join("\n");
}
