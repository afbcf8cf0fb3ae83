/**
 * Child-process entry: the SQS/SNS/S3 emulator, DynamoDB and the endpoint simulator, out of the measuring process,
 * so that process.cpuUsage() in the benchmark counts the client side only (the relay, or the bare baseline), and
 * the request meters (request-meter.ts) that count what the relay's AWS calls would be billed.
 * Talks over the fork IPC channel; see relay-rig.ts for the other side.
 */
import { startEmbeddedAws } from "../../local/embedded-aws";
import type { CreateResponseOptions, CreateRunOptions, CreateSessionOptions, Fault, RandomFaults } from "../../local/endpoint-simulator";
import { startEndpointSimulator } from "../../local/endpoint-simulator";
import { type MeterCounts, startRequestMeter } from "./request-meter";

export const BENCH_API_KEY = "pk-bench-local";
export const BENCH_VIRTUAL_KEY = "vk-bench-local";

/** A run, a response or a session, as restingSince names it. */
export type RestingOf = { threadId: string; runId: string } | { responseId: string } | { sessionId: string };

export type ServersRequest =
  | { id: number; op: "createRuns"; count: number; options?: CreateRunOptions }
  | { id: number; op: "createResponses"; count: number; options?: CreateResponseOptions }
  | { id: number; op: "createSessions"; count: number; options?: CreateSessionOptions }
  | { id: number; op: "restingSince"; of: RestingOf[] }
  | { id: number; op: "children"; responseIds: string[] }
  | { id: number; op: "inject"; faults: Fault[] }
  | { id: number; op: "randomFaults"; options: RandomFaults | undefined }
  | { id: number; op: "counters" }
  | { id: number; op: "meter"; reset: boolean }
  | { id: number; op: "endpointRequests"; reset: boolean }
  | { id: number; op: "meterDelay"; ms: number }
  | { id: number; op: "reset" };

/** Endpoint requests by route, e.g. `POST /v1/agents/sessions/{id}/events`: ids are folded so that routes add up. */
export type EndpointRequestCounts = Record<string, number>;

/** The route of a recorded request: every simulator id (`run_…`, `sess_…`…) becomes `{id}`; `stream: true` bodies are marked. */
export function routeOf(request: { method: string; path: string; body?: unknown }): string {
  const path = request.path.replace(/\/(?:call|conv|fc|fco|mcpr|msg|resp|run|sess|step|thread|turn)_[A-Za-z0-9]+/g, "/{id}");
  const streamed = (request.body as { stream?: unknown } | undefined)?.stream === true ? " (stream)" : "";
  return `${request.method} ${path}${streamed}`;
}

export interface ServersInfo {
  awsEndpoint: string;
  region: string;
  inputUrl: string;
  inputArn: string;
  dlqUrl: string;
  resultsTopicArn: string;
  /** The queue subscribed to the results topic. */
  resultsUrl: string;
  /**
   * A queue nobody reads: point INPUT_QUEUE_URL here when the relay leaves follow-ups (watch_run, collect_check),
   * so that they never come back into a benchmark's own batches.
   */
  followUpsUrl: string;
  dynamodbEndpoint: string;
  stateTableName: string;
  payloadBucket: string;
  /** The same emulators behind the request meters: point a handler here to count its AWS calls. */
  meteredAwsEndpoint: string;
  meteredDynamodbEndpoint: string;
  simBaseUrl: string;
}

if (process.send) {
  const aws = await startEmbeddedAws({ maxReceiveCount: 5 });
  const followUps = aws.server.createQueue("tool-outputs-follow-ups");
  const meters = [await startRequestMeter(aws.endpoint), await startRequestMeter(aws.dynamodb.endpoint)] as const;
  const sim = await startEndpointSimulator({
    apiKey: BENCH_API_KEY,
    virtualKey: BENCH_VIRTUAL_KEY,
    processingMs: Number(process.env.SIM_PROCESSING_MS ?? 0),
    pollAfterMs: Number(process.env.SIM_POLL_AFTER_MS ?? 10),
    // Sub-millisecond instants: the latency benchmark reads when a run came to rest (restingSince).
    now: () => performance.timeOrigin + performance.now(),
  });
  const info: ServersInfo = {
    awsEndpoint: aws.endpoint,
    region: aws.region,
    inputUrl: aws.input.url,
    inputArn: aws.input.arn,
    dlqUrl: aws.dlq.url,
    resultsTopicArn: aws.resultsTopicArn,
    resultsUrl: aws.results.url,
    followUpsUrl: `${aws.endpoint}/000000000000/${followUps.queueName}`,
    dynamodbEndpoint: aws.dynamodb.endpoint,
    stateTableName: aws.stateTableName,
    payloadBucket: aws.payloadBucket,
    meteredAwsEndpoint: meters[0].endpoint,
    meteredDynamodbEndpoint: meters[1].endpoint,
    simBaseUrl: sim.baseUrl,
  };
  process.on("message", (request: ServersRequest) => {
    let result: unknown;
    switch (request.op) {
      case "createRuns":
        result = Array.from({ length: request.count }, () => sim.createRun(request.options));
        break;
      case "createResponses":
        result = Array.from({ length: request.count }, () => sim.createResponse(request.options));
        break;
      case "createSessions":
        result = Array.from({ length: request.count }, () => sim.createSession(request.options));
        break;
      case "restingSince":
        result = request.of.map((of) => sim.restingSince(of) ?? null);
        break;
      case "children":
        result = request.responseIds.map((id) => sim.children(id));
        break;
      case "inject":
        sim.inject(...request.faults);
        break;
      case "randomFaults":
        sim.setRandomFaults(request.options);
        break;
      case "counters":
        result = { ...sim.counters };
        break;
      case "meter": {
        const counts: MeterCounts = {};
        for (const meter of meters) Object.assign(counts, meter.counts());
        if (request.reset) for (const meter of meters) meter.reset();
        result = counts;
        break;
      }
      case "endpointRequests": {
        const counts: EndpointRequestCounts = {};
        for (const request of sim.requests) counts[routeOf(request)] = (counts[routeOf(request)] ?? 0) + 1;
        if (request.reset) sim.requests.length = 0;
        result = counts;
        break;
      }
      case "meterDelay":
        for (const meter of meters) meter.setDelay(request.ms);
        break;
      case "reset":
        sim.reset();
        break;
    }
    process.send!({ id: request.id, result });
  });
  process.on("disconnect", () => {
    void sim
      .close()
      .then(() => Promise.all(meters.map((meter) => meter.close())))
      .then(() => aws.close())
      .finally(() => process.exit(0));
  });
  process.send({ ready: info });
}
