/**
 * Entra ID token source: the hand-written client-credentials request (functions/submit-tool-outputs/endpoint/credentials/entra-token.ts)
 * against @azure/identity's ClientSecretCredential, each loaded lazily inside the relay bundle exactly as the
 * stack bundles it (infra/bundling.ts). Prints, per option:
 * (a) the bytes each adds to the relay bundle (and gzip);
 * (b) in a fresh Node process (median of BENCH_ENTRA_RUNS, default 15): the relay bundle's import time with the
 *     option inlined but not run (what every other mode pays), then the lazy import + construction;
 * (c) the time to a first token against a loopback token endpoint (the endpoint simulator's Entra authority,
 *     served over https with a throwaway self-signed certificate made with openssl, trusted via NODE_EXTRA_CA_CERTS),
 *     and how many requests that first token took (`fetch` is warmed first, on another server: the relay loads it
 *     for its endpoint calls anyway, while MSAL uses node:https, which the AWS SDK has loaded already);
 * and what each does with a plain-http loopback authority and with ten concurrent first callers.
 * @azure/identity runs with `disableInstanceDiscovery: true`: without it, a non-default authority host makes MSAL ask
 * login.microsoftonline.com for instance metadata first. BENCH_ENTRA_INSTANCE_DISCOVERY=1 adds that run (it goes
 * to the internet; offline it fails with endpoints_resolution_error).
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { bundleLambda } from "../infra/bundling";
import { EntraAuthority, FOUNDRY_SCOPE } from "../local/endpoint-simulator/entra-authority";
import type { BenchTokenSourceOptions } from "./fixtures/relay-entra-identity";
import { kib, median, ms, ratio } from "./lib/stats";
import { type BenchRow, report } from "./lib/table";

const RUNS = Number(process.env.BENCH_ENTRA_RUNS ?? 15);
const TRY_INSTANCE_DISCOVERY = process.env.BENCH_ENTRA_INSTANCE_DISCOVERY === "1";
const CLIENT = { tenantId: "bench-tenant", clientId: "bench-app", clientSecret: "bench-secret" };
const run = promisify(execFile);
const outDir = mkdtempSync(join(tmpdir(), "relay-entra-token-"));

/** One of Entra's endpoints on loopback, recording the paths asked for (never the bodies: they hold the secret). */
async function startAuthority(tls?: { key: Buffer; cert: Buffer }) {
  const seen: string[] = [];
  const authority = new EntraAuthority({ ...CLIENT, lifetimeSeconds: 3600, now: Date.now }, { tokenRequests: 0, tokensIssued: 0 });
  let origin = "";
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      const path = new URL(req.url ?? "/", origin).pathname;
      seen.push(`${req.method} ${path}`);
      const reply = authority.handle(req.method ?? "GET", path, body, origin) ?? { status: 404, body: { error: "not_found" } };
      res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers }).end(JSON.stringify(reply.body));
    });
  };
  const server = tls ? createHttpsServer(tls, handle) : createHttpServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `${tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    take: () => seen.splice(0),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A throwaway certificate for 127.0.0.1; undefined when openssl is not installed. */
function selfSignedCertificate(): { key: Buffer; cert: Buffer; certFile: string } | undefined {
  const keyFile = join(outDir, "key.pem");
  const certFile = join(outDir, "cert.pem");
  try {
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"].concat([
        "-keyout",
        keyFile,
        "-out",
        certFile,
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ]),
      { stdio: "ignore" },
    );
  } catch {
    return undefined;
  }
  return { key: readFileSync(keyFile), cert: readFileSync(certFile), certFile };
}

// What a deployed function's environment holds at init; credentials from the environment, so nothing leaves the machine.
const childEnv = (certFile?: string) => ({
  PATH: process.env.PATH ?? "",
  AWS_REGION: "eu-west-1",
  AWS_ACCESS_KEY_ID: "local",
  AWS_SECRET_ACCESS_KEY: "local",
  PORTKEY_API_KEY: "pk-bench",
  PORTKEY_VIRTUAL_KEY: "vk-bench",
  RESULTS_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:tool-output-results",
  DLQ_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/tool-outputs-dlq",
  INPUT_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/tool-outputs",
  POWERTOOLS_LOG_LEVEL: "ERROR",
  POWERTOOLS_METRICS_DISABLED: "true",
  ...(certFile ? { NODE_EXTRA_CA_CERTS: certFile } : {}),
});

/** Runs in a fresh process: import the bundle; unless only timing the import, build a token source and get tokens. */
const CHILD = `
const [file, mode, optionsJson, warmUrl] = process.argv.slice(1);
const out = (value) => { console.log(JSON.stringify(value)); process.exit(0); };
const t0 = performance.now();
const bundle = await import(file);
const importMs = performance.now() - t0;
if (typeof bundle.handler !== "function") process.exit(3);
if (mode === "import") out({ importMs });
const t1 = performance.now();
let source;
try { source = await bundle.createTokenSource(JSON.parse(optionsJson)); } catch (error) { out({ importMs, refused: error.message }); }
const initMs = performance.now() - t1;
// Node loads fetch (undici, its HTTP parser) on first use, once per environment: only the token requests use it (the
// endpoint's calls go on Node's http), and that load is left out here. Warmed against another (plain-http) server:
// no TLS session or connection is reused.
if (warmUrl) await fetch(warmUrl).then((r) => r.text());
const t2 = performance.now();
try {
  const tokens = await Promise.all(Array.from({ length: mode === "concurrent" ? 10 : 1 }, () => source.token()));
  out({ importMs, initMs, tokenMs: performance.now() - t2, distinct: new Set(tokens).size });
} catch (error) { out({ importMs, initMs, tokenMs: performance.now() - t2, failed: String(error.message).slice(0, 200) }); }
`;

interface ChildResult {
  importMs: number;
  initMs?: number;
  tokenMs?: number;
  distinct?: number;
  refused?: string;
  failed?: string;
}

let warmUrl = "";

async function child(file: string, mode: "import" | "token" | "concurrent", options?: BenchTokenSourceOptions, certFile?: string) {
  const args = ["--input-type=module", "-e", CHILD, pathToFileURL(file).href, mode, JSON.stringify(options ?? {}), warmUrl];
  const { stdout } = await run(process.execPath, args, { env: childEnv(certFile), encoding: "utf8", timeout: 60_000 });
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as ChildResult;
}

const sampled = (results: ChildResult[], key: "importMs" | "initMs" | "tokenMs") => ms(median(results.map((r) => r[key] ?? Number.NaN)));

try {
  const bundles = {
    relay: await bundleLambda("functions/submit-tool-outputs/handler.ts", join(outDir, "relay", "index.mjs")),
    hand: await bundleLambda("bench/fixtures/relay-entra-hand.ts", join(outDir, "hand", "index.mjs")),
    identity: await bundleLambda("bench/fixtures/relay-entra-identity.ts", join(outDir, "identity", "index.mjs")),
  };
  const options = { hand: "hand-written", identity: "@azure/identity 4.14.1" } as const;
  const rows: BenchRow[] = [];
  const row = (measure: string, value: string, baseline?: string, r?: number) =>
    rows.push({ bench: "entra token", measure, value, baseline, ...(r === undefined ? {} : { ratio: ratio(r) }) });
  const modules = (b: typeof bundles.relay) => Object.keys(b.metafile.inputs).length;
  for (const name of ["hand", "identity"] as const) {
    const b = bundles[name];
    const added = `+${kib(b.bytes - bundles.relay.bytes)} (+${kib(b.gzipBytes - bundles.relay.gzipBytes)} gzip)`;
    row(
      `(a) ${options[name]}: bytes added to the relay bundle`,
      added,
      `relay ${kib(bundles.relay.bytes)}, +${modules(b) - modules(bundles.relay)} modules`,
    );
  }

  const certificate = selfSignedCertificate();
  const https = certificate ? await startAuthority(certificate) : undefined;
  const http = await startAuthority();
  const warming = await startAuthority();
  warmUrl = `${warming.origin}/warm`;
  const against = (origin: string, extra: Partial<BenchTokenSourceOptions> = {}) => ({
    ...CLIENT,
    authorityHost: origin,
    scope: FOUNDRY_SCOPE,
    ...extra,
  });
  try {
    const samples = { relay: [] as ChildResult[], hand: [] as ChildResult[], identity: [] as ChildResult[] };
    const requests = { hand: new Set<string>(), identity: new Set<string>() };
    for (let i = 0; i <= RUNS; i++) {
      const relay = await child(bundles.relay.outfile, "import");
      const results = { relay } as Record<keyof typeof samples, ChildResult>;
      for (const name of ["hand", "identity"] as const) {
        results[name] = https
          ? await child(bundles[name].outfile, "token", against(https.origin), certificate?.certFile)
          : await child(bundles[name].outfile, "import");
        if (results[name].failed) throw new Error(`${name}: ${results[name].failed}`);
        if (https) requests[name].add(https.take().join(" → "));
      }
      // The first round warms the OS file cache; it is not counted.
      if (i > 0) for (const name of ["relay", "hand", "identity"] as const) samples[name].push(results[name]);
    }
    row(
      `(b) relay bundle import, fresh process, Node ${process.versions.node} (median of ${RUNS})`,
      sampled(samples.relay, "importMs"),
      "no Entra code",
    );
    const relayImport = median(samples.relay.map((r) => r.importMs));
    for (const name of ["hand", "identity"] as const) {
      const inlined = median(samples[name].map((r) => r.importMs));
      row(`(b) ${options[name]} inlined, not loaded: relay import (other modes pay this)`, ms(inlined), "vs relay", inlined / relayImport);
    }
    if (https) {
      for (const name of ["hand", "identity"] as const)
        row(`(b) ${options[name]}: lazy import + construct`, sampled(samples[name], "initMs"));
      for (const name of ["hand", "identity"] as const) {
        row(`(c) ${options[name]}: first token over https loopback`, sampled(samples[name], "tokenMs"), [...requests[name]].join(" | "));
      }
      for (const name of ["hand", "identity"] as const) {
        const before = https.take().length;
        const result = await child(bundles[name].outfile, "concurrent", against(https.origin), certificate?.certFile);
        const posts = https.take().filter((r) => r.startsWith("POST")).length;
        row(
          `${options[name]}: ten concurrent first callers`,
          `${posts} token request(s), ${result.distinct} distinct token(s)`,
          `${before} stray`,
        );
      }
    } else {
      row("(b)/(c) first token over https", "not measured: openssl not found (needed for a loopback certificate)");
    }
    const handHttp = await child(bundles.hand.outfile, "token", against(http.origin));
    row(
      `(c) ${options.hand}: first token over plain-http loopback`,
      handHttp.failed ?? ms(handHttp.tokenMs ?? Number.NaN),
      http.take().join(" → "),
    );
    const identityHttp = await child(bundles.identity.outfile, "token", against(http.origin));
    row(
      `${options.identity}: plain-http loopback authority`,
      identityHttp.refused ?? identityHttp.failed ?? "accepted",
      `${http.take().length} request(s)`,
    );
    if (TRY_INSTANCE_DISCOVERY && https) {
      const discovering = await child(
        bundles.identity.outfile,
        "token",
        against(https.origin, { instanceDiscovery: true }),
        certificate?.certFile,
      );
      row(
        `${options.identity}: instance discovery on, non-default host`,
        discovering.failed ?? ms(discovering.tokenMs ?? Number.NaN),
        `${https.take().length} request(s) reached loopback`,
      );
    }
  } finally {
    await https?.close();
    await http.close();
    await warming.close();
  }
  report(rows);
} finally {
  rmSync(outDir, { recursive: true, force: true });
}
