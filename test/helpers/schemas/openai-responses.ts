/**
 * Strict zod schemas of the Responses API and Conversations API objects the endpoint simulator emits (and
 * of the request items a relay sends), written by hand from the official OpenAPI definitions:
 * openai/openai-openapi `openapi.yaml` 2.3.0, `components/schemas` (Response = ModelResponseProperties &
 * ResponseProperties & its own properties, OutputMessage, OutputTextContent, RefusalContent, Annotation,
 * LogProb, FunctionToolCall, FunctionToolCallResource, FunctionToolCallOutputResource, InputMessageResource,
 * Message, FunctionTool, ToolChoiceParam, Reasoning, ResponseTextParam, ResponseError(Code), ResponseUsage,
 * the Response*Event stream events, Error, ErrorResponse, ConversationResource, ConversationItemList,
 * ResponseItemList, FunctionCallOutputItemParam, CreateResponse).
 *
 * "Strict" twice over: every key in the spec's `required` lists is required here (nullable ones included),
 * and objects reject keys the spec does not define. Deliberate differences, each one a fact of the real API
 * that the spec leaves out:
 * - `Response.store` is accepted: the spec has no such property, yet every example and real answer has it.
 * - `Response.usage` may be null: the spec types it as an object, yet its own examples send null before the end.
 * - `first_id` / `last_id` of an empty list may be null (the spec types them as strings), as for run steps.
 * Deliberate narrowing: tools are function tools only, output and conversation items are messages, function
 * calls and function call outputs only (the simulator emits nothing else), so anything else fails here.
 */
import * as z from "zod";

const unixtime = z.number().nonnegative();

// ---- shared pieces ----------------------------------------------------------------------------
export const Metadata = z.record(z.string().max(64), z.string().max(512)).nullable();

const PromptCacheBreakpoint = z.strictObject({ mode: z.literal("explicit") });
const ImageDetail = z.enum(["low", "high", "auto", "original"]);

export const InputTextContent = z.strictObject({
  type: z.literal("input_text"),
  text: z.string(),
  prompt_cache_breakpoint: PromptCacheBreakpoint.optional(),
});
export const InputImageContent = z.strictObject({
  type: z.literal("input_image"),
  image_url: z.url().nullable().optional(),
  file_id: z.string().nullable().optional(),
  detail: ImageDetail,
  prompt_cache_breakpoint: PromptCacheBreakpoint.optional(),
});
export const InputFileContent = z.strictObject({
  type: z.literal("input_file"),
  file_id: z.string().nullable().optional(),
  filename: z.string().optional(),
  file_data: z.string().optional(),
  prompt_cache_breakpoint: PromptCacheBreakpoint.optional(),
  file_url: z.url().optional(),
  detail: z.enum(["auto", "low", "high"]).optional(),
});

export const Annotation = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("file_citation"), file_id: z.string(), index: z.int(), filename: z.string() }),
  z.strictObject({ type: z.literal("url_citation"), url: z.url(), start_index: z.int(), end_index: z.int(), title: z.string() }),
  z.strictObject({
    type: z.literal("container_file_citation"),
    container_id: z.string(),
    file_id: z.string(),
    start_index: z.int(),
    end_index: z.int(),
    filename: z.string(),
  }),
  z.strictObject({ type: z.literal("file_path"), file_id: z.string(), index: z.int() }),
]);

const TopLogProb = z.strictObject({ token: z.string(), logprob: z.number(), bytes: z.array(z.int()) });
export const LogProb = z.strictObject({
  token: z.string(),
  logprob: z.number(),
  bytes: z.array(z.int()),
  top_logprobs: z.array(TopLogProb),
});
export const ResponseLogProb = z.strictObject({
  token: z.string(),
  logprob: z.number(),
  top_logprobs: z.array(z.strictObject({ token: z.string().optional(), logprob: z.number().optional() })).optional(),
});

export const OutputTextContent = z.strictObject({
  type: z.literal("output_text"),
  text: z.string(),
  annotations: z.array(Annotation),
  logprobs: z.array(LogProb),
});
export const RefusalContent = z.strictObject({ type: z.literal("refusal"), refusal: z.string() });
const ReasoningTextContent = z.strictObject({ type: z.literal("reasoning_text"), text: z.string() });

const ItemStatus = z.enum(["in_progress", "completed", "incomplete"]);
const MessagePhase = z.enum(["commentary", "final_answer"]);

// ---- output items ----------------------------------------------------------------------------
export const OutputMessage = z.strictObject({
  id: z.string(),
  type: z.literal("message"),
  role: z.literal("assistant"),
  content: z.array(z.discriminatedUnion("type", [OutputTextContent, RefusalContent])),
  phase: MessagePhase.nullable().optional(),
  status: ItemStatus,
});

const ToolCallCaller = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("direct") }),
  z.strictObject({ type: z.literal("program"), caller_id: z.string() }),
]);
const ToolCallCallerParam = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("direct") }),
  z.strictObject({ type: z.literal("program"), caller_id: z.string().min(1).max(64) }),
]);

const functionToolCallShape = {
  id: z.string().optional(),
  type: z.literal("function_call"),
  call_id: z.string(),
  caller: ToolCallCaller.nullable().optional(),
  namespace: z.string().optional(),
  name: z.string(),
  arguments: z.string(),
  status: ItemStatus.optional(),
};
export const FunctionToolCall = z.strictObject(functionToolCallShape);
/** FunctionToolCall & {id, status, created_by?}: a function call as a list (conversation, input items) shows it. */
export const FunctionToolCallResource = z.strictObject({
  ...functionToolCallShape,
  id: z.string(),
  status: ItemStatus,
  created_by: z.string().optional(),
});

const FunctionAndCustomToolCallOutput = z.discriminatedUnion("type", [InputTextContent, InputImageContent, InputFileContent]);
/** FunctionToolCallOutput & {id, status, created_by?}: a function_call_output as the API stores and lists it. */
export const FunctionToolCallOutputResource = z.strictObject({
  id: z.string(),
  type: z.literal("function_call_output"),
  call_id: z.string().optional(),
  name: z.string().optional(),
  namespace: z.string().optional(),
  caller: ToolCallCallerParam.nullable().optional(),
  output: z.union([z.string(), z.array(FunctionAndCustomToolCallOutput)]),
  status: ItemStatus,
  created_by: z.string().optional(),
});

/** InputMessage & {id}: an input message as `input_items` lists it. */
export const InputMessageResource = z.strictObject({
  type: z.literal("message").optional(),
  role: z.enum(["user", "system", "developer"]),
  status: ItemStatus.optional(),
  content: z.array(z.discriminatedUnion("type", [InputTextContent, InputImageContent, InputFileContent])),
  id: z.string(),
});

/** `Message`: a message as a conversation lists it (any role, any content part). */
export const Message = z.strictObject({
  type: z.literal("message"),
  id: z.string(),
  status: ItemStatus,
  role: z.enum(["unknown", "user", "assistant", "system", "critic", "discriminator", "developer", "tool"]),
  content: z.array(
    z.discriminatedUnion("type", [
      InputTextContent,
      OutputTextContent,
      z.strictObject({ type: z.literal("text"), text: z.string() }),
      z.strictObject({ type: z.literal("summary_text"), text: z.string() }),
      ReasoningTextContent,
      RefusalContent,
      InputImageContent,
      z.strictObject({
        type: z.literal("computer_screenshot"),
        image_url: z.url().nullable(),
        file_id: z.string().nullable(),
        detail: ImageDetail,
        prompt_cache_breakpoint: PromptCacheBreakpoint.optional(),
      }),
      InputFileContent,
    ]),
  ),
  phase: MessagePhase.nullable().optional(),
});

export const OutputItem = z.union([OutputMessage, FunctionToolCall]);
export const ItemResource = z.union([InputMessageResource, OutputMessage, FunctionToolCallResource, FunctionToolCallOutputResource]);
export const ConversationItem = z.union([Message, FunctionToolCallResource, FunctionToolCallOutputResource]);

// ---- settings --------------------------------------------------------------------------------
export const FunctionTool = z.strictObject({
  type: z.literal("function"),
  name: z.string(),
  description: z.string().nullable().optional(),
  parameters: z.record(z.string(), z.unknown()).nullable(),
  output_schema: z.record(z.string(), z.unknown()).nullable().optional(),
  strict: z.boolean().nullable(),
  defer_loading: z.boolean().optional(),
  allowed_callers: z
    .array(z.enum(["direct", "programmatic"]))
    .nullable()
    .optional(),
});

export const ToolChoiceParam = z.union([
  z.enum(["none", "auto", "required"]),
  z.strictObject({
    type: z.literal("allowed_tools"),
    mode: z.enum(["auto", "required"]),
    tools: z.array(z.record(z.string(), z.unknown())),
  }),
  z.strictObject({
    type: z.enum([
      "file_search",
      "web_search_preview",
      "computer",
      "computer_use_preview",
      "computer_use",
      "web_search_preview_2025_03_11",
      "image_generation",
      "code_interpreter",
    ]),
  }),
  z.strictObject({ type: z.literal("function"), name: z.string() }),
  z.strictObject({ type: z.literal("mcp"), server_label: z.string(), name: z.string().nullable().optional() }),
  z.strictObject({ type: z.literal("custom"), name: z.string() }),
  z.strictObject({ type: z.enum(["programmatic_tool_calling", "apply_patch", "shell"]) }),
]);

export const Reasoning = z.strictObject({
  mode: z.string().optional(),
  effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh", "max"]).nullable().optional(),
  summary: z.enum(["auto", "concise", "detailed"]).nullable().optional(),
  context: z.enum(["auto", "current_turn", "all_turns"]).nullable().optional(),
  generate_summary: z.enum(["auto", "concise", "detailed"]).nullable().optional(),
});

export const ResponseTextParam = z.strictObject({
  format: z
    .union([
      z.strictObject({ type: z.literal("text") }),
      z.strictObject({
        type: z.literal("json_schema"),
        description: z.string().optional(),
        name: z.string(),
        schema: z.record(z.string(), z.unknown()),
        strict: z.boolean().nullable().optional(),
      }),
      z.strictObject({ type: z.literal("json_object") }),
    ])
    .optional(),
  verbosity: z.enum(["low", "medium", "high"]).nullable().optional(),
});

const ServiceTier = z.enum(["auto", "default", "flex", "scale", "priority", "fast", "ultrafast"]).nullable();

// ---- Response --------------------------------------------------------------------------------
export const ResponseErrorCode = z.enum([
  "server_error",
  "rate_limit_exceeded",
  "invalid_prompt",
  "data_residency_mismatch",
  "bio_policy",
  "vector_store_timeout",
  "invalid_image",
  "invalid_image_format",
  "invalid_base64_image",
  "invalid_image_url",
  "image_too_large",
  "image_too_small",
  "image_parse_error",
  "image_content_policy_violation",
  "invalid_image_mode",
  "image_file_too_large",
  "unsupported_image_media_type",
  "empty_image_file",
  "failed_to_download_image",
  "image_file_not_found",
]);
export const ResponseError = z.strictObject({ code: ResponseErrorCode, message: z.string() }).nullable();

export const ResponseUsage = z.strictObject({
  input_tokens: z.int(),
  input_tokens_details: z.strictObject({ cached_tokens: z.int(), cache_write_tokens: z.int() }),
  output_tokens: z.int(),
  output_tokens_details: z.strictObject({ reasoning_tokens: z.int() }),
  total_tokens: z.int(),
});

export const ResponseStatus = z.enum(["completed", "failed", "in_progress", "cancelled", "queued", "incomplete"]);

export const Response = z.strictObject({
  // ModelResponseProperties
  metadata: Metadata,
  top_logprobs: z.int().min(0).max(20).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable(),
  top_p: z.number().min(0).max(1).nullable(),
  user: z.string().optional(),
  safety_identifier: z.string().max(64).nullable().optional(),
  prompt_cache_key: z.string().nullable().optional(),
  prompt_cache_retention: z.enum(["in_memory", "24h"]).nullable().optional(),
  // ResponseProperties
  previous_response_id: z.string().nullable().optional(),
  model: z.string(),
  background: z.boolean().nullable().optional(),
  max_tool_calls: z.int().nullable().optional(),
  text: ResponseTextParam.optional(),
  tools: z.array(FunctionTool),
  tool_choice: ToolChoiceParam,
  prompt: z
    .strictObject({
      id: z.string(),
      version: z.string().nullable().optional(),
      variables: z.record(z.string(), z.unknown()).nullable().optional(),
    })
    .nullable()
    .optional(),
  // Response's own
  service_tier: ServiceTier.optional(),
  truncation: z.enum(["auto", "disabled"]).nullable().optional(),
  id: z.string(),
  object: z.literal("response"),
  status: ResponseStatus.optional(),
  created_at: unixtime,
  completed_at: unixtime.nullable().optional(),
  error: ResponseError,
  incomplete_details: z.strictObject({ reason: z.enum(["max_output_tokens", "content_filter"]).optional() }).nullable(),
  output: z.array(OutputItem),
  reasoning: Reasoning.nullable().optional(),
  // The simulator echoes string instructions only; item arrays are not checked item by item.
  instructions: z.union([z.string(), z.array(z.record(z.string(), z.unknown()))]).nullable(),
  output_text: z.string().nullable().optional(),
  usage: ResponseUsage.nullable().optional(),
  prompt_cache_options: z.strictObject({ ttl: z.literal("30m"), mode: z.enum(["implicit", "explicit"]) }).optional(),
  moderation: z.record(z.string(), z.unknown()).nullable().optional(),
  parallel_tool_calls: z.boolean(),
  conversation: z.strictObject({ id: z.string() }).nullable().optional(),
  max_output_tokens: z.int().nullable().optional(),
  store: z.boolean().optional(),
});
export type Response = z.infer<typeof Response>;

// ---- Stream events ---------------------------------------------------------------------------
const sequence_number = z.int().nonnegative();
const withResponse = <T extends string>(type: T) => z.strictObject({ type: z.literal(type), response: Response, sequence_number });
const OutputContent = z.discriminatedUnion("type", [OutputTextContent, RefusalContent, ReasoningTextContent]);
const textRef = { item_id: z.string(), output_index: z.int(), content_index: z.int(), sequence_number };

export const ResponseErrorEvent = z.strictObject({
  type: z.literal("error"),
  code: z.string().nullable(),
  message: z.string(),
  param: z.string().nullable(),
  sequence_number,
});

/** The stream events the simulator sends (the spec defines 58; the others fail here). */
export const ResponseStreamEvent = z.discriminatedUnion("type", [
  withResponse("response.created"),
  withResponse("response.queued"),
  withResponse("response.in_progress"),
  withResponse("response.completed"),
  withResponse("response.failed"),
  withResponse("response.incomplete"),
  z.strictObject({ type: z.literal("response.output_item.added"), output_index: z.int(), sequence_number, item: OutputItem }),
  z.strictObject({ type: z.literal("response.output_item.done"), output_index: z.int(), sequence_number, item: OutputItem }),
  z.strictObject({
    type: z.literal("response.function_call_arguments.delta"),
    item_id: z.string(),
    output_index: z.int(),
    sequence_number,
    delta: z.string(),
  }),
  z.strictObject({
    type: z.literal("response.function_call_arguments.done"),
    item_id: z.string(),
    name: z.string(),
    output_index: z.int(),
    sequence_number,
    arguments: z.string(),
  }),
  z.strictObject({ type: z.literal("response.content_part.added"), ...textRef, part: OutputContent }),
  z.strictObject({ type: z.literal("response.content_part.done"), ...textRef, part: OutputContent }),
  z.strictObject({ type: z.literal("response.output_text.delta"), ...textRef, delta: z.string(), logprobs: z.array(ResponseLogProb) }),
  z.strictObject({ type: z.literal("response.output_text.done"), ...textRef, text: z.string(), logprobs: z.array(ResponseLogProb) }),
  ResponseErrorEvent,
]);
export type ResponseStreamEvent = z.infer<typeof ResponseStreamEvent>;

// ---- Errors ----------------------------------------------------------------------------------
export const ErrorObject = z.strictObject({
  code: z.string().nullable(),
  message: z.string(),
  param: z.string().nullable(),
  type: z.string(),
});
export const ErrorResponse = z.strictObject({ error: ErrorObject });

// ---- Conversations and lists -----------------------------------------------------------------
export const ConversationResource = z.strictObject({
  id: z.string(),
  object: z.literal("conversation"),
  metadata: Metadata,
  created_at: z.int().nonnegative(),
});

const list = <T extends z.ZodType>(item: T) =>
  z.strictObject({
    object: z.literal("list"),
    data: z.array(item),
    has_more: z.boolean(),
    first_id: z.string().nullable(),
    last_id: z.string().nullable(),
  });
export const ConversationItemList = list(ConversationItem);
export const ResponseItemList = list(ItemResource);

// ---- Request side ----------------------------------------------------------------------------
/** A tool output as a client sends it in `input`. */
export const FunctionCallOutputItemParam = z.strictObject({
  id: z.string().nullable().optional(),
  call_id: z.string().min(1).max(64).nullable().optional(),
  type: z.literal("function_call_output"),
  output: z.union([
    z.string().max(10_485_760),
    z.array(
      z.discriminatedUnion("type", [
        z.strictObject({
          type: z.literal("input_text"),
          text: z.string().max(10_485_760),
          prompt_cache_breakpoint: PromptCacheBreakpoint.nullable().optional(),
        }),
        z.strictObject({
          type: z.literal("input_image"),
          image_url: z.url().max(20_971_520).nullable().optional(),
          file_id: z.string().nullable().optional(),
          detail: z.enum(["low", "high", "auto", "original"]).nullable().optional(),
          prompt_cache_breakpoint: PromptCacheBreakpoint.nullable().optional(),
        }),
        z.strictObject({
          type: z.literal("input_file"),
          file_id: z.string().nullable().optional(),
          filename: z.string().nullable().optional(),
          file_data: z.string().max(73_400_320).nullable().optional(),
          file_url: z.url().nullable().optional(),
          detail: z.enum(["low", "high"]).optional(),
          prompt_cache_breakpoint: PromptCacheBreakpoint.nullable().optional(),
        }),
      ]),
    ),
  ]),
  name: z.string().min(1).max(128).nullable().optional(),
  namespace: z.string().min(1).max(64).nullable().optional(),
  caller: ToolCallCallerParam.nullable().optional(),
  status: ItemStatus.nullable().optional(),
});

/**
 * `CreateResponse` (the body of `POST /responses`), every key optional as in the spec. The fields a
 * tool-output continuation sends are typed; the rest are only checked for being there by name.
 */
export const CreateResponse = z.strictObject({
  metadata: Metadata.optional(),
  top_logprobs: z.int().min(0).max(20).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  user: z.string().optional(),
  safety_identifier: z.string().max(64).nullable().optional(),
  prompt_cache_key: z.string().nullable().optional(),
  prompt_cache_retention: z.enum(["in_memory", "24h"]).nullable().optional(),
  prompt_cache_options: z.unknown().optional(),
  previous_response_id: z.string().nullable().optional(),
  model: z.string().optional(),
  background: z.boolean().nullable().optional(),
  max_tool_calls: z.int().nullable().optional(),
  text: ResponseTextParam.optional(),
  tools: z.array(FunctionTool.partial({ description: true, parameters: true, strict: true })).optional(),
  tool_choice: ToolChoiceParam.optional(),
  prompt: z.unknown().optional(),
  service_tier: ServiceTier.optional(),
  truncation: z.enum(["auto", "disabled"]).nullable().optional(),
  reasoning: Reasoning.nullable().optional(),
  input: z.union([z.string(), z.array(z.record(z.string(), z.unknown()))]).optional(),
  include: z.array(z.string()).nullable().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  store: z.boolean().nullable().optional(),
  instructions: z.string().nullable().optional(),
  moderation: z.unknown().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.strictObject({ include_obfuscation: z.boolean().optional() }).nullable().optional(),
  conversation: z
    .union([z.string(), z.strictObject({ id: z.string() })])
    .nullable()
    .optional(),
  context_management: z.array(z.record(z.string(), z.unknown())).nullable().optional(),
  max_output_tokens: z.int().min(16).nullable().optional(),
});
