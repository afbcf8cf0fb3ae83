import { describe, expect, it } from "vitest";

/**
 * No zod schema is built while the handler loads and is created: each is built on first use (config/lazy-schema.ts),
 * so the cold start pays for none of the two hundred or so. Counted through zod's own hook on every schema it
 * constructs (`globalThis.__zod_globalConfig.postProcessor`, which `zod/compile` uses), set before zod loads: this file
 * imports nothing of the relay statically.
 */
const built: string[] = [];
(globalThis as { __zod_globalConfig?: { postProcessor?: (schema: { _zod: { def: { type: string } } }) => void } }).__zod_globalConfig = {
  postProcessor: (schema) => built.push(schema._zod.def.type),
};

const environment = {
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "local",
  AWS_SECRET_ACCESS_KEY: "local",
  RESULTS_TOPIC_ARN: "arn:aws:sns:us-east-1:000000000000:results",
  DLQ_URL: "http://127.0.0.1:1/000000000000/dlq",
  INPUT_QUEUE_URL: "http://127.0.0.1:1/000000000000/in",
  ENDPOINT_BASE_URL: "http://127.0.0.1:1/v1",
  RESPONSES_BASE_URL: "http://127.0.0.1:1/v1",
  AGENTS_BASE_URL: "http://127.0.0.1:1/v1",
  ENDPOINT_API_KEY: "sk-local",
};

describe("schemas at cold start", () => {
  it("builds no zod schema when the handler loads and is created, and builds them at the first parse", async () => {
    const { createHandler } = await import("../../functions/submit-tool-outputs/create-handler");
    const handler = createHandler(environment);
    expect(typeof handler).toBe("function");
    expect(built).toEqual([]);

    const { parseMessage } = await import("../../functions/submit-tool-outputs/pipeline/message");
    const parsed = parseMessage(
      JSON.stringify({ thread_id: "thread_1", run_id: "run_1", tool_outputs: [{ tool_call_id: "call_1", output: "4" }] }),
    );
    expect(parsed.ok).toBe(true);
    expect(built).toContain("object");
  });
});
