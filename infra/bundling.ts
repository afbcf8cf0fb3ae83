import { readFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { build, type Metafile } from "esbuild";

/**
 * How the relay is bundled, shared by the CDK stack (NodejsFunction), `npm run build` and the
 * cold-start benchmark, so the benchmarks measure what Lambda runs.
 */
export const RELAY_BUNDLE = {
  target: "node24",
  /** Prefer ES modules: esbuild can then drop what the relay does not use. */
  mainFields: ["module", "main"],
  /** esbuild's ESM output has no `require`; some bundled CommonJS dependencies still call it. */
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
} as const;

/**
 * Bundles a Lambda entry as the stack does (ESM, minified, AWS SDK inside, source map beside it).
 * @example const { bytes, gzipBytes } = await bundleLambda("functions/submit-tool-outputs/handler.ts", "dist/x/index.mjs");
 */
export async function bundleLambda(
  entry: string,
  outfile: string,
): Promise<{ outfile: string; bytes: number; gzipBytes: number; metafile: Metafile }> {
  const result = await build({
    entryPoints: [entry],
    outfile,
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
  });
  return { outfile, bytes: statSync(outfile).size, gzipBytes: gzipSync(readFileSync(outfile)).length, metafile: result.metafile };
}
