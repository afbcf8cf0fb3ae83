/**
 * Child-process entry: the SQS/SNS emulator and the endpoint simulator, out of the measuring process, so
 * that process.cpuUsage() in the benchmark counts the client side only (the relay, or the bare baseline).
 * Talks over the fork IPC channel; see relay-rig.ts for the other side.
 */
import { startEmbeddedAws } from "../../local/embedded-aws";
import type { CreateResponseOptions, CreateRunOptions, Fault, RandomFaults } from "../../local/endpoint-simulator";
import { startEndpointSimulator } from "../../local/endpoint-simulator";

export const BENCH_API_KEY = "pk-bench-local";
export const BENCH_VIRTUAL_KEY = "vk-bench-local";

export type ServersRequest =
  | { id: number; op: "createRuns"; count: number; options?: CreateRunOptions }
  | { id: number; op: "createResponses"; count: number; options?: CreateResponseOptions }
  | { id: number; op: "inject"; faults: Fault[] }
  | { id: number; op: "randomFaults"; options: RandomFaults | undefined }
  | { id: number; op: "counters" }
  | { id: number; op: "reset" };

export interface ServersInfo {
  awsEndpoint: string;
  region: string;
  inputUrl: string;
  inputArn: string;
  dlqUrl: string;
  resultsTopicArn: string;
  simBaseUrl: string;
  /** DynamoDB on loopback (dynalite) and the relay's state table in it (collecting, the Responses API). */
  dynamodbEndpoint: string;
  stateTableName: string;
}

if (process.send) {
  const aws = await startEmbeddedAws({ maxReceiveCount: 5 });
  const sim = await startEndpointSimulator({
    apiKey: BENCH_API_KEY,
    virtualKey: BENCH_VIRTUAL_KEY,
    processingMs: Number(process.env.SIM_PROCESSING_MS ?? 0),
    pollAfterMs: 10,
  });
  const info: ServersInfo = {
    awsEndpoint: aws.endpoint,
    region: aws.region,
    inputUrl: aws.input.url,
    inputArn: aws.input.arn,
    dlqUrl: aws.dlq.url,
    resultsTopicArn: aws.resultsTopicArn,
    simBaseUrl: sim.baseUrl,
    dynamodbEndpoint: aws.dynamodb.endpoint,
    stateTableName: aws.stateTableName,
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
      case "inject":
        sim.inject(...request.faults);
        break;
      case "randomFaults":
        sim.setRandomFaults(request.options);
        break;
      case "counters":
        result = { ...sim.counters };
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
      .then(() => aws.close())
      .finally(() => process.exit(0));
  });
  process.send({ ready: info });
}
