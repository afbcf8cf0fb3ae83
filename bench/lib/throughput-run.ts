/**
 * One throughput run in a fresh process (so peak RSS is this run's alone): `<relay|noop|bare> <messages>`.
 * The whole local stack shares this process, as `npm start` runs it; the endpoint answers at once. Each
 * invocation's wall time is noted as Lambda bills it (rounded up to 1 ms).
 */
import { performance } from "node:perf_hooks";
import { answerFor } from "../../fixtures/messages";
import type { SqsHandler } from "../../local/event-source-poller";
import { startLocalStack } from "../../local/local-stack";
import { bareRelay } from "./bare-relay";
import { trackPeakRss } from "./stats";

const variant = (["noop", "bare"] as const).find((v) => v === process.argv[2]) ?? "relay";
const count = Number(process.argv[3] ?? 2000);
const memory = trackPeakRss();
let bare: ReturnType<typeof bareRelay> | undefined;
const billedMs: number[] = [];
const batchSizes: number[] = [];
const billed =
  (handler: SqsHandler): SqsHandler =>
  async (event, context) => {
    const started = performance.now();
    try {
      return await handler(event, context);
    } finally {
      billedMs.push(Math.ceil(performance.now() - started));
      batchSizes.push(event.Records.length);
    }
  };
const stack = await startLocalStack({
  simulator: { processingMs: 0, pollAfterMs: 10 },
  wrapHandler: (real) =>
    billed(variant === "noop" ? async () => ({ batchItemFailures: [] }) : variant === "bare" ? (event) => bare!.handle(event) : real),
});
bare = bareRelay({
  simBaseUrl: stack.endpointBaseUrl,
  awsEndpoint: stack.aws.endpoint,
  region: stack.aws.region,
  resultsTopicArn: stack.aws.resultsTopicArn,
  apiKey: stack.env.PORTKEY_API_KEY,
  virtualKey: stack.env.PORTKEY_VIRTUAL_KEY,
});
const runs = Array.from({ length: count }, () => stack.sim!.createRun({ toolCalls: 2 }));
const bodies = runs.map((run) => JSON.stringify(answerFor(run, {}, () => JSON.stringify({ v: "throughput" }))));
const started = performance.now();
const ids = await stack.sendMany(bodies);
const sentMs = performance.now() - started;
const accounting = await stack.settle(ids, { timeoutMs: 300_000 });
const wallMs = performance.now() - started;
const peak = memory.stop();
await stack.close();
if (accounting.pending.length > 0 || accounting.deadLettered.length > 0)
  throw new Error(`throughput ${variant}: ${accounting.pending.length} pending, ${accounting.deadLettered.length} dead-lettered`);
if (variant !== "noop" && stack.ledger.results.length < count)
  throw new Error(`throughput: only ${stack.ledger.results.length} results for ${count} messages`);
const invocations = billedMs.length;
const totalBilledMs = billedMs.reduce((a, b) => a + b, 0);
process.stdout.write(
  `THROUGHPUT ${JSON.stringify({ variant, count, wallMs, sentMs, peakRss: peak, invocations, totalBilledMs, billedMs, batchSizes })}\n`,
);
