/**
 * Overhead: CPU time per message (process.cpuUsage, user + system) of the real handler against a bare
 * loop of fetch + one SNS PublishBatch per batch (the relay's I/O) to the same loopback servers, which run in a child process so only the
 * client side is counted. The endpoint answers at once (the run is at rest in the submit's answer), so
 * both do one POST per message and one PublishBatch per batch. Target: relay ≤ 1.15 × bare. Medians of RUNS rounds.
 * The label says whether Powertools logs and metrics were on (as deployed) or off; `npm run bench` runs both.
 */
import type { SQSEvent } from "aws-lambda";
import { bareRelay } from "./lib/bare-relay";
import { messageFor, startRig } from "./lib/relay-rig";
import { median, ratio } from "./lib/stats";
import { report } from "./lib/table";

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const BATCHES_PER_ROUND = Number(process.env.BENCH_BATCHES ?? 30);
const BATCH = 10;
const telemetry =
  process.env.POWERTOOLS_METRICS_DISABLED === "true"
    ? "logs ERROR, metrics off"
    : `logs ${process.env.POWERTOOLS_LOG_LEVEL ?? "INFO"}, metrics on`;

const rig = await startRig({ processingMs: 0 });
const relay = rig.handler();
const bare = bareRelay(rig.info);

/** CPU µs per message over one round of BATCHES_PER_ROUND batches; events are prepared outside the measurement. */
async function round(handle: (event: SQSEvent) => Promise<unknown>): Promise<number> {
  const events: SQSEvent[] = [];
  for (let b = 0; b < BATCHES_PER_ROUND; b++) events.push(await rig.eventOf((await rig.createRuns(BATCH)).map(messageFor)));
  const before = process.cpuUsage();
  for (const event of events) await handle(event);
  const used = process.cpuUsage(before);
  for (const event of events) await rig.ack(event);
  return (used.user + used.system) / (BATCHES_PER_ROUND * BATCH);
}

const samples = { relay: [] as number[], bare: [] as number[] };
await round(relay);
await round(bare.handle);
for (let i = 0; i < RUNS; i++) {
  samples.relay.push(await round(relay));
  samples.bare.push(await round(bare.handle));
}
const counters = await rig.counters();
bare.close();
await rig.close();
if (counters.doubleAcceptances !== 0) throw new Error("double acceptances in the overhead bench");

const relayUs = median(samples.relay);
const bareUs = median(samples.bare);
report([
  {
    bench: "overhead",
    measure: `CPU per message, relay (${telemetry}; median of ${RUNS} × ${BATCHES_PER_ROUND * BATCH} msgs)`,
    value: `${(relayUs / 1000).toFixed(2)} ms`,
    baseline: `${(bareUs / 1000).toFixed(2)} ms bare`,
    ratio: ratio(relayUs / bareUs),
    target: "≤ 1.15×",
    verdict: relayUs / bareUs <= 1.15 ? "met" : "missed",
  },
]);
