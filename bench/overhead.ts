/**
 * Overhead: CPU time per message (process.cpuUsage, user + system) of the real handler against a bare loop doing
 * the same I/O (lib/bare-relay.ts), for each API — Assistants, Responses (with the state table), Agents — to the
 * same loopback servers, which run in a child process so only the client side is counted. The endpoint answers at
 * once (processingMs 0): every object is at rest in the answer to the submission or the first read after it.
 * Both sides go through the request meters, and every request either makes is counted by route: the rows say how
 * many each made per message, and the run fails when the bare loop's endpoint and DynamoDB requests differ from the
 * relay's (a baseline doing less would flatter nobody). The bare loop makes one PublishBatch per batch of ten; a
 * relay that makes more shows it in the counts. Target: relay ≤ 1.15 × bare for each API. Medians of BENCH_RUNS
 * rounds of BENCH_BATCHES batches of 10 per API (BENCH_APIS: a comma list to measure fewer), relay and bare rounds
 * alternating, with a third loop, the bare one on the relay's own HTTP transport (Node's http through the AWS SDK's
 * handler, where the bare loop uses fetch), to tell what of the ratio is the relay's code. The label says whether Powertools logs and metrics were on (as deployed) or off; `npm run bench`
 * runs both.
 */
import type { SQSEvent } from "aws-lambda";
import { answerFor, responseAnswerFor } from "../fixtures/messages";
import { bareRelay } from "./lib/bare-relay";
import type { EndpointRequestCounts } from "./lib/loopback-servers";
import { startRig } from "./lib/relay-rig";
import type { MeterCounts } from "./lib/request-meter";
import { median, ratio } from "./lib/stats";
import { type BenchRow, report, reportSection } from "./lib/table";

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const BATCHES_PER_ROUND = Number(process.env.BENCH_BATCHES ?? 30);
const BATCH = 10;
const TARGET = 1.15;
const ALL_APIS = ["assistants", "responses", "agents"] as const;
type Api = (typeof ALL_APIS)[number];
/** BENCH_APIS=responses,agents measures only those (to profile one path); default all three. */
const APIS = (process.env.BENCH_APIS?.split(",") ?? ALL_APIS).map((name) => {
  if (!(ALL_APIS as readonly string[]).includes(name)) throw new Error(`BENCH_APIS: unknown API ${name} (${ALL_APIS.join(", ")})`);
  return name as Api;
});
type Impl = "relay" | "bare" | "bare-node";
const telemetry =
  process.env.POWERTOOLS_METRICS_DISABLED === "true"
    ? "logs ERROR, metrics off"
    : `logs ${process.env.POWERTOOLS_LOG_LEVEL ?? "INFO"}, metrics on`;

const rig = await startRig({ processingMs: 0 });
const metered = { awsEndpoint: rig.info.meteredAwsEndpoint, dynamodbEndpoint: rig.info.meteredDynamodbEndpoint };
// Follow-ups (none expected: everything rests at once) would go to a queue nobody reads, never into the next batches.
const relay = rig.handler({
  AWS_ENDPOINT_URL: metered.awsEndpoint,
  AWS_ENDPOINT_URL_DYNAMODB: metered.dynamodbEndpoint,
  INPUT_QUEUE_URL: rig.info.followUpsUrl,
});
const bare = bareRelay({ ...rig.info, ...metered });
// The same loop on the relay's own HTTP transport: what of the relay's ratio its client (not its code) makes.
const bareNode = bareRelay({ ...rig.info, ...metered }, { http: "node" });
const handlers: Record<Impl, (event: SQSEvent) => Promise<unknown>> = { relay, bare: bare.handle, "bare-node": bareNode.handle };

/** Outputs of a realistic few hundred bytes. */
const output = (_: string, i: number) => JSON.stringify({ answer: i, text: "bench output ".repeat(8) });

/** One batch of messages of an API, each answering a fresh run / response / session waiting for its outputs. */
async function bodies(api: Api): Promise<string[]> {
  if (api === "assistants") return (await rig.createRuns(BATCH)).map((run) => JSON.stringify(answerFor(run, {}, output)));
  if (api === "responses") return (await rig.createResponses(BATCH)).map((r) => JSON.stringify(responseAnswerFor(r, {}, output)));
  return (await rig.createSessions(BATCH)).map((session) =>
    JSON.stringify({
      session_id: session.sessionId,
      turn_id: session.turnId,
      tool_outputs: session.callIds.map((id, i) => ({ tool_call_id: id, output: output(id, i) })),
    }),
  );
}

/** Requests by route (endpoint) or operation (AWS), summed over rounds. */
const requests = new Map<string, Record<string, number>>();
const messages = new Map<string, number>();
function tally(name: string, endpoint: EndpointRequestCounts, aws: MeterCounts, count: number) {
  const sums = requests.get(name) ?? {};
  for (const [route, calls] of Object.entries(endpoint)) sums[route] = (sums[route] ?? 0) + calls;
  for (const [operation, line] of Object.entries(aws)) sums[operation] = (sums[operation] ?? 0) + line.calls;
  requests.set(name, sums);
  messages.set(name, (messages.get(name) ?? 0) + count);
}

/** CPU µs per message over one round of BATCHES_PER_ROUND batches; events are prepared outside the measurement. */
async function round(api: Api, impl: Impl, counted: boolean): Promise<number> {
  const events: SQSEvent[] = [];
  for (let b = 0; b < BATCHES_PER_ROUND; b++) events.push(await rig.eventOf(await bodies(api)));
  await rig.meter(true);
  await rig.endpointRequests(true);
  const handle = handlers[impl];
  const before = process.cpuUsage();
  for (const event of events) {
    const answer = (await handle(event)) as { batchItemFailures: unknown[] };
    if (answer.batchItemFailures.length > 0) throw new Error(`overhead: the ${impl} handed back ${api} messages`);
  }
  const used = process.cpuUsage(before);
  const [endpoint, aws] = [await rig.endpointRequests(true), await rig.meter(true)];
  if (counted) tally(`${api} ${impl}`, endpoint, aws, BATCHES_PER_ROUND * BATCH);
  for (const event of events) await rig.ack(event);
  return (used.user + used.system) / (BATCHES_PER_ROUND * BATCH);
}

const samples = new Map<string, number[]>();
for (const api of APIS) {
  // A warm-up round each (JIT, connection pools), not counted.
  await round(api, "relay", false);
  await round(api, "bare", false);
  await round(api, "bare-node", false);
}
for (let i = 0; i < RUNS; i++) {
  for (const api of APIS) {
    // Alternate which goes first, so neither always meets the other's leftovers (GC, sockets).
    const impls: Impl[] = ["relay", "bare", "bare-node"];
    const order = [...impls.slice(i % 3), ...impls.slice(0, i % 3)];
    for (const impl of order) {
      const name = `${api} ${impl}`;
      samples.set(name, [...(samples.get(name) ?? []), await round(api, impl, true)]);
    }
  }
}
const counters = await rig.counters();
bare.close();
bareNode.close();
await rig.close();
if (counters.doubleAcceptances !== 0 || counters.forks !== 0 || counters.agentResultsForAnsweredCalls !== 0)
  throw new Error("overhead: outputs taken twice");

/** Requests per message, by route, e.g. `POST /v1/responses 1.00, dynamodb.PutItem 1.00, sns.PublishBatch 0.13`. */
const perMessage = (name: string) => {
  const sums = requests.get(name) ?? {};
  const count = messages.get(name) ?? 1;
  return Object.fromEntries(
    Object.entries(sums)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([route, calls]) => [route, calls / count]),
  );
};
const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, n) => sum + n, 0);
const lines: string[] = [];
const rows: BenchRow[] = [];
for (const api of APIS) {
  const [r, b, n] = [perMessage(`${api} relay`), perMessage(`${api} bare`), perMessage(`${api} bare-node`)];
  // Each bare loop must do the relay's endpoint and DynamoDB requests, no fewer, no more (PublishBatch may differ: see above).
  const routes = [...new Set([...Object.keys(r), ...Object.keys(b), ...Object.keys(n)])].sort();
  for (const [loop, counts] of [
    ["bare", b],
    ["bare-node", n],
  ] as const) {
    const differing = routes.filter((route) => !route.startsWith("sns.") && Math.abs((r[route] ?? 0) - (counts[route] ?? 0)) > 1e-9);
    if (differing.length > 0)
      throw new Error(
        `overhead: the ${loop} ${api} loop's requests differ from the relay's: ${differing.map((x) => `${x} ${r[x] ?? 0} vs ${counts[x] ?? 0}`)}`,
      );
  }
  lines.push(
    `${api}:`,
    ...routes.map((route) => `  ${route.padEnd(48)} relay ${(r[route] ?? 0).toFixed(2)}  bare ${(b[route] ?? 0).toFixed(2)}`),
  );
  const relayUs = median(samples.get(`${api} relay`)!);
  const bareUs = median(samples.get(`${api} bare`)!);
  const bareNodeUs = median(samples.get(`${api} bare-node`)!);
  rows.push({
    bench: "overhead",
    measure: `CPU per message, ${api}, relay (${telemetry}; ${total(r).toFixed(2)} requests/msg, bare ${total(b).toFixed(2)}; median of ${RUNS} × ${BATCHES_PER_ROUND * BATCH} msgs)`,
    value: `${(relayUs / 1000).toFixed(2)} ms`,
    baseline: `${(bareUs / 1000).toFixed(2)} ms bare`,
    ratio: ratio(relayUs / bareUs),
    target: `≤ ${TARGET.toFixed(2)}×`,
    verdict: relayUs / bareUs <= TARGET ? "met" : "missed",
  });
  rows.push({
    bench: "overhead",
    measure: `same, against the bare loop on the relay's HTTP transport (Node's http, not fetch)`,
    value: `${(relayUs / 1000).toFixed(2)} ms`,
    baseline: `${(bareNodeUs / 1000).toFixed(2)} ms bare on Node's http`,
    ratio: ratio(relayUs / bareNodeUs),
  });
}
report(rows);
reportSection({ title: `Overhead: requests per message, relay and bare (${telemetry})`, text: lines.join("\n") });
