import { sharedFailureOutcome } from "../../endpoint/endpoint-outcome";
import type { Outcome } from "../../pipeline/outcome";
import type { RecordContext } from "../../pipeline/record-context";
import type { ResponsesFailure } from "./failure";

/**
 * Every endpoint failure that ends a Responses decision, mapped to its row of the table (docs/responses.md).
 * `doing` says which call failed, for the record's detail.
 */
export function failed(failure: ResponsesFailure, ctx: RecordContext, doing: string): Outcome {
  // Rows "401 / 403 / insufficient_quota → hand back" and "a definite refusal … → retry with backoff, then hand back".
  const shared = sharedFailureOutcome(failure, ctx, doing);
  if (shared) return shared;
  const http = { httpStatus: failure.httpStatus, endpointError: failure.error };
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
    default:
      // Row "other 400 → rejected_by_endpoint".
      return {
        kind: "dead_letter",
        reason: "rejected_by_endpoint",
        detail: `the endpoint rejected the call to ${doing} (HTTP ${failure.httpStatus})${said}`,
        ...http,
      };
  }
}
