import type * as z from "zod/mini";
import type { FollowUp, Outcome } from "./outcome";
import type { RecordContext } from "./record-context";

/** The APIs the relay speaks; results events and DLQ records name them. */
export type Api = "assistants" | "responses";

/** How the pipeline (message.ts) tells an API's messages and checks them. */
export interface ApiMessages {
  api: Api;
  /** Top-level fields naming this API's objects: a message carrying any of them is for this API. */
  idFields: readonly ("thread_id" | "run_id" | "response_id" | "conversation_id")[];
  /** Those ids in words, for a message that names no API. */
  describeIds: string;
  /** A message of tool outputs. */
  toolOutputs: z.ZodMiniType;
  /** A follow-up asking for an object's next resting state, told by its `type`. */
  watch: { type: string; schema: z.ZodMiniType };
}

/**
 * The seam between the shared pipeline and one API (docs/contract.md): the pipeline validates a message by
 * `messages`, asks `decide` what happens to it, and settles the Outcome (settle.ts). A dialect does its
 * endpoint I/O itself and never publishes, dead-letters or hands back: those are the Outcome.
 */
export interface Dialect<Message> {
  readonly messages: ApiMessages;
  /** The message's row of this API's outcome table. Never throws for endpoint failures. */
  decide(message: Message, ctx: RecordContext): Promise<Outcome>;
  /**
   * The follow-up that reports what became of the message's outputs if a failure may hide their acceptance
   * (sent on the last receive, beside the DLQ record); none when the API cannot say.
   */
  followUpIfTaken(message: Message): FollowUp | undefined;
}
