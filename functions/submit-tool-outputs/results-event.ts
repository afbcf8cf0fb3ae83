import { createHash } from "node:crypto";
import { type Run, type RunSummary, requiredToolCallIds, summarizeRun } from "./run-state";

/** What the results topic carries (README.md, "Results event"). */
export interface ResultsEvent {
  event_id: string;
  type: `run.${string}`;
  thread_id: string;
  run_id: string;
  status: string;
  run: RunSummary;
  source_message_id: string;
  metadata?: Record<string, string>;
  at: string;
}

/**
 * A stable id for one run state: the same run in the same state (and, for `requires_action`, asking for
 * the same tool calls) always gets the same id, so consumers can drop the duplicates at-least-once brings.
 */
export function eventIdOf(threadId: string, run: Run): string {
  const calls = requiredToolCallIds(run).sort().join(",");
  return createHash("sha256").update(`${threadId}\n${run.id}\n${run.status}\n${calls}`).digest("hex").slice(0, 32);
}

/** @example buildResultsEvent(run, { threadId: "thread_a", sourceMessageId: record.messageId }) */
export function buildResultsEvent(
  run: Run,
  source: { threadId: string; sourceMessageId: string; metadata?: Record<string, string> },
): ResultsEvent {
  return {
    event_id: eventIdOf(source.threadId, run),
    type: `run.${run.status}`,
    thread_id: source.threadId,
    run_id: run.id,
    status: run.status,
    run: summarizeRun(run),
    source_message_id: source.sourceMessageId,
    ...(source.metadata ? { metadata: source.metadata } : {}),
    at: new Date().toISOString(),
  };
}
