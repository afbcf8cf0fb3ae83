/**
 * The cost benchmark's measurements: one phase of a message's life (a submission whose run rests at once, a
 * submission that leaves a watch, a watch, a collected turn, a collection's check) run as real invocations of the
 * handler on the rig, with its AWS calls through the request meters. Per invocation it notes what Lambda would bill
 * (the wall time, rounded up to 1 ms, with the relay's own CPU time stretched to Lambda's share of a vCPU at the
 * function's memory), the AWS requests and their billed units, the bytes the relay logged, and the endpoint calls.
 */
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { answerFor, responseAnswerFor } from "../../fixtures/messages";
import { roundOf } from "../../functions/submit-tool-outputs/collect/collection";
import { scopeOf } from "../../functions/submit-tool-outputs/collect/collector";
import type { RelayEnvironment } from "../../functions/submit-tool-outputs/config/environment";
import type { SimulatorCounters } from "../../local/endpoint-simulator";
import type { Rig, SimSession } from "./relay-rig";
import type { MeterCounts } from "./request-meter";
import { median } from "./stats";

export type Api = "assistants" | "responses" | "agents";

/** One phase, per invocation (medians for times, means for counts). */
export interface PhaseFigures {
  /** Messages per invocation. */
  messages: number;
  /** What Lambda bills: wall time + (stretch − 1) × CPU time, rounded up to 1 ms. */
  billedMs: number;
  /** The same wall time on this machine, unstretched. */
  localWallMs: number;
  cpuMs: number;
  /** AWS requests by service.operation, with billed units. */
  requests: MeterCounts;
  /** Bytes the relay wrote to stdout (its log lines and EMF metrics). */
  logBytes: number;
  endpointCalls: number;
  /** Lambda invocations this figure stands for (more than 1 when a phase needs several, e.g. a collected turn at batch 1). */
  invocations: number;
}

type Handler = (event: SQSEvent) => Promise<SQSBatchResponse>;

const MOVING = [{ stayInProgressMs: 600_000 }, "completed" as const];
const output = (_: string, i: number) => JSON.stringify({ answer: i, text: "bench output ".repeat(8) });

const endpointCallsOf = (c: SimulatorCounters) =>
  c.submits +
  c.gets +
  c.stepLists +
  c.responsePosts +
  c.responseGets +
  c.inputItemLists +
  c.conversationItemLists +
  c.agentEventPosts +
  c.agentReads +
  c.agentItemLists +
  c.agentStreams;

/** An Agents message answering every call of a session's turn. */
const sessionAnswer = (session: SimSession, extra: Record<string, unknown>) =>
  JSON.stringify({
    session_id: session.sessionId,
    turn_id: session.turnId,
    tool_outputs: session.callIds.map((id, i) => ({ tool_call_id: id, output: output(id, i) })),
    ...extra,
  });

/** Counts what the handler writes to stdout while `work` runs, without printing it. */
async function counted<T>(work: () => Promise<T>): Promise<{ value: T; bytes: number }> {
  const write = process.stdout.write;
  let bytes = 0;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    bytes += typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.byteLength;
    const done = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
    done?.();
    return true;
  }) as typeof process.stdout.write;
  try {
    return { value: await work(), bytes };
  } finally {
    process.stdout.write = write;
  }
}

/**
 * Measures the phases of one API at one batch size.
 * @example const phases = costPhases(rig, { cpuStretch: 3.46, runs: 4 }); const rest = await phases.restAtOnce("assistants", 10, "poll");
 */
export function costPhases(rig: Rig, o: { cpuStretch: number; runs: number; env?: RelayEnvironment }) {
  // Follow-ups (watches, checks) go to a queue nobody reads, so they never come back into these batches.
  const base: RelayEnvironment = { POLL_INTERVAL_MS: "1000", INPUT_QUEUE_URL: rig.info.followUpsUrl, ...o.env };
  const metered = { ...base, AWS_ENDPOINT_URL: rig.info.meteredAwsEndpoint, AWS_ENDPOINT_URL_DYNAMODB: rig.info.meteredDynamodbEndpoint };
  const handlers = { follow: rig.handler(metered), watchOnly: rig.handler({ ...metered, FOLLOW_BUDGET_MS: "0" }) };

  /** Runs the prepared units (each a list of events worked in order); the first warms up and is not counted. */
  async function measure(prepared: Array<Array<{ event: SQSEvent; handler: Handler }>>): Promise<PhaseFigures> {
    const [warmUp, ...units] = prepared;
    await measureUnits([warmUp!]);
    return measureUnits(units);
  }

  /** Runs the units and sums each one's invocations. */
  async function measureUnits(units: Array<Array<{ event: SQSEvent; handler: Handler }>>): Promise<PhaseFigures> {
    const samples: Array<{ billed: number; wall: number; cpu: number; bytes: number; counts: MeterCounts; calls: number }> = [];
    let invocations = 0;
    let messages = 0;
    for (const unit of units) {
      await rig.meter(true);
      const callsBefore = endpointCallsOf(await rig.counters());
      let billed = 0;
      let wall = 0;
      let cpu = 0;
      let bytes = 0;
      for (const { event, handler } of unit) {
        let pending = event;
        // A record handed back comes again (as SQS would bring it back), in an invocation of its own.
        for (let attempt = 0; pending.Records.length > 0 && attempt < 5; attempt++) {
          const before = process.cpuUsage();
          const started = performance.now();
          const { value: answer, bytes: logged } = await counted(() => handler(pending));
          const took = performance.now() - started;
          const used = process.cpuUsage(before);
          const cpuMs = (used.user + used.system) / 1000;
          billed += Math.ceil(took + (o.cpuStretch - 1) * cpuMs);
          wall += took;
          cpu += cpuMs;
          bytes += logged;
          invocations += 1;
          messages += pending.Records.length;
          const failed = new Set(answer.batchItemFailures.map((f) => f.itemIdentifier));
          await rig.ack({ Records: pending.Records.filter((r) => !failed.has(r.messageId)) });
          pending =
            failed.size === 0
              ? { Records: [] }
              : await rig.eventOf(pending.Records.filter((r) => failed.has(r.messageId)).map((r) => r.body));
        }
      }
      samples.push({ billed, wall, cpu, bytes, counts: await rig.meter(true), calls: endpointCallsOf(await rig.counters()) - callsBefore });
    }
    const per = invocations / units.length;
    const requests: MeterCounts = {};
    for (const sample of samples)
      for (const [key, line] of Object.entries(sample.counts)) {
        const total = requests[key] ?? { calls: 0, units: 0 };
        requests[key] = total;
        total.calls += line.calls / samples.length;
        total.units += line.units / samples.length;
      }
    return {
      messages: messages / invocations,
      billedMs: median(samples.map((s) => s.billed)),
      localWallMs: median(samples.map((s) => s.wall)),
      cpuMs: median(samples.map((s) => s.cpu)),
      requests,
      logBytes: samples.reduce((sum, s) => sum + s.bytes, 0) / samples.length,
      endpointCalls: samples.reduce((sum, s) => sum + s.calls, 0) / samples.length,
      invocations: per,
    };
  }

  /** A warm-up unit and `runs` measured ones. */
  const unitsOf = async (make: () => Promise<Array<{ event: SQSEvent; handler: Handler }>>) => {
    const units = [];
    for (let i = 0; i <= o.runs; i++) units.push(await make());
    return units;
  };

  /** B messages whose runs (responses) do `afterOutputs` once they take the outputs. */
  async function submissions(api: Api, batch: number, afterOutputs: unknown[], stream: boolean) {
    const extra = stream ? { stream: true } : {};
    if (api === "assistants") {
      const runs = await rig.createRuns(batch, { afterOutputs: afterOutputs as never });
      return { bodies: runs.map((run) => JSON.stringify(answerFor(run, extra, output))), runs, responses: [], sessions: [] };
    }
    if (api === "agents") {
      const sessions = await rig.createSessions(batch, { afterOutputs: afterOutputs as never });
      return { bodies: sessions.map((session) => sessionAnswer(session, extra)), runs: [], responses: [], sessions };
    }
    const responses = await rig.createResponses(batch, { afterOutputs: afterOutputs as never });
    return { bodies: responses.map((r) => JSON.stringify(responseAnswerFor(r, extra, output))), runs: [], responses, sessions: [] };
  }

  return {
    /** A submission whose run is at rest in the endpoint's answer (or the stream's first events): submit and report. */
    restAtOnce: (api: Api, batch: number, mode: "poll" | "stream") =>
      unitsOf(async () => {
        const { bodies } = await submissions(api, batch, ["completed"], mode === "stream");
        return [{ event: await rig.eventOf(bodies), handler: handlers.follow }];
      }).then(measure),

    /** A submission whose run rests `restMs` later, followed in the invocation. */
    restAfter: (api: Api, batch: number, mode: "poll" | "stream", restMs: number) =>
      unitsOf(async () => {
        const { bodies } = await submissions(api, batch, [{ stayInProgressMs: restMs }, "completed"], mode === "stream");
        return [{ event: await rig.eventOf(bodies), handler: handlers.follow }];
      }).then(measure),

    /** FOLLOW_BUDGET_MS=0: the submission leaves a watch (the run moves on). */
    leaveWatch: (api: Api, batch: number) =>
      unitsOf(async () => {
        const { bodies } = await submissions(api, batch, MOVING, false);
        return [{ event: await rig.eventOf(bodies), handler: handlers.watchOnly }];
      }).then(measure),

    /** A watch for a run still moving: one look, and the watch goes out again (FOLLOW_BUDGET_MS=0). */
    watchMoving: async (api: Api, batch: number) => {
      const make = async () => {
        const { bodies, runs, responses, sessions } = await submissions(api, batch, MOVING, false);
        const submitted = await rig.eventOf(bodies);
        await counted(() => handlers.watchOnly(submitted));
        await rig.ack(submitted);
        const watches =
          api === "assistants"
            ? runs.map((run) => ({ type: "watch_run", thread_id: run.threadId, run_id: run.runId }))
            : api === "agents"
              ? sessions.map((session) => ({ type: "watch_session", session_id: session.sessionId, turn_id: session.turnId }))
              : (await rig.children(responses.map((r) => r.responseId))).map((children) => ({
                  type: "watch_response",
                  response_id: children[0],
                }));
        return [{ event: await rig.eventOf(watches.map((w) => JSON.stringify(w))), handler: handlers.watchOnly }];
      };
      return measure(await unitsOf(make));
    },

    /** A watch for a run at rest: one look and the report. */
    watchRest: (api: Api, batch: number) =>
      unitsOf(async () => {
        const watches =
          api === "assistants"
            ? (await rig.createRuns(batch)).map((run) => ({ type: "watch_run", thread_id: run.threadId, run_id: run.runId }))
            : api === "agents"
              ? (await rig.createSessions(batch)).map((s) => ({ type: "watch_session", session_id: s.sessionId, turn_id: s.turnId }))
              : (await rig.createResponses(batch)).map((r) => ({ type: "watch_response", response_id: r.responseId }));
        return [{ event: await rig.eventOf(watches.map((w) => JSON.stringify(w))), handler: handlers.follow }];
      }).then(measure),

    /**
     * Collecting: turns of three calls, one output per message (`collect: true`), the run at rest once the set is
     * submitted; batches of `batch` messages in turn order (siblings share a batch). Per unit: `turns` turns; the
     * figures are per invocation as for the other phases, `messages` per invocation says how many were worked.
     * Also returns the check messages of these turns' collections, for `check`.
     */
    collectTurns: async (api: Api, batch: number) => {
      const checks: string[] = [];
      const turnsPerUnit = batch === 1 ? 1 : 10;
      const make = async () => {
        const bodies: string[] = [];
        for (let t = 0; t < turnsPerUnit; t++) {
          if (api === "assistants") {
            const [run] = await rig.createRuns(1, { toolCalls: 3 });
            for (const [i, id] of run!.toolCallIds.entries())
              bodies.push(JSON.stringify(answerFor({ ...run!, toolCallIds: [id] }, { collect: true }, () => output(id, i))));
            checks.push(checkBody(scopeOf("assistants", { thread_id: run!.threadId, run_id: run!.runId }), run!.toolCallIds));
          } else {
            const [response] = await rig.createResponses(1, { toolCalls: 3 });
            for (const [i, id] of response!.callIds.entries())
              bodies.push(JSON.stringify(responseAnswerFor({ ...response!, callIds: [id] }, { collect: true }, () => output(id, i))));
            checks.push(checkBody(scopeOf("responses", { response_id: response!.responseId }), response!.callIds));
          }
        }
        const unit = [];
        for (let start = 0; start < bodies.length; start += batch)
          unit.push({ event: await rig.eventOf(bodies.slice(start, start + batch)), handler: handlers.follow });
        return unit;
      };
      const figures = await measure(await unitsOf(make));
      return { figures, turnsPerUnit, checks };
    },

    /** A collection's check after its set was submitted: one look at the collection, and done. */
    check: async (bodies: string[], batch: number) => {
      let next = 0;
      const make = async () => {
        const picked = bodies.slice(next, next + batch);
        next += batch;
        return [{ event: await rig.eventOf(picked), handler: handlers.follow }];
      };
      return measure(await unitsOf(make));
    },
  };
}

function checkBody(scope: string, required: string[]): string {
  return JSON.stringify({ type: "collect_check", scope, round: roundOf(required), due: Date.now() });
}
