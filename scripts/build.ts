/**
 * `npm run build`: bundles the relay exactly as the CDK stack does (ESM, minified, Node 24, the AWS SDK
 * inside), to dist/submit-tool-outputs/index.mjs, and prints its size — for a look at what Lambda runs,
 * and for the cold-start benchmark. `cdk deploy` bundles on its own; this is not a deploy step.
 */
import { bundleLambda } from "../infra/bundling";

const { outfile, bytes, initialBytes, initialGzipBytes, metafile } = await bundleLambda(
  "functions/submit-tool-outputs/handler.ts",
  "dist/submit-tool-outputs/index.mjs",
);
const modules = Object.keys(metafile.inputs).length;
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
console.log(
  `${outfile}: ${kib(initialBytes)} loaded at cold start (${kib(initialGzipBytes)} gzip), ${kib(bytes)} with the chunks loaded on first use, from ${modules} modules`,
);
