import type { EndpointError, HttpFailure } from "../../endpoint/endpoint-failure";

/**
 * An Agents-API call's failure: HTTP's kinds, plus the documented registration race (400 `Unknown pending tool call:
 * <call_id>`), which the relay also meets for a call that is no longer pending (answered already, its turn ended):
 * either way the session and the turn's items say which, before anything is sent again.
 */
export type AgentsFailure = HttpFailure | { kind: "not_pending"; httpStatus: 400; error?: EndpointError; callId: string };

// Unanchored: a gateway may put its own words before the endpoint's (Portkey's explicit routes add "openai error: ").
const NOT_PENDING = /Unknown pending tool call: (\S+)/;

/** @example classifyAgentsFailure({ kind: "rejected", httpStatus: 400, error }).kind // "not_pending" when the text says so */
export function classifyAgentsFailure(failure: HttpFailure): AgentsFailure {
  if (failure.kind !== "rejected" || failure.httpStatus !== 400) return failure;
  const callId = NOT_PENDING.exec(failure.error?.message ?? "")?.[1];
  return callId === undefined ? failure : { kind: "not_pending", httpStatus: 400, error: failure.error, callId };
}
