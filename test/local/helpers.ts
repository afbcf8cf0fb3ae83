import type { ToolOutputMessage } from "../../functions/submit-tool-outputs/message";
import type { SqsHandler } from "../../local/event-source-poller";
import type { Accounting } from "../../local/local-stack";

/** A valid message answering every tool call of a run the simulator made. */
export function answerFor(
  run: { threadId: string; runId: string; toolCallIds: string[] },
  extra: Partial<ToolOutputMessage> = {},
): ToolOutputMessage {
  return {
    thread_id: run.threadId,
    run_id: run.runId,
    tool_outputs: run.toolCallIds.map((id) => ({ tool_call_id: id, output: JSON.stringify({ secret: `tool-output-text-${id}` }) })),
    ...extra,
  };
}

/** A handler wrapper that dies (throws) on any batch holding a body with `marker`, as a crash the relay cannot catch. */
export function crashingOn(marker: string) {
  return (handler: SqsHandler): SqsHandler =>
    async (event, context) => {
      if (event.Records.some((r) => r.body.includes(marker))) throw new Error("simulated crash inside the function");
      return handler(event, context);
    };
}

/** Every message ended accepted or in the DLQ: the count each end-to-end test makes. */
export function ended(accounting: Accounting) {
  return {
    accepted: accounting.accepted.length,
    deadLettered: accounting.deadLettered.map((d) => d.reason).sort(),
    lost: accounting.pending.length,
  };
}
