/**
 * Collecting outputs (fan-in): what collecting costs the message that completes a set.
 *
 * Latency: from the moment the relay is handed the last output's message (the handler invoked with the received
 * SQS event) to the moment the submission leaves for the endpoint (Node's `http.client.request.start` for the POST; on loopback the
 * instant the simulator has it). Collecting: a turn asking for three calls, two messages of one output each stored
 * first, the third completing the set. Baseline: the same turn's three outputs in a single message. Median and p95
 * over BENCH_COLLECT_TURNS turns of each, interleaved, after a warm-up, for an Assistants run (target: ≤ 1.2 × the
 * single message) and a Responses turn. Reference: one conditional write with the item back, straight to the same
 * DynamoDB, which is what collecting adds before the POST.
 *
 * DynamoDB requests per collected output: a second pass whose state table sits behind a counting proxy
 * (local/dynamodb-proxy.ts); every request of every message of the set is counted (the collection's check, a minute
 * later, adds one read per collection and is outside the window).
 */
import { subscribe } from "node:diagnostics_channel";
import { performance } from "node:perf_hooks";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { answerFor, responseAnswerFor } from "../fixtures/messages";
import { StateTable } from "../functions/submit-tool-outputs/state/state-table";
import { startDynamodbProxy } from "../local/dynamodb-proxy";
import { startRig } from "./lib/relay-rig";
import { median, ms, percentile, ratio } from "./lib/stats";
import { type BenchRow, report } from "./lib/table";

const TURNS = Number(process.env.BENCH_COLLECT_TURNS ?? 200);
const WARMUP = 20;
const COUNTED_TURNS = 20;
const CALLS = 3;

const rig = await startRig({ processingMs: 0 });
const state = { RELAY_STATE_TABLE: rig.info.stateTableName, AWS_ENDPOINT_URL_DYNAMODB: rig.info.dynamodbEndpoint };
const relay = rig.handler(state);
const proxy = await startDynamodbProxy(rig.info.dynamodbEndpoint);
const counted = rig.handler({ ...state, AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint });
type Handler = (event: SQSEvent) => Promise<SQSBatchResponse>;

// The moment a submission's body is on its way: the endpoint has it (loopback).
let onSubmission: ((at: number) => void) | undefined;
// The relay's endpoint calls go on Node's http (endpoint-transport.ts): its request's body is written once the request
// has started, in the same tick.
subscribe("http.client.request.start", (message) => {
  const { request } = message as { request: { method: string; path: string } };
  const submission = request.path.includes("/submit_tool_outputs") || /\/responses(\?|$)/.test(request.path);
  if (request.method === "POST" && submission) onSubmission?.(performance.now());
});

/** A turn's three outputs (a few hundred bytes each), whole or one per message with `collect`. */
interface Turn {
  whole: string;
  parts: string[];
}
const benchOutput = (_: string, i: number) => JSON.stringify({ answer: i, text: "bench output ".repeat(8) });
const split = (full: { tool_outputs: unknown[] }): Turn => ({
  whole: JSON.stringify(full),
  parts: full.tool_outputs.map((output) => JSON.stringify({ ...full, tool_outputs: [output], collect: true })),
});
const turns = {
  assistants: async () => split(answerFor((await rig.createRuns(1, { toolCalls: CALLS }))[0]!, {}, benchOutput)),
  responses: async () => split(responseAnswerFor((await rig.createResponses(1, { toolCalls: CALLS }))[0]!, {}, benchOutput)),
};

async function invoke(handler: Handler, event: SQSEvent): Promise<void> {
  const response = await handler(event);
  if (response.batchItemFailures.length > 0) throw new Error(`${response.batchItemFailures.length} records failed`);
  await rig.ack(event);
}

/** Invokes the handler with the event; the time until its submission reached the endpoint. */
async function timeToSubmission(handler: Handler, event: SQSEvent): Promise<number> {
  const submitted = new Promise<number>((resolve) => (onSubmission = resolve));
  const started = performance.now();
  const done = invoke(handler, event);
  const at = await Promise.race([submitted, done.then(() => Number.NaN)]);
  await done;
  onSubmission = undefined;
  if (Number.isNaN(at)) throw new Error("the invocation ended without a submission");
  return at - started;
}

const single = async (turn: Turn, handler = relay) => timeToSubmission(handler, await rig.eventOf([turn.whole]));
/** The parts one message per invocation (no two race to open the collection). */
async function oneByOne(turn: Turn, handler: Handler): Promise<void> {
  for (const body of turn.parts) await invoke(handler, await rig.eventOf([body]));
}
async function collected(turn: Turn, handler = relay): Promise<number> {
  await invoke(handler, await rig.eventOf(turn.parts.slice(0, -1)));
  return timeToSubmission(handler, await rig.eventOf(turn.parts.slice(-1)));
}

async function measure(api: keyof typeof turns) {
  for (let i = 0; i < WARMUP; i++) {
    await single(await turns[api]());
    await collected(await turns[api]());
  }
  const samples = { single: [] as number[], collected: [] as number[] };
  for (let i = 0; i < TURNS; i++) {
    samples.single.push(await single(await turns[api]()));
    samples.collected.push(await collected(await turns[api]()));
  }
  const stats = (values: number[]) => ({ median: median(values), p95: percentile(values, 95) });
  return { single: stats(samples.single), collected: stats(samples.collected) };
}

/** One conditional update returning the item (what the completing add is), straight to the same DynamoDB. */
async function oneWrite(): Promise<number> {
  const table = new StateTable({ tableName: rig.info.stateTableName, endpoint: rig.info.dynamodbEndpoint, region: rig.info.region });
  const key = { pk: "bench#write", sk: "collection" };
  const body = JSON.stringify({ text: "bench output ".repeat(30) });
  await table.put({ ...key, n: 0, m_a: { b: body }, m_b: { b: body } });
  const times: number[] = [];
  for (let i = 0; i < WARMUP + TURNS; i++) {
    const started = performance.now();
    await table.update(
      key,
      { expression: "SET m_c = :m, n = n + :one", values: { ":m": { b: body }, ":one": 1 } },
      { expression: "n >= :zero", values: { ":zero": 0 } },
    );
    if (i >= WARMUP) times.push(performance.now() - started);
  }
  return median(times);
}

const assistants = await measure("assistants");
const responses = await measure("responses");
const write = await oneWrite();

// The request count: passes through the proxy (its extra hop would skew the latency above, so they are separate).
await collected(await turns.assistants(), counted);
async function countRequests(pass: (turn: Turn) => Promise<unknown>) {
  proxy.resetCounts();
  for (let i = 0; i < COUNTED_TURNS; i++) await pass(await turns.assistants());
  const counts = proxy.counts();
  const outputs = COUNTED_TURNS * CALLS;
  return {
    perOutput: Object.values(counts).reduce((sum, n) => sum + n, 0) / outputs,
    writesPerOutput: ((counts.PutItem ?? 0) + (counts.UpdateItem ?? 0)) / outputs,
    perSet: Object.entries(counts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([op, n]) => `${op} ${(n / COUNTED_TURNS).toFixed(1)}`)
      .join(", "),
  };
}
const racing = await countRequests((turn) => collected(turn, counted));
const sequential = await countRequests((turn) => oneByOne(turn, counted));

const simCounters = await rig.counters();
await proxy.close();
await rig.close();
if (simCounters.doubleAcceptances !== 0 || simCounters.forks !== 0) throw new Error("a set was submitted twice in the collect bench");
const assistantsSets = 2 * (WARMUP + TURNS) + 2 * COUNTED_TURNS + 1;
if (simCounters.accepted !== assistantsSets) throw new Error(`accepted ${simCounters.accepted} submissions, expected ${assistantsSets}`);
if (simCounters.continuations !== 2 * (WARMUP + TURNS))
  throw new Error(`${simCounters.continuations} continuations, expected ${2 * (WARMUP + TURNS)}`);

const latency = (api: string, m: typeof assistants, target: boolean): BenchRow[] => [
  {
    bench: "collect",
    measure: `${api}: last message received → submission at the endpoint, ${CALLS} collected vs 1 message (median of ${TURNS} turns)`,
    value: ms(m.collected.median),
    baseline: `${ms(m.single.median)} single`,
    ratio: ratio(m.collected.median / m.single.median),
    target: target ? "≤ 1.20×" : "",
    verdict: target ? (m.collected.median / m.single.median <= 1.2 ? "met" : "missed") : "",
  },
  {
    bench: "collect",
    measure: `${api}: same, p95 of ${TURNS} turns`,
    value: ms(m.collected.p95),
    baseline: `${ms(m.single.p95)} single`,
    ratio: ratio(m.collected.p95 / m.single.p95),
    target: "",
    verdict: "",
  },
];
const rows: BenchRow[] = [
  ...latency("Assistants", assistants, true),
  {
    bench: "collect",
    measure: "Assistants: time collecting adds (median) vs one conditional write to the same DynamoDB (dynalite)",
    value: ms(assistants.collected.median - assistants.single.median),
    baseline: `${ms(write)} one write`,
    ratio: ratio((assistants.collected.median - assistants.single.median) / write),
    target: "",
    verdict: "",
  },
  ...latency("Responses", responses, false),
  {
    bench: "collect",
    measure: `DynamoDB requests per collected output, first two parts in one batch (${COUNTED_TURNS} sets; per set: ${racing.perSet})`,
    value: racing.perOutput.toFixed(2),
    baseline: `${racing.writesPerOutput.toFixed(2)} writes`,
    ratio: "",
    target: "",
    verdict: "",
  },
  {
    bench: "collect",
    measure: `DynamoDB requests per collected output, one part per invocation (per set: ${sequential.perSet})`,
    value: sequential.perOutput.toFixed(2),
    baseline: `${sequential.writesPerOutput.toFixed(2)} writes`,
    ratio: "",
    target: "",
    verdict: "",
  },
];
report(rows);
