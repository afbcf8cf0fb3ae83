import * as z from "zod/mini";
import { lazySchema } from "../../config/lazy-schema";
import { Id, OptionalMetadata, Stream, toolOutputList, watchMessage } from "../../pipeline/message-fields";
import type { ApiMessageOf, ApiMessages } from "../dialect";

/** Content parts a function call's output may be, instead of a string (`input_text`, `input_image`, `input_file`). */
const OutputPart = lazySchema(() =>
  z.discriminatedUnion("type", [
    z.strictObject({ type: z.literal("input_text"), text: z.string(), prompt_cache_breakpoint: z.optional(z.unknown()) }),
    z.strictObject({
      type: z.literal("input_image"),
      image_url: z.nullish(z.string()),
      file_id: z.nullish(z.string()),
      detail: z.optional(z.enum(["low", "high", "auto", "original"])),
      prompt_cache_breakpoint: z.optional(z.unknown()),
    }),
    z.strictObject({
      type: z.literal("input_file"),
      file_id: z.nullish(z.string()),
      filename: z.optional(z.string()),
      file_data: z.optional(z.string()),
      file_url: z.optional(z.string()),
      detail: z.optional(z.string()),
      prompt_cache_breakpoint: z.optional(z.unknown()),
    }),
  ]),
);

/** The API's own limit on a string output. */
const MAX_OUTPUT_CHARS = 10_485_760;

const Output = lazySchema(() =>
  z.union([
    z.string().check(z.maxLength(MAX_OUTPUT_CHARS, { error: `must be at most ${MAX_OUTPUT_CHARS} characters` })),
    z.array(OutputPart).check(z.minLength(1, { error: "must hold at least one content part" })),
  ]),
);

/**
 * The `CreateResponse` fields a message may set for its continuation: a fixed allow-list (docs/responses.md);
 * the endpoint checks their values.
 */
export const REQUEST_FIELDS = [
  "model",
  "instructions",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "max_output_tokens",
  "temperature",
  "top_p",
  "reasoning",
  "text",
  "truncation",
  "include",
  "store",
  "service_tier",
  "prompt_cache_key",
  "safety_identifier",
  "user",
  "metadata",
] as const;

const Request = lazySchema(() =>
  z.strictObject(
    Object.fromEntries(REQUEST_FIELDS.map((field) => [field, z.optional(z.unknown())])) as Record<
      (typeof REQUEST_FIELDS)[number],
      z.ZodMiniOptional<z.ZodMiniUnknown>
    >,
  ),
);

const ids = () => ({
  response_id: z.optional(Id),
  conversation_id: z.optional(Id),
});
const oneOfTheIds = () =>
  z.refine<{ response_id?: string; conversation_id?: string }>((m) => (m.response_id === undefined) !== (m.conversation_id === undefined), {
    error: "send exactly one of response_id and conversation_id",
    path: ["response_id"],
  });

/** A tool-output message for the Responses API (docs/responses.md, "The Responses message"). */
export const ResponsesToolOutputMessageSchema = lazySchema(() =>
  z
    .strictObject({
      ...ids(),
      tool_outputs: toolOutputList(Output),
      stream: Stream,
      metadata: OptionalMetadata,
      request: z.optional(Request),
      collect: z.optional(z.boolean()),
    })
    .check(oneOfTheIds()),
);

/** A follow-up asking the relay to report a response's resting state. */
export const WatchResponseMessageSchema = lazySchema(() => watchMessage("watch_response", { response_id: Id }));

export type ResponsesToolOutputMessage = z.infer<typeof ResponsesToolOutputMessageSchema>;
export type WatchResponseMessage = z.infer<typeof WatchResponseMessageSchema>;
export type ResponsesMessage = ApiMessageOf<"responses", ResponsesToolOutputMessage, WatchResponseMessage>;

/** How the pipeline tells and checks Responses-API messages. */
export const RESPONSES_MESSAGES: ApiMessages<"response_id" | "conversation_id"> = {
  api: "responses",
  idFields: ["response_id", "conversation_id"],
  describeIds: "response_id or conversation_id (Responses API)",
  toolOutputs: ResponsesToolOutputMessageSchema,
  watch: { type: "watch_response", schema: WatchResponseMessageSchema },
};
