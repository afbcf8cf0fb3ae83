import type { Dialect } from "../dialect";
import { responsesCollecting } from "./collecting";
import { decide, type ResponsesDeps } from "./decide";
import { RESPONSES_MESSAGES, type ResponsesMessage } from "./message-schema";

/**
 * The Responses API (OpenAI, Azure AI Foundry agents, Portkey's `/v1/responses`, compatible servers) as a dialect
 * of the pipeline.
 * @example const responses = responsesDialect({ endpoint: new ResponsesClient(options), state, background: true, unconfirmed: "dead_letter", ...limits });
 */
export function responsesDialect(deps: ResponsesDeps): Dialect<ResponsesMessage> {
  return {
    messages: RESPONSES_MESSAGES,
    decide: (message, ctx) => decide(message, ctx, deps),
    // Without the new response's id nothing can be watched: the claim in the state table covers a lost answer.
    followUpIfTaken: () => undefined,
    collecting: responsesCollecting(deps),
  };
}
