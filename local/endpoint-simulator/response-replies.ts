/**
 * The Responses and Conversations APIs' error answers, worded as the reference notes' "Errors seen in
 * practice" record them (OpenAI's `{error:{message,type,param,code}}` shape). Where the notes have no
 * wording, the text says so in a comment and follows the API's usual phrasing.
 */
import { openAIError, type Reply } from "./replies";

function invalidRequest(status: number, message: string, param: string | null = null, code: string | null = null): Reply {
  return openAIError(status, { message, type: "invalid_request_error", param, code });
}

export const responseReplies = {
  /** The Responses API names unknown fields this way (not "Unrecognized request argument" as the Assistants API does). */
  unknownParameter: (name: string) => invalidRequest(400, `Unknown parameter: '${name}'.`, name, "unknown_parameter"),
  previousResponseNotFound: (id: string) =>
    invalidRequest(400, `Previous response with id '${id}' not found.`, "previous_response_id", "previous_response_not_found"),
  responseNotFound: (id: string) => invalidRequest(404, `Response with id '${id}' not found.`),
  /** Wording unconfirmed: the API's usual "… with id '…' not found." */
  conversationNotFound: (id: string, status: 400 | 404, param: string | null = null) =>
    invalidRequest(status, `Conversation with id '${id}' not found.`, param),
  conversationLocked: () =>
    invalidRequest(
      400,
      "Another process is currently operating on this conversation. Please retry in a few seconds.",
      "conversation",
      "conversation_locked",
    ),
  noToolOutput: (callId: string) => invalidRequest(400, `No tool output found for function call ${callId}.`, "input"),
  noToolCall: (callId: string) => invalidRequest(400, `No tool call found for function call output with call_id ${callId}.`, "input"),
  duplicateItem: (id: string) =>
    invalidRequest(400, `Duplicate item found with id ${id}. Remove duplicate items from your input and try again.`, "input"),
  malformedId: (param: string, value: string) =>
    invalidRequest(
      400,
      `Invalid '${param}': '${value}'. Expected an ID that contains letters, numbers, underscores, or dashes, but this value contained additional characters.`,
      param,
      "invalid_value",
    ),
  idPrefix: (param: string, value: string, prefix: string) =>
    invalidRequest(400, `Invalid '${param}': '${value}'. Expected an ID that begins with '${prefix}'.`, param, "invalid_value"),
  /** Wording unconfirmed (the spec only says the two cannot be combined). */
  previousAndConversation: () =>
    invalidRequest(
      400,
      "Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or 'conversation'.",
      null,
      "mutually_exclusive_parameters",
    ),
  /** Wording as vLLM's mirror of the API words it; OpenAI's own text is unconfirmed. */
  cancelSynchronous: () => invalidRequest(400, "Cannot cancel a synchronous response."),
  stringTooLong: (param: string, max: number, length: number) =>
    invalidRequest(
      400,
      `Invalid '${param}': string too long. Expected a string with maximum length ${max}, but got a string with length ${length} instead.`,
      param,
      "string_above_max_length",
    ),
  outOfRange: (param: string, bound: string, got: unknown) =>
    invalidRequest(400, `Invalid '${param}': expected a number ${bound}, but got ${JSON.stringify(got)} instead.`, param, "invalid_value"),
  tooManyItems: (param: string, max: number, got: number) =>
    invalidRequest(
      400,
      `Invalid '${param}': array too long. Expected an array with maximum length ${max}, but got an array with length ${got} instead.`,
      param,
      "array_above_max_length",
    ),
  tooManyProperties: (param: string, max: number, got: number) =>
    invalidRequest(
      400,
      `Invalid '${param}': too many properties. Expected an object with at most ${max} properties, but got an object with ${got} properties instead.`,
      param,
      "object_above_max_properties",
    ),
} as const;
