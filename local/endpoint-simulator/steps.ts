/**
 * The run's steps as `GET /threads/{thread_id}/runs/{run_id}/steps` lists them, derived from the
 * same timeline as the run: a tool_calls step per round of tool calls (with the outputs once they
 * were accepted) and a message_creation step per processing round. A client can read here which
 * call ids a run has already taken, the way the real endpoint lets it.
 */
import { type RunRecord, type Segment, stateAt, TERMINAL_STATUSES } from "./runs";
import { messageCreationStep, type StepStatus, toolCallsStep } from "./step-objects";

export type RunStepObject = ReturnType<typeof toolCallsStep> | ReturnType<typeof messageCreationStep>;

/** How a step that the run left unfinished ends: as the run ended, or still in progress. */
function unfinished(run: RunRecord, at: number): { status: StepStatus; since: number } {
  const state = stateAt(run, at);
  if (state.status === "failed" || state.status === "cancelled" || state.status === "expired")
    return { status: state.status, since: state.since };
  return { status: "in_progress", since: at };
}

/**
 * Every step the run has at instant `at`, oldest first.
 * @example stepsAt(run, Date.now()).map((step) => step.type) // ["tool_calls", "message_creation"]
 */
export function stepsAt(run: RunRecord, at: number): RunStepObject[] {
  const seen = run.segments.filter((segment) => segment.from <= at);
  const steps: RunStepObject[] = [];
  seen.forEach((segment, index) => {
    const next: Segment | undefined = seen[index + 1];
    if (segment.status === "requires_action") {
      const calls = segment.toolCalls.map((call) => ({
        ...call,
        output: next?.status === "queued" ? (run.outputs.get(call.id) ?? null) : null,
      }));
      const end = next?.status === "queued" ? { status: "completed" as const, since: next.from } : unfinished(run, at);
      steps.push(toolCallsStep(run, segment.stepId, calls, end.status, segment.from, end.since));
    }
    if (segment.status === "queued") {
      const inProgress = seen.slice(index + 1).find((s) => s.status === "in_progress");
      if (inProgress === undefined) return;
      const rest = seen.slice(index + 2).find((s) => s.status === "requires_action" || TERMINAL_STATUSES.includes(s.status));
      const end = rest !== undefined ? { status: "completed" as const, since: rest.from } : unfinished(run, at);
      steps.push(messageCreationStep(run, segment.stepId, segment.messageId, end.status, inProgress.from, end.since));
    }
  });
  return steps;
}
