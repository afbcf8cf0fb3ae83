/**
 * Builds spec-shaped Run objects (openai-openapi `components/schemas/RunObject`): every field of
 * the spec's `required` list is always present, nullable ones as null, so consumers meet the same
 * bulk (instructions, tools) they will meet in production.
 */
import { acceptedRoundsAt, type RunRecord, type RunStatus, startedAt, stateAt, TERMINAL_STATUSES, type ToolCall } from "./runs";

export interface FunctionTool {
  type: "function";
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean | null };
}

export interface RunObject {
  id: string;
  object: "thread.run";
  created_at: number;
  thread_id: string;
  assistant_id: string;
  status: RunStatus;
  /** Null when not in requires_action; in azure mode the key is absent instead (Azure's ThreadRun does not require it). */
  required_action?: { type: "submit_tool_outputs"; submit_tool_outputs: { tool_calls: ToolCall[] } } | null;
  last_error: { code: "server_error" | "rate_limit_exceeded" | "invalid_prompt"; message: string } | null;
  expires_at: number | null;
  started_at: number | null;
  cancelled_at: number | null;
  failed_at: number | null;
  completed_at: number | null;
  model: string;
  instructions: string;
  tools: FunctionTool[];
  metadata: Record<string, string> | null;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  incomplete_details: { reason?: "max_completion_tokens" | "max_prompt_tokens" } | null;
  temperature?: number | null;
  top_p?: number | null;
  max_prompt_tokens: number | null;
  max_completion_tokens: number | null;
  truncation_strategy: { type: "auto" | "last_messages"; last_messages?: number | null } | null;
  tool_choice: "none" | "auto" | "required" | { type: "function" | "code_interpreter" | "file_search"; function?: { name: string } } | null;
  parallel_tool_calls: boolean;
  response_format: "auto" | { type: "text" } | { type: "json_object" } | { type: "json_schema"; json_schema: { name: string } } | null;
  /** Azure mode only: ThreadRun's one field more than OpenAI's RunObject. */
  tool_resources?: Record<string, unknown> | null;
}

const INSTRUCTIONS =
  "You are the tool-output-relay endpoint simulator. Call the functions you are given, wait for their outputs, " +
  "and answer briefly. This text is deliberately long enough that consumers notice bulky fields they should drop.";

/** The simulated assistant's tools; tool calls are named after these. */
export const SIMULATED_TOOLS: FunctionTool[] = [
  functionTool("get_weather", "Current weather for a city", { city: { type: "string" } }),
  functionTool("lookup_order", "Status of an order", { order_id: { type: "string" } }),
  functionTool("convert_currency", "Convert an amount between currencies", { amount: { type: "number" }, to: { type: "string" } }),
];

function functionTool(name: string, description: string, properties: Record<string, unknown>): FunctionTool {
  return {
    type: "function",
    function: { name, description, parameters: { type: "object", properties, required: Object.keys(properties) }, strict: false },
  };
}

/** Unix seconds, as every timestamp in the API is. */
export function unixSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** Token counts grow with every accepted round so that consumers can tell states apart. */
export function usageAfter(rounds: number): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const prompt_tokens = 120 + 40 * rounds;
  const completion_tokens = 18 + 12 * rounds;
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
}

/**
 * The Run object as the endpoint would answer it at instant `at` (epoch ms).
 * @example buildRunObject(run, Date.now()).status // "requires_action"
 */
export function buildRunObject(run: RunRecord, at: number): RunObject {
  const object = openAIRunObject(run, at);
  if (run.dialect !== "azure") return object;
  const { required_action, ...rest } = object;
  return { ...rest, ...(required_action === null ? {} : { required_action }), tool_resources: null };
}

function openAIRunObject(run: RunRecord, at: number): RunObject {
  const state = stateAt(run, at);
  const terminal = TERMINAL_STATUSES.includes(state.status);
  const started = startedAt(run, at);
  const endedAt = (status: RunStatus): number | null => (state.status === status ? unixSeconds(state.since) : null);
  return {
    id: run.runId,
    object: "thread.run",
    created_at: unixSeconds(run.createdAt),
    thread_id: run.threadId,
    assistant_id: run.assistantId,
    status: state.status,
    required_action:
      state.status === "requires_action" && state.segment.status === "requires_action"
        ? { type: "submit_tool_outputs", submit_tool_outputs: { tool_calls: structuredClone(state.segment.toolCalls) } }
        : null,
    last_error: state.status === "failed" ? { code: "server_error", message: "Sorry, something went wrong." } : null,
    // The spec shows null once a run is over; while it lives, round up so it never reads as past.
    expires_at: terminal ? null : Math.ceil(run.expiresAt / 1000),
    started_at: started === undefined ? null : unixSeconds(started),
    cancelled_at: endedAt("cancelled"),
    failed_at: endedAt("failed"),
    completed_at: endedAt("completed"),
    model: run.model,
    instructions: INSTRUCTIONS,
    tools: structuredClone(SIMULATED_TOOLS),
    metadata: { ...run.metadata },
    usage: terminal ? usageAfter(acceptedRoundsAt(run, at)) : null,
    incomplete_details: state.status === "incomplete" ? { reason: "max_completion_tokens" } : null,
    temperature: 1,
    top_p: 1,
    max_prompt_tokens: null,
    max_completion_tokens: null,
    truncation_strategy: { type: "auto", last_messages: null },
    tool_choice: "auto",
    parallel_tool_calls: true,
    response_format: "auto",
  };
}
