import * as z from "zod/mini";
import "../config/zod-messages";
import { lazySchema } from "../config/lazy-schema";

/**
 * The relay's own follow-up for an open collection: it looks again whether the turn can still take the set
 * (the run expired, the turn was answered elsewhere, the collection timed out) and, if it cannot, dead-letters
 * every collected message; else it schedules the next look. Anyone may send one: it only looks.
 */
export const CollectCheckSchema = lazySchema(() =>
  z.strictObject({
    type: z.literal("collect_check"),
    scope: z.string().check(z.regex(/^[A-Za-z0-9_#-]{1,300}$/)),
    round: z.string().check(z.regex(/^[a-f0-9]{32}$/)),
    /** Epoch ms when the look is due (a FIFO queue has no per-message delay: an early copy waits). */
    due: z.number(),
    /**
     * A guard (rule 9): sent beside the live check, due two minutes after it; it takes the chain over only when the live
     * check is long overdue (every receive of it died), and otherwise looks once. A guard's successors are plain checks.
     */
    guard: z.optional(z.literal(true)),
  }),
);
export type CollectCheck = z.infer<typeof CollectCheckSchema>;
