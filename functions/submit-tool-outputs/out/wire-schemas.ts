import * as z from "zod/mini";

/**
 * What the relay writes, as zod schemas: the results event (each API's) and the DLQ record. The relay builds them
 * in results-event.ts and dlq-record.ts; these describe them for consumers: scripts/schemas.ts turns them into the
 * published JSON Schemas (schemas/), and test/schemas/ checks events and records the relay really built against
 * those. Not imported by the handler: nothing here ships in the function's bundle.
 */

const ToolCall = z.object({
  id: z.string(),
  type: z.literal("function"),
  function: z.object({ name: z.string(), arguments: z.string().check(z.describe("the call's arguments as a JSON string")) }),
});

const Metadata = z.record(z.string(), z.string());

/** What every API's event carries. */
const envelope = {
  event_id: z.string().check(z.describe("stable for the same state: drop a second event with the same id")),
  status: z.string().check(z.describe("the API's own status of what the event reports")),
  tool_calls: z.array(ToolCall).check(z.describe("the calls to run (new ones only); [] when none")),
  source_message_id: z.string().check(z.describe("the SQS message that completed the submission (or asked to watch)")),
  source_message_ids: z.optional(z.array(z.string()).check(z.describe("every collected message the submission carried"))),
  metadata: z.optional(Metadata.check(z.describe("the message's metadata, echoed; absent when it had none"))),
  at: z.string().check(z.describe("when the event was built (ISO 8601)")),
};

export const AssistantsResultsEventSchema = z.object({
  ...envelope,
  api: z.literal("assistants"),
  type: z.string().check(z.regex(/^run\.[a-z_]+$/), z.describe("run. + the run's status")),
  thread_id: z.string(),
  run_id: z.string(),
  run: z.looseObject({ id: z.string(), status: z.string() }),
  reply: z.object({ thread_id: z.string(), run_id: z.string() }),
});

export const ResponsesResultsEventSchema = z.object({
  ...envelope,
  api: z.literal("responses"),
  type: z.string().check(z.regex(/^response\.[a-z_]+$/), z.describe("response.requires_action, or response. + the status")),
  response_id: z.nullable(z.string()),
  previous_response_id: z.nullable(z.string()),
  conversation_id: z.nullable(z.string()),
  response: z.looseObject({ id: z.nullable(z.string()), status: z.string() }),
  output_truncated: z.optional(z.literal(true)),
  reply: z.union([z.object({ response_id: z.string() }), z.object({ conversation_id: z.string() })]),
});

export const AgentsResultsEventSchema = z.object({
  ...envelope,
  api: z.literal("agents"),
  type: z.string().check(z.regex(/^session\.[a-z_]+$/), z.describe("session.requires_action, session.waiting, session.turn_*, …")),
  session_id: z.string(),
  turn_id: z.nullable(z.optional(z.string())),
  required_actions: z.optional(z.array(z.looseObject({ type: z.string() }))),
  session: z.optional(z.looseObject({ id: z.string(), status: z.string() })),
  turn: z.optional(z.nullable(z.looseObject({ id: z.string() }))),
  reply: z.object({ session_id: z.string(), turn_id: z.string() }),
});

/** A results event, as the results topic carries it (the SNS message body). */
export const ResultsEventSchema = z.discriminatedUnion("api", [
  AssistantsResultsEventSchema,
  ResponsesResultsEventSchema,
  AgentsResultsEventSchema,
]);

/** A DLQ record, as the relay writes it to the DLQ (the SQS body; `reason` is also a message attribute). */
export const DlqRecordSchema = z.object({
  reason: z.string().check(z.regex(/^[a-z_]+$/), z.describe("why: invalid_message, run_expired, tool_call_mismatch, … (docs/contract.md)")),
  detail: z.string(),
  http_status: z.optional(z.number()),
  endpoint_error: z.optional(z.looseObject({})),
  expected_tool_call_ids: z.optional(z.array(z.string())),
  given_tool_call_ids: z.optional(z.array(z.string())),
  claimed_at: z.optional(z.string()),
  thread_id: z.optional(z.string()),
  run_id: z.optional(z.string()),
  response_id: z.optional(z.string()),
  conversation_id: z.optional(z.string()),
  session_id: z.optional(z.string()),
  turn_id: z.optional(z.string()),
  metadata: z.optional(Metadata),
  original: z.string().check(z.describe("the message's SQS body, byte for byte: fix it and send it again")),
  source_message_id: z.string(),
  receive_count: z.number(),
  at: z.string(),
});
