/**
 * The baseline the relay is measured against: the least code that does its job's I/O for one batch — POST each
 * message's outputs with `fetch` (all at once), read the run, and publish the batch's runs to SNS in one
 * PublishBatch, as the relay does. No validation, no retries, no follow, no logs or metrics.
 */
import { PublishBatchCommand, SNSClient } from "@aws-sdk/client-sns";
import type { SQSEvent } from "aws-lambda";
import { BENCH_API_KEY, BENCH_VIRTUAL_KEY } from "./loopback-servers";

/** Where the bare loop sends: the endpoint, SNS, the topic. */
export interface BareRelayTarget {
  simBaseUrl: string;
  awsEndpoint: string;
  region: string;
  resultsTopicArn: string;
  apiKey?: string;
  virtualKey?: string;
}

/**
 * @example const bare = bareRelay(rig.info); await bare.handle(event); bare.close();
 */
export function bareRelay(target: BareRelayTarget) {
  const sns = new SNSClient({
    region: target.region,
    endpoint: target.awsEndpoint,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const headers = {
    "x-portkey-api-key": target.apiKey ?? BENCH_API_KEY,
    "x-portkey-virtual-key": target.virtualKey ?? BENCH_VIRTUAL_KEY,
    "openai-beta": "assistants=v2",
    "content-type": "application/json",
  };
  const submit = async (body: string, messageId: string) => {
    const message = JSON.parse(body) as { thread_id: string; run_id: string; tool_outputs: unknown };
    const response = await fetch(`${target.simBaseUrl}/threads/${message.thread_id}/runs/${message.run_id}/submit_tool_outputs`, {
      method: "POST",
      headers,
      body: JSON.stringify({ tool_outputs: message.tool_outputs }),
    });
    const run = (await response.json()) as { status: string };
    if (!response.ok) throw new Error(`bare relay: HTTP ${response.status}`);
    const type = `run.${run.status}`;
    return {
      Message: JSON.stringify({ type, thread_id: message.thread_id, run_id: message.run_id, source_message_id: messageId, run }),
      MessageAttributes: { type: { DataType: "String", StringValue: type } },
    };
  };
  return {
    /** All records of the batch at once (like the relay with its default concurrency), then one PublishBatch per ten. */
    async handle(event: SQSEvent) {
      const entries = await Promise.all(event.Records.map((record) => submit(record.body, record.messageId)));
      for (let start = 0; start < entries.length; start += 10) {
        await sns.send(
          new PublishBatchCommand({
            TopicArn: target.resultsTopicArn,
            PublishBatchRequestEntries: entries.slice(start, start + 10).map((entry, i) => ({ ...entry, Id: String(i) })),
          }),
        );
      }
      return { batchItemFailures: [] };
    },
    close: () => sns.destroy(),
  };
}
