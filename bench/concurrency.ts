/**
 * Concurrency: one batch of 10 with the endpoint answering every submission after 100 ms. The floor is
 * 100 ms (all ten in flight at once); one by one (BATCH_CONCURRENCY=1) it is 10 × 100 ms.
 * Targets: batch wall time ≤ 1.15 × the floor, and ≤ 1.05 × a bare loop doing the same I/O. Medians of RUNS batches
 * after warm-up, relay and bare alternating.
 */
import { performance } from "node:perf_hooks";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { bareRelay } from "./lib/bare-relay";
import { messageFor, startRig } from "./lib/relay-rig";
import { median, ms, ratio } from "./lib/stats";
import { type BenchRow, report } from "./lib/table";

const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const ENDPOINT_MS = 100;
const TARGET = 1.15;
const BARE_TARGET = 1.05;
const BATCH = 10;

const rig = await startRig({ processingMs: 0 });
const bare = bareRelay(rig.info);
const variants = { concurrent: rig.handler(), oneByOne: rig.handler({ BATCH_CONCURRENCY: "1" }), bare: bare.handle };

async function timeBatch(handler: (event: SQSEvent) => Promise<SQSBatchResponse>): Promise<number> {
  const runs = await rig.createRuns(BATCH);
  const event = await rig.eventOf(runs.map(messageFor));
  await rig.inject({ on: "submit", kind: "slow", delayMs: ENDPOINT_MS, times: BATCH });
  const started = performance.now();
  const response = await handler(event);
  const elapsed = performance.now() - started;
  if (response.batchItemFailures.length > 0) throw new Error(`${response.batchItemFailures.length} records failed`);
  await rig.ack(event);
  return elapsed;
}

const samples = { concurrent: [] as number[], oneByOne: [] as number[], bare: [] as number[] };
for (let i = 0; i < 2; i++) {
  await timeBatch(variants.concurrent);
  await timeBatch(variants.oneByOne);
  await timeBatch(variants.bare);
}
for (let i = 0; i < RUNS; i++) {
  samples.concurrent.push(await timeBatch(variants.concurrent));
  samples.bare.push(await timeBatch(variants.bare));
  if (i < Math.ceil(RUNS / 3)) samples.oneByOne.push(await timeBatch(variants.oneByOne));
}
const counters = await rig.counters();
bare.close();
await rig.close();

const concurrent = median(samples.concurrent);
const oneByOne = median(samples.oneByOne);
const bareMs = median(samples.bare);
const rows: BenchRow[] = [
  {
    bench: "concurrency",
    measure: `batch of ${BATCH}, endpoint ${ENDPOINT_MS} ms (median of ${RUNS})`,
    value: ms(concurrent),
    baseline: `${ENDPOINT_MS} ms floor`,
    ratio: ratio(concurrent / ENDPOINT_MS),
    target: `≤ ${TARGET.toFixed(2)}×`,
    verdict: concurrent / ENDPOINT_MS <= TARGET ? "met" : "missed",
  },
  {
    bench: "concurrency",
    measure: `same batch vs bare fetch ×10 + one PublishBatch (median of ${RUNS})`,
    value: ms(concurrent),
    baseline: ms(bareMs),
    ratio: ratio(concurrent / bareMs),
    target: `≤ ${BARE_TARGET.toFixed(2)}×`,
    verdict: concurrent / bareMs <= BARE_TARGET ? "met" : "missed",
  },
  {
    bench: "concurrency",
    measure: `same batch, BATCH_CONCURRENCY=1 (median of ${samples.oneByOne.length})`,
    value: ms(oneByOne),
    baseline: ms(concurrent),
    ratio: `${(oneByOne / concurrent).toFixed(1)}× slower`,
    target: "",
    verdict: "",
  },
];
if (counters.doubleAcceptances !== 0) throw new Error("double acceptances in the concurrency bench");
report(rows);
