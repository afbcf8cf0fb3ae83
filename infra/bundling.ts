import { execFileSync } from "node:child_process";
import { readFileSync, realpathSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import type { BuildOptions, Metafile, Plugin } from "esbuild";

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
 * Bundles a Lambda entry as the stack does, with what the init loads in one file (`oneInitChunk`).
 * @example const { initialBytes } = await bundleLambda("functions/submit-tool-outputs/handler.ts", "dist/x/index.mjs");
 */
export async function bundleLambda(entry: string, outfile: string): Promise<BundleReport> {
  const outdir = dirname(outfile);
  const scan = await esbuild().build({ ...lambdaBuildOptions(entry, outdir), write: false, minify: false, sourcemap: false });
  const result = await esbuild().build({ ...lambdaBuildOptions(entry, outdir), plugins: [oneInitChunk(entry, scan.metafile)] });
  return report(result.metafile, join(outdir, "index.mjs"));
}

/**
 * The same, synchronously: CDK's local bundling cannot wait, and esbuild's `buildSync` takes no plugins, so the build
 * runs in a child Node (which strips this file's types itself) and this waits for it. Bundled into the published
 * construct, this file is no module of its own a child could import: there a custom `handlerEntry` is bundled by
 * `buildSync`, its init spread over more files.
 */
export function bundleLambdaSync(entry: string, outdir: string): BundleReport {
  if (!import.meta.url.endsWith("/bundling.ts")) {
    return report(esbuild().buildSync(lambdaBuildOptions(entry, outdir)).metafile, join(outdir, "index.mjs"));
  }
  const script =
    "const { bundleLambda } = await import(process.argv[1]); console.log(JSON.stringify(await bundleLambda(...process.argv.slice(2))));";
  const printed = execFileSync(process.execPath, ["--input-type=module", "-e", script, import.meta.url, entry, join(outdir, "index.mjs")], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return JSON.parse(printed) as BundleReport;
}

/**
 * What the init loads, in one chunk. esbuild gives a module to the chunk of the set of entry points that reach it (the
 * handler, and each module imported dynamically), and has no option to merge chunks; so the modules the init loads
 * were spread over some twenty small chunks, one for each set of lazy modules sharing them, and each file costs the
 * cold start its own resolve, read, compile and link (bench/README.md has the figures). Each dynamically imported
 * module here also imports the entry: every module the entry reaches is then reached by every entry point, and lands
 * in one chunk beside a facade `index.mjs`; what only lazy modules reach stays in their chunks, loaded on first use.
 * At run time the added import is a module already evaluated. (So the entry must not await a dynamic import at its top
 * level: the imported module would wait for the entry.) `scan`: a first build's metafile, which names the dynamically
 * imported modules.
 */
function oneInitChunk(entry: string, scan: Metafile): Plugin {
  // ES modules only: an import added to a CommonJS file would turn it into a broken ES module.
  const lazy = new Set(
    Object.values(scan.inputs).flatMap((input) =>
      input.imports.flatMap((i) =>
        i.kind === "dynamic-import" && !i.external && scan.inputs[i.path]?.format === "esm" ? [realpathSync(resolve(i.path))] : [],
      ),
    ),
  );
  const entryImport = `\nimport ${JSON.stringify(realpathSync(resolve(entry)))};\n`;
  return {
    name: "one-init-chunk",
    setup(build) {
      build.onLoad({ filter: /\.[cm]?[jt]s$/ }, ({ path }) => {
        if (!lazy.has(path)) return undefined;
        return {
          contents: readFileSync(path, "utf8") + entryImport,
          loader: /\.[cm]?ts$/.test(path) ? "ts" : "js",
          resolveDir: dirname(path),
        };
      });
    },
  };
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
