/**
 * `npm start`: the relay's whole job on this machine, with no AWS account and no LLM key.
 *   npm start               run the demo scenario (Assistants and Responses APIs), print the summary, exit 0 (1 if something was lost)
 *   npm start -- --serve    keep the local stack running for the operator CLI (prints the env lines)
 * With ENDPOINT_BASE_URL and PORTKEY_API_KEY (+ PORTKEY_VIRTUAL_KEY) set, the relay talks to that
 * endpoint instead of the simulator; only `--serve` makes sense then (the runs are yours).
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    serve: { type: "boolean", default: false },
    verbose: { type: "boolean", short: "v", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});
// The relay's JSON logs and metrics would drown the summary; --verbose shows them. Set before the
// relay's modules load: Powertools reads its level once.
process.env.POWERTOOLS_LOG_LEVEL ??= values.verbose ? "INFO" : "ERROR";
process.env.POWERTOOLS_METRICS_DISABLED ??= values.verbose ? "false" : "true";
const { formatScenarioReport, runDemoScenario } = await import("./demo-scenario");
const { serveLocalStack } = await import("./serve");

if (values.help) {
  console.log(`npm start                 run the demo scenario on the local stack and print what happened
npm start -- --serve      keep the local stack running; prints the env lines for the CLI (npx tool-output-relay …)
npm start -- --verbose    also print the relay's own JSON logs
Env: ENDPOINT_BASE_URL, PORTKEY_API_KEY, PORTKEY_VIRTUAL_KEY  use a real endpoint instead of the simulator (with --serve)`);
  process.exit(0);
}

const externalUrl = process.env.ENDPOINT_BASE_URL;
if (values.serve) {
  await serveLocalStack(process.env);
} else if (externalUrl) {
  console.error(`ENDPOINT_BASE_URL is set (${new URL(externalUrl).host}): the demo scenario needs runs it can make, which only the simulator allows.
Run \`npm start -- --serve\` instead: the relay then talks to that endpoint, and you send outputs for your own runs with
\`npx tool-output-relay send --thread <thread_id> --run <run_id> --output <call_id>=<output>\` (or \`--response <response_id>\`).
Unset ENDPOINT_BASE_URL to run the demo scenario against the simulator.`);
  process.exit(2);
} else {
  const report = await runDemoScenario();
  console.log(formatScenarioReport(report));
  process.exit(report.ok ? 0 : 1);
}
