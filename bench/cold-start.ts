/**
 * Cold start: bundles the relay exactly as the CDK stack and `npm run build` do (infra/bundling.ts: ESM,
 * minified, node24, AWS SDK inside, createRequire banner, source map), and a bare handler that only
 * imports and creates the same SQS and SNS clients the same way; reports bytes, gzip bytes, and the
 * median time of `await import()` in a fresh Node process, with and without --enable-source-maps (the
 * bundle ships its source map; the stack leaves the flag off for cold start, set it in NODE_OPTIONS to debug). Target: relay ≤ 1.5 × bare.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { bundleLambda } from "../infra/bundling";
import { kib, median, ms, ratio } from "./lib/stats";
import { type BenchRow, report } from "./lib/table";

const RUNS = Number(process.env.BENCH_COLD_RUNS ?? 21);
const outDir = mkdtempSync(join(tmpdir(), "relay-cold-start-"));

async function bundle(entry: string, name: string) {
  const { outfile, initialBytes, initialGzipBytes, bytes } = await bundleLambda(entry, join(outDir, name, "index.mjs"));
  return { outfile, bytes: initialBytes, gzip: initialGzipBytes, all: bytes };
}

// What a deployed function's environment holds at init (the values only need to be well-formed).
const lambdaEnv = {
  PATH: process.env.PATH ?? "",
  AWS_REGION: "eu-west-1",
  AWS_ACCESS_KEY_ID: "local",
  AWS_SECRET_ACCESS_KEY: "local",
  ENDPOINT_SECRET_ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:relay-endpoint-AbCdEf",
  RESULTS_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:tool-output-results",
  DLQ_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/tool-outputs-dlq",
  INPUT_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/tool-outputs",
  MAX_RECEIVE_COUNT: "5",
  POWERTOOLS_SERVICE_NAME: "tool-output-relay",
  POWERTOOLS_METRICS_NAMESPACE: "ToolOutputRelay",
};

const IMPORT_TIMER =
  "const t = performance.now(); const m = await import(process.argv[1]); if (typeof m.handler !== 'function') process.exit(3); console.log(performance.now() - t);";

function importMs(file: string, sourceMaps: boolean): number {
  const run = spawnSync(
    process.execPath,
    [...(sourceMaps ? ["--enable-source-maps"] : []), "--input-type=module", "-e", IMPORT_TIMER, pathToFileURL(file).href],
    {
      env: lambdaEnv,
      encoding: "utf8",
    },
  );
  if (run.status !== 0) throw new Error(`import of ${file} failed (${run.status}): ${run.stderr.slice(0, 500)}`);
  return Number(run.stdout.trim().split("\n").at(-1));
}

try {
  const relay = await bundle("functions/submit-tool-outputs/handler.ts", "relay");
  const bare = await bundle("bench/fixtures/bare-handler.ts", "bare");
  const rows: BenchRow[] = [
    {
      bench: "cold start",
      measure: "bundle loaded at cold start (minified ESM, SDK inside)",
      value: kib(relay.bytes),
      baseline: `${kib(bare.bytes)} bare`,
      ratio: ratio(relay.bytes / bare.bytes),
    },
    {
      bench: "cold start",
      measure: "bundle loaded at cold start, gzip",
      value: kib(relay.gzip),
      baseline: `${kib(bare.gzip)} bare`,
      ratio: ratio(relay.gzip / bare.gzip),
    },
  ];
  for (const sourceMaps of [false, true]) {
    const samples = { relay: [] as number[], bare: [] as number[] };
    importMs(relay.outfile, sourceMaps);
    importMs(bare.outfile, sourceMaps);
    for (let i = 0; i < RUNS; i++) {
      samples.relay.push(importMs(relay.outfile, sourceMaps));
      samples.bare.push(importMs(bare.outfile, sourceMaps));
    }
    const r = median(samples.relay) / median(samples.bare);
    rows.push({
      bench: "cold start",
      measure: `import time, Node ${process.versions.node}${sourceMaps ? ", --enable-source-maps (when debugging)" : ""} (median of ${RUNS})`,
      value: ms(median(samples.relay)),
      baseline: `${ms(median(samples.bare))} bare`,
      ratio: ratio(r),
      target: "≤ 1.50×",
      verdict: r <= 1.5 ? "met" : "missed",
    });
  }
  report(rows);
} finally {
  rmSync(outDir, { recursive: true, force: true });
}
