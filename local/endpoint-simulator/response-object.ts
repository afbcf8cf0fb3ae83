/**
 * Builds spec-shaped Response objects (openai-openapi `components/schemas/Response`): every key of the
 * spec's `required` list is always present, and the request's settings are echoed as the real API echoes
 * them, so a relay that copies settings from `GET /responses/{id}` meets what production gives it.
 * Beyond the spec's properties it also sends `store`, which every spec example and real answer carry.
 */
import { type ResponseRecord, type ResponseSettings, type ResponseStatus, responseStateAt, type StoredItem } from "./responses";
import { unixSeconds } from "./run-object";

export type { StoredItem as ConversationItem } from "./responses";

/** A function tool as the Responses API takes it (`FunctionTool`: flat, not nested under `function`). */
export interface ResponseFunctionTool {
  type: "function";
  name: string;
  description?: string | null;
  parameters?: Record<string, unknown> | null;
  strict?: boolean | null;
}

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface ResponseObject {
  id: string;
  object: "response";
  created_at: number;
  status: ResponseStatus;
  background: boolean;
  completed_at: number | null;
  conversation: { id: string } | null;
  error: { code: "server_error"; message: string } | null;
  incomplete_details: { reason: "max_output_tokens" } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  max_tool_calls: number | null;
  model: string;
  output: StoredItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  prompt_cache_key: string | null;
  reasoning: Record<string, unknown>;
  safety_identifier: string | null;
  service_tier: string;
  store: boolean;
  temperature: number;
  text: Record<string, unknown>;
  tool_choice: unknown;
  tools: Array<Record<string, unknown>>;
  top_logprobs: number;
  top_p: number;
  truncation: "auto" | "disabled";
  usage: ResponseUsage | null;
  user?: string;
  metadata: Record<string, string>;
}

export const SIMULATED_INSTRUCTIONS =
  "You are the tool-output-relay endpoint simulator. Call the functions you are given, wait for their outputs, " +
  "and answer briefly. This text is deliberately long enough that consumers notice bulky fields they should drop.";

/** The simulated model's default tools; function calls are named after the response's function tools. */
export const SIMULATED_RESPONSE_TOOLS: ResponseFunctionTool[] = [
  functionTool("get_weather", "Current weather for a city", { city: { type: "string" } }),
  functionTool("lookup_order", "Status of an order", { order_id: { type: "string" } }),
  functionTool("convert_currency", "Convert an amount between currencies", { amount: { type: "number" }, to: { type: "string" } }),
];

function functionTool(name: string, description: string, properties: Record<string, unknown>): ResponseFunctionTool {
  return {
    type: "function",
    name,
    description,
    parameters: { type: "object", properties, required: Object.keys(properties), additionalProperties: false },
    strict: true,
  };
}

/**
 * A function tool as the API echoes it: `description`, `parameters` and `strict` always present (strict defaults
 * to true in the Responses API). Other tool types are echoed as sent.
 * @example echoTool({ type: "function", name: "f" }) // { type: "function", name: "f", description: null, parameters: null, strict: true }
 */
export function echoTool(tool: Record<string, unknown>): Record<string, unknown> {
  if (tool.type !== "function") return structuredClone(tool);
  return {
    ...structuredClone(tool),
    description: tool.description ?? null,
    parameters: tool.parameters ?? null,
    strict: tool.strict ?? true,
  };
}

/** The settings a request that names only `model` gets, as the API fills them in. */
export function defaultSettings(model: string): ResponseSettings {
  return {
    model,
    instructions: null,
    tools: [],
    tool_choice: "auto",
    parallel_tool_calls: true,
    reasoning: { effort: null, summary: null },
    text: { format: { type: "text" }, verbosity: "medium" },
    truncation: "disabled",
    max_output_tokens: null,
    max_tool_calls: null,
    temperature: 1,
    top_p: 1,
    top_logprobs: 0,
    service_tier: "default",
    metadata: {},
    prompt_cache_key: null,
    safety_identifier: null,
    store: true,
  };
}

/** Token counts grow down the chain so that consumers can tell responses apart. */
export function responseUsage(record: ResponseRecord): ResponseUsage {
  const input_tokens = 150 + 60 * record.depth + 20 * record.input.length;
  const output_tokens = 20 + 15 * record.output.length;
  return {
    input_tokens,
    input_tokens_details: { cached_tokens: record.depth > 0 ? 128 : 0, cache_write_tokens: 0 },
    output_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input_tokens + output_tokens,
  };
}

/**
 * The Response object as the endpoint would answer it at instant `at` (epoch ms).
 * @example buildResponseObject(record, Date.now()).status // "queued"
 */
export function buildResponseObject(record: ResponseRecord, at: number): ResponseObject {
  const state = responseStateAt(record, at);
  const { settings } = record;
  const ended = state.status === "completed" || state.status === "incomplete" || state.status === "failed";
  return {
    id: record.id,
    object: "response",
    created_at: unixSeconds(record.createdAt),
    status: state.status,
    background: record.background,
    completed_at: state.status === "completed" ? unixSeconds(state.since) : null,
    conversation: record.conversationId === null ? null : { id: record.conversationId },
    error: state.status === "failed" ? { code: "server_error", message: "The model failed to generate a response." } : null,
    incomplete_details: state.status === "incomplete" ? { reason: "max_output_tokens" } : null,
    instructions: settings.instructions,
    max_output_tokens: settings.max_output_tokens,
    max_tool_calls: settings.max_tool_calls,
    model: settings.model,
    output: state.status === "completed" ? structuredClone(record.output) : [],
    parallel_tool_calls: settings.parallel_tool_calls,
    previous_response_id: record.previousResponseId,
    prompt_cache_key: settings.prompt_cache_key,
    reasoning: structuredClone(settings.reasoning),
    safety_identifier: settings.safety_identifier,
    service_tier: settings.service_tier,
    store: settings.store,
    temperature: settings.temperature,
    text: structuredClone(settings.text),
    tool_choice: structuredClone(settings.tool_choice),
    tools: structuredClone(settings.tools),
    top_logprobs: settings.top_logprobs,
    top_p: settings.top_p,
    truncation: settings.truncation,
    usage: ended ? responseUsage(record) : null,
    ...(settings.user === undefined ? {} : { user: settings.user }),
    metadata: { ...settings.metadata },
  };
}
