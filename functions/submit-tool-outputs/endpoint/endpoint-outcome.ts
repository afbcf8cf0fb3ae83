import type { Outcome } from "../pipeline/outcome";
import type { RecordContext } from "../pipeline/record-context";
import type { EndpointError, TransientFailure } from "./endpoint-failure";

/** What an API's failure has in common with HTTP's, whatever kinds the API adds. */
type AnyFailure = { kind: string; httpStatus?: number; error?: EndpointError };

/**
 * The rows every API's table shares (docs/contract.md, docs/responses.md): the invocation's deadline, the
 * credentials refused (401/403, alarm), the quota exhausted, the gateway or endpoint refusing its own configuration,
 * and an endpoint that kept failing transiently — all handed back. Undefined for a failure only the API's own
 * table can place (not found, rejected, a mismatch).
 * @example return sharedFailureOutcome(failure, ctx, "submit the outputs") ?? apiSpecificOutcome(failure);
 */
export function sharedFailureOutcome(failure: AnyFailure, ctx: RecordContext, doing: string): Outcome | undefined {
  if (isTransient(failure)) return transientOutcome(failure, ctx, doing);
  const http = { httpStatus: failure.httpStatus, endpointError: failure.error };
  const said = failure.error?.message ? `: ${failure.error.message}` : "";
  switch (failure.kind) {
    case "unauthorized":
      return {
        kind: "hand_back",
        reason: "unauthorized",
        detail: `the endpoint refused the credentials (HTTP ${failure.httpStatus})${said}`,
        ...http,
      };
    case "quota_exceeded":
      return { kind: "hand_back", reason: "quota_exceeded", detail: "the endpoint's quota is exhausted (429 insufficient_quota)", ...http };
    case "misconfigured":
      // A gateway's own refusal (Portkey's `{status:"failure"}` 4xx), an endpoint refusing its api-version, Bedrock
      // refusing a model's path prefix or a signature's scope: the deployment's setup, the same for every message.
      return {
        kind: "hand_back",
        reason: "endpoint_misconfigured",
        detail: `the endpoint refused the call as configured (HTTP ${failure.httpStatus})${said}`,
        ...http,
      };
    default:
      return undefined;
  }
}

/**
 * The shared row of a transient failure: handed back, at the invocation's deadline as `deadline`, else as
 * `endpoint_unavailable` (with the server's `retry-after`).
 */
export function transientOutcome(failure: TransientFailure, ctx: RecordContext, doing: string): Outcome {
  const http = { httpStatus: failure.httpStatus, endpointError: failure.error };
  if (ctx.signal.aborted)
    return { kind: "hand_back", reason: "deadline", detail: `stopped at the invocation's deadline (${failure.detail})`, ...http };
  return {
    kind: "hand_back",
    reason: "endpoint_unavailable",
    detail: `the endpoint did not answer usefully while trying to ${doing} (${failure.detail})`,
    retryAfterMs: failure.retryAfterMs,
    ...http,
  };
}

/**
 * Row "the outputs answer other calls than the turn asks for → tool_call_mismatch", the same record in every API:
 * both id lists, the words of whoever said so, and the endpoint's answer when it was the endpoint.
 * @example return toolCallMismatch({ expected, given, detail: `the run expects outputs for [${expected}]`, failure });
 */
export function toolCallMismatch(m: { expected: string[]; given: string[]; detail: string; failure?: AnyFailure }): Outcome {
  return {
    kind: "dead_letter",
    reason: "tool_call_mismatch",
    detail: m.detail,
    ...(m.failure ? { httpStatus: m.failure.httpStatus, endpointError: m.failure.error } : {}),
    expectedToolCallIds: m.expected,
    givenToolCallIds: m.given,
  };
}

function isTransient(failure: AnyFailure): failure is TransientFailure {
  return failure.kind === "transient";
}
