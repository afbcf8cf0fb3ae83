import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import type { BuildOptions, Metafile } from "esbuild";

/**
 * esbuild, loaded on first use: the published construct ships a prebuilt bundle and does not depend on esbuild, so
 * merely importing the construct must not load it.
 */
const esbuild = (): typeof import("esbuild") => createRequire(import.meta.url)("esbuild");

/**
 * How the relay is bundled, shared by the CDK stack (infra/constructs/relay-function.ts), `npm run build` and the
 * benchmarks, so the benchmarks measure what Lambda runs.
 */
export const RELAY_BUNDLE = {
  target: "node24",
  /** Prefer ES modules: esbuild can then drop what the relay does not use. */
  mainFields: ["module", "main"],
  /** esbuild's ESM output has no `require`; some bundled CommonJS dependencies still call it. */
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
} as const;

/**
 * esbuild's options for a Lambda entry: ESM, minified, the AWS SDK inside, a source map beside each file, and code
 * split at every dynamic `import()`. Splitting keeps what only some messages need (the DynamoDB client of the state
 * table, the S3 client of the payload bucket, the Entra ID token code, the SDK's own credential providers) out of
 * the files the cold start loads: they load on first use.
 */
export function lambdaBuildOptions(entry: string, outdir: string): BuildOptions & { metafile: true } {
  return {
    entryPoints: [entry],
    outdir,
    entryNames: "index",
    chunkNames: "chunks/[name]-[hash]",
    outExtension: { ".js": ".mjs" },
    splitting: true,
    bundle: true,
    platform: "node",
    format: "esm",
    target: RELAY_BUNDLE.target,
    mainFields: [...RELAY_BUNDLE.mainFields],
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    banner: { js: RELAY_BUNDLE.banner },
    metafile: true,
    logLevel: "warning",
  };
}

export interface BundleReport {
  /** The entry file, `<outdir>/index.mjs`. */
  outfile: string;
  /** Every file's bytes. */
  bytes: number;
  gzipBytes: number;
  /** What the cold start loads: the entry and the files it imports statically, transitively. */
  initialBytes: number;
  initialGzipBytes: number;
  metafile: Metafile;
}

/**
 * Bundles a Lambda entry as the stack does.
 * @example const { initialBytes } = await bundleLambda("functions/submit-tool-outputs/handler.ts", "dist/x/index.mjs");
 */
export async function bundleLambda(entry: string, outfile: string): Promise<BundleReport> {
  const outdir = dirname(outfile);
  const result = await esbuild().build(lambdaBuildOptions(entry, outdir));
  return report(result.metafile, join(outdir, "index.mjs"));
}

/** The same, synchronously: CDK's local bundling cannot wait. */
export function bundleLambdaSync(entry: string, outdir: string): BundleReport {
  return report(esbuild().buildSync(lambdaBuildOptions(entry, outdir)).metafile, join(outdir, "index.mjs"));
}

function report(metafile: Metafile, outfile: string): BundleReport {
  const code = Object.keys(metafile.outputs).filter((file) => file.endsWith(".mjs"));
  const entry = code.find((file) => file.endsWith("index.mjs"))!;
  const initial = new Set<string>();
  const visit = (file: string) => {
    if (initial.has(file)) return;
    initial.add(file);
    for (const imported of metafile.outputs[file]?.imports ?? [])
      if (imported.kind === "import-statement" && !imported.external) visit(imported.path);
  };
  visit(entry);
  const size = (files: Iterable<string>) => [...files].reduce((sum, file) => sum + statSync(file).size, 0);
  const gzip = (files: Iterable<string>) => [...files].reduce((sum, file) => sum + gzipSync(readFileSync(file)).length, 0);
  return { outfile, bytes: size(code), gzipBytes: gzip(code), initialBytes: size(initial), initialGzipBytes: gzip(initial), metafile };
}
