import * as z from "zod/mini";
import { lazySchema } from "../../config/lazy-schema";
import { EVENT_ENVELOPE_FIELDS } from "../../out/wire-schemas";

/** The Responses API's results event, for the published schema (scripts/schemas.ts); results-event.ts builds it. */
export const ResponsesResultsEventSchema = lazySchema(() =>
  z.object({
    ...EVENT_ENVELOPE_FIELDS,
    api: z.literal("responses"),
    type: z.string().check(z.regex(/^response\.[a-z_]+$/), z.describe("response.requires_action, or response. + the status")),
    response_id: z.nullable(z.string()),
    previous_response_id: z.nullable(z.string()),
    conversation_id: z.nullable(z.string()),
    response: z.looseObject({ id: z.nullable(z.string()), status: z.string() }),
    output_truncated: z.optional(z.literal(true)),
    reply: z.union([z.object({ response_id: z.string() }), z.object({ conversation_id: z.string() })]),
  }),
);
