import { performance } from "node:perf_hooks";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { messageFor, startRig } from "./lib/relay-rig";
const rig = await startRig({ processingMs: 0 });
const sns = new SNSClient({ region: rig.info.region, endpoint: rig.info.awsEndpoint, credentials: { accessKeyId: "l", secretAccessKey: "l" } });
const h = rig.handler();
for (let round = 0; round < 5; round++) {
  const runs = await rig.createRuns(10);
  await rig.inject({ on: "submit", kind: "slow", delayMs: 100, times: 10 });
  let t = performance.now();
  const bodies = await Promise.all(runs.map(async (r) => {
    const res = await fetch(`${rig.info.simBaseUrl}/threads/${r.threadId}/runs/${r.runId}/submit_tool_outputs`, { method: "POST", headers: { "x-portkey-api-key": "pk-bench-local", "x-portkey-virtual-key": "vk-bench-local", "openai-beta": "assistants=v2", "content-type": "application/json" }, body: JSON.stringify({ tool_outputs: r.toolCallIds.map((id) => ({ tool_call_id: id, output: "x" })) }) });
    return res.text();
  }));
  const fetchMs = performance.now() - t;
  t = performance.now();
  await Promise.all(bodies.map((b) => sns.send(new PublishCommand({ TopicArn: rig.info.resultsTopicArn, Message: b, MessageAttributes: { type: { DataType: "String", StringValue: "run.completed" } } }))));
  const snsMs = performance.now() - t;
  const runs2 = await rig.createRuns(10);
  const ev = await rig.eventOf(runs2.map(messageFor));
  await rig.inject({ on: "submit", kind: "slow", delayMs: 100, times: 10 });
  t = performance.now();
  await h(ev);
  const relayMs = performance.now() - t;
  await rig.ack(ev);
  console.log({ fetchMs: fetchMs.toFixed(1), snsMs: snsMs.toFixed(1), relayMs: relayMs.toFixed(1) });
}
await rig.close();
