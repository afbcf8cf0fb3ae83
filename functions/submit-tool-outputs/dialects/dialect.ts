import type * as z from "zod/mini";
import type { FollowUp, Outcome } from "../pipeline/outcome";
import type { RecordContext } from "../pipeline/record-context";

/** The ids naming a turn, as the messages carry them (`thread_id` + `run_id`, `response_id` or `conversation_id`). */
export type TurnIds = Partial<Record<"thread_id" | "run_id" | "response_id" | "conversation_id" | "session_id" | "turn_id", string>>;

/** A tool output as a message carries it (a string, or the Responses API's content parts). */
export type ToolOutput = { tool_call_id: string; output: unknown };

/** Whether a turn can still take a collected set (collect/collection-checks.ts asks it on each check). */
export type TurnStanding =
  /** Still waiting for these ids; `checkBy`: epoch ms by which to look again (a run's `expires_at`). */
  | { open: true; checkBy?: number }
  /** It can no longer take the set: every collected message goes to the DLQ with this reason. */
  | { open: false; reason: "run_expired" | "collect_incomplete"; detail: string };

/**
 * What collecting outputs from many messages into one submission needs from an API (docs/collecting.md,
 * "What happens to a collected message"). The collection itself (storing, completing, checking) is the pipeline's.
 */
export interface Collecting<Message> {
  /** The ids of the turn a collecting message answers. */
  turnOf(message: Message): TurnIds;
  /** The call ids the turn asks for now, read from the endpoint (once per turn), or the row that ends the message. */
  requiredIds(
    turn: TurnIds,
    ctx: RecordContext,
  ): Promise<{ ok: true; ids: string[]; expiresAt?: number } | { ok: false; outcome: Outcome }>;
  /** Whether the turn can still take the set, after `required` were learnt. */
  standing(turn: TurnIds, required: readonly string[], ctx: RecordContext): Promise<TurnStanding>;
  /** The one message that submits the whole set: the completing message with every collected output. */
  combine(message: Message, outputs: ToolOutput[]): Message;
  /** A follow-up that reports the turn's state after its set was submitted (for a late duplicate). */
  reportAfterSubmission(turn: TurnIds, continuation?: string): Message | undefined;
  /**
   * The set's submission found the turn already answered (`via: "already_accepted"`): why, when that answer was not
   * this set (a message that did not collect, or outside the relay); undefined when it was (an earlier attempt of
   * ours, or the same outputs). `firstAttempt`: no earlier attempt of this collection submitted anything.
   */
  answeredElsewhere(turn: TurnIds, outputs: ToolOutput[], firstAttempt: boolean, ctx: RecordContext): Promise<string | undefined>;
}

/** The APIs the relay speaks; results events and DLQ records name them. */
export type Api = "assistants" | "responses" | "agents";

/** How the pipeline (message.ts) tells an API's messages and checks them. */
export interface ApiMessages {
  api: Api;
  /** Top-level fields naming this API's objects: a message carrying any of them is for this API. */
  idFields: readonly ("thread_id" | "run_id" | "response_id" | "conversation_id" | "session_id" | "turn_id")[];
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
  /** How this API's turns are collected (`"collect": true`). */
  readonly collecting: Collecting<Message>;
}
