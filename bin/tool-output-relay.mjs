#!/usr/bin/env node
// Launcher for the operator CLI: runs the TypeScript source through tsx's loader, no build step.
// `npx tool-output-relay --help` from the repository (or `npm exec tool-output-relay -- …`).
import { existsSync } from "node:fs";

// The published package ships the construct and the client, not the CLI's sources: the CLI runs from a clone.
if (!existsSync(new URL("../cli/main.ts", import.meta.url))) {
  console.error("tool-output-relay: the operator CLI runs from a clone of the repository (docs/local-and-cli.md)");
  process.exit(2);
}
const { register } = await import("tsx/esm/api");
register();
const { runCli } = await import("../cli/main.ts");

const interrupt = new AbortController();
process.once("SIGINT", () => {
  interrupt.abort();
  // A second Ctrl-C does not wait for the cleanup.
  process.once("SIGINT", () => process.exit(130));
});
process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  signal: interrupt.signal,
});
