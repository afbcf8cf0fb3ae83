/**
 * Strict checks of `POST /responses` bodies (`CreateResponse`) and of input items: unknown fields are refused
 * by name, the fields the simulator echoes are type-checked, and `model` is required (the spec requires no
 * field, but a continuation without `model` is what a forgetful client sends, and the simulator must catch it).
 */
import { type Reply, replies } from "./replies";
import { defaultSettings, echoTool } from "./response-object";
import { responseReplies } from "./response-replies";
import type { ResponseSettings } from "./responses";

/** An input item as a request gives it, checked; ids are given only when the client sent one. */
export type InputItemParam =
  | { type: "message"; role: "user" | "assistant" | "system" | "developer"; content: Array<Record<string, unknown>>; id?: string }
  | { type: "function_call_output"; call_id: string; output: string | Array<Record<string, unknown>>; id?: string }
  | { type: "function_call"; call_id: string; name: string; arguments: string; id?: string };

export interface ResponseRequest {
  settings: ResponseSettings;
  input: InputItemParam[];
  previousResponseId: string | null;
  conversationId: string | null;
  background: boolean;
  stream: boolean;
}

const CREATE_FIELDS = new Set([
  "metadata",
  "top_logprobs",
  "temperature",
  "top_p",
  "user",
  "safety_identifier",
  "prompt_cache_key",
  "prompt_cache_retention",
  "prompt_cache_options",
  "previous_response_id",
  "model",
  "background",
  "max_tool_calls",
  "text",
  "tools",
  "tool_choice",
  "prompt",
  "service_tier",
  "truncation",
  "reasoning",
  "input",
  "include",
  "parallel_tool_calls",
  "store",
  "instructions",
  "moderation",
  "stream",
  "stream_options",
  "conversation",
  "context_management",
  "max_output_tokens",
]);
const ITEM_FIELDS: Record<InputItemParam["type"], Set<string>> = {
  message: new Set(["type", "role", "content", "id", "status", "phase"]),
  function_call_output: new Set(["type", "call_id", "output", "id", "status", "name", "namespace", "caller"]),
  function_call: new Set(["type", "call_id", "name", "arguments", "id", "status", "namespace", "caller"]),
};
const TYPED_FIELDS: ReadonlyArray<readonly [string, "string" | "boolean" | "object" | "array"]> = [
  ...["model", "previous_response_id", "instructions", "user", "safety_identifier", "prompt_cache_key"].map(
    (key) => [key, "string"] as const,
  ),
  ...["background", "stream", "store", "parallel_tool_calls"].map((key) => [key, "boolean"] as const),
  ["reasoning", "object"],
  ["text", "object"],
  ["tools", "array"],
  ["include", "array"],
];
const ROLES = ["user", "assistant", "system", "developer"] as const;
const CONTENT_TYPES = new Set(["input_text", "input_image", "input_file", "output_text"]);
const SERVICE_TIERS = ["auto", "default", "flex", "scale", "priority"];
const MAX_OUTPUT_CHARS = 10_485_760;

/** Only [A-Za-z0-9_-], as the API words its check of ids. */
export const ID_PATTERN = /^[A-Za-z0-9_-]+$/;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isReply(value: unknown): value is Reply {
  return isObject(value) && "status" in value && "body" in value && typeof value.status === "number";
}

const absent = (value: unknown): value is null | undefined => value === undefined || value === null;

/**
 * `Metadata`: at most 16 string pairs, keys ≤ 64 characters, values ≤ 512.
 * @example checkMetadata({ tenant: "acme" }, "metadata") // { tenant: "acme" }
 */
export function checkMetadata(value: unknown, param: string): Record<string, string> | Reply {
  if (absent(value)) return {};
  if (!isObject(value)) return replies.invalidType(param, "an object", value);
  const entries = Object.entries(value);
  if (entries.length > 16) return responseReplies.tooManyProperties(param, 16, entries.length);
  for (const [key, item] of entries) {
    if (key.length > 64) return responseReplies.stringTooLong(`${param}.${key}`, 64, key.length);
    if (typeof item !== "string") return replies.invalidType(`${param}.${key}`, "a string", item);
    if (item.length > 512) return responseReplies.stringTooLong(`${param}.${key}`, 512, item.length);
  }
  return { ...(value as Record<string, string>) };
}

function checkNumber(body: Record<string, unknown>, key: string, min: number, max: number, integer = false): Reply | undefined {
  const value = body[key];
  if (absent(value)) return undefined;
  if (typeof value !== "number" || (integer && !Number.isInteger(value)))
    return replies.invalidType(key, integer ? "an integer" : "a number", value);
  if (value < min || value > max) return responseReplies.outOfRange(key, max === Infinity ? `≥ ${min}` : `from ${min} to ${max}`, value);
  return undefined;
}

function checkType(body: Record<string, unknown>, key: string, type: "string" | "boolean" | "object" | "array"): Reply | undefined {
  const value = body[key];
  if (absent(value)) return undefined;
  const ok = type === "array" ? Array.isArray(value) : type === "object" ? isObject(value) : typeof value === type;
  return ok ? undefined : replies.invalidType(key, type === "array" || type === "object" ? `an ${type}` : `a ${type}`, value);
}

function checkContent(role: string, content: unknown, at: string): Array<Record<string, unknown>> | Reply {
  if (typeof content === "string") {
    return role === "assistant"
      ? [{ type: "output_text", text: content, annotations: [], logprobs: [] }]
      : [{ type: "input_text", text: content }];
  }
  if (!Array.isArray(content)) return replies.invalidType(`${at}.content`, "a string or an array", content);
  for (const [index, part] of content.entries()) {
    if (!isObject(part) || !CONTENT_TYPES.has(part.type as string))
      return replies.invalidValue(`${at}.content[${index}].type`, String(isObject(part) ? part.type : part), [...CONTENT_TYPES]);
    if ((part.type === "input_text" || part.type === "output_text") && typeof part.text !== "string")
      return replies.invalidType(`${at}.content[${index}].text`, "a string", part.text);
  }
  return structuredClone(content) as Array<Record<string, unknown>>;
}

function checkString(item: Record<string, unknown>, key: string, at: string, max?: number): string | Reply {
  if (!(key in item)) return replies.missingParameter(`${at}.${key}`);
  const value = item[key];
  if (typeof value !== "string") return replies.invalidType(`${at}.${key}`, "a string", value);
  if (max !== undefined && value.length > max) return responseReplies.stringTooLong(`${at}.${key}`, max, value.length);
  return value;
}

/**
 * Checks one input item (an easy or full message, a function_call_output, or a re-sent function_call).
 * @example parseInputItem({ type: "function_call_output", call_id: "call_A", output: "{}" }, "input[0]")
 */
export function parseInputItem(item: unknown, at: string): InputItemParam | Reply {
  if (!isObject(item)) return replies.invalidType(at, "an object", item);
  const type = (item.type ?? ("role" in item ? "message" : undefined)) as string | undefined;
  if (type !== "message" && type !== "function_call_output" && type !== "function_call")
    return replies.invalidValue(`${at}.type`, String(type), ["message", "function_call_output", "function_call"]);
  const extra = Object.keys(item).find((key) => !ITEM_FIELDS[type].has(key));
  if (extra !== undefined) return responseReplies.unknownParameter(`${at}.${extra}`);
  if (!absent(item.id) && typeof item.id !== "string") return replies.invalidType(`${at}.id`, "a string", item.id);
  const id = typeof item.id === "string" ? { id: item.id } : {};
  if (type === "message") {
    const role = item.role as (typeof ROLES)[number];
    if (!ROLES.includes(role)) return replies.invalidValue(`${at}.role`, String(item.role), [...ROLES]);
    const content = checkContent(role, item.content, at);
    return isReply(content) ? content : { type, role, content, ...id };
  }
  const callId = checkString(item, "call_id", at, 64);
  if (isReply(callId)) return callId;
  if (type === "function_call") {
    const name = checkString(item, "name", at, 128);
    if (isReply(name)) return name;
    const args = checkString(item, "arguments", at);
    return isReply(args) ? args : { type, call_id: callId, name, arguments: args, ...id };
  }
  if (!("output" in item)) return replies.missingParameter(`${at}.output`);
  const output = item.output;
  if (typeof output === "string" && output.length > MAX_OUTPUT_CHARS)
    return responseReplies.stringTooLong(`${at}.output`, MAX_OUTPUT_CHARS, output.length);
  if (typeof output !== "string" && !(Array.isArray(output) && output.every(isObject)))
    return replies.invalidType(`${at}.output`, "a string or an array of content parts", output);
  return { type, call_id: callId, output: structuredClone(output), ...id };
}

/** `input`: a string (one user message) or an array of items. */
export function parseInput(input: unknown): InputItemParam[] | Reply {
  if (absent(input)) return [];
  if (typeof input === "string") return [{ type: "message", role: "user", content: [{ type: "input_text", text: input }] }];
  if (!Array.isArray(input)) return replies.invalidType("input", "a string or an array", input);
  const items: InputItemParam[] = [];
  for (const [index, item] of input.entries()) {
    const parsed = parseInputItem(item, `input[${index}]`);
    if (isReply(parsed)) return parsed;
    items.push(parsed);
  }
  return items;
}

function checkFields(body: Record<string, unknown>): Reply | undefined {
  const unknown = Object.keys(body).find((key) => !CREATE_FIELDS.has(key));
  if (unknown !== undefined) return responseReplies.unknownParameter(unknown);
  if (!("model" in body) || body.model === null) return replies.missingParameter("model");
  for (const [key, type] of TYPED_FIELDS) {
    const refused = checkType(body, key, type);
    if (refused !== undefined) return refused;
  }
  return (
    checkNumber(body, "temperature", 0, 2) ??
    checkNumber(body, "top_p", 0, 1) ??
    checkNumber(body, "top_logprobs", 0, 20, true) ??
    checkNumber(body, "max_output_tokens", 16, Infinity, true) ??
    checkNumber(body, "max_tool_calls", 1, Infinity, true)
  );
}

function checkTools(tools: unknown): Array<Record<string, unknown>> | Reply {
  if (absent(tools)) return [];
  const list = tools as unknown[];
  for (const [index, tool] of list.entries()) {
    if (!isObject(tool) || typeof tool.type !== "string") return replies.invalidType(`tools[${index}]`, "an object with a type", tool);
    if (tool.type === "function" && typeof tool.name !== "string") return replies.missingParameter(`tools[${index}].name`);
  }
  return list.map((tool) => echoTool(tool as Record<string, unknown>));
}

function checkConversation(value: unknown): string | null | Reply {
  if (absent(value)) return null;
  if (typeof value === "string") return value;
  if (isObject(value) && typeof value.id === "string" && Object.keys(value).length === 1) return value.id;
  return replies.invalidType("conversation", "a string or an object with an id", value);
}

/**
 * Checks a `POST /responses` body and fills in the settings the response will echo.
 * @example parseCreateResponse({ model: "gpt-5-mini", input: "hi" }) // { settings: {…}, input: [message], … }
 */
export function parseCreateResponse(body: unknown): ResponseRequest | Reply {
  if (!isObject(body)) return replies.invalidType("body", "an object", body);
  const refused = checkFields(body);
  if (refused !== undefined) return refused;
  if (!absent(body.truncation) && body.truncation !== "auto" && body.truncation !== "disabled")
    return replies.invalidValue("truncation", String(body.truncation), ["auto", "disabled"]);
  if (!absent(body.service_tier) && !SERVICE_TIERS.includes(body.service_tier as string))
    return replies.invalidValue("service_tier", String(body.service_tier), SERVICE_TIERS);
  const metadata = checkMetadata(body.metadata, "metadata");
  if (isReply(metadata)) return metadata;
  const tools = checkTools(body.tools);
  if (isReply(tools)) return tools;
  const conversationId = checkConversation(body.conversation);
  if (isReply(conversationId)) return conversationId;
  const input = parseInput(body.input);
  if (isReply(input)) return input;
  const settings = defaultSettings(body.model as string);
  Object.assign(settings, {
    tools,
    metadata,
    ...pick(body, ["instructions", "tool_choice", "parallel_tool_calls", "truncation", "max_output_tokens", "max_tool_calls"]),
    ...pick(body, ["temperature", "top_p", "top_logprobs", "prompt_cache_key", "safety_identifier", "user", "store"]),
  });
  if (isObject(body.reasoning)) settings.reasoning = { effort: null, summary: null, ...structuredClone(body.reasoning) };
  if (isObject(body.text)) settings.text = { format: { type: "text" }, verbosity: "medium", ...structuredClone(body.text) };
  // The API answers the tier it ran on: `auto` runs on `default`.
  if (typeof body.service_tier === "string") settings.service_tier = body.service_tier === "auto" ? "default" : body.service_tier;
  return {
    settings,
    input,
    previousResponseId: (body.previous_response_id as string | null | undefined) ?? null,
    conversationId,
    background: body.background === true,
    stream: body.stream === true,
  };
}

/** The keys of `body` that are present and not null, cloned. */
function pick(body: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((key) => !absent(body[key])).map((key) => [key, structuredClone(body[key])]));
}
