/**
 * SigV4 for Amazon Bedrock (functions/submit-tool-outputs/endpoint/credentials/sigv4-signer.ts): what signing costs.
 * Prints
 * (a) the CPU time per signed call (process.cpuUsage over BENCH_SIGN_CALLS calls after a warm-up, median of 5 rounds)
 *     for a GET, a typical continuation POST (4 KB) and a large one (256 KB: hashing the body dominates); goal ≤ 0.1 ms
 *     for the typical calls;
 * (b) in the relay bundle as the stack builds it (infra/bundling.ts): the bytes the signer's chunk adds on first use,
 *     and whether @smithy/signature-v4 itself is already in the cold start (the AWS SDK's clients sign with it);
 * (c) in fresh Node processes: the time of the signer's first use (lazy import + first signature), and which chunks a
 *     non-signing deployment's import loads (none of the signer's) against a Bedrock-only one's (the signer, read at
 *     init with the credentials).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { sigV4Signer } from "../functions/submit-tool-outputs/endpoint/credentials/sigv4-signer";
import { bundleLambda } from "../infra/bundling";
import { addedBy, bytesOf, LOADED_FILES_SCRIPT, staticClosure } from "./lib/bundle-closure";
import { runInFreshNode } from "./lib/bundle-timing";
import { kib, median, ms } from "./lib/stats";
import { type BenchRow, report } from "./lib/table";

const CALLS = Number(process.env.BENCH_SIGN_CALLS ?? 5000);
const ROUNDS = 5;
const FIRST_USE_RUNS = Number(process.env.BENCH_SIGN_RUNS ?? 7);
const GOAL_MS = 0.1;
const outDir = mkdtempSync(join(tmpdir(), "relay-signing-"));

const env = { AWS_ACCESS_KEY_ID: "ASIABENCHROLE", AWS_SECRET_ACCESS_KEY: "bench-secret", AWS_SESSION_TOKEN: "x".repeat(800) };
const base = new URL("https://bedrock-runtime.us-east-1.amazonaws.com/openai/v1/");
const continuation = (bytes: number) =>
  JSON.stringify({
    model: "us.openai.gpt-5.6-sol",
    previous_response_id: `resp_${"a".repeat(48)}`,
    input: [{ type: "function_call_output", call_id: "call_1", output: "x".repeat(Math.max(0, bytes - 200)) }],
    background: false,
  });

/** CPU milliseconds per call of `sign` on this request (user + system), median of ROUNDS rounds of CALLS calls. */
async function cpuPerCall(request: Parameters<ReturnType<typeof sigV4Signer>>[0]): Promise<number> {
  const sign = sigV4Signer({ service: "bedrock", region: "us-east-1", env });
  for (let i = 0; i < 500; i++) await sign(request);
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const before = process.cpuUsage();
    for (let i = 0; i < CALLS; i++) await sign(request);
    const used = process.cpuUsage(before);
    rounds.push((used.user + used.system) / 1000 / CALLS);
  }
  return median(rounds);
}

const FIRST_SIGNATURE = `
const bundle = await import(process.argv[1]);
await new Promise((resolve) => setTimeout(resolve, 100));
const t = performance.now();
await bundle.firstUse("sigV4Signer");
console.log(JSON.stringify(performance.now() - t));
`;

try {
  const rows: BenchRow[] = [];
  const headers = { accept: "application/json", "content-type": "application/json" };
  const cases = [
    {
      label: "GET /responses/{id}",
      request: { method: "GET", url: new URL("responses/resp_1", base), headers: { accept: "application/json" }, body: undefined },
    },
    {
      label: "POST /responses, 4 KB body",
      request: { method: "POST", url: new URL("responses", base), headers, body: continuation(4096) },
    },
    {
      label: "POST /responses, 256 KB body",
      request: { method: "POST", url: new URL("responses", base), headers, body: continuation(262_144) },
    },
  ];
  for (const [i, { label, request }] of cases.entries()) {
    const perCall = await cpuPerCall(request);
    const typical = i < 2;
    rows.push({
      bench: "signing",
      measure: `CPU per signed call, ${label} (median of ${ROUNDS} × ${CALLS})`,
      value: `${(perCall * 1000).toFixed(1)} µs`,
      target: typical ? `≤ ${GOAL_MS} ms` : "",
      verdict: typical ? (perCall <= GOAL_MS ? "met" : "missed") : "",
    });
  }

  const relay = await bundleLambda("functions/submit-tool-outputs/handler.ts", join(outDir, "relay", "index.mjs"));
  const modes = await bundleLambda("bench/fixtures/relay-first-uses.ts", join(outDir, "modes", "index.mjs"));
  const { metafile } = relay;
  const entry = Object.keys(metafile.outputs).find((file) => file.endsWith("index.mjs"))!;
  const initial = staticClosure(metafile, entry);
  const chunk = Object.keys(metafile.outputs).find((file) => /\/sigv4-signer-[^/]+\.mjs$/.test(file));
  const added = chunk ? addedBy(metafile, chunk, initial) : [];
  const signerInInit = [...initial].some((file) =>
    Object.keys(metafile.outputs[file]?.inputs ?? {}).some((input) => input.includes("@smithy/signature-v4/")),
  );
  rows.push({
    bench: "signing",
    measure: "bytes the signer's chunk adds to the relay bundle on first use",
    value: kib(bytesOf(added)),
    baseline: `${added.length} file(s); @smithy/signature-v4 already in the cold start (the SDK clients sign with it): ${signerInInit ? "yes" : "no"}`,
  });

  const times = Array.from({ length: FIRST_USE_RUNS + 1 }, () =>
    runInFreshNode<number>(modes.outfile, FIRST_SIGNATURE, { ENDPOINT_SECRET_ARN: "" }),
  ).slice(1);
  rows.push({
    bench: "signing",
    measure: `first use: lazy import of the signer and one signature (median of ${FIRST_USE_RUNS})`,
    value: ms(median(times)),
  });

  // Which deployments load the signer: a Portkey one never; a Bedrock-only one at init, with its credentials.
  const signerFile = chunk ? basename(chunk) : "(no signer chunk)";
  const loadsSigner = (deployment: Record<string, string>) =>
    runInFreshNode<string[]>(relay.outfile, LOADED_FILES_SCRIPT, { ENDPOINT_SECRET_ARN: "", ...deployment }).some((url) =>
      url.endsWith(signerFile),
    );
  const portkey = loadsSigner({ PORTKEY_API_KEY: "pk-bench", PORTKEY_VIRTUAL_KEY: "vk-bench" });
  const bedrock = loadsSigner({ RESPONSES_BASE_URL: "https://bedrock-runtime.us-east-1.amazonaws.com/openai/v1" });
  rows.push({
    bench: "signing",
    measure: "a non-signing deployment (hosted Portkey) loads the signer's chunk",
    value: portkey ? "yes" : "no",
    baseline: `a Bedrock-only deployment: ${bedrock ? "yes, at init" : "no"}`,
    target: "no",
    verdict: portkey ? "missed" : "met",
  });
  report(rows);
} finally {
  rmSync(outDir, { recursive: true, force: true });
}
