import * as z from "zod/mini";
import { lazySchema } from "../config/lazy-schema";

/**
 * What the relay writes, as zod schemas for its consumers: the results event's envelope (each API's event adds its
 * fields in dialects/<api>/event-schema.ts) and the DLQ record (the registry's id fields are added by
 * scripts/schemas.ts). scripts/schemas.ts turns them into the published JSON Schemas (schemas/), and
 * test/schemas/ checks events and records the relay really built against those. Not imported by the handler:
 * nothing here ships in the function's bundle.
 */

export const ToolCallSchema = lazySchema(() =>
  z.object({
    id: z.string(),
    type: z.literal("function"),
    function: z.object({ name: z.string(), arguments: z.string().check(z.describe("the call's arguments as a JSON string")) }),
  }),
);

const Metadata = lazySchema(() => z.record(z.string(), z.string()));

/** What every API's event carries. */
export const EVENT_ENVELOPE_FIELDS = {
  event_id: z.string().check(z.describe("stable for the same state: drop a second event with the same id")),
  status: z.string().check(z.describe("the API's own status of what the event reports")),
  tool_calls: z.array(ToolCallSchema).check(z.describe("the calls to run (new ones only); [] when none")),
  source_message_id: z.string().check(z.describe("the SQS message that completed the submission (or asked to watch)")),
  source_message_ids: z.optional(z.array(z.string()).check(z.describe("every collected message the submission carried"))),
  metadata: z.optional(Metadata.check(z.describe("the message's metadata, echoed; absent when it had none"))),
  at: z.string().check(z.describe("when the event was built (ISO 8601)")),
};

/** A DLQ record without the API ids it carries when the message had them (scripts/schemas.ts adds the registry's). */
export const DLQ_RECORD_FIELDS = {
  reason: z.string().check(z.regex(/^[a-z_]+$/), z.describe("why: invalid_message, tool_call_mismatch, … (docs/contract.md, DLQ record)")),
  detail: z.string(),
  http_status: z.optional(z.number()),
  endpoint_error: z.optional(z.looseObject({})),
  expected_tool_call_ids: z.optional(z.array(z.string())),
  given_tool_call_ids: z.optional(z.array(z.string())),
  claimed_at: z.optional(z.string()),
  metadata: z.optional(Metadata),
  original: z.string().check(z.describe("the message's SQS body, byte for byte: fix it and send it again")),
  source_message_id: z.string(),
  receive_count: z.number(),
  at: z.string(),
};
