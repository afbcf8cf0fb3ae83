import { decisionLimits } from "../../pipeline/record-context";
import type { ApiDialect, DialectWiring } from "../dialect";
import { ResponsesClient } from "./client";
import { responsesCollecting } from "./collecting";
import { decide, type ResponsesDeps } from "./decide";
import type { ResponsesMessage } from "./message-schema";
import { ConversationLatest, SubmissionClaims } from "./submission-claims";

/**
 * The Responses API's decisions: its client, decide, follow, claims and collecting, loaded on the first message of
 * the API (dialect.ts imports this module on first use, so a cold start compiles none of it).
 */
export function responsesDecisions({ config, endpoint, table }: DialectWiring): ApiDialect<ResponsesMessage> {
  let opened: ReturnType<NonNullable<ResponsesDeps["state"]>> | undefined;
  const state = table && (() => (opened ??= table().then((t) => ({ claims: new SubmissionClaims(t), latest: new ConversationLatest(t) }))));
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
}
