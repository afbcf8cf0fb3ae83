/**
 * The soak: many messages through the local stack (real handler, event-source poller, fauxqs, endpoint
 * simulator) while the endpoint fails transiently, with poison messages and duplicate deliveries mixed in.
 * Shared by `npm run soak` (bench/soak-cli.ts, ≥ 10 000 messages) and test/soak/soak.test.ts (a few hundred).
 *
 * What it proves: every message is accounted for (acknowledged with a published result, or in the DLQ
 * with the reason it deserves), and no run takes the same outputs twice.
 */
import { performance } from "node:perf_hooks";
import { BAD_INPUT_CORPUS } from "../fixtures/bad-input-corpus";
import { answerFor } from "../fixtures/messages";
import { subjectOf } from "../functions/submit-tool-outputs/results-event";
import { type FaultKind, seededRandom } from "../local/endpoint-simulator";
import { type LocalStack, startLocalStack } from "../local/local-stack";
import { billingLines, type SoakBilling, soakBilling } from "./lib/soak-billing";
import { trackPeakRss } from "./lib/stats";

export interface SoakOptions {
  /** SQS messages sent in all (valid + duplicates + poison). */
  messages: number;
  /**
   * Chance that an endpoint call (submit, GET run, GET steps) rolls a fault. Default 0.32: some rolls pick a
   * kind that does not fit the call (accept_then_500 on a GET, stream_error without a stream) and pass, so
   * about a quarter of all calls fail; the report counts the real share.
   */
  faultProbability?: number;
  /** Share of poison messages (contract violations and messages the endpoint must refuse). Default 0.06. */
  poisonShare?: number;
  /** Share of duplicate deliveries (a valid message sent a second time). Default 0.06. */
  duplicateShare?: number;
  /** Same seed, same message mix and fault sequence (timing still varies). Default 42. */
  seed?: number;
  /** Concurrent event-source pollers (Lambda concurrency). Default 4. */
  pollers?: number;
  /** Give up waiting for the stack to settle after this long. Default 10 minutes. */
  settleTimeoutMs?: number;
  /** Told progress now and then (for the CLI). */
  onProgress?: (line: string) => void;
  /** Count the relay's AWS requests through request meters (lib/request-meter.ts) for the cost lines. Default false. */
  meter?: boolean;
}

/** The transient faults the endpoint throws (the outcome table's retry row): each one the relay must survive. */
export const SOAK_FAULT_KINDS: readonly FaultKind[] = [
  "rate_limit",
  "server_error",
  "gateway_failure",
  "slow",
  "drop",
  "accept_then_500",
  "stream_error",
];

/** A `slow` fault answers after this long, past the relay's endpoint timeout: a timeout every time. */
const SLOW_MS = 400;
const ENDPOINT_TIMEOUT_MS = 250;
/** Bigger corpus bodies are left to the corpus test: SendMessageBatch takes at most 1 MiB per call. */
const MAX_POISON_BODY_BYTES = 64 * 1024;

type Expectation =
  | { kind: "accepted"; runKey: string }
  | { kind: "duplicate"; runKey: string }
  | { kind: "dead_letter"; reason: string; poison: string };

interface Planned {
  body: string;
  expect: Expectation;
  /** Duplicates of the second wave are sent after everything else. */
  wave: 1 | 2;
}

export interface SoakReport {
  sent: number;
  valid: number;
  duplicates: number;
  poison: number;
  accepted: number;
  deadLettered: Record<string, number>;
  /** Never settled, or acknowledged without any trace (no result, no DLQ record): must be 0. */
  lost: number;
  lostIds: string[];
  /** Messages that ended other than expected (a valid one acknowledged without trace, a poison one with the wrong reason, …). */
  unexpected: Array<{ messageId: string; expected: string; got: string }>;
  /**
   * Messages the relay gave up on after the last receive because the endpoint kept failing: in the DLQ as
   * `retries_exhausted`, which the outcome table allows under transient faults (not lost, but worth watching).
   */
  gaveUp: Array<{ messageId: string; expected: string }>;
  /** Runs that received the same outputs twice (the simulator's count): must be 0. */
  doubleAcceptances: number;
  /** Valid runs whose outputs the endpoint never took. */
  runsNeverAccepted: number;
  endpointCalls: number;
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

/** Builds the message mix: unique valid runs, poison of every kind, and duplicates of valid ones. */
function plan(stack: LocalStack, options: Required<Pick<SoakOptions, "messages" | "poisonShare" | "duplicateShare" | "seed">>): Planned[] {
  const sim = stack.sim!;
  const random = seededRandom(options.seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const poisonCount = Math.ceil(options.messages * options.poisonShare);
  const duplicateCount = Math.ceil(options.messages * options.duplicateShare);
  const validCount = options.messages - poisonCount - duplicateCount;
  const corpus = BAD_INPUT_CORPUS.filter((c) => Buffer.byteLength(c.body) <= MAX_POISON_BODY_BYTES);

  const valid: Planned[] = [];
  for (let i = 0; i < validCount; i++) {
    const roll = random();
    const then = roll < 0.1 ? [{ requiresAction: 1 }] : roll < 0.15 ? ["failed" as const] : ["completed" as const];
    const run = sim.createRun({ toolCalls: 1 + Math.floor(random() * 3), afterOutputs: then });
    const message = answerFor(
      run,
      { ...(random() < 0.1 ? { stream: true } : {}), ...(random() < 0.3 ? { metadata: { tenant: `t${i % 7}` } } : {}) },
      () => JSON.stringify({ n: i, text: "soak output" }),
    );
    valid.push({ body: JSON.stringify(message), expect: { kind: "accepted", runKey: `${run.threadId} / ${run.runId}` }, wave: 1 });
  }

  const poison: Planned[] = [];
  for (let i = 0; i < poisonCount; i++) {
    const roll = random();
    if (roll < 0.6) {
      const badCase = pick(corpus);
      poison.push({
        body: badCase.body,
        expect: { kind: "dead_letter", reason: badCase.reason, poison: `corpus: ${badCase.name}` },
        wave: 1,
      });
    } else if (roll < 0.73) {
      const body = JSON.stringify({
        thread_id: `thread_missing${i}`,
        run_id: `run_missing${i}`,
        tool_outputs: [{ tool_call_id: "call_x", output: "1" }],
      });
      poison.push({ body, expect: { kind: "dead_letter", reason: "run_not_found", poison: "unknown run" }, wave: 1 });
    } else if (roll < 0.86) {
      const run = sim.createRun({ toolCalls: ["call_expected"] });
      const body = JSON.stringify({
        thread_id: run.threadId,
        run_id: run.runId,
        tool_outputs: [{ tool_call_id: "call_other", output: "1" }],
      });
      poison.push({ body, expect: { kind: "dead_letter", reason: "tool_call_mismatch", poison: "wrong call ids" }, wave: 1 });
    } else {
      const run = sim.createRun();
      sim.expireRun(run.threadId, run.runId);
      const body = JSON.stringify({
        thread_id: run.threadId,
        run_id: run.runId,
        tool_outputs: run.toolCallIds.map((id) => ({ tool_call_id: id, output: "1" })),
      });
      poison.push({ body, expect: { kind: "dead_letter", reason: "run_expired", poison: "expired run" }, wave: 1 });
    }
  }

  // Half of the duplicates travel with the first wave (often in the same batch as their twin), half come late.
  const duplicates: Planned[] = Array.from({ length: duplicateCount }, (_, i) => {
    const original = pick(valid);
    return {
      body: original.body,
      expect: { kind: "duplicate", runKey: (original.expect as { runKey: string }).runKey },
      wave: i % 2 === 0 ? 1 : 2,
    };
  });

  const firstWave = [...valid, ...poison, ...duplicates.filter((d) => d.wave === 1)];
  for (let i = firstWave.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [firstWave[i], firstWave[j]] = [firstWave[j]!, firstWave[i]!];
  }
  return [...firstWave, ...duplicates.filter((d) => d.wave === 2)];
}

/**
 * Runs one soak and returns its report; never throws for a relay misbehaviour (the report says it).
 * @example const report = await runSoak({ messages: 300 }); expect(report.lost).toBe(0);
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const o = { faultProbability: 0.32, poisonShare: 0.06, duplicateShare: 0.06, seed: 42, pollers: 4, settleTimeoutMs: 600_000, ...options };
  const memory = trackPeakRss();
  const billing = await soakBilling(o.meter === true);
  const stack = await startLocalStack({
    maxReceiveCount: 5,
    simulator: { processingMs: 30, pollAfterMs: 20 },
    env: { ENDPOINT_TIMEOUT_MS: String(ENDPOINT_TIMEOUT_MS), FOLLOW_BUDGET_MS: "3000", ...billing.env },
    poller: { pollers: o.pollers },
    wrapHandler: billing.wrapHandler,
    onInvocation: billing.onInvocation,
  });
  billing.attach(stack);
  try {
    const sim = stack.sim!;
    const planned = plan(stack, o);
    const firstRoundIds = new Map(
      planned.flatMap((p) =>
        p.expect.kind === "accepted"
          ? [
              [
                p.expect.runKey,
                (JSON.parse(p.body) as { tool_outputs: Array<{ tool_call_id: string }> }).tool_outputs.map((t) => t.tool_call_id),
              ] as const,
            ]
          : [],
      ),
    );
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
        `${((performance.now() - started) / 1000).toFixed(0)} s: ${s.deleted} acknowledged, ${s.batchItemFailures} handed back, ${s.invocations} invocations`,
      );
    }, 5_000);
    progress.unref();
    const firstWave = planned.filter((p) => p.wave === 1);
    const ids = [
      ...(await stack.sendMany(firstWave.map((p) => p.body))),
      ...(await stack.sendMany(planned.filter((p) => p.wave === 2).map((p) => p.body))),
    ];
    const expectations = new Map(ids.map((id, i) => [id, planned[i]!.expect]));
    const accounting = await stack.settle(ids, { timeoutMs: o.settleTimeoutMs });
    const wallMs = performance.now() - started;
    clearInterval(progress);
    sim.setRandomFaults(undefined);

    // Acknowledged must mean "its run's state was published": by this message, or by the watch it left.
    const reportedRuns = new Set(stack.ledger.results.map((r) => subjectOf(r.event)));
    const unexpected: SoakReport["unexpected"] = [];
    const silent: string[] = [];
    for (const id of accounting.accepted) {
      const expected = expectations.get(id)!;
      if (expected.kind === "dead_letter")
        unexpected.push({ messageId: id, expected: `DLQ ${expected.reason} (${expected.poison})`, got: "acknowledged" });
      else if (!reportedRuns.has(expected.runKey)) silent.push(id);
    }
    const deadLettered: Record<string, number> = {};
    const gaveUp: SoakReport["gaveUp"] = [];
    for (const { messageId, reason } of accounting.deadLettered) {
      deadLettered[reason] = (deadLettered[reason] ?? 0) + 1;
      const expected = expectations.get(messageId)!;
      const described = expected.kind === "dead_letter" ? `DLQ ${expected.reason} (${expected.poison})` : expected.kind;
      if (reason === "retries_exhausted" && !(expected.kind === "dead_letter" && expected.reason === "invalid_message"))
        gaveUp.push({ messageId, expected: described });
      else if (expected.kind !== "dead_letter") unexpected.push({ messageId, expected: expected.kind, got: `DLQ ${reason}` });
      else if (expected.reason !== reason)
        unexpected.push({ messageId, expected: `DLQ ${expected.reason} (${expected.poison})`, got: `DLQ ${reason}` });
    }

    const validRuns = new Set(planned.flatMap((p) => (p.expect.kind === "accepted" ? [p.expect.runKey] : [])));
    // Still asking for the very ids we sent: the endpoint never took them.
    const runsNeverAccepted = [...validRuns].filter((key) => {
      const [threadId, runId] = key.split(" / ") as [string, string];
      const run = sim.run(threadId, runId);
      const asked = run?.required_action?.submit_tool_outputs.tool_calls.map((call) => call.id) ?? [];
      return run === undefined || (run.status === "requires_action" && asked.some((id) => firstRoundIds.get(key)?.includes(id)));
    }).length;

    const c = sim.counters;
    const endpointCalls = c.submits + c.gets + c.stepLists;
    const lostIds = [...accounting.pending, ...silent];

    return {
      sent: ids.length,
      valid: validRuns.size,
      duplicates: planned.filter((p) => p.expect.kind === "duplicate").length,
      poison: planned.filter((p) => p.expect.kind === "dead_letter").length,
      accepted: accounting.accepted.length,
      deadLettered,
      lost: lostIds.length,
      lostIds,
      unexpected,
      gaveUp,
      doubleAcceptances: c.doubleAcceptances,
      runsNeverAccepted,
      endpointCalls,
      faultsInjected: c.faultsInjected,
      faultRate: endpointCalls === 0 ? 0 : c.faultsInjected / endpointCalls,
      invocations: stack.poller.stats.invocations,
      batchItemFailures: stack.poller.stats.batchItemFailures,
      wallMs,
      messagesPerSecond: ids.length / (wallMs / 1000),
      peakRssBytes: memory.peakBytes,
      billing: billing.report(stack.poller, ids.length),
    };
  } finally {
    await stack.close();
    await billing.close();
    memory.stop();
  }
}

export function formatSoakReport(r: SoakReport): string {
  const reasons = Object.entries(r.deadLettered)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([reason, n]) => `    ${reason.padEnd(22)} ${n}`)
    .join("\n");
  return [
    `sent                      ${r.sent} (${r.valid} valid runs, ${r.duplicates} duplicate deliveries, ${r.poison} poison)`,
    `endpoint calls            ${r.endpointCalls}, ${r.faultsInjected} failed on purpose (${(r.faultRate * 100).toFixed(1)}%)`,
    `accepted (acknowledged)   ${r.accepted}`,
    `dead-lettered             ${Object.values(r.deadLettered).reduce((a, b) => a + b, 0)}`,
    reasons,
    `lost                      ${r.lost}${r.lost ? `  e.g. ${r.lostIds.slice(0, 3).join(", ")}` : ""}`,
    `unexpected outcomes       ${r.unexpected.length}${r.unexpected.length ? `  e.g. ${JSON.stringify(r.unexpected.slice(0, 3))}` : ""}`,
    `gave up (retries_exh.)    ${r.gaveUp.length}${
      r.gaveUp.length
        ? `  expected: ${r.gaveUp
            .map((g) => g.expected)
            .slice(0, 5)
            .join("; ")}`
        : ""
    }`,
    `runs given outputs twice  ${r.doubleAcceptances}`,
    `valid runs never accepted ${r.runsNeverAccepted}`,
    `invocations               ${r.invocations} (${r.batchItemFailures} records handed back)`,
    `wall time                 ${(r.wallMs / 1000).toFixed(1)} s`,
    `throughput                ${r.messagesPerSecond.toFixed(0)} msgs/s`,
    `peak memory (RSS)         ${(r.peakRssBytes / 1024 / 1024).toFixed(0)} MiB`,
    ...billingLines(r.billing, r.sent),
  ].join("\n");
}
