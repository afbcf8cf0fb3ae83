/**
 * One throughput run in a fresh process (so peak RSS is this run's alone): `<relay|noop> <messages>`.
 * The whole local stack shares this process, as `npm start` runs it; the endpoint answers at once.
 */
import { performance } from "node:perf_hooks";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import type { SQSEvent } from "aws-lambda";
import { answerFor } from "../../fixtures/messages";
import type { RelayEnvironment } from "../../functions/submit-tool-outputs/environment";
import { startLocalStack } from "../../local/local-stack";
import { trackPeakRss } from "./stats";

const variant = (["noop", "bare"] as const).find((v) => v === process.argv[2]) ?? "relay";
const count = Number(process.argv[3] ?? 2000);
const memory = trackPeakRss();
/** bench/lib/bare-relay.ts's loop, inside the stack: fetch + SNS publish per record, nothing else. */
function bareHandler(env: RelayEnvironment) {
  const sns = new SNSClient({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL });
  const headers = {
    "x-portkey-api-key": env.PORTKEY_API_KEY!,
    "x-portkey-virtual-key": env.PORTKEY_VIRTUAL_KEY!,
    "openai-beta": "assistants=v2",
    "content-type": "application/json",
  };
  return async (event: SQSEvent) => {
    await Promise.all(
      event.Records.map(async (record) => {
        const m = JSON.parse(record.body) as { thread_id: string; run_id: string; tool_outputs: unknown };
        const response = await fetch(`${env.ENDPOINT_BASE_URL}/threads/${m.thread_id}/runs/${m.run_id}/submit_tool_outputs`, {
          method: "POST",
          headers,
          body: JSON.stringify({ tool_outputs: m.tool_outputs }),
        });
        const run = (await response.json()) as { status: string };
        await sns.send(
          new PublishCommand({
            TopicArn: env.RESULTS_TOPIC_ARN,
            Message: JSON.stringify({
              type: `run.${run.status}`,
              thread_id: m.thread_id,
              run_id: m.run_id,
              source_message_id: record.messageId,
              run,
            }),
          }),
        );
      }),
    );
    return { batchItemFailures: [] };
  };
}

let stackEnv: RelayEnvironment = {};
const stack = await startLocalStack({
  simulator: { processingMs: 0, pollAfterMs: 10 },
  ...(variant === "noop" ? { wrapHandler: () => async () => ({ batchItemFailures: [] }) } : {}),
  ...(variant === "bare" ? { wrapHandler: () => (event) => bareHandler(stackEnv)(event) } : {}),
});
stackEnv = stack.env;
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
process.stdout.write(`THROUGHPUT ${JSON.stringify({ variant, count, wallMs, sentMs, peakRss: peak })}\n`);
