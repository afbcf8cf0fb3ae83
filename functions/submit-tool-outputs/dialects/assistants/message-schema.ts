import * as z from "zod/mini";
import { lazySchema } from "../../config/lazy-schema";
import { Id, OptionalMetadata, Stream, toolOutputList, watchMessage } from "../../pipeline/message-fields";
import type { ApiMessageOf, ApiMessages } from "../dialect";

/** A tool-output message for the Assistants API (docs/contract.md, "The message"). */
export const ToolOutputMessageSchema = lazySchema(() =>
  z.strictObject({
    thread_id: Id,
    run_id: Id,
    tool_outputs: toolOutputList(z.string({ error: "must be a string (send JSON as a string)" })),
    stream: Stream,
    metadata: OptionalMetadata,
    collect: z.optional(z.boolean()),
  }),
);

/** A follow-up asking the relay to report a run's next resting state. */
export const WatchRunMessageSchema = lazySchema(() => watchMessage("watch_run", { thread_id: Id, run_id: Id }));

export type ToolOutputMessage = z.infer<typeof ToolOutputMessageSchema>;
export type WatchRunMessage = z.infer<typeof WatchRunMessageSchema>;
export type AssistantsMessage = ApiMessageOf<"assistants", ToolOutputMessage, WatchRunMessage>;

/** How the pipeline tells and checks Assistants-API messages. */
export const ASSISTANTS_MESSAGES: ApiMessages<"thread_id" | "run_id"> = {
  api: "assistants",
  idFields: ["thread_id", "run_id"],
  describeIds: "thread_id and run_id (Assistants API)",
  toolOutputs: ToolOutputMessageSchema,
  watch: { type: "watch_run", schema: WatchRunMessageSchema },
};
