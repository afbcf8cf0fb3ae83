/**
 * Import timing of a Lambda bundle in a fresh Node process with a deployed function's environment: the cold-start
 * benchmark's measure, shared with the cost benchmark (whose INIT time it is).
 */
import { spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";

/** What a deployed function's environment holds at init (the values only need to be well-formed). */
export const LAMBDA_ENV = {
  PATH: process.env.PATH ?? "",
  AWS_REGION: "eu-west-1",
  AWS_ACCESS_KEY_ID: "local",
  AWS_SECRET_ACCESS_KEY: "local",
  ENDPOINT_SECRET_ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:relay-endpoint-AbCdEf",
  RESULTS_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:tool-output-results",
  DLQ_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/tool-outputs-dlq",
  INPUT_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/tool-outputs",
  MAX_RECEIVE_COUNT: "5",
  POWERTOOLS_SERVICE_NAME: "tool-output-relay",
  POWERTOOLS_METRICS_NAMESPACE: "ToolOutputRelay",
};

const IMPORT_TIMER =
  "const t = performance.now(); const m = await import(process.argv[1]); if (typeof m.handler !== 'function') process.exit(3); console.log(performance.now() - t);";

/**
 * Milliseconds of `await import(file)` in a fresh `node` (the handler must be exported).
 * `env`: variables beside a deployed function's (Node's compile cache, say).
 * @example const ms = importMs(outfile, { sourceMaps: false });
 */
export function importMs(file: string, o: { sourceMaps?: boolean; env?: Record<string, string> } = {}): number {
  const run = spawnSync(
    process.execPath,
    [...(o.sourceMaps ? ["--enable-source-maps"] : []), "--input-type=module", "-e", IMPORT_TIMER, pathToFileURL(file).href],
    { env: { ...LAMBDA_ENV, ...o.env }, encoding: "utf8" },
  );
  if (run.status !== 0) throw new Error(`import of ${file} failed (${run.status}): ${run.stderr.slice(0, 500)}`);
  return Number(run.stdout.trim().split("\n").at(-1));
}

/**
 * Runs `script` (an ES module body) in a fresh `node` with the bundle's URL as `process.argv[1]` (then `args`), and
 * returns its last stdout line parsed as JSON.
 */
export function runInFreshNode<T>(file: string, script: string, env: Record<string, string> = {}, args: string[] = []): T {
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", script, pathToFileURL(file).href, ...args], {
    env: { ...LAMBDA_ENV, ...env },
    encoding: "utf8",
  });
  if (run.status !== 0) throw new Error(`fresh node on ${file} failed (${run.status}): ${run.stderr.slice(0, 800)}`);
  return JSON.parse(run.stdout.trim().split("\n").at(-1)!) as T;
}
