import * as z from "zod/mini";
import { lazySchema } from "../../config/lazy-schema";
import { EVENT_ENVELOPE_FIELDS } from "../../out/wire-schemas";

/** The Assistants API's results event, for the published schema (scripts/schemas.ts); results-event.ts builds it. */
export const AssistantsResultsEventSchema = lazySchema(() =>
  z.object({
    ...EVENT_ENVELOPE_FIELDS,
    api: z.literal("assistants"),
    type: z.string().check(z.regex(/^run\.[a-z_]+$/), z.describe("run. + the run's status")),
    thread_id: z.string(),
    run_id: z.string(),
    run: z.looseObject({ id: z.string(), status: z.string() }),
    reply: z.object({ thread_id: z.string(), run_id: z.string() }),
  }),
);
