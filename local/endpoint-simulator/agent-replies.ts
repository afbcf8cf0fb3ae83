/**
 * The Agents API's error answers (`{error:{message,type,param,code}}`). The registration race's text is the one
 * OpenAI's SDKs match on; the types are those of the API's error guide. Where no wording is published, the comment
 * says so and the text follows the API's usual phrasing.
 */
import { openAIError, type Reply } from "./replies";

function invalidRequest(status: number, message: string, param: string | null = null, code: string | null = null): Reply {
  return openAIError(status, { message, type: "invalid_request_error", param, code });
}

export const AGENTS_MAX_BODY_BYTES = 4 * 1024 * 1024;

export const agentReplies = {
  /**
   * The documented registration race, and (the simulator's reading, no text is published for it) every other
   * result for a call that is not pending now: answered already, never asked, or its turn ended.
   */
  unknownPendingToolCall: (callId: string) => invalidRequest(400, `Unknown pending tool call: ${callId}`, null, "invalid_request_error"),
  /** Wording unconfirmed: modelled on the tool-call text. */
  unknownPendingApproval: (requestId: string) =>
    invalidRequest(400, `Unknown pending approval request: ${requestId}`, null, "invalid_request_error"),
  /** Wording unconfirmed; the type is the error guide's `not_found_error`. */
  sessionNotFound: (id: string) =>
    openAIError(404, { message: `No session found with id '${id}'.`, type: "not_found_error", param: null, code: null }),
  /** Wording unconfirmed (the SDK documents a 404 for a turn that is not in the session). */
  turnNotFound: (id: string) =>
    openAIError(404, { message: `No turn found with id '${id}'.`, type: "not_found_error", param: null, code: null }),
  /** Wording unconfirmed; `invalid_beta` is the error guide's code. */
  missingBeta: () =>
    invalidRequest(
      400,
      "You must provide the 'OpenAI-Beta' header to access the Agents API. Please try again by setting the header 'OpenAI-Beta: agents=v1'.",
      null,
      "invalid_beta",
    ),
  /** The error guide's 409: "conflicts with the current resource state". */
  conflict: (what: string) =>
    openAIError(409, {
      message: `The request conflicts with the current resource state: ${what}`,
      type: "conflict_error",
      param: null,
      code: null,
    }),
  /** The 4 MiB request limit of the API; the status and wording of the refusal are unconfirmed. */
  tooLarge: (bytes: number) =>
    invalidRequest(
      413,
      `Request body too large: ${bytes} bytes. The maximum request size is ${AGENTS_MAX_BODY_BYTES} bytes.`,
      null,
      "request_too_large",
    ),
  /** A 400 the relay cannot place otherwise (the fault `invalid_request`). */
  invalidRequest: () =>
    invalidRequest(400, "Invalid 'events[0].output': the value could not be processed.", "events[0].output", "invalid_value"),
  serviceUnavailable: (retryAfterSeconds: number) =>
    openAIError(
      503,
      { message: "The server is overloaded. Please retry after a short wait.", type: "service_unavailable_error", param: null, code: null },
      { "retry-after": String(retryAfterSeconds) },
    ),
} as const;
