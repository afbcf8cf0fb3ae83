import { decisionLimits } from "../../pipeline/record-context";
import { configuredBy, type DialectDefinition } from "../dialect";
import { AssistantsClient } from "./client";
import { assistantsCollecting } from "./collecting";
import { decide } from "./decide";
import { ASSISTANTS_MESSAGES, type AssistantsMessage } from "./message-schema";
import { type AssistantsResultsEvent, type AssistantsState, assistantsResults } from "./results-event";

/**
 * The Assistants API (threads/runs: OpenAI-compatible servers, Azure AI Foundry classic agents) as a dialect of the
 * pipeline: its messages, endpoint, results and turns.
 * @example const dialect = assistants.create({ config, endpoint });
 */
export const assistants: DialectDefinition<AssistantsMessage, AssistantsState, AssistantsResultsEvent, "thread_id" | "run_id"> = {
  messages: ASSISTANTS_MESSAGES,
  endpoint: configuredBy({ variable: "ENDPOINT_BASE_URL", baseUrl: "endpointBaseUrl", apiVersion: "endpointApiVersion" }),
  results: assistantsResults,
  watchGroup: (followUp) => String(followUp.thread_id),
  recordGroup: (ids) => ids.thread_id,
  scopeOf: (turn) => `run#${turn.thread_id}#${turn.run_id}`,
  // A run's outputs lead to no later object: nothing to continue from.
  continuationOf: () => undefined,
  create({ config, endpoint }) {
    const deps = { endpoint: new AssistantsClient(endpoint), ...decisionLimits(config) };
    return {
      decide: (message, ctx) => decide(message, ctx, deps),
      collecting: assistantsCollecting(deps),
      // A run says what became of outputs it may have taken: a watch_run reports its next state.
      followUpIfTaken: (message) =>
        message.type === "tool_outputs" ? { type: "watch_run", thread_id: message.thread_id, run_id: message.run_id } : undefined,
    };
  },
};
