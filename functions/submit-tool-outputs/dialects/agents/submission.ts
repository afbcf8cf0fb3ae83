import { hash } from "node:crypto";

/** An Agents-API tool output as a message carries it: exactly one of `output` (string or parts) and `error`. */
export type AgentToolOutput = { tool_call_id: string; output?: string | Array<Record<string, unknown>>; error?: string };

/** The API's request limit (4 MiB, for initial and follow-up input). */
export const MAX_AGENTS_BODY_BYTES = 4 * 1024 * 1024;

/**
 * `POST /agents/sessions/{id}/events`'s body: one `agent.session.input.tool_result` event per output, in the message's
 * order. A failure is sent as the API asks (`success: false` and an `error` the agent can use), with no `output`.
 * @example eventsBody("turn_1", [{ tool_call_id: "call_1", output: "21" }])
 */
export function eventsBody(turnId: string, outputs: readonly AgentToolOutput[]): string {
  const events = outputs.map((output) =>
    output.error !== undefined
      ? { type: "agent.session.input.tool_result", turn_id: turnId, call_id: output.tool_call_id, success: false, error: output.error }
      : { type: "agent.session.input.tool_result", turn_id: turnId, call_id: output.tool_call_id, success: true, output: output.output },
  );
  return JSON.stringify({ events });
}

/**
 * The `Idempotency-Key` of one submission: a digest of the session, the turn and the body, so every delivery of the
 * same content (a duplicate, our own retry in a later invocation) sends the same key, and different content (a
 * subset, another output) a different one. Never random: a random key would make each retry a new submission.
 * @example idempotencyKey("sess_1", eventsBody("turn_1", outputs)) // "relay-3f…" (68 characters)
 */
export function idempotencyKey(sessionId: string, body: string): string {
  return `relay-${hash("sha256", `${sessionId}\n${body}`, "hex")}`;
}
