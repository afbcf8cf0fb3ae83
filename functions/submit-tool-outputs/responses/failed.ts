import type { Outcome } from "../outcome";
import type { RecordContext } from "../record-context";
import type { ResponsesFailure } from "./failure";

/**
 * Every endpoint failure that ends a Responses decision, mapped to its row of the table (docs/responses.md).
 * `doing` says which call failed, for the record's detail.
 */
export function failed(failure: ResponsesFailure, ctx: RecordContext, doing: string): Outcome {
  const http = { httpStatus: failure.httpStatus, endpointError: failure.error };
  if (failure.kind === "transient" && ctx.signal.aborted) {
    return { kind: "hand_back", reason: "deadline", detail: `stopped at the invocation's deadline (${failure.detail})`, ...http };
  }
  const said = failure.error?.message ? `: ${failure.error.message}` : "";
  switch (failure.kind) {
    case "not_found":
    case "previous_not_found":
      // Row "GET /responses/{response_id} → 404, or a POST → 400 previous_response_not_found → response_not_found".
      return {
        kind: "dead_letter",
        reason: "response_not_found",
        detail: `the endpoint has no such response or conversation (${doing})${said}`,
        ...http,
      };
    case "tool_call_mismatch":
      // Row "400 No tool output found … / No tool call found … → tool_call_mismatch".
      return {
        kind: "dead_letter",
        reason: "tool_call_mismatch",
        detail: `the endpoint refused the outputs (HTTP ${failure.httpStatus})${said}`,
        ...http,
      };
    case "rejected":
      // Row "other 400 → rejected_by_endpoint".
      return {
        kind: "dead_letter",
        reason: "rejected_by_endpoint",
        detail: `the endpoint rejected the call to ${doing} (HTTP ${failure.httpStatus})${said}`,
        ...http,
      };
    case "unauthorized":
      // Row "401 / 403 → hand back; alarm".
      return {
        kind: "hand_back",
        reason: "unauthorized",
        detail: `the endpoint refused the credentials (HTTP ${failure.httpStatus})${said}`,
        ...http,
      };
    case "quota_exceeded":
      return { kind: "hand_back", reason: "quota_exceeded", detail: "the endpoint's quota is exhausted (429 insufficient_quota)", ...http };
    case "misconfigured":
      return {
        kind: "hand_back",
        reason: "endpoint_misconfigured",
        detail: `the gateway refused the call (HTTP ${failure.httpStatus})${said}`,
        ...http,
      };
    case "transient":
      // Row "a definite refusal … → retry with backoff, then hand back with a growing delay".
      return {
        kind: "hand_back",
        reason: "endpoint_unavailable",
        detail: `the endpoint did not answer usefully while trying to ${doing} (${failure.detail})`,
        retryAfterMs: failure.retryAfterMs,
        ...http,
      };
  }
}
