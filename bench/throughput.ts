/**
 * Throughput through the local stack (fauxqs, event-source poller with 4 pollers × batches of 10, the
 * endpoint simulator answering at once): messages per second from the first send until every message is
 * acknowledged and its result read, and the process's peak RSS — with the real relay, with a no-op
 * handler in the same stack (what the emulator and poller alone can carry), and with a bare handler that
 * only does the relay's I/O (fetch + one SNS PublishBatch per batch), which tells the relay's own cost from the I/O's. Each
 * run in a fresh process; medians of RUNS. Each invocation's wall time is noted as Lambda bills it (rounded up to 1 ms):
 * its median, and what Lambda would charge for a million messages at 512 MB at that time (this machine's CPU, loopback I/O,
 * the stack's four pollers sharing two cores).
 */
import { spawnSync } from "node:child_process";
import { PRICES } from "./lib/prices";
import { median, mib, percentile, ratio } from "./lib/stats";
import { report } from "./lib/table";

const RUNS = Number(process.env.BENCH_THROUGHPUT_RUNS ?? 3);
const MESSAGES = Number(process.env.BENCH_THROUGHPUT_MESSAGES ?? 2000);

function once(variant: "relay" | "noop" | "bare") {
  const run = spawnSync(process.execPath, ["--import", "tsx", "bench/lib/throughput-run.ts", variant, String(MESSAGES)], {
    encoding: "utf8",
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? "ERROR", POWERTOOLS_METRICS_DISABLED: "true" },
    maxBuffer: 256 * 1024 * 1024,
  });
  const line = run.stdout.split("\n").find((l) => l.startsWith("THROUGHPUT "));
  if (run.status !== 0 || !line) throw new Error(`throughput ${variant} failed: ${run.stderr.slice(-800)}`);
  const r = JSON.parse(line.slice("THROUGHPUT ".length)) as {
    wallMs: number;
    peakRss: number;
    invocations: number;
    totalBilledMs: number;
    billedMs: number[];
  };
  const lambdaPerMillion =
    ((r.totalBilledMs / 1000) * 0.5 * PRICES.lambdaArmGbSecond.usd + r.invocations * PRICES.lambdaRequest.usd) * (1e6 / MESSAGES);
  return {
    perSecond: MESSAGES / (r.wallMs / 1000),
    peakRss: r.peakRss,
    billedP50: percentile(r.billedMs, 50),
    perInvocation: MESSAGES / r.invocations,
    lambdaPerMillion,
  };
}

const samples = {
  relay: [] as Array<ReturnType<typeof once>>,
  noop: [] as Array<ReturnType<typeof once>>,
  bare: [] as Array<ReturnType<typeof once>>,
};
for (let i = 0; i < RUNS; i++) {
  samples.relay.push(once("relay"));
  samples.bare.push(once("bare"));
  samples.noop.push(once("noop"));
}
const bareRate = median(samples.bare.map((s) => s.perSecond));
const relayRate = median(samples.relay.map((s) => s.perSecond));
const noopRate = median(samples.noop.map((s) => s.perSecond));
const relayPeak = median(samples.relay.map((s) => s.peakRss));
const of = (variant: keyof typeof samples, key: "billedP50" | "perInvocation" | "lambdaPerMillion") =>
  median(samples[variant].map((s) => s[key]));
const noopPeak = median(samples.noop.map((s) => s.peakRss));
report([
  {
    bench: "throughput",
    measure: `local stack, ${MESSAGES} msgs, 4 pollers × 10 (median of ${RUNS})`,
    value: `${relayRate.toFixed(0)} msgs/s`,
    baseline: `${noopRate.toFixed(0)} msgs/s no-op handler`,
    ratio: ratio(relayRate / noopRate),
    target: "",
    verdict: "",
  },
  {
    bench: "throughput",
    measure: "same stack, relay vs bare fetch + PublishBatch handler",
    value: `${relayRate.toFixed(0)} msgs/s`,
    baseline: `${bareRate.toFixed(0)} msgs/s bare`,
    ratio: ratio(relayRate / bareRate),
  },
  {
    bench: "throughput",
    measure: `billed per invocation, as Lambda bills it (p50; ${of("relay", "perInvocation").toFixed(1)} msgs each)`,
    value: `${of("relay", "billedP50").toFixed(0)} ms`,
    baseline: `${of("bare", "billedP50").toFixed(0)} ms bare`,
    ratio: ratio(of("relay", "billedP50") / of("bare", "billedP50")),
  },
  {
    bench: "throughput",
    measure: "Lambda per million messages at those times (512 MB Arm, list price)",
    value: `$${of("relay", "lambdaPerMillion").toFixed(2)}`,
    baseline: `$${of("bare", "lambdaPerMillion").toFixed(2)} bare`,
    ratio: ratio(of("relay", "lambdaPerMillion") / of("bare", "lambdaPerMillion")),
  },
  {
    bench: "throughput",
    measure: "peak RSS of the whole stack (one process)",
    value: mib(relayPeak),
    baseline: `${mib(noopPeak)} no-op`,
    ratio: ratio(relayPeak / noopPeak),
  },
]);
