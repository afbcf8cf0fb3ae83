/**
 * `npm run schemas`: writes the published schemas (schemas/) from the zod schemas the relay validates and describes
 * its wire formats with, so they cannot drift: JSON Schema (draft 2020-12) for each API's input message and watch
 * message, the results event and the DLQ record, and an AsyncAPI 3 document of the queues and the topic.
 * test/schemas/published-schemas.test.ts fails when the committed files differ from what this writes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as z from "zod";
import * as zm from "zod/mini";
import { AgentsResultsEventSchema } from "../functions/submit-tool-outputs/dialects/agents/event-schema";
import { AssistantsResultsEventSchema } from "../functions/submit-tool-outputs/dialects/assistants/event-schema";
import type { ApiMessages } from "../functions/submit-tool-outputs/dialects/dialect";
import { APIS, type Api, DIALECTS, ID_FIELDS } from "../functions/submit-tool-outputs/dialects/index";
import { ResponsesResultsEventSchema } from "../functions/submit-tool-outputs/dialects/responses/event-schema";
import { DLQ_RECORD_FIELDS } from "../functions/submit-tool-outputs/out/wire-schemas";
import { Metadata } from "../functions/submit-tool-outputs/pipeline/message-fields";
import packageJson from "../package.json" with { type: "json" };

/** Every API whose messages are published: each dialect of the registry (a new API's schemas come with its line there). */
export const PUBLISHED_APIS: readonly ApiMessages[] = APIS.map((api) => DIALECTS[api].messages as ApiMessages);

/**
 * Each API's results event, by the registry's names: an API added to the registry without its event schema here
 * fails to compile.
 */
const EVENT_SCHEMAS = {
  agents: AgentsResultsEventSchema,
  assistants: AssistantsResultsEventSchema,
  responses: ResponsesResultsEventSchema,
} satisfies Record<Api, z.core.$ZodType>;

/** A results event, as the results topic carries it (the SNS message body), told apart by `api`. */
const ResultsEventSchema = zm.union(Object.values(EVENT_SCHEMAS));

/** A DLQ record as the relay writes it (the SQS body; `reason` is also a message attribute), with the ids it read. */
const DlqRecordSchema = zm.object({
  ...DLQ_RECORD_FIELDS,
  ...Object.fromEntries(ID_FIELDS.map((field) => [field, zm.optional(zm.string())])),
});

/** The SNS message attributes of a results event that subscriptions filter on. */
export const RESULT_ATTRIBUTES = {
  type: "run.* / response.* / session.*: what the event reports (workers filter on *.requires_action)",
  status: "the API's own status",
  api: "assistants, responses or agents",
  thread_id: "Assistants events",
  response_id: "Responses events whose response is known",
  conversation_id: "Responses events of a conversation whose response id was not learnt",
  session_id: "Agents events",
  tool_names: "String.Array: the names of the tools the event asks for (per-tool worker fleets filter on it)",
} as const;

/** Each file names itself; a reader resolves the id against where it fetched the file from. */
const BASE_ID = "";

type Target = "draft-2020-12" | "draft-7";

/**
 * A zod schema as JSON Schema. `Metadata` checks its input in two steps (a `__proto__` key first, then the record)
 * that JSON Schema cannot express as zod builds it: it is written as the record it is, at most 16 properties.
 */
function jsonSchemaOf(schema: z.core.$ZodType, target: Target): Record<string, unknown> {
  const metadata = { ...z.toJSONSchema(Metadata, { target, io: "output" }), maxProperties: 16 };
  delete (metadata as { $schema?: string }).$schema;
  return z.toJSONSchema(schema, {
    target,
    io: "input",
    unrepresentable: "any",
    override: (ctx) => {
      if (ctx.zodSchema === Metadata) Object.assign(ctx.jsonSchema, metadata);
    },
  }) as Record<string, unknown>;
}

/** Each published schema by file name: what each API's input and watch messages are, and what the relay writes. */
function publishedJsonSchemas(target: Target): Record<string, { title: string; description: string; schema: Record<string, unknown> }> {
  const entries: Array<[string, { title: string; description: string; schema: Record<string, unknown> }]> = PUBLISHED_APIS.flatMap(
    (api) => [
      [
        `input-message.${api.api}.schema.json`,
        {
          title: `Tool outputs for the ${api.api} API`,
          description: `The SQS body a tool worker sends to the input queue: ${api.describeIds}, tool_outputs (tool_call_ids unique), stream, metadata, collect.`,
          schema: jsonSchemaOf(api.toolOutputs, target),
        },
      ],
      [
        `${api.watch.type.replace("_", "-")}.schema.json`,
        {
          title: `${api.watch.type} (${api.api} API)`,
          description:
            "A follow-up the relay sends itself when a follow outlasts its budget; anyone may send one to have the state reported.",
          schema: jsonSchemaOf(api.watch.schema, target),
        },
      ],
    ],
  );
  entries.push(
    [
      "results-event.schema.json",
      {
        title: "Results event",
        description: "The SNS message the relay publishes to the results topic for each resting state, per API (discriminated by api).",
        schema: jsonSchemaOf(ResultsEventSchema, target),
      },
    ],
    [
      "dlq-record.schema.json",
      {
        title: "DLQ record",
        description: "The SQS body the relay writes to the DLQ: why, and the original body byte for byte.",
        schema: jsonSchemaOf(DlqRecordSchema, target),
      },
    ],
  );
  return Object.fromEntries(entries);
}

/** The JSON Schema files, by file name. */
export function jsonSchemaFiles(): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(publishedJsonSchemas("draft-2020-12")).map(([file, { title, description, schema }]) => {
      const { $schema, ...rest } = schema;
      return [file, { $schema, $id: `${BASE_ID}${file}`, title, description, ...rest }];
    }),
  );
}

/** The AsyncAPI 3 document: the input queue (tool workers send), the results topic (filterable attributes), the DLQ. */
export function asyncApiDocument(): Record<string, unknown> {
  // AsyncAPI's default schema format is draft-07 based: the payloads are the same zod schemas written for draft 7.
  const payloads = publishedJsonSchemas("draft-7");
  const payload = (file: string) => {
    const { $schema, ...schema } = payloads[file]!.schema;
    return { title: payloads[file]!.title, description: payloads[file]!.description, ...schema };
  };
  const messageName = (file: string) => file.replace(".schema.json", "").replace(/[.-](\w)/g, (_, c: string) => c.toUpperCase());
  const inputFiles = Object.keys(payloads).filter((file) => file.startsWith("input-message.") || file.startsWith("watch-"));
  const messages: Record<string, unknown> = {};
  for (const file of inputFiles)
    messages[messageName(file)] = { name: messageName(file), contentType: "application/json", payload: payload(file) };
  messages.resultsEvent = {
    name: "resultsEvent",
    contentType: "application/json",
    summary: "A run, response or session at rest",
    headers: {
      type: "object",
      description: "SNS message attributes (SQS message attributes with raw delivery): filter policies match on them",
      properties: Object.fromEntries(
        Object.entries(RESULT_ATTRIBUTES).map(([name, description]) => [name, { type: "string", description }]),
      ),
      required: ["type", "status", "api"],
    },
    payload: payload("results-event.schema.json"),
  };
  messages.dlqRecord = {
    name: "dlqRecord",
    contentType: "application/json",
    headers: {
      type: "object",
      properties: { reason: { type: "string", description: "the record's reason, as an SQS message attribute" } },
    },
    payload: payload("dlq-record.schema.json"),
  };
  const ref = (name: string) => ({ $ref: `#/components/messages/${name}` });
  return {
    asyncapi: "3.0.0",
    info: {
      title: "tool-output-relay",
      version: packageJson.version,
      description:
        "Tool workers send tool outputs to the input queue; the relay submits them to the model's API, follows the run, response or " +
        "session to rest, and publishes it to the results topic; what cannot be delivered lands in the DLQ with its reason.",
    },
    channels: {
      inputQueue: {
        address: null,
        title: "Input queue (SQS)",
        description: "The stack output InputQueueUrl. Raw JSON bodies, or SNS envelopes around them.",
        messages: Object.fromEntries(inputFiles.map((file) => [messageName(file), ref(messageName(file))])),
      },
      resultsTopic: {
        address: null,
        title: "Results topic (SNS)",
        description: "The stack output ResultsTopicArn. Subscribe with raw delivery and a filter policy on the attributes.",
        messages: { resultsEvent: ref("resultsEvent") },
      },
      deadLetterQueue: {
        address: null,
        title: "Dead-letter queue (SQS)",
        description: "The stack output DeadLetterQueueUrl: every record says why.",
        messages: { dlqRecord: ref("dlqRecord") },
      },
    },
    operations: {
      receiveToolOutputs: {
        action: "receive",
        channel: { $ref: "#/channels/inputQueue" },
        summary: "The relay receives tool outputs and watch messages",
        messages: inputFiles.map((file) => ({ $ref: `#/channels/inputQueue/messages/${messageName(file)}` })),
      },
      publishResults: {
        action: "send",
        channel: { $ref: "#/channels/resultsTopic" },
        summary: "The relay publishes each resting state",
        messages: [{ $ref: "#/channels/resultsTopic/messages/resultsEvent" }],
      },
      deadLetter: {
        action: "send",
        channel: { $ref: "#/channels/deadLetterQueue" },
        summary: "The relay writes a reasoned record for what it cannot deliver",
        messages: [{ $ref: "#/channels/deadLetterQueue/messages/dlqRecord" }],
      },
    },
    components: { messages },
  };
}

/** Every file of schemas/, by name, as written. */
export function publishedFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [name, schema] of Object.entries(jsonSchemaFiles())) files[name] = `${JSON.stringify(schema, null, 2)}\n`;
  files["asyncapi.json"] = `${JSON.stringify(asyncApiDocument(), null, 2)}\n`;
  return files;
}

export const SCHEMAS_DIR = new URL("../schemas/", import.meta.url);

const runAsEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (runAsEntryPoint) {
  mkdirSync(SCHEMAS_DIR, { recursive: true });
  for (const [name, text] of Object.entries(publishedFiles())) {
    writeFileSync(join(SCHEMAS_DIR.pathname, name), text);
    console.log(`schemas/${name}`);
  }
}
