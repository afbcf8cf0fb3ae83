import { decisionLimits } from "../../pipeline/record-context";
import type { ApiDialect, DialectWiring } from "../dialect";
import { AssistantsClient } from "./client";
import { assistantsCollecting } from "./collecting";
import { decide } from "./decide";
import type { AssistantsMessage } from "./message-schema";

/**
 * The Assistants API's decisions: its client, decide, follow and collecting, loaded on the first message of the API
 * (dialect.ts imports this module on first use, so a cold start compiles none of it).
 */
export function assistantsDecisions({ config, endpoint }: DialectWiring): ApiDialect<AssistantsMessage> {
  const deps = { endpoint: new AssistantsClient(endpoint), ...decisionLimits(config) };
  return {
    decide: (message, ctx) => decide(message, ctx, deps),
    collecting: assistantsCollecting(deps),
    // A run says what became of outputs it may have taken: a watch_run reports its next state.
    followUpIfTaken: (message) =>
      message.type === "tool_outputs" ? { type: "watch_run", thread_id: message.thread_id, run_id: message.run_id } : undefined,
  };
}
