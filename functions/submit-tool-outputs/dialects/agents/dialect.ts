import type { DialectDefinition } from "../dialect";
import { AGENTS_MESSAGES, type AgentsMessage } from "./message-schema";
import { type AgentsRestingState, type AgentsResultsEvent, agentsResults } from "./results-event";

/**
 * The OpenAI Agents API (beta, `OpenAI-Beta: agents=v1`: managed sessions that stop in `requires_action`) as a dialect
 * of the pipeline. It needs no state table: the API's `Idempotency-Key` and the session's items reconcile every resend,
 * and it never collects (the API takes each result on its own request; the message schema drops `collect`).
 * @example const dialect = await agents.create({ config, endpoint });
 */
export const agents: DialectDefinition<AgentsMessage, AgentsRestingState, AgentsResultsEvent, "session_id" | "turn_id"> = {
  messages: AGENTS_MESSAGES,
  endpoint: {
    variable: "AGENTS_BASE_URL",
    contextOption: "agentsBaseUrl",
    baseUrl: (config) => config.agentsBaseUrl,
    // OpenAI's own API: no api-version (Azure has no such surface).
    apiVersion: () => undefined,
  },
  results: agentsResults,
  watchGroup: (followUp) => String(followUp.session_id),
  recordGroup: (ids) => ids.session_id,
  scopeOf: (turn) => `session#${turn.session_id}#${turn.turn_id}`,
  // Nothing is collected, so nothing continues from a collected set.
  continuationOf: () => undefined,
  create: async (wiring) => (await import("./decisions")).agentsDecisions(wiring),
};
