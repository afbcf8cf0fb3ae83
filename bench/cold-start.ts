/**
 * Cold start: bundles the relay exactly as the CDK stack and `npm run build` do (infra/bundling.ts: ESM, minified,
 * node24, AWS SDK inside, split at its dynamic imports, source maps), and a bare handler that only imports and
 * creates the same SQS and SNS clients, bundled the same way; reports the bytes the cold start loads (gzip too), and
 * the median time of `await import()` in a fresh Node process, with and without --enable-source-maps (the stack
 * leaves the flag off; set it in NODE_OPTIONS to debug). Target: relay ≤ 1.3 × bare, without source maps.
 *
 * By mode: which files the import really loads (Node's module hooks, in a fresh process, credentials from the
 * environment), that none of the mode-only chunks is among them, and for each mode-only part — the DynamoDB client of
 * the state table (a first Responses message or collected output), the S3 client of the payload bucket (a first
 * collected body too large for an item), the Entra ID token code, the Secrets Manager client (read at init when a
 * secret ARN is set, as the stack sets it), the SigV4 signer of Amazon Bedrock — the bytes its first use loads and the time of that first use (the lazy
 * import and the client's construction, median of BENCH_COLD_RUNS fresh processes).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { bundleLambda } from "../infra/bundling";
import type { FirstUse } from "./fixtures/relay-first-uses";
import { addedBy, bytesOf, LOADED_FILES_SCRIPT, staticClosure } from "./lib/bundle-closure";
import { importMs, runInFreshNode } from "./lib/bundle-timing";
import { kib, median, ms, ratio } from "./lib/stats";
import { type BenchRow, report } from "./lib/table";

const RUNS = Number(process.env.BENCH_COLD_RUNS ?? 21);
const FIRST_USE_RUNS = Math.max(3, Math.ceil(RUNS / 3));
const TARGET = 1.3;
const outDir = mkdtempSync(join(tmpdir(), "relay-cold-start-"));

/** Credentials from the environment, no secret: nothing at init reaches for a mode-only chunk. */
const NO_SECRET = { ENDPOINT_SECRET_ARN: "", PORTKEY_API_KEY: "pk-bench", PORTKEY_VIRTUAL_KEY: "vk-bench" };

const FIRST_USE = `
const [file, part] = process.argv.slice(1);
const bundle = await import(file);
await new Promise((resolve) => setTimeout(resolve, 100));
const t = performance.now();
await bundle.firstUse(part);
console.log(JSON.stringify(performance.now() - t));
`;

/** Each mode-only part: its chunk (by file name, or by the module it was split at) and what its first use is. */
const PARTS: Array<{ part: FirstUse; chunk: RegExp; label: string }> = [
  {
    part: "stateTable",
    chunk: /\/state-table-[^/]+\.mjs$/,
    label: "first Responses message or collected output: DynamoDB client (state table)",
  },
  { part: "payloadStore", chunk: /\/payload-store-[^/]+\.mjs$/, label: "first collected body over 350 KB: S3 client (payload bucket)" },
  { part: "entraToken", chunk: /\/entra-token-[^/]+\.mjs$/, label: "Entra ID credentials: the token code, at the first invocation" },
  { part: "secretsProvider", chunk: /\/secrets-[^/]+\.mjs$/, label: "a secret ARN (as the stack sets): Secrets Manager client, at init" },
  {
    part: "assistantsDialect",
    chunk: /dialects\/assistants\/decisions\.ts$/,
    label: "first Assistants message: the API's decisions (client, decide, follow)",
  },
  {
    part: "responsesDialect",
    chunk: /dialects\/responses\/decisions\.ts$/,
    label: "first Responses message: the API's decisions (client, decide, follow, claims)",
  },
  {
    part: "agentsDialect",
    chunk: /dialects\/agents\/decisions\.ts$/,
    label: "first Agents message: the API's decisions (client, decide, follow)",
  },
  { part: "collector", chunk: /\/collector-[^/]+\.mjs$/, label: "first collecting message or check: the collector" },
  {
    part: "sigV4Signer",
    chunk: /\/sigv4-signer-[^/]+\.mjs$/,
    label: "Amazon Bedrock (SigV4): the signer, at the first invocation, and one first signature",
  },
];

try {
  const relay = await bundleLambda("functions/submit-tool-outputs/handler.ts", join(outDir, "relay", "index.mjs"));
  const bare = await bundleLambda("bench/fixtures/bare-handler.ts", join(outDir, "bare", "index.mjs"));
  const modes = await bundleLambda("bench/fixtures/relay-first-uses.ts", join(outDir, "modes", "index.mjs"));
  const rows: BenchRow[] = [
    {
      bench: "cold start",
      measure: "bundle loaded at cold start (minified ESM, SDK inside)",
      value: kib(relay.initialBytes),
      baseline: `${kib(bare.initialBytes)} bare`,
      ratio: ratio(relay.initialBytes / bare.initialBytes),
    },
    {
      bench: "cold start",
      measure: "bundle loaded at cold start, gzip",
      value: kib(relay.initialGzipBytes),
      baseline: `${kib(bare.initialGzipBytes)} bare`,
      ratio: ratio(relay.initialGzipBytes / bare.initialGzipBytes),
    },
  ];
  for (const sourceMaps of [false, true]) {
    const samples = { relay: [] as number[], bare: [] as number[] };
    importMs(relay.outfile, { sourceMaps });
    importMs(bare.outfile, { sourceMaps });
    for (let i = 0; i < RUNS; i++) {
      samples.relay.push(importMs(relay.outfile, { sourceMaps }));
      samples.bare.push(importMs(bare.outfile, { sourceMaps }));
    }
    const r = median(samples.relay) / median(samples.bare);
    rows.push({
      bench: "cold start",
      measure: `import time, Node ${process.versions.node}${sourceMaps ? ", --enable-source-maps (when debugging)" : ""} (median of ${RUNS})`,
      value: ms(median(samples.relay)),
      baseline: `${ms(median(samples.bare))} bare`,
      ratio: ratio(r),
      target: sourceMaps ? "" : `≤ ${TARGET.toFixed(2)}×`,
      verdict: sourceMaps ? "" : r <= TARGET ? "met" : "missed",
    });
  }

  // Node's compile cache (V8's code cache on disk, portable: keyed by paths relative to its directory), filled by one
  // import of each bundle, then used by both: what shipping it beside the bundle would give, were Lambda's Node the
  // very version that filled it (a cache from another V8 is ignored). Not shipped: see bench/README.md.
  {
    const cached = (outfile: string) => ({
      NODE_COMPILE_CACHE: join(outDir, `cache-${basename(dirname(outfile))}`),
      NODE_COMPILE_CACHE_PORTABLE: "1",
    });
    const samples = { relay: [] as number[], bare: [] as number[] };
    importMs(relay.outfile, { env: cached(relay.outfile) });
    importMs(bare.outfile, { env: cached(bare.outfile) });
    for (let i = 0; i < RUNS; i++) {
      samples.relay.push(importMs(relay.outfile, { env: cached(relay.outfile) }));
      samples.bare.push(importMs(bare.outfile, { env: cached(bare.outfile) }));
    }
    rows.push({
      bench: "cold start",
      measure: `import time with Node's compile cache on both sides (not shipped) (median of ${RUNS})`,
      value: ms(median(samples.relay)),
      baseline: `${ms(median(samples.bare))} bare`,
      ratio: ratio(median(samples.relay) / median(samples.bare)),
    });
  }

  // What the import really loads, and that no mode-only chunk is in it.
  const loaded = runInFreshNode<string[]>(modes.outfile, LOADED_FILES_SCRIPT, NO_SECRET).map((url) => new URL(url).pathname);
  const metafile = modes.metafile;
  const entry = Object.keys(metafile.outputs).find((file) => file.endsWith("index.mjs"))!;
  const initial = staticClosure(metafile, entry);
  // A part's chunk, by its file name or by the module it was split at (the three APIs' chunks are all "decisions").
  const partChunks = PARTS.map(
    ({ chunk }) => Object.entries(metafile.outputs).find(([file, output]) => chunk.test(file) || chunk.test(output.entryPoint ?? ""))?.[0],
  );
  const early = loaded.filter((file) => partChunks.some((chunk) => chunk !== undefined && file.endsWith(basename(chunk))));
  rows.push({
    bench: "cold start",
    measure: `files the import loads (module hooks; no secret, credentials from the environment): ${loaded.length}`,
    value: kib(bytesOf(loaded)),
    baseline: `mode-only chunks among them: ${early.length === 0 ? "none" : early.map((file) => basename(file)).join(", ")}`,
    target: "none",
    verdict: early.length === 0 ? "met" : "missed",
  });

  // Each mode-only part: the bytes and the time of its first use.
  for (const [i, { part, label }] of PARTS.entries()) {
    const chunk = partChunks[i];
    const added = chunk ? addedBy(metafile, chunk, initial) : [];
    runInFreshNode<number>(modes.outfile, FIRST_USE, NO_SECRET, [part]);
    const times = Array.from({ length: FIRST_USE_RUNS }, () => runInFreshNode<number>(modes.outfile, FIRST_USE, NO_SECRET, [part]));
    rows.push({
      bench: "cold start",
      measure: `${label} (median of ${FIRST_USE_RUNS})`,
      value: ms(median(times)),
      baseline: `+${kib(bytesOf(added))} in ${added.length} file(s)`,
    });
  }
  report(rows);
} finally {
  rmSync(outDir, { recursive: true, force: true });
}
