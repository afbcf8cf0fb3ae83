#!/usr/bin/env node
// Launcher for the operator CLI: runs the TypeScript source through tsx's loader, no build step.
// `npx tool-output-relay --help` from the repository (or `npm exec tool-output-relay -- …`).
import { register } from "tsx/esm/api";

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
