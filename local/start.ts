/**
 * `npm start`: the relay's whole job on this machine, with no AWS account and no LLM key.
 *   npm start               run the demo scenario (Assistants and Responses APIs), print the summary, exit 0 (1 if something was lost)
 *   npm start -- --serve    keep the local stack running for the operator CLI (prints the env lines)
 * With the function's endpoint variables set (ENDPOINT_BASE_URL, RESPONSES_BASE_URL, the api versions, the credential
 * keys: docs/endpoints.md), the relay talks to that endpoint instead of the simulator; only `--serve` makes sense then
 * (the runs are yours). Wrong or missing endpoint variables: a message naming them, exit code 2.
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
const { EndpointSetupError, namesExternalEndpoint } = await import("./external-endpoint");

if (values.help) {
  console.log(`npm start                 run the demo scenario on the local stack and print what happened
npm start -- --serve      keep the local stack running; prints the env lines for the CLI (npx tool-output-relay …)
npm start -- --verbose    also print the relay's own JSON logs
Env: the function's endpoint variables (ENDPOINT_BASE_URL, RESPONSES_BASE_URL, ENDPOINT_API_VERSION, RESPONSES_API_VERSION
     and the credential keys, see docs/endpoints.md): use that endpoint instead of the simulator (with --serve)`);
  process.exit(0);
}

if (values.serve) {
  try {
    await serveLocalStack(process.env);
  } catch (error) {
    if (!(error instanceof EndpointSetupError)) throw error;
    console.error(`npm start -- --serve: the endpoint cannot be used as configured: ${error.message}.
Set what is missing (docs/endpoints.md has each endpoint's variables), or unset the endpoint variables to use the simulator.`);
    process.exit(2);
  }
} else if (namesExternalEndpoint(process.env)) {
  console.error(`An endpoint is configured (ENDPOINT_BASE_URL or its credentials are set): the demo scenario needs runs it can make, which only the simulator allows.
Run \`npm start -- --serve\` instead: the relay then talks to that endpoint, and you send outputs for your own runs with
\`npx tool-output-relay send --thread <thread_id> --run <run_id> --output <call_id>=<output>\` (or \`--response <response_id>\`).
Unset the endpoint variables (docs/endpoints.md) to run the demo scenario against the simulator.`);
  process.exit(2);
} else {
  const report = await runDemoScenario();
  console.log(formatScenarioReport(report));
  process.exit(report.ok ? 0 : 1);
}
