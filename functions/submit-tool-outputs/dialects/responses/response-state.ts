import * as z from "zod/mini";
import "../../config/zod-messages";
import { lazySchema } from "../../config/lazy-schema";
import { type EndpointObject, readFields } from "../../endpoint/read-fields";

/**
 * The fields of the endpoint's Response object the relay reads. A response is read leniently
 * (endpoint/read-fields.ts): only these are checked, and the relay must not break when the endpoint adds more (they
 * pass through untouched).
 */
export const ResponseSchema = lazySchema(() =>
  z.object({
    id: z.string(),
    status: z.optional(z.string()),
    // Loose inside: an output item keeps its other fields in the type too (a function call's call_id).
    output: z.optional(z.array(z.looseObject({ type: z.string() }))),
    previous_response_id: z.nullish(z.string()),
    conversation: z.nullish(z.looseObject({ id: z.string() })),
  }),
);
export type ResponseObject = EndpointObject<z.infer<typeof ResponseSchema>>;
/** Reads a Response: its fields checked, the object kept whole. */
export const parseResponse = readFields(ResponseSchema);

/** A conversation item as the relay reads it (messages, function calls and their outputs). */
export interface ConversationItem {
  id?: string;
  type: string;
  call_id?: string;
  [field: string]: unknown;
}

/** A `function_call` output item: `call_id` is what the answer echoes back. */
export interface FunctionCallItem {
  type: "function_call";
  call_id: string;
  name: string;
  arguments: string;
  id?: string;
}

/** A response still moving; every other status is final (a status added later included). */
export const MOVING_RESPONSE_STATUSES = ["queued", "in_progress"] as const;
/** The final statuses the API documents. */
export const FINAL_RESPONSE_STATUSES = ["completed", "failed", "incomplete", "cancelled"] as const;
const MOVING: ReadonlySet<string> = new Set(MOVING_RESPONSE_STATUSES);

export function isFinal(response: ResponseObject): boolean {
  return !MOVING.has(response.status ?? "completed");
}

/** The function calls a final response asks to be answered. */
export function functionCalls(response: ResponseObject): FunctionCallItem[] {
  return (response.output ?? []).filter(
    (item): item is typeof item & FunctionCallItem => item.type === "function_call" && typeof item.call_id === "string",
  ) as FunctionCallItem[];
}

/** The conversation a response belongs to (null when none). */
export function conversationOf(response: ResponseObject): string | null {
  return response.conversation?.id ?? null;
}

/** Where a previous response stands with respect to the outputs of one message (rows of the Responses table). */
export type Standing =
  | { kind: "moving" } // queued / in_progress: its function calls are not final yet
  | { kind: "not_awaiting"; why: string } // failed, cancelled, incomplete, or asks for no function calls
  | { kind: "other_ids"; expected: string[] } // asks for other call ids than the message answers
  | { kind: "awaiting"; expected: string[] }; // asks for exactly these call ids

/**
 * Compares a previous response with the call ids a message answers.
 * @example standing(response, ["call_a"]).kind === "awaiting"
 */
export function standing(previous: ResponseObject, givenIds: readonly string[]): Standing {
  if (!isFinal(previous)) return { kind: "moving" };
  if (previous.status !== undefined && previous.status !== "completed") return { kind: "not_awaiting", why: `it ended ${previous.status}` };
  const expected = functionCalls(previous).map((call) => call.call_id);
  if (expected.length === 0) return { kind: "not_awaiting", why: "it asks for no function calls" };
  return sameIds(expected, givenIds) ? { kind: "awaiting", expected } : { kind: "other_ids", expected };
}

export function sameIds(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return a.length === b.length && b.every((id) => set.has(id));
}

/**
 * The settings a continuation repeats from the response it continues: the API carries none of them over
 * (instructions and tools least of all). `store` is true unless `request` says otherwise (background needs it;
 * the endpoint refuses the combination by name); `include` is not repeated.
 */
export const REPEATED_SETTINGS = [
  "model",
  "instructions",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "reasoning",
  "text",
  "truncation",
  "max_output_tokens",
  "temperature",
  "top_p",
  "service_tier",
  "metadata",
] as const;

/**
 * The continuation's settings: the previous response's own, overridden key by key by the message's `request`.
 * Nulls the previous response carries are left out (the endpoint's defaults apply).
 * @example continuationSettings(previous, { model: "gpt-5-mini" })
 */
export function continuationSettings(
  previous: ResponseObject | undefined,
  request: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  const settings: Record<string, unknown> = { store: true };
  for (const field of REPEATED_SETTINGS) {
    const value = previous?.[field];
    if (value !== undefined && value !== null) settings[field] = value;
  }
  for (const [field, value] of Object.entries(request)) if (value !== undefined) settings[field] = value;
  return settings;
}
