import { describe, expect, it } from "vitest";
import { loadConfig } from "../../functions/submit-tool-outputs/config/config";
import type { RelaySinks } from "../../functions/submit-tool-outputs/out/aws-sinks";
import type { DlqRecord } from "../../functions/submit-tool-outputs/out/dlq-record";
import type { Telemetry } from "../../functions/submit-tool-outputs/out/observability";
import { createRelay } from "../../functions/submit-tool-outputs/pipeline/relay";
import { sqsRecord } from "../helpers/factories";

const config = loadConfig({
  RESULTS_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:results",
  DLQ_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq",
  INPUT_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/input",
});

/** Sinks that keep the DLQ records and refuse nothing. */
function recordingSinks(written: DlqRecord[]): RelaySinks {
  return {
    publishResult: async () => undefined,
    writeDeadLetter: async (record) => {
      written.push(record);
    },
    enqueueWatch: async () => undefined,
    enqueueCheck: async () => undefined,
    delayRedelivery: async () => undefined,
  };
}

const quiet: Telemetry = { settled: () => undefined, endpointCall: () => undefined, failedUnexpectedly: () => undefined };

describe("a message for an API the deployment has no endpoint for", () => {
  it.each([
    ["responses", { response_id: "resp_1", tool_outputs: [{ tool_call_id: "call_1", output: "42" }] }, /RESPONSES_BASE_URL/],
    [
      "assistants",
      { thread_id: "thread_1", run_id: "run_1", tool_outputs: [{ tool_call_id: "call_1", output: "42" }] },
      /ENDPOINT_BASE_URL/,
    ],
  ])("%s: dead-lettered at once as api_not_configured, naming the API, its variable and context option", async (api, body, variable) => {
    // Prepare
    const written: DlqRecord[] = [];
    const relay = createRelay({ config, dialects: {}, sinks: recordingSinks(written), telemetry: quiet });

    // Act
    const response = await relay(
      { Records: [sqsRecord(JSON.stringify(body), { messageId: "m-1" })] },
      { getRemainingTimeInMillis: () => 30_000 },
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({ reason: "api_not_configured", source_message_id: "m-1", receive_count: 1 });
    expect(written[0]!.detail).toMatch(new RegExp(`the ${api} API is not configured`));
    expect(written[0]!.detail).toMatch(variable);
    expect(written[0]!.detail).toMatch(/context option (endpointBaseUrl|responsesBaseUrl)/);
  });
});
