/**
 * The baseline the relay is measured against: the least code that does its job's I/O for one message —
 * POST the outputs with `fetch`, read the run, publish it to SNS. No validation, no retries, no follow,
 * no logs or metrics.
 */
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import type { SQSEvent } from "aws-lambda";
import { BENCH_API_KEY, BENCH_VIRTUAL_KEY } from "./loopback-servers";
import type { Rig } from "./relay-rig";

export function bareRelay(rig: Rig) {
  const sns = new SNSClient({
    region: rig.info.region,
    endpoint: rig.info.awsEndpoint,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const headers = {
    "x-portkey-api-key": BENCH_API_KEY,
    "x-portkey-virtual-key": BENCH_VIRTUAL_KEY,
    "openai-beta": "assistants=v2",
    "content-type": "application/json",
  };
  const one = async (body: string) => {
    const message = JSON.parse(body) as { thread_id: string; run_id: string; tool_outputs: unknown };
    const response = await fetch(`${rig.info.simBaseUrl}/threads/${message.thread_id}/runs/${message.run_id}/submit_tool_outputs`, {
      method: "POST",
      headers,
      body: JSON.stringify({ tool_outputs: message.tool_outputs }),
    });
    const run = (await response.json()) as { status: string };
    if (!response.ok) throw new Error(`bare relay: HTTP ${response.status}`);
    await sns.send(
      new PublishCommand({
        TopicArn: rig.info.resultsTopicArn,
        Message: JSON.stringify({ type: `run.${run.status}`, thread_id: message.thread_id, run_id: message.run_id, run }),
        MessageAttributes: { type: { DataType: "String", StringValue: `run.${run.status}` } },
      }),
    );
  };
  return {
    /** All records of the batch at once, like the relay with its default concurrency. */
    async handle(event: SQSEvent) {
      await Promise.all(event.Records.map((record) => one(record.body)));
    },
    close: () => sns.destroy(),
  };
}
