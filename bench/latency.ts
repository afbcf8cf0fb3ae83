/**
 * Loop latency, relay against a bare loop doing the same I/O (lib/bare-loops.ts), measured side by side (samples
 * alternate), the three APIs (Assistants, Responses, Agents), stream and poll mode:
 * (a) rest → readable: from the instant the simulator's run (response, session) came to rest (restingSince,
 *     sub-millisecond clock) to the instant its results event was readable from the queue subscribed to the results
 *     topic. One message per invocation; each run rests 40 ms after the submission plus 0–10 ms of jitter (so that
 *     polls meet the rest at every phase). Poll mode polls every 10 ms (POLL_INTERVAL_MS and openai-poll-after-ms).
 *     An Agents session's live stream is the simulator's, which looks at the session every 10 ms: both loops read
 *     the same stream, and GET the session when it has been quiet for 10 ms.
 * (b) send → endpoint: from the SendMessage of a message to its submission reaching the endpoint (the submit POST,
 *     the Responses POST, or the Agents POST of the session's events), through the local stack's event-source
 *     poller (4 pollers, long polls of 1 s).
 * p50 and p95 of BENCH_LATENCY_RUNS samples (default 100 for (a), 25 for (b)) per variant: the p95 of 40 was the second
 * slowest sample, which one late scheduling on this VM moved by a fifth either way. Target: in stream mode
 * the relay's rest → readable ≤ 1.1 × the bare loop's, p50 and p95. To tell the relay's own part from the path
 * SNS → SQS → subscriber, (a) also notes when the PublishBatch call was made (SNSClient.prototype.send is wrapped in
 * this process, for relay and bare alike): rest → PublishBatch sent.
 */
import { PublishBatchCommand, SNSClient } from "@aws-sdk/client-sns";
import type { SQSBatchResponse } from "aws-lambda";
import { answerFor, responseAnswerFor } from "../fixtures/messages";
import { startLocalStack } from "../local/local-stack";
import { bareLoops } from "./lib/bare-loops";
import type { EndpointRequestCounts } from "./lib/loopback-servers";
import { startRig } from "./lib/relay-rig";
import { preciseNow, startResultsReader } from "./lib/results-reader";
import { ms, percentile, ratio } from "./lib/stats";
import { type BenchRow, report, reportSection } from "./lib/table";

const RUNS = Number(process.env.BENCH_LATENCY_RUNS ?? 100);
const SEND_RUNS = Number(process.env.BENCH_LATENCY_SEND_RUNS ?? Math.ceil((Math.min(RUNS, 40) * 5) / 8));
const PROCESSING_MS = 40;
const JITTER_MS = 10;
const TARGET = 1.1;

const APIS = ["assistants", "responses", "agents"] as const;
type Api = (typeof APIS)[number];
type Mode = "stream" | "poll";
type Impl = "relay" | "bare";
const OBJECT: Record<Api, string> = { assistants: "run", responses: "response", agents: "session" };
const output = (_: string, i: number) => JSON.stringify({ answer: i, text: "bench output ".repeat(8) });

// When the last PublishBatch call was made (one message is in flight at a time).
let publishedAt = 0;
const send = SNSClient.prototype.send;
SNSClient.prototype.send = function (this: SNSClient, command: unknown, ...rest: unknown[]) {
  if (command instanceof PublishBatchCommand) publishedAt = preciseNow();
  return (send as (...args: unknown[]) => unknown).call(this, command, ...rest);
} as typeof send;

// (a) rest → readable, on the rig (servers in a child process).
const rig = await startRig({ processingMs: PROCESSING_MS });
const relay = rig.handler();
const bare = bareLoops({ ...rig.info, pollIntervalMs: 10 });
const reader = await startResultsReader({ endpoint: rig.info.awsEndpoint, region: rig.info.region, queueUrl: rig.info.resultsUrl });

/** The endpoint requests of each variant by route, summed, and how many messages they were for. */
const requests = new Map<string, { messages: number; routes: Record<string, number> }>();
function tally(name: string, counts: EndpointRequestCounts) {
  const sums = requests.get(name) ?? { messages: 0, routes: {} };
  sums.messages++;
  for (const [route, calls] of Object.entries(counts)) sums.routes[route] = (sums.routes[route] ?? 0) + calls;
  requests.set(name, sums);
}

async function restToReadable(api: Api, mode: Mode, impl: Impl): Promise<{ readable: number; published: number }> {
  const afterOutputs = [{ stayInProgressMs: Math.random() * JITTER_MS }, "completed" as const];
  const stream = mode === "stream" ? { stream: true } : {};
  let body: string;
  let key: string;
  let rest: () => Promise<number | null>;
  if (api === "assistants") {
    const [run] = await rig.createRuns(1, { afterOutputs });
    body = JSON.stringify(answerFor(run!, stream, output));
    key = run!.runId;
    rest = async () => (await rig.restingSince([{ threadId: run!.threadId, runId: run!.runId }]))[0]!;
  } else if (api === "agents") {
    const [session] = await rig.createSessions(1, { afterOutputs });
    body = JSON.stringify({
      session_id: session!.sessionId,
      turn_id: session!.turnId,
      tool_outputs: session!.callIds.map((id, i) => ({ tool_call_id: id, output: output(id, i) })),
      ...stream,
    });
    key = session!.sessionId;
    rest = async () => (await rig.restingSince([{ sessionId: session!.sessionId }]))[0]!;
  } else {
    const [response] = await rig.createResponses(1, { afterOutputs });
    body = JSON.stringify(responseAnswerFor(response!, stream, output));
    key = response!.responseId;
    rest = async () => {
      const [children] = await rig.children([response!.responseId]);
      return (await rig.restingSince([{ responseId: children![0]! }]))[0]!;
    };
  }
  const event = await rig.eventOf([body]);
  await rig.endpointRequests(true);
  if (impl === "relay") {
    const answer: SQSBatchResponse = await relay(event);
    if (answer.batchItemFailures.length > 0) throw new Error(`latency: the relay handed back a ${api} ${mode} message`);
  } else {
    await bare.one(event.Records[0]!.body);
  }
  const readable = await reader.arrival(key);
  const restedAt = await rest();
  tally(`${api} ${mode} ${impl}`, await rig.endpointRequests(true));
  await rig.ack(event);
  if (restedAt === null) throw new Error(`latency: the ${api} object never came to rest`);
  return { readable: readable - restedAt, published: publishedAt - restedAt };
}

const variants = APIS.flatMap((api) => (["stream", "poll"] as const).map((mode) => ({ api, mode })));
const samples = new Map<string, number[]>();
const take = (name: string, value: number) => samples.set(name, [...(samples.get(name) ?? []), value]);
for (let i = 0; i < RUNS + 3; i++) {
  for (const { api, mode } of variants) {
    // Alternate which goes first, so neither always meets a freshly idle machine.
    const order: Impl[] = i % 2 === 0 ? ["relay", "bare"] : ["bare", "relay"];
    for (const impl of order) {
      const { readable, published } = await restToReadable(api, mode, impl);
      if (i >= 3) take(`${api} ${mode} ${impl}`, readable);
      if (i >= 3) take(`${api} ${mode} ${impl} published`, published);
    }
  }
}
await reader.stop();
bare.close();
const counters = await rig.counters();
await rig.close();
if (counters.doubleAcceptances !== 0 || counters.forks !== 0 || counters.agentResultsForAnsweredCalls !== 0)
  throw new Error("latency: outputs taken twice");

// (b) send → endpoint, through the local stack's poller (everything in this process, as `npm start`).
let current: Impl = "relay";
let stackBare: ReturnType<typeof bareLoops> | undefined;
const invoked = new Map<string, () => void>();
const stack = await startLocalStack({
  simulator: { processingMs: 0, pollAfterMs: 10, now: preciseNow },
  wrapHandler: (real) => async (event, context) => {
    if (current === "relay") return real(event, context);
    await Promise.all(event.Records.map((record) => stackBare!.one(record.body)));
    return { batchItemFailures: [] };
  },
  onInvocation: (invocation) => {
    for (const id of invocation.deleted) invoked.get(id)?.();
  },
});
stackBare = bareLoops({
  simBaseUrl: stack.endpointBaseUrl,
  awsEndpoint: stack.aws.endpoint,
  dynamodbEndpoint: stack.aws.dynamodb.endpoint,
  region: stack.aws.region,
  resultsTopicArn: stack.aws.resultsTopicArn,
  stateTableName: stack.aws.stateTableName,
  pollIntervalMs: 10,
  apiKey: stack.env.PORTKEY_API_KEY,
  virtualKey: stack.env.PORTKEY_VIRTUAL_KEY,
});

type Seen = { method: string; path: string; body?: unknown };

/** A message of the API answering a fresh run (response, session) of the stack's simulator, and its submission's request. */
function submission(api: Api): readonly [object, (r: Seen) => boolean] {
  const sim = stack.sim!;
  if (api === "assistants") {
    const run = sim.createRun();
    const path = `/v1/threads/${run.threadId}/runs/${run.runId}/submit_tool_outputs`;
    return [answerFor(run, {}, output), (r) => r.method === "POST" && r.path === path];
  }
  if (api === "agents") {
    const session = sim.createSession();
    const path = `/v1/agents/sessions/${session.sessionId}/events`;
    const message = {
      session_id: session.sessionId,
      turn_id: session.turnId,
      tool_outputs: session.callIds.map((callId, i) => ({ tool_call_id: callId, output: output(callId, i) })),
    };
    return [message, (r) => r.method === "POST" && r.path === path];
  }
  const response = sim.createResponse();
  const reachedIt = (r: Seen) =>
    r.method === "POST" &&
    r.path === "/v1/responses" &&
    (r.body as { previous_response_id?: string })?.previous_response_id === response.responseId;
  return [responseAnswerFor(response, {}, output), reachedIt];
}

async function sendToEndpoint(api: Api, impl: Impl): Promise<number> {
  current = impl;
  const sim = stack.sim!;
  const [body, reached] = submission(api);
  const sentAt = preciseNow();
  const id = await stack.send(body);
  await new Promise<void>((resolve) => invoked.set(id, resolve));
  invoked.delete(id);
  const request = sim.requests.find(reached);
  if (!request) throw new Error(`latency: the ${api} submission never reached the endpoint`);
  return request.at - sentAt;
}

for (let i = 0; i < SEND_RUNS + 3; i++) {
  for (const api of APIS) {
    const order: Impl[] = i % 2 === 0 ? ["relay", "bare"] : ["bare", "relay"];
    for (const impl of order) {
      const value = await sendToEndpoint(api, impl);
      if (i >= 3) take(`${api} send ${impl}`, value);
    }
  }
}
await stack.close();
stackBare.close();

const rows: BenchRow[] = [];
const signed = (value: number) => `${value < 0 ? "−" : "+"}${ms(Math.abs(value))}`;
const describe = (values: number[]) => ({ p50: percentile(values, 50), p95: percentile(values, 95) });
for (const { api, mode } of variants) {
  const r = describe(samples.get(`${api} ${mode} relay`)!);
  const b = describe(samples.get(`${api} ${mode} bare`)!);
  for (const p of ["p50", "p95"] as const) {
    const value = r[p] / b[p];
    rows.push({
      bench: "latency",
      measure: `${api}, ${mode}: ${OBJECT[api]} at rest → results event readable, ${p} (${RUNS} each)`,
      value: ms(r[p]),
      baseline: `${ms(b[p])} bare`,
      ratio: ratio(value),
      target: mode === "stream" ? `≤ ${TARGET.toFixed(2)}×` : "",
      verdict: mode === "stream" ? (value <= TARGET ? "met" : "missed") : "",
    });
  }
}
for (const api of APIS) {
  const r = describe(samples.get(`${api} stream relay published`)!);
  const b = describe(samples.get(`${api} stream bare published`)!);
  rows.push({
    bench: "latency",
    measure: `${api}, stream: ${OBJECT[api]} at rest → PublishBatch sent (the relay's own part), p50 / p95`,
    value: `${ms(r.p50)} / ${ms(r.p95)}`,
    baseline: `${ms(b.p50)} / ${ms(b.p95)} bare`,
    ratio: `${signed(r.p50 - b.p50)} / ${signed(r.p95 - b.p95)}`,
  });
}
for (const api of APIS) {
  const r = describe(samples.get(`${api} send relay`)!);
  const b = describe(samples.get(`${api} send bare`)!);
  rows.push({
    bench: "latency",
    measure: `${api}: SendMessage → submission at the endpoint, local poller, p50 / p95 (${SEND_RUNS} each)`,
    value: `${ms(r.p50)} / ${ms(r.p95)}`,
    baseline: `${ms(b.p50)} / ${ms(b.p95)} bare`,
    ratio: `${ratio(r.p50 / b.p50)} / ${ratio(r.p95 / b.p95)}`,
  });
}
report(rows);

// What each loop asked the endpoint per message in (a): the bare loops make the relay's requests (polls vary with timing).
const lines = variants.flatMap(({ api, mode }) => {
  const [r, b] = [requests.get(`${api} ${mode} relay`)!, requests.get(`${api} ${mode} bare`)!];
  const routes = [...new Set([...Object.keys(r.routes), ...Object.keys(b.routes)])].sort();
  const per = (of: typeof r, route: string) => ((of.routes[route] ?? 0) / of.messages).toFixed(2);
  return [`${api}, ${mode}:`, ...routes.map((route) => `  ${route.padEnd(56)} relay ${per(r, route)}  bare ${per(b, route)}`)];
});
reportSection({ title: "Latency: endpoint requests per message, rest → readable", text: lines.join("\n") });
