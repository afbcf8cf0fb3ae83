/**
 * The published schemas (schemas/): generated from the zod schemas by scripts/schemas.ts, so the committed files
 * must be exactly what the script writes now; they accept what the relay and its workers really send and write,
 * refuse what the relay refuses, and the AsyncAPI document passes the AsyncAPI parser.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Parser } from "@asyncapi/parser";
import Ajv2020 from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { answerFor, responseAnswerFor } from "../../fixtures/messages";
import { buildResultsEvent } from "../../functions/submit-tool-outputs/dialects/index";
import { buildDlqRecord } from "../../functions/submit-tool-outputs/out/dlq-record";
import { publishedFiles, RESULT_ATTRIBUTES } from "../../scripts/schemas";

const SCHEMAS = fileURLToPath(new URL("../../schemas/", import.meta.url));
const committed = (name: string) => readFileSync(join(SCHEMAS, name), "utf8");
const ajv = new Ajv2020({ allErrors: true, strict: false });
const validators = new Map<string, ReturnType<typeof ajv.compile>>();
/** Each committed schema compiled once (ajv keeps schemas by their `$id`). */
const validator = (name: string) => {
  if (!validators.has(name)) validators.set(name, ajv.compile(JSON.parse(committed(name))));
  return validators.get(name)!;
};
const problemsOf = (name: string, value: unknown) => {
  const validate = validator(name);
  return validate(value) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message}`);
};

const run = { threadId: "thread_abc", runId: "run_abc", toolCallIds: ["call_1", "call_2"] };
const requiresAction = {
  id: "run_abc",
  object: "thread.run",
  thread_id: "thread_abc",
  status: "requires_action",
  required_action: {
    type: "submit_tool_outputs",
    submit_tool_outputs: {
      tool_calls: [{ id: "call_3", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } }],
    },
  },
  instructions: "long",
  model: "gpt-4o",
};

describe("schemas/ as committed", () => {
  it("is exactly what scripts/schemas.ts generates from the zod schemas (run `npm run schemas` after changing them)", () => {
    // Act
    const generated = publishedFiles();

    // Assess
    expect(readdirSync(SCHEMAS).sort()).toEqual(Object.keys(generated).sort());
    for (const [name, text] of Object.entries(generated)) expect(committed(name), name).toBe(text);
  });
});

describe("the input message schemas", () => {
  it.each([
    ["input-message.assistants.schema.json", answerFor(run, { stream: true, metadata: { tenant: "acme" }, collect: true })],
    ["input-message.assistants.schema.json", answerFor(run, { metadata: null as never })],
    [
      "input-message.responses.schema.json",
      responseAnswerFor({ responseId: "resp_1", callIds: ["call_1"] } as never, { request: { model: "gpt-5-mini" } }),
    ],
    [
      "input-message.responses.schema.json",
      { conversation_id: "conv_1", tool_outputs: [{ tool_call_id: "call_1", output: [{ type: "input_text", text: "21" }] }] },
    ],
    ["watch-run.schema.json", { type: "watch_run", thread_id: "thread_a", run_id: "run_b", metadata: { k: "v" } }],
    ["watch-response.schema.json", { type: "watch_response", response_id: "resp_1" }],
  ])("%s accepts what workers and the relay send", (name, message) => {
    expect(problemsOf(name, JSON.parse(JSON.stringify(message)))).toEqual([]);
  });

  it.each([
    ["an unknown field", { ...answerFor(run), thread: "x" }, "must NOT have additional properties"],
    ["an id with a slash", { ...answerFor(run), run_id: "run/../x" }, "must match pattern"],
    ["no outputs", { ...answerFor(run), tool_outputs: [] }, "must NOT have fewer than 1 items"],
    [
      "17 metadata keys",
      answerFor(run, { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])) }),
      "must NOT have more than 16 properties",
    ],
  ])("input-message.assistants.schema.json refuses %s, as the relay does", (_, message, problem) => {
    expect(problemsOf("input-message.assistants.schema.json", message).join("; ")).toContain(problem);
  });
});

describe("the results event and DLQ record schemas", () => {
  it("accept events the relay builds, for runs and responses", () => {
    // Prepare
    const assistants = buildResultsEvent(
      { api: "assistants", threadId: "thread_abc", run: requiresAction as never },
      { sourceMessageId: "m-1", metadata: { tenant: "acme" } },
    );
    const responses = buildResultsEvent(
      {
        api: "responses",
        response: {
          id: "resp_2",
          status: "completed",
          previous_response_id: "resp_1",
          conversation: null,
          output: [{ type: "function_call", id: "fc_1", call_id: "call_9", name: "get_weather", arguments: "{}" }],
        } as never,
      },
      { sourceMessageId: "m-2", sourceMessageIds: ["m-1", "m-2"] },
    );
    const conversation = buildResultsEvent({ api: "responses", conversationId: "conv_1", items: [] }, { sourceMessageId: "m-3" });

    // Assess
    for (const event of [assistants, responses, conversation])
      expect(problemsOf("results-event.schema.json", JSON.parse(JSON.stringify(event)))).toEqual([]);
  });

  it("refuses an event of no API the relay speaks", () => {
    const event = buildResultsEvent(
      { api: "assistants", threadId: "thread_abc", run: requiresAction as never },
      { sourceMessageId: "m-1" },
    );
    expect(problemsOf("results-event.schema.json", { ...JSON.parse(JSON.stringify(event)), api: "chat" })).not.toEqual([]);
  });

  it("accepts DLQ records the relay builds", () => {
    const record = buildDlqRecord(
      {
        reason: "tool_call_mismatch",
        detail: "expected call_1",
        httpStatus: 400,
        expectedToolCallIds: ["call_1"],
        givenToolCallIds: ["call_2"],
      } as never,
      { thread_id: "thread_abc", run_id: "run_abc", metadata: { tenant: "acme" } },
      { body: "{}", messageId: "m-1", receiveCount: 2 },
    );
    expect(problemsOf("dlq-record.schema.json", JSON.parse(JSON.stringify(record)))).toEqual([]);
    expect(problemsOf("dlq-record.schema.json", { ...record, original: undefined })).not.toEqual([]);
  });
});

describe("schemas/asyncapi.json", () => {
  it("is a valid AsyncAPI 3 document for the AsyncAPI parser, with the three channels and the topic's filterable attributes", async () => {
    // Act
    const { document, diagnostics } = await new Parser().parse(committed("asyncapi.json"));

    // Assess: severity 0 is an error.
    expect(diagnostics.filter((diagnostic) => diagnostic.severity === 0).map((d) => d.message)).toEqual([]);
    expect(document?.version()).toBe("3.0.0");
    expect(
      document
        ?.channels()
        .all()
        .map((channel) => channel.id())
        .sort(),
    ).toEqual(["deadLetterQueue", "inputQueue", "resultsTopic"]);
    const resultsEvent = document?.channels().get("resultsTopic")?.messages().all()[0];
    expect(Object.keys(resultsEvent?.headers()?.properties() ?? {}).sort()).toEqual(Object.keys(RESULT_ATTRIBUTES).sort());
  });
});
