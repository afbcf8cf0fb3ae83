/**
 * Strict zod schemas of the Assistants v2 objects the endpoint simulator emits, written by hand from
 * the official OpenAPI definitions: openai/openai-openapi `openapi.yaml`, `components/schemas`
 * (RunObject, RunToolCallObject, RunCompletionUsage, TruncationObject, AssistantsApiToolChoiceOption,
 * AssistantsApiResponseFormatOption, AssistantTools*, FunctionObject, Metadata, Error, ErrorResponse,
 * AssistantStreamEvent = ThreadStreamEvent | RunStreamEvent | RunStepStreamEvent | MessageStreamEvent
 * | ErrorEvent | DoneEvent, RunStepObject, RunStepDeltaObject, MessageObject, MessageDeltaObject,
 * ThreadObject, ListRunStepsResponse and the objects they reference).
 *
 * "Strict" twice over: every key in the spec's `required` lists is required here (nullable ones
 * included), and objects reject keys the spec does not define, so a simulator that drifts from the
 * spec fails its tests. Deliberate narrowing: run-step tool calls of type code_interpreter and
 * file_search are left out (the simulator only emits function calls), so they would fail here.
 */
import * as z from "zod";

const unixtime = z.int().nonnegative();
const nullableUnixtime = unixtime.nullable();

// ---- shared pieces ----------------------------------------------------------------------------
export const Metadata = z.record(z.string(), z.string()).nullable();

const Usage = z.strictObject({ completion_tokens: z.int(), prompt_tokens: z.int(), total_tokens: z.int() });
export const RunCompletionUsage = Usage.nullable();
export const RunStepCompletionUsage = Usage.nullable();

export const FunctionObject = z.strictObject({
  description: z.string().optional(),
  name: z.string(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  strict: z.boolean().nullable().optional(),
});

const FileSearchRankingOptions = z.strictObject({
  ranker: z.enum(["auto", "default_2024_08_21"]).optional(),
  score_threshold: z.number().min(0).max(1),
});

export const AssistantToolsCode = z.strictObject({ type: z.literal("code_interpreter") });
export const AssistantToolsFileSearch = z.strictObject({
  type: z.literal("file_search"),
  file_search: z
    .strictObject({ max_num_results: z.int().min(1).max(50).optional(), ranking_options: FileSearchRankingOptions.optional() })
    .optional(),
});
const AssistantToolsFileSearchTypeOnly = z.strictObject({ type: z.literal("file_search") });
export const AssistantToolsFunction = z.strictObject({ type: z.literal("function"), function: FunctionObject });

export const TruncationObject = z.strictObject({
  type: z.enum(["auto", "last_messages"]),
  last_messages: z.int().min(1).nullable().optional(),
});

export const AssistantsNamedToolChoice = z.strictObject({
  type: z.enum(["function", "code_interpreter", "file_search"]),
  function: z.strictObject({ name: z.string() }).optional(),
});
export const AssistantsApiToolChoiceOption = z.union([z.enum(["none", "auto", "required"]), AssistantsNamedToolChoice]);

export const AssistantsApiResponseFormatOption = z.union([
  z.literal("auto"),
  z.strictObject({ type: z.literal("text") }),
  z.strictObject({ type: z.literal("json_object") }),
  z.strictObject({
    type: z.literal("json_schema"),
    json_schema: z.strictObject({
      description: z.string().optional(),
      name: z.string(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
]);

// ---- Run -------------------------------------------------------------------------------------
export const RunToolCallObject = z.strictObject({
  id: z.string(),
  type: z.literal("function"),
  function: z.strictObject({ name: z.string(), arguments: z.string() }),
});

export const RunStatus = z.enum([
  "queued",
  "in_progress",
  "requires_action",
  "cancelling",
  "cancelled",
  "failed",
  "completed",
  "incomplete",
  "expired",
]);

export const RunObject = z.strictObject({
  id: z.string(),
  object: z.literal("thread.run"),
  created_at: unixtime,
  thread_id: z.string(),
  assistant_id: z.string(),
  status: RunStatus,
  required_action: z
    .strictObject({
      type: z.literal("submit_tool_outputs"),
      submit_tool_outputs: z.strictObject({ tool_calls: z.array(RunToolCallObject) }),
    })
    .nullable(),
  last_error: z.strictObject({ code: z.enum(["server_error", "rate_limit_exceeded", "invalid_prompt"]), message: z.string() }).nullable(),
  expires_at: nullableUnixtime,
  started_at: nullableUnixtime,
  cancelled_at: nullableUnixtime,
  failed_at: nullableUnixtime,
  completed_at: nullableUnixtime,
  incomplete_details: z.strictObject({ reason: z.enum(["max_completion_tokens", "max_prompt_tokens"]).optional() }).nullable(),
  model: z.string(),
  instructions: z.string(),
  tools: z.array(z.union([AssistantToolsCode, AssistantToolsFileSearch, AssistantToolsFunction])).max(20),
  metadata: Metadata,
  usage: RunCompletionUsage,
  temperature: z.number().nullable().optional(),
  top_p: z.number().nullable().optional(),
  max_prompt_tokens: z.int().min(256).nullable(),
  max_completion_tokens: z.int().min(256).nullable(),
  truncation_strategy: TruncationObject.nullable(),
  tool_choice: AssistantsApiToolChoiceOption.nullable(),
  parallel_tool_calls: z.boolean(),
  response_format: AssistantsApiResponseFormatOption.nullable(),
});

// ---- Errors ----------------------------------------------------------------------------------
export const ErrorObject = z.strictObject({
  code: z.string().nullable(),
  message: z.string(),
  param: z.string().nullable(),
  type: z.string(),
});
export const ErrorResponse = z.strictObject({ error: ErrorObject });

// ---- Run steps -------------------------------------------------------------------------------
const RunStepDetailsMessageCreationObject = z.strictObject({
  type: z.literal("message_creation"),
  message_creation: z.strictObject({ message_id: z.string() }),
});
const RunStepDetailsToolCallsFunctionObject = z.strictObject({
  id: z.string(),
  type: z.literal("function"),
  function: z.strictObject({ name: z.string(), arguments: z.string(), output: z.string().nullable() }),
});
const RunStepDetailsToolCallsObject = z.strictObject({
  type: z.literal("tool_calls"),
  tool_calls: z.array(RunStepDetailsToolCallsFunctionObject),
});

export const RunStepObject = z.strictObject({
  id: z.string(),
  object: z.literal("thread.run.step"),
  created_at: unixtime,
  assistant_id: z.string(),
  thread_id: z.string(),
  run_id: z.string(),
  type: z.enum(["message_creation", "tool_calls"]),
  status: z.enum(["in_progress", "cancelled", "failed", "completed", "expired"]),
  step_details: z.union([RunStepDetailsMessageCreationObject, RunStepDetailsToolCallsObject]),
  last_error: z.strictObject({ code: z.enum(["server_error", "rate_limit_exceeded"]), message: z.string() }).nullable(),
  expired_at: nullableUnixtime,
  cancelled_at: nullableUnixtime,
  failed_at: nullableUnixtime,
  completed_at: nullableUnixtime,
  metadata: Metadata,
  usage: RunStepCompletionUsage,
});

export const RunStepDeltaObject = z.strictObject({
  id: z.string(),
  object: z.literal("thread.run.step.delta"),
  delta: z.strictObject({
    step_details: z
      .union([
        z.strictObject({
          type: z.literal("message_creation"),
          message_creation: z.strictObject({ message_id: z.string().optional() }).optional(),
        }),
        z.strictObject({
          type: z.literal("tool_calls"),
          tool_calls: z
            .array(
              z.strictObject({
                index: z.int(),
                id: z.string().optional(),
                type: z.literal("function"),
                function: z
                  .strictObject({ name: z.string().optional(), arguments: z.string().optional(), output: z.string().nullable().optional() })
                  .optional(),
              }),
            )
            .optional(),
        }),
      ])
      .optional(),
  }),
});

/**
 * `ListRunStepsResponse` (the page of `GET /threads/{thread_id}/runs/{run_id}/steps`). The spec types
 * first_id/last_id as strings; an empty page carries null there in practice, so null is allowed.
 */
export const ListRunStepsResponse = z.strictObject({
  object: z.literal("list"),
  data: z.array(RunStepObject),
  first_id: z.string().nullable(),
  last_id: z.string().nullable(),
  has_more: z.boolean(),
});

// ---- Messages --------------------------------------------------------------------------------
const fileAnnotation = <K extends "file_citation" | "file_path">(kind: K) =>
  z.strictObject({
    type: z.literal(kind),
    text: z.string(),
    [kind]: z.strictObject({ file_id: z.string() }),
    start_index: z.int().min(0),
    end_index: z.int().min(0),
  });
const imageDetail = z.enum(["auto", "low", "high"]);

const MessageContent = z.union([
  z.strictObject({ type: z.literal("image_file"), image_file: z.strictObject({ file_id: z.string(), detail: imageDetail.optional() }) }),
  z.strictObject({ type: z.literal("image_url"), image_url: z.strictObject({ url: z.url(), detail: imageDetail.optional() }) }),
  z.strictObject({
    type: z.literal("text"),
    text: z.strictObject({
      value: z.string(),
      annotations: z.array(z.union([fileAnnotation("file_citation"), fileAnnotation("file_path")])),
    }),
  }),
  z.strictObject({ type: z.literal("refusal"), refusal: z.string() }),
]);

export const MessageObject = z.strictObject({
  id: z.string(),
  object: z.literal("thread.message"),
  created_at: unixtime,
  thread_id: z.string(),
  status: z.enum(["in_progress", "incomplete", "completed"]),
  incomplete_details: z
    .strictObject({ reason: z.enum(["content_filter", "max_tokens", "run_cancelled", "run_expired", "run_failed"]) })
    .nullable(),
  completed_at: nullableUnixtime,
  incomplete_at: nullableUnixtime,
  role: z.enum(["user", "assistant"]),
  content: z.array(MessageContent),
  assistant_id: z.string().nullable(),
  run_id: z.string().nullable(),
  attachments: z
    .array(
      z.strictObject({
        file_id: z.string().optional(),
        tools: z.array(z.union([AssistantToolsCode, AssistantToolsFileSearchTypeOnly])).optional(),
      }),
    )
    .nullable(),
  metadata: Metadata,
});

const MessageDeltaContent = z.union([
  z.strictObject({
    index: z.int(),
    type: z.literal("image_file"),
    image_file: z.strictObject({ file_id: z.string().optional(), detail: imageDetail.optional() }).optional(),
  }),
  z.strictObject({
    index: z.int(),
    type: z.literal("text"),
    text: z
      .strictObject({
        value: z.string().optional(),
        annotations: z
          .array(
            z.strictObject({
              index: z.int(),
              type: z.enum(["file_citation", "file_path"]),
              text: z.string().optional(),
              file_citation: z.strictObject({ file_id: z.string().optional(), quote: z.string().optional() }).optional(),
              file_path: z.strictObject({ file_id: z.string().optional() }).optional(),
              start_index: z.int().min(0).optional(),
              end_index: z.int().min(0).optional(),
            }),
          )
          .optional(),
      })
      .optional(),
  }),
  z.strictObject({ index: z.int(), type: z.literal("refusal"), refusal: z.string().optional() }),
  z.strictObject({
    index: z.int(),
    type: z.literal("image_url"),
    image_url: z.strictObject({ url: z.string().optional(), detail: imageDetail.optional() }).optional(),
  }),
]);

export const MessageDeltaObject = z.strictObject({
  id: z.string(),
  object: z.literal("thread.message.delta"),
  delta: z.strictObject({ role: z.enum(["user", "assistant"]).optional(), content: z.array(MessageDeltaContent).optional() }),
});

export const ThreadObject = z.strictObject({
  id: z.string(),
  object: z.literal("thread"),
  created_at: unixtime,
  tool_resources: z
    .strictObject({
      code_interpreter: z.strictObject({ file_ids: z.array(z.string()).max(20).optional() }).optional(),
      file_search: z.strictObject({ vector_store_ids: z.array(z.string()).max(1).optional() }).optional(),
    })
    .nullable(),
  metadata: Metadata,
});

// ---- Stream events ---------------------------------------------------------------------------
const event = <N extends string, D extends z.ZodType>(name: N, data: D) => z.strictObject({ event: z.literal(name), data });

export const RUN_EVENT_NAMES = [
  "thread.run.created",
  "thread.run.queued",
  "thread.run.in_progress",
  "thread.run.requires_action",
  "thread.run.completed",
  "thread.run.incomplete",
  "thread.run.failed",
  "thread.run.cancelling",
  "thread.run.cancelled",
  "thread.run.expired",
] as const;

export const ThreadStreamEvent = event("thread.created", ThreadObject);
export const RunStreamEvent = z.discriminatedUnion(
  "event",
  RUN_EVENT_NAMES.map((name) => event(name, RunObject)) as [
    ReturnType<typeof event<(typeof RUN_EVENT_NAMES)[number], typeof RunObject>>,
    ...ReturnType<typeof event<(typeof RUN_EVENT_NAMES)[number], typeof RunObject>>[],
  ],
);
export const RunStepStreamEvent = z.discriminatedUnion("event", [
  event("thread.run.step.created", RunStepObject),
  event("thread.run.step.in_progress", RunStepObject),
  event("thread.run.step.delta", RunStepDeltaObject),
  event("thread.run.step.completed", RunStepObject),
  event("thread.run.step.failed", RunStepObject),
  event("thread.run.step.cancelled", RunStepObject),
  event("thread.run.step.expired", RunStepObject),
]);
export const MessageStreamEvent = z.discriminatedUnion("event", [
  event("thread.message.created", MessageObject),
  event("thread.message.in_progress", MessageObject),
  event("thread.message.delta", MessageDeltaObject),
  event("thread.message.completed", MessageObject),
  event("thread.message.incomplete", MessageObject),
]);
export const ErrorEvent = event("error", ErrorObject);
export const DoneEvent = event("done", z.literal("[DONE]"));

export const AssistantStreamEvent = z.union([
  ThreadStreamEvent,
  RunStreamEvent,
  RunStepStreamEvent,
  MessageStreamEvent,
  ErrorEvent,
  DoneEvent,
]);
export type AssistantStreamEvent = z.infer<typeof AssistantStreamEvent>;
