import * as z from "zod/mini";
import { lazySchema } from "../../config/lazy-schema";
import { type EnvelopeSource, type EventEnvelope, eventDigest, kept, toolCall } from "../../out/results-event";
import type { DialectResults } from "../dialect";
import { type Run, requiredToolCallIds, TERMINAL_RUN_STATUSES } from "./run-state";

/** An Assistants-API results event (docs/contract.md, "Results event"). */
export interface AssistantsResultsEvent extends EventEnvelope {
  api: "assistants";
  type: `run.${string}`;
  thread_id: string;
  run_id: string;
  run: RunSummary;
  reply: { thread_id: string; run_id: string };
}

/** A run at rest, as the Assistants dialect reports it. */
export type AssistantsState = { api: "assistants"; threadId: string; run: Run };

/** Fields a results consumer needs; instructions, tools and other bulky fields stay out of the event. */
const KEPT_RUN_FIELDS = [
  "id",
  "object",
  "thread_id",
  "assistant_id",
  "status",
  "required_action",
  "last_error",
  "incomplete_details",
  "usage",
  "created_at",
  "started_at",
  "expires_at",
  "cancelled_at",
  "failed_at",
  "completed_at",
  "model",
  "metadata",
] as const;

export type RunSummary = Partial<Record<(typeof KEPT_RUN_FIELDS)[number], unknown>> & { id: string; status: string };

export function summarizeRun(run: Run): RunSummary {
  // id and status are among the kept fields: named again, they keep their place and give the summary its type.
  return { ...kept(run, KEPT_RUN_FIELDS), id: run.id, status: run.status };
}

/**
 * A stable id for one run state: the same run in the same state (and, for `requires_action`, asking for
 * the same tool calls) always gets the same id, so consumers can drop the duplicates at-least-once brings.
 */
export function eventIdOf(threadId: string, run: Run): string {
  const calls = requiredToolCallIds(run).sort().join(",");
  return eventDigest(`${threadId}\n${run.id}\n${run.status}\n${calls}`);
}

/** A tool call's `function` as the event names it; a field of another type reads as absent. */
const CallFunction = lazySchema(() =>
  z.catch(
    z.optional(z.object({ name: z.catch(z.optional(z.string()), undefined), arguments: z.catch(z.optional(z.string()), undefined) })),
    undefined,
  ),
);

/** The Assistants API's results: its event, its SNS attribute (`thread_id`) and FIFO group (the thread). */
export const assistantsResults: DialectResults<AssistantsState, AssistantsResultsEvent> = {
  // Only a run at rest is reported: paused for tools, or ended.
  types: ["run.requires_action", ...TERMINAL_RUN_STATUSES.map((status) => `run.${status}`)],
  event({ threadId, run }: AssistantsState, envelope: EnvelopeSource): AssistantsResultsEvent {
    const calls = run.required_action?.submit_tool_outputs?.tool_calls ?? [];
    return {
      event_id: eventIdOf(threadId, run),
      api: "assistants",
      type: `run.${run.status}`,
      thread_id: threadId,
      run_id: run.id,
      status: run.status,
      run: summarizeRun(run),
      tool_calls:
        run.status === "requires_action"
          ? calls.map((call) => {
              const named = CallFunction.parse(call.function);
              return toolCall(call.id, named?.name, named?.arguments);
            })
          : [],
      reply: { thread_id: threadId, run_id: run.id },
      ...envelope,
    };
  },
  attributes: (event) => ({ thread_id: event.thread_id }),
  group: (event) => event.thread_id,
  subject: (event) => `${event.thread_id} / ${event.run_id}`,
  status: (state) => state.run.status,
};
