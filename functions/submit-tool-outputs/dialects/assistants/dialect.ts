import type { Dialect } from "../dialect";
import { assistantsCollecting } from "./collecting";
import { type AssistantsDeps, decide } from "./decide";
import { ASSISTANTS_MESSAGES, type AssistantsMessage } from "./message-schema";

/**
 * The Assistants API (threads/runs: OpenAI-compatible servers, Azure AI Foundry classic agents) as a dialect
 * of the pipeline.
 * @example const assistants = assistantsDialect({ endpoint: new AssistantsClient(options), ...limits });
 */
export function assistantsDialect(deps: AssistantsDeps): Dialect<AssistantsMessage> {
  return {
    messages: ASSISTANTS_MESSAGES,
    decide: (message, ctx) => decide(message, ctx, deps),
    // A run says what became of outputs it may have taken: a watch_run reports its next state.
    collecting: assistantsCollecting(deps),
    followUpIfTaken: (message) =>
      message.type === "tool_outputs" ? { type: "watch_run", thread_id: message.thread_id, run_id: message.run_id } : undefined,
  };
}
