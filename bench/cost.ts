/**
 * Cost per million messages at AWS list prices (lib/prices.ts), from measured phases composed by lib/cost-model.ts.
 *
 * Measured here, on the rig (emulators and simulator in a child process, the real handler in this one), with every
 * endpoint call answering after BENCH_COST_ENDPOINT_MS (200) and every AWS call held BENCH_COST_AWS_MS (15) by the
 * request meters, which also count what AWS would bill: per invocation of each phase (a submission whose run rests
 * at once, in poll and stream mode; a submission leaving a watch; a watch of a moving run; a watch of a resting run;
 * collected turns of three messages; a collection's check), at batch sizes 1 and 10, both APIs — the billed time
 * (wall time + the relay's CPU time stretched to Lambda's share of a vCPU at BENCH_COST_MEMORY_MB, 512), the SQS,
 * SNS, DynamoDB and S3 requests, the bytes logged, and the INIT time (the bundle's import, median of 5).
 * Composed (the model): runs resting after 2, 10 and 30 s — the follow time is billed as waiting, poll mode sees the
 * rest half a poll interval (and a GET) late, a watch looks again every WATCH_DELAY_SECONDS; cold starts are
 * BENCH_COST_COLD_SHARE (1 %) of invocations, each reading the secret once. The 2 s case is also measured, at batch
 * 10, to check the composition.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleLambda } from "../infra/bundling";
import { importMs } from "./lib/bundle-timing";
import {
  type Assumptions,
  composeCollected,
  composeMessage,
  type Mode,
  type PhaseSet,
  pipesPerMessage,
  resultDelayMs,
  Usage,
} from "./lib/cost-model";
import { type Api, costPhases, type PhaseFigures } from "./lib/cost-phases";
import { LAMBDA_MB_PER_VCPU, PRICES, PRICES_AS_OF, PRICES_REGION } from "./lib/prices";
import { startRig } from "./lib/relay-rig";
import { median } from "./lib/stats";
import { type BenchRow, formatGrid, report, reportSection } from "./lib/table";

const RUNS = Number(process.env.BENCH_COST_RUNS ?? 4);
const MEMORY_MB = Number(process.env.BENCH_COST_MEMORY_MB ?? 512);
const ENDPOINT_MS = Number(process.env.BENCH_COST_ENDPOINT_MS ?? 200);
const AWS_MS = Number(process.env.BENCH_COST_AWS_MS ?? 15);
const COLD_SHARE = Number(process.env.BENCH_COST_COLD_SHARE ?? 0.01);
const BATCHES = [1, 10] as const;
const RESTS_S = [2, 10, 30] as const;
const APIS: Api[] = ["assistants", "responses", "agents"];
/** The Agents API never collects (each result goes alone): no collected rows for it. */
const collects = (api: Api) => api !== "agents";
const MODES: Mode[] = ["stream", "poll", "watch"];
const cpuStretch = Math.max(1, LAMBDA_MB_PER_VCPU / MEMORY_MB);

// INIT: the bundle as the stack builds it, imported in fresh processes.
const outDir = mkdtempSync(join(tmpdir(), "relay-cost-"));
let initMs: number;
try {
  const { outfile } = await bundleLambda("functions/submit-tool-outputs/handler.ts", join(outDir, "index.mjs"));
  importMs(outfile);
  initMs = median(Array.from({ length: 5 }, () => importMs(outfile)));
} finally {
  rmSync(outDir, { recursive: true, force: true });
}

const assumptions: Assumptions = {
  memoryMb: MEMORY_MB,
  pollIntervalMs: 1000,
  endpointMs: ENDPOINT_MS,
  followBudgetMs: 20_000,
  watchDelaySeconds: 10,
  coldStartShare: COLD_SHARE,
  initMs,
  platformLogBytes: 600,
  fifo: false,
};

const rig = await startRig({ processingMs: 0, pollAfterMs: 1000 });
await rig.inject({ on: "any", kind: "slow", delayMs: ENDPOINT_MS, times: 1_000_000_000 });
await rig.meterDelay(AWS_MS);
const phases = costPhases(rig, { cpuStretch, runs: RUNS });
const sets = new Map<string, PhaseSet>();
const measuredRest2s = new Map<string, PhaseFigures>();
for (const api of APIS) {
  for (const batch of BATCHES) {
    process.stderr.write(`cost: ${api}, batch ${batch} …\n`);
    const collect = collects(api) ? await phases.collectTurns(api, batch) : undefined;
    sets.set(`${api} ${batch}`, {
      restPoll: await phases.restAtOnce(api, batch, "poll"),
      restStream: await phases.restAtOnce(api, batch, "stream"),
      leaveWatch: await phases.leaveWatch(api, batch),
      watchMoving: await phases.watchMoving(api, batch),
      watchRest: await phases.watchRest(api, batch),
      ...(collect
        ? { collect: { figures: collect.figures, turnsPerUnit: collect.turnsPerUnit }, check: await phases.check(collect.checks, batch) }
        : {}),
    });
  }
  for (const mode of ["poll", "stream"] as const) measuredRest2s.set(`${api} ${mode}`, await phases.restAfter(api, 10, mode, 2000));
}
const counters = await rig.counters();
await rig.close();
if (counters.doubleAcceptances !== 0 || counters.forks !== 0 || counters.agentResultsForAnsweredCalls !== 0)
  throw new Error("cost: outputs taken twice");

const usd = (value: number) => (value >= 100 ? `$${value.toFixed(0)}` : value >= 10 ? `$${value.toFixed(1)}` : `$${value.toFixed(2)}`);
const perMillion = (usage: Usage) => usage.total() * 1e6;
const scenario = (api: Api, batch: number, mode: Mode, restS: number, collect: boolean) => {
  const set = sets.get(`${api} ${batch}`)!;
  return collect ? composeCollected(set, mode, restS * 1000, assumptions) : composeMessage(set, mode, restS * 1000, assumptions);
};

// The matrix: dollars per million messages.
const matrixRows: string[][] = [];
for (const api of APIS)
  for (const collect of collects(api) ? [false, true] : [false])
    for (const mode of MODES) {
      const cells = BATCHES.flatMap((batch) => RESTS_S.map((rest) => usd(perMillion(scenario(api, batch, mode, rest, collect)))));
      matrixRows.push([api, collect ? "3 per turn" : "no", mode === "watch" ? "watch only (FOLLOW_BUDGET_MS=0)" : mode, ...cells]);
    }
const matrix = formatGrid(
  ["api", "collect", "mode", ...BATCHES.flatMap((b) => RESTS_S.map((r) => `batch ${b}, rests ${r} s`))],
  matrixRows,
);

// What each mode costs in time: when the results event goes out, and the cheapest mode per column.
const modeName = (mode: Mode) => (mode === "watch" ? "watch only" : mode);
const delays = formatGrid(
  ["mode", ...RESTS_S.map((r) => `rests ${r} s`)],
  MODES.map((mode) => [modeName(mode), ...RESTS_S.map((r) => `${(resultDelayMs(mode, r * 1000, assumptions) / 1000).toFixed(1)} s`)]),
);
const cheapest = APIS.flatMap((api) =>
  BATCHES.map((batch) => {
    const picks = RESTS_S.map((rest) => {
      const costs = MODES.map((mode) => ({ mode, usd: perMillion(scenario(api, batch, mode, rest, false)) })).sort((x, y) => x.usd - y.usd);
      const stream = costs.find((c) => c.mode === "stream")!;
      return `${rest} s: ${modeName(costs[0]!.mode)} ${usd(costs[0]!.usd)} (stream ${usd(stream.usd)})`;
    });
    return `- ${api}, batch ${batch}: ${picks.join("; ")}`;
  }),
).join("\n");

// FIFO queues take no per-message delay: a watch comes back at once, so watching loops as fast as invocations go.
const fifoRows = (["stream", "watch"] as const).map((mode) => {
  const set = sets.get("assistants 10")!;
  const fifo = { ...assumptions, fifo: true, watchDelaySeconds: (set.watchMoving.localWallMs + 20) / 1000 };
  return [modeName(mode), ...RESTS_S.map((rest) => usd(perMillion(composeMessage(set, mode, rest * 1000, fifo))))];
});
const fifoTable = formatGrid(["assistants, batch 10, FIFO queues and topic", ...RESTS_S.map((r) => `rests ${r} s`)], fifoRows);

// Where the money goes, for a few scenarios.
const services = ["lambda", "sqs", "sns", "dynamodb", "s3", "logs", "secrets"] as const;
const breakdownOf = (label: string, usage: Usage) => {
  const d = usage.dollars();
  return [
    label,
    ...services.map((s) => usd(d[s] * 1e6)),
    usd(usage.total() * 1e6),
    usage.invocations.toFixed(2),
    `${usage.billedMs.toFixed(0)} ms`,
  ];
};
const breakdown = formatGrid(
  ["scenario (per million messages)", ...services, "total", "invocations/msg", "billed/msg"],
  [
    breakdownOf("assistants, stream, batch 10, rests 10 s", scenario("assistants", 10, "stream", 10, false)),
    breakdownOf("assistants, poll, batch 10, rests 10 s", scenario("assistants", 10, "poll", 10, false)),
    breakdownOf("assistants, watch only, batch 10, rests 10 s", scenario("assistants", 10, "watch", 10, false)),
    breakdownOf("assistants, stream, batch 1, rests 10 s", scenario("assistants", 1, "stream", 10, false)),
    breakdownOf("responses, stream, batch 10, rests 10 s", scenario("responses", 10, "stream", 10, false)),
    breakdownOf("responses, stream, batch 10, rests 10 s, collected", scenario("responses", 10, "stream", 10, true)),
    breakdownOf("agents, stream, batch 10, rests 10 s", scenario("agents", 10, "stream", 10, false)),
    breakdownOf("assistants, stream, batch 10, rests 30 s", scenario("assistants", 10, "stream", 30, false)),
    breakdownOf("assistants, watch only, batch 10, rests 30 s", scenario("assistants", 10, "watch", 30, false)),
  ],
);

// The measured phases themselves.
const requestsText = (phase: PhaseFigures) =>
  Object.entries(phase.requests)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, line]) => `${key.replace(/^(sqs|sns|dynamodb|s3)\./, (_, s: string) => `${s.toUpperCase()} `)} ${line.units.toFixed(1)}`)
    .join(", ");
const phaseRows: string[][] = [];
const phaseNames: Array<[keyof Omit<PhaseSet, "collect">, string]> = [
  ["restPoll", "submit, run at rest at once (poll mode)"],
  ["restStream", "submit, run at rest at once (stream)"],
  ["leaveWatch", "submit, leave a watch (watch only)"],
  ["watchMoving", "watch, run still moving (watch again)"],
  ["watchRest", "watch, run at rest (report)"],
  ["check", "collection check, set submitted"],
];
for (const api of APIS)
  for (const batch of BATCHES) {
    const set = sets.get(`${api} ${batch}`)!;
    const row = (name: string, phase: PhaseFigures) =>
      phaseRows.push([
        api,
        String(batch),
        name,
        `${phase.billedMs.toFixed(0)} ms`,
        `${phase.localWallMs.toFixed(0)} ms`,
        `${phase.cpuMs.toFixed(1)} ms`,
        phase.invocations.toFixed(1),
        phase.endpointCalls.toFixed(1),
        requestsText(phase),
        `${(phase.logBytes / 1024).toFixed(1)} KiB`,
      ]);
    for (const [key, name] of phaseNames) {
      const phase = set[key];
      if (phase !== undefined) row(name, phase);
    }
    if (set.collect) row(`${set.collect.turnsPerUnit} collected turn(s) of 3 messages`, set.collect.figures);
  }
const phaseTable = formatGrid(
  ["api", "batch", "phase", "billed", "wall here", "CPU here", "invocations", "endpoint calls", "AWS requests (billed units)", "logged"],
  phaseRows,
);

// The composition against a measured follow of 2 s (batch 10).
const checkRows = APIS.flatMap((api) =>
  (["poll", "stream"] as const).map((mode) => {
    const measured = measuredRest2s.get(`${api} ${mode}`)!;
    const composed = composeMessage(sets.get(`${api} 10`)!, mode, 2000, assumptions);
    return [api, mode, `${measured.billedMs.toFixed(0)} ms`, `${(composed.billedMs * 10).toFixed(0)} ms`];
  }),
);
const composition = formatGrid(["api", "mode", "measured, run rests after 2 s", "composed from the phases"], checkRows);

const pipes = BATCHES.map((batch) => `batch ${batch}: ${usd(pipesPerMessage(batch) * 1e6)}`).join(", ");
const relayComparable = BATCHES.map(
  (batch) =>
    `batch ${batch}: ${usd(perMillion(new Usage(assumptions).add(sets.get(`assistants ${batch}`)!.restPoll, 1 / batch).withProducerSends(1)))}`,
).join(", ");

const assumptionsText = [
  `Prices: ${PRICES_REGION}, list prices as of ${PRICES_AS_OF}: Lambda Arm $${PRICES.lambdaArmGbSecond.usd}/GB-s + $${(PRICES.lambdaRequest.usd * 1e6).toFixed(2)}/M requests (INIT billed); SQS $${(PRICES.sqsStandardRequest.usd * 1e6).toFixed(2)}/M (FIFO $${(PRICES.sqsFifoRequest.usd * 1e6).toFixed(2)}); SNS $${(PRICES.snsStandardPublish.usd * 1e6).toFixed(2)}/M publishes, deliveries to SQS free; DynamoDB on-demand $${(PRICES.dynamodbWriteUnit.usd * 1e6).toFixed(3)}/M WRU, $${(PRICES.dynamodbReadUnit.usd * 1e6).toFixed(3)}/M RRU; Secrets Manager $${(PRICES.secretsManagerCall.usd * 1e4).toFixed(2)}/10k calls; S3 $${(PRICES.s3Put.usd * 1e3).toFixed(3)}/1k PUT, $${(PRICES.s3Get.usd * 1e3).toFixed(4)}/1k GET; CloudWatch Logs $${PRICES.logsIngestion.usd.toFixed(2)}/GB. Sources: bench/lib/prices.ts.`,
  `Measured: every phase, ${RUNS} units each after a warm-up (medians of billed time), endpoint ${ENDPOINT_MS} ms per call, AWS ${AWS_MS} ms per call, ${MEMORY_MB} MB (CPU × ${cpuStretch.toFixed(2)}: Lambda's share of a vCPU); INIT ${initMs.toFixed(0)} ms (the bundle's import here).`,
  `Modelled: follow time billed as waiting (poll mode + ${assumptions.pollIntervalMs / 2} ms + one GET); FOLLOW_BUDGET_MS ${assumptions.followBudgetMs}, WATCH_DELAY_SECONDS ${assumptions.watchDelaySeconds}; watches come back in batches of the same size; cold starts ${(COLD_SHARE * 100).toFixed(1)} % of invocations, one secret read each; Lambda's own log records ${assumptions.platformLogBytes} B per invocation; the producer sends each message alone (one SendMessage); the event source mapping's empty receives (about 650 000 a month with 5 pollers, $0.26) are a fixed monthly cost, not per message; a collected body over 350 KB adds an S3 PUT and GET ($${((PRICES.s3Put.usd + PRICES.s3Get.usd) * 1e6).toFixed(2)} per million such bodies).`,
  `EventBridge Pipes, for the part it can do (SQS → API destination posting the outputs; no following, no results event, no reasoned DLQ records): $${(PRICES.pipesRequest.usd * 1e6).toFixed(2)}/M requests + $${(PRICES.apiDestinationCall.usd * 1e6).toFixed(2)}/M API destination calls + the queue's requests = ${pipes} per million messages; the relay for a run at rest in the submit's answer (submission and its results event): ${relayComparable}.`,
].join("\n\n");

reportSection({ title: "Cost per million messages (US dollars)", text: `${matrix}\n\n${assumptionsText}` });
reportSection({
  title: "When the results event goes out after the submission (model), and the cheapest mode",
  text: `${delays}\n\nCheapest mode per case (no collecting):\n${cheapest}`,
});
// The Agents API keeps no state table: its cost should be the Responses path's less every DynamoDB request.
const agentsCheck = BATCHES.map((batch) => {
  const responses = scenario("responses", batch, "stream", 10, false).dollars();
  const agents = scenario("agents", batch, "stream", 10, false).dollars();
  const total = (d: Record<string, number>) => services.reduce((sum, service) => sum + d[service]!, 0);
  const lessDynamo = total(responses) - responses.dynamodb;
  return (
    `batch ${batch}: Responses ${usd(total(responses) * 1e6)} less its DynamoDB ${usd(responses.dynamodb * 1e6)} = ` +
    `${usd(lessDynamo * 1e6)}; Agents ${usd(total(agents) * 1e6)} (DynamoDB ${usd(agents.dynamodb * 1e6)}, ` +
    `${(((total(agents) - lessDynamo) / lessDynamo) * 100).toFixed(0)} %: Lambda ${usd(agents.lambda * 1e6)} against ${usd(responses.lambda * 1e6)})`
  );
}).join("\n");
reportSection({
  title: "Cost breakdown by service (US dollars per million messages)",
  text: `${breakdown}\n\nAgents against Responses less DynamoDB (stream, runs resting after 10 s):\n${agentsCheck}`,
});
reportSection({
  title: "FIFO (US dollars per million messages)",
  text: `${fifoTable}\n\nOn FIFO queues a watch comes back at once (no per-message delay), so watch only loops one invocation after another until the run rests (modelled with the measured watch invocation's time as the delay); FIFO SQS requests at $${(PRICES.sqsFifoRequest.usd * 1e6).toFixed(2)}/M, FIFO SNS at $${(PRICES.snsFifoPublish.usd * 1e6).toFixed(2)}/M publishes plus payload and delivery charges (unconfirmed figures, see prices.ts).`,
});
reportSection({ title: "Measured phases (per invocation; billed = as Lambda would bill it)", text: phaseTable });
reportSection({ title: "The composition checked against a measured follow (batch 10, billed per invocation)", text: composition });

const rows: BenchRow[] = [
  ["assistants", 10, "stream", 10],
  ["assistants", 10, "watch", 10],
  ["responses", 10, "stream", 10],
  ["agents", 10, "stream", 10],
  ["assistants", 1, "stream", 10],
].map(([api, batch, mode, rest]) => ({
  bench: "cost",
  measure: `per million messages: ${api}, ${mode === "watch" ? "watch only" : mode}, batch ${batch}, runs resting after ${rest} s`,
  value: usd(perMillion(scenario(api as Api, batch as number, mode as Mode, rest as number, false))),
  baseline: "",
}));
rows.push({
  bench: "cost",
  measure: "EventBridge Pipes → API destination, batch 10 (list price; no following, no results)",
  value: usd(pipesPerMessage(10) * 1e6),
});
report(rows);
