/**
 * The soak: many messages through the local stack (real handler, event-source poller, fauxqs, dynalite, endpoint
 * simulator) while the endpoint fails transiently, with poison messages and duplicate deliveries mixed in, for both
 * APIs: runs, and Responses turns in each mode (previous_response_id, a response on a conversation, a conversation's
 * waiting calls), some two rounds deep, the second round sent by the local tool worker and some of it sent twice; and
 * turns whose outputs are collected from 2–4 messages (`collect: true`), some of which never complete.
 * Shared by `npm run soak` (bench/soak-cli.ts, ≥ 10 000 messages) and test/soak/soak.test.ts (a few hundred).
 *
 * What it proves: every message is accounted for (acknowledged with a published result, or in the DLQ
 * with the reason it deserves), no run takes the same outputs twice, and no response is continued twice (forked);
 * every complete collected set is submitted once and reported, every incomplete one's messages end in the DLQ.
 */
import { performance } from "node:perf_hooks";
import { type ResultsEvent, subjectOf } from "../functions/submit-tool-outputs/dialects/index";
import { FAULT_KINDS, type FaultKind } from "../local/endpoint-simulator";
import { type LocalStack, startLocalStack } from "../local/local-stack";
import { startToolWorker, type ToolWorkerAnswer } from "../local/tool-worker";
import { soakBilling } from "./lib/soak-billing";
import { trackPeakRss } from "./lib/stats";
import { collectedOutcome, collectedSettled } from "./soak-collected";
import { type CollectedExpectation, type Expectation, type Planned, planSoak, type Subject, type TurnExpectation } from "./soak-plan";
import type { SoakReport } from "./soak-report";

export { formatSoakReport, type SoakReport } from "./soak-report";

export interface SoakOptions {
  /** SQS messages sent in all (valid + duplicates + poison), before the tool worker's second rounds. */
  messages: number;
  /**
   * Chance that an endpoint call (submit, GET run, GET steps, and the Responses API's calls) rolls a fault. Default
   * 0.41: some rolls pick a kind that does not fit the call (accept_then_500 on a GET, stream_error without a stream,
   * conversation_locked off a conversation) and pass, so about a quarter of all calls fail, as when the soak had seven
   * kinds and rolled 0.32 (a run's submit still fails 27 % of the time); the report counts the real share.
   */
  faultProbability?: number;
  /** Share of poison messages (contract violations and messages the endpoint must refuse). Default 0.06. */
  poisonShare?: number;
  /** Share of duplicate deliveries (a valid message sent a second time). Default 0.06. */
  duplicateShare?: number;
  /** Share of the valid messages that are Responses-API turns. Default 0.4. */
  responsesShare?: number;
  /** Share of the valid turns whose outputs are collected from 2–4 messages. Default 0.3. */
  collectShare?: number;
  /** Share of the collected turns that never complete (one part held back). Default 0.15. */
  incompleteShare?: number;
  /** Same seed, same message mix and fault sequence (timing still varies). Default 42. */
  seed?: number;
  /** Concurrent event-source pollers (Lambda concurrency). Default 4. */
  pollers?: number;
  /**
   * COLLECT_TIMEOUT_SECONDS of the relay: an incomplete collected set ends this long after its first output, and a
   * complete set whose parts the faults spread wider ends incomplete too. Default 60, the least the relay allows.
   */
  collectTimeoutSeconds?: number;
  /** Give up waiting for the stack to settle after this long. Default 10 minutes: allow for the collect timeout. */
  settleTimeoutMs?: number;
  /** Told progress now and then (for the CLI). */
  onProgress?: (line: string) => void;
  /** Count the relay's AWS requests through request meters (lib/request-meter.ts) for the cost lines. Default false. */
  meter?: boolean;
}

/** The transient faults the endpoint throws (the outcome tables' retry and ambiguous rows): each one the relay must survive. */
export const SOAK_FAULT_KINDS: readonly FaultKind[] = FAULT_KINDS.filter(
  // A quota used up or a key refused is a standing condition, not a transient fault: not in the soak's mix.
  (kind) => kind !== "insufficient_quota" && kind !== "unauthorized",
);

/** A `slow` fault answers after this long, past the relay's endpoint timeout: a timeout every time. */
const SLOW_MS = 400;
const ENDPOINT_TIMEOUT_MS = 250;
/** Every third second round the tool worker sends is delivered twice, at once: the turns most likely to fork. */
const SECOND_ROUND_DUPLICATE_EVERY = 3;

/**
 * Runs one soak and returns its report; never throws for a relay misbehaviour (the report says it).
 * @example const report = await runSoak({ messages: 300 }); expect(report.lost).toBe(0);
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const o = {
    faultProbability: 0.41,
    poisonShare: 0.06,
    duplicateShare: 0.06,
    responsesShare: 0.4,
    collectShare: 0.3,
    incompleteShare: 0.15,
    seed: 42,
    pollers: 4,
    collectTimeoutSeconds: 60,
    settleTimeoutMs: 600_000,
    ...options,
  };
  const memory = trackPeakRss();
  const billing = await soakBilling(o.meter === true);
  const stack = await startLocalStack({
    maxReceiveCount: 5,
    // A copy that finds another's live claim waits for the claim's lease (the owner's Lambda deadline): keep it short.
    visibilityTimeoutSeconds: 5,
    functionTimeoutMs: 5_000,
    simulator: { processingMs: 30, pollAfterMs: 20 },
    env: {
      ENDPOINT_TIMEOUT_MS: String(ENDPOINT_TIMEOUT_MS),
      FOLLOW_BUDGET_MS: "3000",
      COLLECT_TIMEOUT_SECONDS: String(o.collectTimeoutSeconds),
      ...billing.env,
    },
    poller: { pollers: o.pollers },
    wrapHandler: billing.wrapHandler,
    onInvocation: billing.onInvocation,
  });
  billing.attach(stack);
  const expectations = new Map<string, Expectation>();
  const duplicateSends: Promise<void>[] = [];
  let secondRoundDuplicates = 0;
  const worker = startToolWorker(stack, {
    runTool: (call) => JSON.stringify({ call: call.id, text: "soak second round" }),
    onAnswer: (answer) => {
      const expected = answerExpectation(answer);
      expectations.set(answer.messageId, expected);
      if (worker.sent.length % SECOND_ROUND_DUPLICATE_EVERY !== 1) return;
      duplicateSends.push(
        stack.send(answer.body).then((id) => {
          expectations.set(id, { ...expected, kind: "duplicate" });
          secondRoundDuplicates++;
        }),
      );
    },
  });
  try {
    const sim = stack.sim!;
    const planned = planSoak(sim, o);
    sim.setRandomFaults({
      probability: o.faultProbability,
      kinds: [...SOAK_FAULT_KINDS],
      seed: o.seed,
      retryAfterMs: 20,
      delayMs: SLOW_MS,
    });

    const started = performance.now();
    const progress = setInterval(() => {
      const s = stack.poller.stats;
      o.onProgress?.(
        `${((performance.now() - started) / 1000).toFixed(0)} s: ${s.deleted} acknowledged, ${s.batchItemFailures} handed back, ${s.invocations} invocations, ${worker.sent.length} second rounds`,
      );
    }, 5_000);
    progress.unref();
    for (const wave of [1, 2] as const) {
      const inWave = planned.filter((p) => p.wave === wave);
      const ids = await stack.sendMany(inWave.map((p) => p.body));
      for (const [i, id] of ids.entries()) expectations.set(id, inWave[i]!.expect);
    }
    // Until the worker has answered every second round it read and nothing moves any more.
    const deadline = Date.now() + o.settleTimeoutMs;
    let answered: number;
    do {
      answered = worker.sent.length;
      await Promise.all(duplicateSends);
      await stack.settle(expectations.keys(), { timeoutMs: Math.max(1, deadline - Date.now()) });
      await worker.caughtUp();
      await Promise.all(duplicateSends);
    } while (worker.sent.length !== answered && Date.now() < deadline);
    // A collected message is acknowledged once stored: its set ends later (its submission, or its collection's check).
    const collected = new Map<string, CollectedExpectation>();
    for (const [id, e] of expectations) if (e.kind === "collected") collected.set(id, e);
    while (!collectedSettled(collected, stack.ledger) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      await stack.readResults();
      await stack.readDeadLetters();
    }
    const accounting = stack.ledger.account([...expectations.keys()].filter((id) => !collected.has(id)));
    const wallMs = performance.now() - started;
    clearInterval(progress);
    sim.setRandomFaults(undefined);

    const reported = reportedBy(
      stack.ledger.results.map((r) => r.event),
      (id) => sim.children(id),
    );
    const unexpected: SoakReport["unexpected"] = [];
    const silent: string[] = [];
    const expectationOf = (id: string) => expectations.get(id) as Exclude<Expectation, CollectedExpectation>;
    for (const id of accounting.accepted) {
      const expected = expectationOf(id);
      if (expected.kind === "dead_letter")
        unexpected.push({ messageId: id, expected: `DLQ ${expected.reason} (${expected.poison})`, got: "acknowledged" });
      else if (!reported(expected.subject)) silent.push(id);
    }
    const deadLettered: Record<string, number> = {};
    const gaveUp: SoakReport["gaveUp"] = [];
    const unconfirmed: SoakReport["unconfirmed"] = [];
    for (const { reason } of stack.ledger.account(collected.keys()).deadLettered) deadLettered[reason] = (deadLettered[reason] ?? 0) + 1;
    for (const { messageId, reason } of accounting.deadLettered) {
      deadLettered[reason] = (deadLettered[reason] ?? 0) + 1;
      const expected = expectationOf(messageId);
      const described = expected.kind === "dead_letter" ? `DLQ ${expected.reason} (${expected.poison})` : describe(expected);
      const detail = (stack.ledger.deadLetterOf(messageId)?.record.detail ?? "").slice(0, 300);
      if (reason === "retries_exhausted" && !(expected.kind === "dead_letter" && expected.reason === "invalid_message"))
        gaveUp.push({ messageId, expected: described, detail });
      else if (reason === "submission_unconfirmed" && expected.kind !== "dead_letter" && expected.unconfirmable)
        unconfirmed.push({ messageId, expected: described });
      else if (expected.kind !== "dead_letter") unexpected.push({ messageId, expected: described, got: `DLQ ${reason}: ${detail}` });
      else if (expected.reason !== reason)
        unexpected.push({ messageId, expected: `DLQ ${expected.reason} (${expected.poison})`, got: `DLQ ${reason}: ${detail}` });
    }

    const c = sim.counters;
    const responsesCalls = c.responsePosts + c.responseGets + c.inputItemLists + c.conversationItemLists + c.cancels;
    const endpointCalls = c.submits + c.gets + c.stepLists + responsesCalls;
    const collectedReport = collectedOutcome(collected, stack.ledger, sim);
    unexpected.push(...collectedReport.unexpected);
    const lostIds = [...accounting.pending, ...silent, ...collectedReport.lostIds];
    const firstRounds = planned.filter((p): p is Planned & { expect: { kind: "accepted" } } => p.expect.kind === "accepted");
    return {
      sent: expectations.size,
      valid: firstRounds.length,
      validRuns: firstRounds.filter((p) => p.expect.subject.api === "assistants").length,
      validResponses: firstRounds.filter((p) => p.expect.subject.api === "responses").length,
      duplicates: [...expectations.values()].filter((e) => e.kind === "duplicate" || (e.kind === "collected" && e.duplicate)).length,
      poison: planned.filter((p) => p.expect.kind === "dead_letter").length,
      collected: collectedReport,
      secondRounds: worker.sent.length,
      secondRoundDuplicates,
      accepted: accounting.accepted.length + stack.ledger.account(collected.keys()).accepted.length,
      deadLettered,
      lost: lostIds.length,
      lostIds,
      unexpected,
      gaveUp,
      unconfirmed,
      doubleAcceptances: c.doubleAcceptances,
      forks: c.forks,
      retriesAfterFailure: c.retriesAfterFailure,
      runsNeverAccepted: runsNeverAccepted(stack, firstRounds),
      responsesNeverContinued: firstRounds.filter(
        (p) => "answers" in p.expect.subject && sim.children(p.expect.subject.answers).length === 0,
      ).length,
      endpointCalls,
      responsesCalls,
      faultsInjected: c.faultsInjected,
      faultRate: endpointCalls === 0 ? 0 : c.faultsInjected / endpointCalls,
      invocations: stack.poller.stats.invocations,
      batchItemFailures: stack.poller.stats.batchItemFailures,
      wallMs,
      messagesPerSecond: expectations.size / (wallMs / 1000),
      peakRssBytes: memory.peakBytes,
      billing: billing.report(stack.poller, expectations.size),
    };
  } finally {
    await worker.stop();
    await stack.close();
    await billing.close();
    memory.stop();
  }
}

/** What a second round the tool worker sent must lead to: its event's subject, one turn further down. */
function answerExpectation(answer: ToolWorkerAnswer): TurnExpectation {
  const { event, reply } = answer;
  if (event.api === "assistants") return { kind: "answer", subject: { api: "assistants", runKey: subjectOf(event) }, unconfirmable: false };
  if ("response_id" in reply)
    return { kind: "answer", subject: { api: "responses", answers: reply.response_id }, unconfirmable: event.conversation_id === null };
  if ("conversation_id" in reply)
    return { kind: "answer", subject: { api: "responses", conversation: reply.conversation_id }, unconfirmable: false };
  throw new Error(`a responses event replies with run ids: ${event.event_id}`);
}

/**
 * Whether an acknowledged message's subject was reported: its run's state; for a response, the state of its
 * continuation (an event naming it as the response answered, or reporting one of its children, as a watch does);
 * for a conversation, any event of it.
 */
function reportedBy(events: ResultsEvent[], children: (responseId: string) => string[]): (subject: Subject) => boolean {
  const runs = new Set<string>();
  const answered = new Set<string>();
  const responses = new Set<string>();
  const conversations = new Set<string>();
  for (const event of events) {
    if (event.api === "assistants") {
      runs.add(subjectOf(event));
      continue;
    }
    if (event.previous_response_id) answered.add(event.previous_response_id);
    if (event.response_id) responses.add(event.response_id);
    if (event.conversation_id) conversations.add(event.conversation_id);
  }
  return (subject) => {
    if (subject.api === "assistants") return runs.has(subject.runKey);
    if ("conversation" in subject) return conversations.has(subject.conversation);
    return answered.has(subject.answers) || children(subject.answers).some((child) => responses.has(child));
  };
}

function describe(expected: TurnExpectation): string {
  const s = expected.subject;
  const what = s.api === "assistants" ? "run" : "conversation" in s ? "conversation turn" : "response turn";
  return `${expected.kind} (${what})`;
}

/** Valid runs still asking for the very ids the soak sent: the endpoint never took them. */
function runsNeverAccepted(stack: LocalStack, firstRounds: Planned[]): number {
  let never = 0;
  for (const p of firstRounds) {
    if (p.expect.kind !== "accepted" || p.expect.subject.api !== "assistants" || !("runKey" in p.expect.subject)) continue;
    const [threadId, runId] = p.expect.subject.runKey.split(" / ") as [string, string];
    const sentIds = (JSON.parse(p.body) as { tool_outputs: Array<{ tool_call_id: string }> }).tool_outputs.map((t) => t.tool_call_id);
    const run = stack.sim!.run(threadId, runId);
    const asked = run?.required_action?.submit_tool_outputs.tool_calls.map((call) => call.id) ?? [];
    if (run === undefined || (run.status === "requires_action" && asked.some((id) => sentIds.includes(id)))) never++;
  }
  return never;
}
