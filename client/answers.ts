import type { ToolCall, WorkerEvent } from "./events";

/** What a tool produced: a string, or the content parts some APIs take (`input_text`, `input_image`, …). */
export type ToolOutput = string | ReadonlyArray<Record<string, unknown>>;

/** The fate of one call: its output, or the error it ended with. */
export type ToolResult = { call: ToolCall; output: ToolOutput } | { call: ToolCall; error: string };

/** One item of `tool_outputs` as the input message carries it. */
export type ToolOutputItem = { tool_call_id: string; output: ToolOutput } | { tool_call_id: string; error: string };

/** The Agents API takes at most this many characters of a tool's error (DESIGN, Part 3). */
export const MAX_ERROR_CHARACTERS = 4096;

/**
 * How a failed call is answered. The Agents API has first-class tool errors (`error`, `success: false`); the
 * Assistants and Responses APIs take only outputs, so the error goes as an output the model can read.
 */
export function outputItemOf(result: ToolResult, api: string): ToolOutputItem {
  if ("output" in result) return { tool_call_id: result.call.id, output: result.output };
  const error = result.error.trim() || "the tool failed";
  if (api === "agents") return { tool_call_id: result.call.id, error: error.slice(0, MAX_ERROR_CHARACTERS) };
  return { tool_call_id: result.call.id, output: JSON.stringify({ error }) };
}

export interface AnswerOptions {
  /**
   * One message per call with `"collect": true` (each call run by a worker of its own; the relay collects the turn).
   * @default false: one message answers every result given
   */
  collect?: boolean;
}

/**
 * The input messages that answer an event: `{ ...event.reply, tool_outputs }`, its metadata echoed; with `collect`,
 * one message per result. The same for the three APIs.
 * @example answersFor(event, [{ call, output: "21" }]) // [{ thread_id, run_id, tool_outputs: [{ tool_call_id, output: "21" }] }]
 */
export function answersFor(
  event: WorkerEvent,
  results: readonly ToolResult[],
  options: AnswerOptions = {},
): Array<Record<string, unknown>> {
  if (results.length === 0) return [];
  // `metadata: null` would be refused by older relays; absent is what the relay itself writes when there is none.
  const metadata = event.metadata ? { metadata: event.metadata } : {};
  const message = (items: ToolResult[]) => ({
    ...event.reply,
    tool_outputs: items.map((result) => outputItemOf(result, event.api)),
    ...metadata,
    ...(options.collect ? { collect: true } : {}),
  });
  return options.collect ? results.map((result) => message([result])) : [message([...results])];
}
