import { decisionLimits } from "../../pipeline/record-context";
import { configuredBy, type DialectDefinition } from "../dialect";
import { ResponsesClient } from "./client";
import { responsesCollecting } from "./collecting";
import { decide, type ResponsesDeps } from "./decide";
import { RESPONSES_MESSAGES, type ResponsesMessage } from "./message-schema";
import { type ResponsesResultsEvent, type ResponsesState, responsesResults } from "./results-event";
import { ConversationLatest, SubmissionClaims } from "./submission-claims";

/**
 * The Responses API (OpenAI, Azure AI Foundry agents, Portkey's `/v1/responses`, compatible servers) as a dialect of
 * the pipeline: its messages, endpoint, results and turns.
 * @example const dialect = responses.create({ config, endpoint, table });
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
    const state = outcome.state as ResponsesState;
    return "response" in state ? state.response.id : undefined;
  },
  create({ config, endpoint, table }) {
    let opened: ReturnType<NonNullable<ResponsesDeps["state"]>> | undefined;
    const state =
      table && (() => (opened ??= table().then((t) => ({ claims: new SubmissionClaims(t), latest: new ConversationLatest(t) }))));
    const deps: ResponsesDeps = {
      endpoint: new ResponsesClient(endpoint),
      state,
      background: config.responsesBackground,
      unconfirmed: config.responsesUnconfirmed,
      maxReceiveCount: config.maxReceiveCount,
      ...decisionLimits(config),
    };
    return {
      decide: (message, ctx) => decide(message, ctx, deps),
      // Without the new response's id nothing can be watched: the claim in the state table covers a lost answer.
      followUpIfTaken: () => undefined,
      collecting: responsesCollecting(deps),
    };
  },
};
