import * as z from "zod/mini";
import "../../config/zod-messages";
import { lazySchema } from "../../config/lazy-schema";
import { type EndpointObject, readFields } from "../../endpoint/read-fields";

/**
 * The fields of the endpoint's Run object the relay reads. A run is read leniently (endpoint/read-fields.ts): only
 * these are checked, and the relay must not break when the endpoint adds more (they pass through untouched).
 */
export const RunSchema = lazySchema(() =>
  z.object({
    id: z.string(),
    status: z.string(),
    thread_id: z.optional(z.string()),
    // Loose inside: these small objects keep their other fields in the type too (a tool call's function).
    required_action: z.nullish(
      z.looseObject({
        type: z.string(),
        submit_tool_outputs: z.optional(z.looseObject({ tool_calls: z.array(z.looseObject({ id: z.string() })) })),
      }),
    ),
  }),
);
export type Run = EndpointObject<z.infer<typeof RunSchema>>;
/** Reads a Run: its fields checked, the object kept whole. */
export const parseRun = readFields(RunSchema);

/** Every status a run can have (Azure's classic agents have all but `incomplete`). */
export const RUN_STATUSES = [
  "queued",
  "in_progress",
  "requires_action",
  "cancelling",
  "cancelled",
  "failed",
  "completed",
  "incomplete",
  "expired",
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The statuses that end a run. */
export const TERMINAL_RUN_STATUSES = ["completed", "failed", "cancelled", "expired", "incomplete"] as const satisfies readonly RunStatus[];

const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_RUN_STATUSES);

/** `requires_action` pauses the run; the rest end it. Anything else (queued, in_progress, cancelling, or a status added later) is still moving. */
export function isResting(run: Run): boolean {
  return run.status === "requires_action" || TERMINAL.has(run.status);
}

/** The tool call ids the run is waiting for (empty unless it is in `requires_action`). */
export function requiredToolCallIds(run: Run): string[] {
  if (run.status !== "requires_action") return [];
  return run.required_action?.submit_tool_outputs?.tool_calls.map((call) => call.id) ?? [];
}

/** Where a run stands with respect to the outputs of one message. */
export type Standing =
  | "waiting" // still asks for exactly these ids: submit (again)
  | "expired" // too late: the outputs can never be accepted
  | "moved_on" // no longer asks for any ids: it took these (a duplicate, our own earlier attempt), or never asked for them
  | "other_ids"; // asks for other ids: either a later round (ours were accepted) or our ids are wrong

/**
 * Compares a run with the outputs of a message (the table's "GET the run before anything else" row).
 * @example standing(run, ["call_a"]) === "waiting"
 */
export function standing(run: Run, givenIds: readonly string[]): Standing {
  if (run.status === "expired") return "expired";
  if (run.status !== "requires_action") return "moved_on";
  const required = requiredToolCallIds(run);
  const given = new Set(givenIds);
  if (required.length === given.size && required.every((id) => given.has(id))) return "waiting";
  return "other_ids";
}
