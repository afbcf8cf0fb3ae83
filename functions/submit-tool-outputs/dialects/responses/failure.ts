import type { EndpointError, HttpFailure, TransientFailure } from "../../endpoint/endpoint-failure";

/** Why a Responses-API call did not give the relay a response: HTTP's reasons, and those the endpoint's message names. */
export type ResponsesFailure =
  | HttpFailure
  /** 400 `previous_response_not_found`: unknown, expired, or never stored. */
  | { kind: "previous_not_found"; httpStatus: number; error?: EndpointError }
  /** 400 `No tool output found for function call …` / `No tool call found for function call output with call_id …`. */
  | { kind: "tool_call_mismatch"; httpStatus: number; error?: EndpointError; callId?: string };

const NO_OUTPUT = /No tool output found for function call ([A-Za-z0-9_-]+)/;
const NO_CALL = /No tool call found for function call output with call_id ([A-Za-z0-9_-]+)/;
const PREVIOUS_NOT_FOUND = /Previous response with id .* not found/i;

/**
 * Sorts a refused Responses-API call into the rows of its outcome table (docs/responses.md). A submission the
 * endpoint refused for certain (`conversation_locked`, 409, 429, a refused connection) is transient and not
 * ambiguous: nothing was taken, so it is retried freely; a 5xx, a timeout or a reset stays ambiguous, and so does
 * a 408 (DESIGN Part 3, rule 5): a gateway may answer 408 after it forwarded the POST upstream.
 * @example classifyResponsesFailure(classifyHttpFailure(400, body, headers)).kind === "previous_not_found"
 */
export function classifyResponsesFailure(failure: HttpFailure): ResponsesFailure {
  if (failure.kind === "transient") return failure;
  if (failure.kind !== "rejected") return failure;
  const { error } = failure;
  const message = error?.message ?? "";
  if (error?.code === "conversation_locked") return locked(failure.httpStatus, error);
  if (error?.code === "previous_response_not_found" || PREVIOUS_NOT_FOUND.test(message)) return { ...failure, kind: "previous_not_found" };
  const mismatch = NO_OUTPUT.exec(message) ?? NO_CALL.exec(message);
  if (mismatch) return { ...failure, kind: "tool_call_mismatch", callId: mismatch[1] };
  return failure;
}

/** Another response is running on the conversation: nothing was taken; try again in a few seconds. */
function locked(httpStatus: number, error: EndpointError): TransientFailure {
  return { kind: "transient", httpStatus, error, ambiguous: false, detail: `HTTP ${httpStatus} conversation_locked` };
}
