import { configuredBy, type DialectDefinition } from "../dialect";
import { RESPONSES_MESSAGES, type ResponsesMessage } from "./message-schema";
import { isResponsesState, type ResponsesResultsEvent, type ResponsesState, responsesResults } from "./results-event";

/**
 * The Responses API (OpenAI, Azure AI Foundry agents, Portkey's `/v1/responses`, compatible servers) as a dialect of
 * the pipeline: its messages, endpoint, results and turns.
 * @example const dialect = await responses.create({ config, endpoint, table });
 */
export const responses: DialectDefinition<ResponsesMessage, ResponsesState, ResponsesResultsEvent, "response_id" | "conversation_id"> = {
  messages: RESPONSES_MESSAGES,
  endpoint: configuredBy({ variable: "RESPONSES_BASE_URL", baseUrl: "responsesBaseUrl", apiVersion: "responsesApiVersion" }),
  results: responsesResults,
  watchGroup: (followUp) => String(followUp.response_id),
  // A response's DLQ records go to the message's own group (or the relay's), as before.
  recordGroup: () => undefined,
  scopeOf: (turn) => (turn.conversation_id !== undefined ? `conv#${turn.conversation_id}` : `resp#${turn.response_id}`),
  continuationOf(outcome) {
    if (outcome.kind === "watch") return outcome.followUp.type === "watch_response" ? String(outcome.followUp.response_id) : undefined;
    const state = outcome.state;
    return isResponsesState(state) && "response" in state ? state.response.id : undefined;
  },
  create: async (wiring) => (await import("./decisions")).responsesDecisions(wiring),
};
