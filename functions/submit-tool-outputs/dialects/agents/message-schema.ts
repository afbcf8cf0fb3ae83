import * as z from "zod/mini";
import { lazySchema } from "../../config/lazy-schema";
import { Id, Metadata, Stream, toolOutputItems } from "../../pipeline/message-fields";
import type { ApiMessages } from "../dialect";
import { eventsBody, MAX_AGENTS_BODY_BYTES } from "./submission";

/** The API's content parts of a tool result (`InputContentParam`): text or an image URL. */
const OutputPart = lazySchema(() =>
  z.discriminatedUnion("type", [
    z.strictObject({ type: z.literal("input_text"), text: z.string() }),
    z.strictObject({ type: z.literal("input_image"), image_url: z.string() }),
  ]),
);

const Output = lazySchema(() =>
  z.union([z.string(), z.array(OutputPart).check(z.minLength(1, { error: "must hold at least one content part" }))]),
);

/** A tool's failure, told to the agent: first-class here, not an output string. */
const ErrorText = lazySchema(() =>
  z
    .string()
    .check(z.minLength(1, { error: "must be a non-empty string" }), z.maxLength(4096, { error: "must be at most 4096 characters" })),
);

const ToolResult = lazySchema(() =>
  z.strictObject({ tool_call_id: Id, output: z.optional(Output), error: z.optional(ErrorText) }).check(
    z.refine((item) => (item.output === undefined) !== (item.error === undefined), {
      error: "send exactly one of output and error",
      path: ["output"],
    }),
  ),
);

const Fields = lazySchema(() =>
  z
    .strictObject({
      session_id: Id,
      turn_id: Id,
      tool_outputs: toolOutputItems(ToolResult),
      stream: Stream,
      metadata: z.optional(Metadata),
      /** Accepted so one tool worker can send `collect: true` to every API; the Agents API takes each result alone. */
      collect: z.optional(z.boolean()),
    })
    .check(
      z.superRefine((message, ctx) => {
        const bytes = Buffer.byteLength(eventsBody(message.turn_id, message.tool_outputs));
        if (bytes > MAX_AGENTS_BODY_BYTES)
          ctx.issues.push({
            code: "custom",
            path: ["tool_outputs"],
            message: `would make a request of ${bytes} bytes, over the Agents API's ${MAX_AGENTS_BODY_BYTES} bytes: send fewer outputs per message`,
            input: undefined,
          });
      }),
    ),
);

/** A tool-output message for the Agents API (docs/agents.md, "The message"); `collect` is dropped: it has no effect here. */
export const AgentsToolOutputMessageSchema = lazySchema(() =>
  z.pipe(
    Fields,
    z.transform(({ collect: _, ...message }) => message),
  ),
);

/**
 * A follow-up asking the relay to report a session's state: sent by the relay past its follow budget, or by anyone
 * (a backend that created a session hands its first `requires_action` to the tool workers this way).
 */
export const WatchSessionMessageSchema = lazySchema(() =>
  z.strictObject({
    type: z.literal("watch_session"),
    session_id: Id,
    turn_id: z.optional(Id),
    metadata: z.optional(Metadata),
  }),
);

export type AgentsToolOutputMessage = z.infer<typeof AgentsToolOutputMessageSchema>;
export type WatchSessionMessage = z.infer<typeof WatchSessionMessageSchema>;
/** A valid message for the Agents API, as the pipeline hands it to the dialect. */
export type AgentsMessage = { api: "agents" } & (({ type: "tool_outputs" } & AgentsToolOutputMessage) | WatchSessionMessage);

/** How the pipeline tells and checks Agents-API messages. */
export const AGENTS_MESSAGES: ApiMessages<"session_id" | "turn_id"> = {
  api: "agents",
  idFields: ["session_id", "turn_id"],
  describeIds: "session_id and turn_id (Agents API)",
  toolOutputs: AgentsToolOutputMessageSchema,
  watch: { type: "watch_session", schema: WatchSessionMessageSchema },
};
