import { decisionLimits } from "../../pipeline/record-context";
import type { ApiDialect, DialectWiring } from "../dialect";
import { AgentsClient } from "./client";
import { decide } from "./decide";
import type { AgentsMessage } from "./message-schema";

/**
 * The Agents API's decisions: its client, decide and follow, loaded on the first message of the API (dialect.ts
 * imports this module on first use, so a cold start compiles none of it).
 */
export function agentsDecisions({ config, endpoint }: DialectWiring): ApiDialect<AgentsMessage> {
  const deps = { endpoint: new AgentsClient(endpoint), maxReceiveCount: config.maxReceiveCount, ...decisionLimits(config) };
  return {
    decide: (message, ctx) => decide(message, ctx, deps),
    // The session says what became of results it may have taken: a watch_session reports its state.
    followUpIfTaken: (message) =>
      message.type === "tool_outputs" ? { type: "watch_session", session_id: message.session_id, turn_id: message.turn_id } : undefined,
  };
}
