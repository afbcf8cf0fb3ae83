/**
 * `npm run build:lib`: what the published package holds besides the relay's bundle (`npm run build`): the construct
 * (lib/index.ts → dist/lib/index.js) and the tool-worker client (client/index.ts → dist/lib/client.js) as ES modules
 * with every package left to the app (aws-cdk-lib, constructs, the AWS SDK, zod), and their declarations
 * (dist/types). No jsii: a TypeScript/JavaScript CDK app imports it like any package.
 */
import { execFileSync } from "node:child_process";
import { build } from "esbuild";

await build({
  entryPoints: { index: "lib/index.ts", client: "client/index.ts" },
  outdir: "dist/lib",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22",
  packages: "external",
  sourcemap: true,
  logLevel: "warning",
});
execFileSync("npx", ["tsc", "-p", "tsconfig.lib.json"], { stdio: "inherit" });
console.log("dist/lib/index.js, dist/lib/client.js, dist/types/");
