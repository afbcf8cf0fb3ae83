/**
 * Run steps and messages as they appear in the event stream (openai-openapi `RunStepObject`,
 * `RunStepDeltaObject`, `MessageObject`, `MessageDeltaObject`, `ThreadObject`). Clients following a
 * run mostly skip these; they exist so that a client meets a realistic stream.
 */
import { unixSeconds } from "./run-object";
import type { RunRecord, ToolCall } from "./runs";

export type StepStatus = "in_progress" | "completed" | "failed" | "cancelled" | "expired";

/** A tool call as a step reports it: with the submitted output once known. */
export interface AnsweredToolCall extends ToolCall {
  output: string | null;
}

/** `at` is when the step reached `status`; it fills the matching `*_at` field. */
function stepBase(run: RunRecord, stepId: string, createdAt: number, status: StepStatus, at: number) {
  const endedAt = (when: StepStatus) => (status === when ? unixSeconds(at) : null);
  return {
    id: stepId,
    object: "thread.run.step" as const,
    created_at: unixSeconds(createdAt),
    assistant_id: run.assistantId,
    thread_id: run.threadId,
    run_id: run.runId,
    status,
    last_error: status === "failed" ? { code: "server_error" as const, message: "Sorry, something went wrong." } : null,
    expired_at: endedAt("expired"),
    cancelled_at: endedAt("cancelled"),
    failed_at: endedAt("failed"),
    completed_at: endedAt("completed"),
    metadata: null,
    usage: status === "completed" ? { prompt_tokens: 64, completion_tokens: 12, total_tokens: 76 } : null,
  };
}

/** The step in which the model called tools; completed once their outputs arrived. */
export function toolCallsStep(
  run: RunRecord,
  stepId: string,
  calls: AnsweredToolCall[],
  status: StepStatus,
  createdAt: number,
  at: number,
) {
  return {
    ...stepBase(run, stepId, createdAt, status, at),
    type: "tool_calls" as const,
    step_details: {
      type: "tool_calls" as const,
      tool_calls: calls.map((call) => ({
        id: call.id,
        type: "function" as const,
        function: { name: call.function.name, arguments: call.function.arguments, output: call.output },
      })),
    },
  };
}

export function messageCreationStep(run: RunRecord, stepId: string, messageId: string, status: StepStatus, createdAt: number, at: number) {
  return {
    ...stepBase(run, stepId, createdAt, status, at),
    type: "message_creation" as const,
    step_details: { type: "message_creation" as const, message_creation: { message_id: messageId } },
  };
}

export function messageCreationStepDelta(stepId: string, messageId: string) {
  return {
    id: stepId,
    object: "thread.run.step.delta" as const,
    delta: { step_details: { type: "message_creation" as const, message_creation: { message_id: messageId } } },
  };
}

export function message(
  run: RunRecord,
  messageId: string,
  text: string,
  status: "in_progress" | "completed",
  createdAt: number,
  at: number,
) {
  return {
    id: messageId,
    object: "thread.message" as const,
    created_at: unixSeconds(createdAt),
    thread_id: run.threadId,
    status,
    incomplete_details: null,
    completed_at: status === "completed" ? unixSeconds(at) : null,
    incomplete_at: null,
    role: "assistant" as const,
    content: text === "" ? [] : [{ type: "text" as const, text: { value: text, annotations: [] } }],
    assistant_id: run.assistantId,
    run_id: run.runId,
    attachments: [],
    metadata: {},
  };
}

export function messageDelta(messageId: string, index: number, text: string) {
  return {
    id: messageId,
    object: "thread.message.delta" as const,
    delta: { content: [{ index, type: "text" as const, text: { value: text, annotations: [] } }] },
  };
}

export function threadObject(run: RunRecord) {
  return { id: run.threadId, object: "thread" as const, created_at: unixSeconds(run.createdAt), tool_resources: null, metadata: {} };
}
