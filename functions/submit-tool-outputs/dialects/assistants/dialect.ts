import { configuredBy, type DialectDefinition } from "../dialect";
import { ASSISTANTS_MESSAGES, type AssistantsMessage } from "./message-schema";
import { type AssistantsResultsEvent, type AssistantsState, assistantsResults } from "./results-event";

/**
 * The Assistants API (threads/runs: OpenAI-compatible servers, Azure AI Foundry classic agents) as a dialect of the
 * pipeline: its messages, endpoint, results and turns.
 * @example const dialect = await assistants.create({ config, endpoint });
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
  create: async (wiring) => (await import("./decisions")).assistantsDecisions(wiring),
};
