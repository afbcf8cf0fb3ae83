import type { Collecting, Dialect } from "../dialect";
import { type AgentsDeps, decide } from "./decide";
import { AGENTS_MESSAGES, type AgentsMessage } from "./message-schema";

/**
 * The OpenAI Agents API (beta, `OpenAI-Beta: agents=v1`: managed sessions that stop in `requires_action`) as a dialect
 * of the pipeline. It needs no state table: the API's `Idempotency-Key` and the session's items reconcile every resend.
 * @example const agents = agentsDialect({ endpoint: new AgentsClient(options), maxReceiveCount: 5, ...limits });
 */
export function agentsDialect(deps: AgentsDeps): Dialect<AgentsMessage> {
  return {
    messages: AGENTS_MESSAGES,
    decide: (message, ctx) => decide(message, ctx, deps),
    // The session says what became of results it may have taken: a watch_session reports its state.
    followUpIfTaken: (message) =>
      message.type === "tool_outputs" ? { type: "watch_session", session_id: message.session_id, turn_id: message.turn_id } : undefined,
    collecting: NOT_COLLECTED,
  };
}

/**
 * The API takes each result on its own request, so the message schema drops `collect` and no Agents message is ever
 * collected; these answers are never asked for.
 */
const NOT_COLLECTED: Collecting<AgentsMessage> = {
  turnOf: (message) => ({ session_id: message.session_id, ...(message.turn_id ? { turn_id: message.turn_id } : {}) }),
  requiredIds: async () => ({
    ok: false,
    outcome: { kind: "dead_letter", reason: "invalid_message", detail: "the Agents API does not collect" },
  }),
  standing: async () => ({ open: false, reason: "collect_incomplete", detail: "the Agents API does not collect" }),
  combine: (message) => message,
  reportAfterSubmission: () => undefined,
  answeredElsewhere: async () => undefined,
};
