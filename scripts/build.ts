/**
 * `npm run build`: bundles the relay exactly as the CDK stack does (ESM, minified, Node 24, the AWS SDK
 * inside), to dist/submit-tool-outputs/index.mjs, and prints its size — for a look at what Lambda runs,
 * and for the cold-start benchmark. `cdk deploy` bundles on its own; this is not a deploy step.
 */
import { build } from "esbuild";
import { statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { RELAY_BUNDLE } from "../infra/bundling";

const outfile = "dist/submit-tool-outputs/index.mjs";
const result = await build({
  entryPoints: ["functions/submit-tool-outputs/handler.ts"],
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

const bytes = statSync(outfile).size;
const gzip = gzipSync(readFileSync(outfile)).length;
const inputs = Object.keys(result.metafile.inputs).length;
console.log(`${outfile}: ${(bytes / 1024).toFixed(1)} KiB (${(gzip / 1024).toFixed(1)} KiB gzip) from ${inputs} modules`);
