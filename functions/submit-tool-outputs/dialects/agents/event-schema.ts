import * as z from "zod/mini";
import { lazySchema } from "../../config/lazy-schema";
import { EVENT_ENVELOPE_FIELDS } from "../../out/wire-schemas";

/** The Agents API's results event, for the published schema (scripts/schemas.ts); results-event.ts builds it. */
export const AgentsResultsEventSchema = lazySchema(() =>
  z.object({
    ...EVENT_ENVELOPE_FIELDS,
    api: z.literal("agents"),
    type: z
      .string()
      .check(
        z.regex(/^session\.[a-z_]+$/),
        z.describe("session.requires_action, session.waiting, session.turn_completed / turn_failed / turn_cancelled, session.failed"),
      ),
    session_id: z.string(),
    turn_id: z.string(),
    required_actions: z.array(z.looseObject({ type: z.string() })),
    reply: z.object({ session_id: z.string(), turn_id: z.string() }),
    session: z.looseObject({ id: z.string(), status: z.string() }),
    turn: z.optional(z.looseObject({ id: z.string(), status: z.string() })),
  }),
);
