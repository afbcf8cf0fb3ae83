import * as z from "zod/mini";
import "../../config/zod-messages";
import { lazySchema } from "../../config/lazy-schema";

/**
 * What the relay reads of the Agents API's objects (openai 7.60.0 `AgentSession`, `Turn`, `AgentSessionItem`):
 * loose, so fields the beta adds do not break it; the event keeps only what a consumer needs.
 */
export const RequiredActionSchema = lazySchema(() =>
  z.looseObject({
    type: z.string(),
    turn_id: z.optional(z.string()),
    call_id: z.optional(z.string()),
    request_id: z.optional(z.string()),
    name: z.optional(z.string()),
    arguments: z.optional(z.unknown()),
  }),
);

export const AgentSessionSchema = lazySchema(() =>
  z.looseObject({
    id: z.string(),
    status: z.string(),
    required_actions: z._default(z.array(RequiredActionSchema), []),
    error: z.nullish(z.unknown()),
    usage: z.nullish(z.unknown()),
    last_active_at: z.nullish(z.number()),
    metadata: z.nullish(z.record(z.string(), z.string())),
  }),
);

export const TurnSchema = lazySchema(() =>
  z.looseObject({
    id: z.string(),
    status: z.string(),
    error: z.nullish(z.unknown()),
    usage: z.nullish(z.unknown()),
  }),
);

export const SessionItemSchema = lazySchema(() =>
  z.looseObject({
    id: z.nullish(z.string()),
    type: z.string(),
    call_id: z.optional(z.string()),
    output: z.optional(z.unknown()),
    error: z.nullish(z.string()),
    turn_id: z.nullish(z.string()),
  }),
);

export type AgentSession = z.infer<typeof AgentSessionSchema>;
export type RequiredAction = z.infer<typeof RequiredActionSchema>;
export type Turn = z.infer<typeof TurnSchema>;
export type SessionItem = z.infer<typeof SessionItemSchema>;

export const TURN_ENDINGS: readonly string[] = ["completed", "failed", "cancelled"];

/** The function calls the session waits for, as `required_actions` lists them ("pending"). */
export function pendingFunctionCalls(session: AgentSession): Array<RequiredAction & { call_id: string; turn_id: string }> {
  return session.required_actions.filter(
    (action): action is RequiredAction & { call_id: string; turn_id: string } =>
      action.type === "function_call" && typeof action.call_id === "string" && typeof action.turn_id === "string",
  );
}

/** Every pending action's id (a call's `call_id`, an approval's `request_id`), sorted: the state's identity. */
export function pendingIds(session: AgentSession): string[] {
  return session.required_actions.map((action) => action.call_id ?? action.request_id ?? action.type).sort();
}
