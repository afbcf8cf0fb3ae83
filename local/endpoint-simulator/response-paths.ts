/**
 * The paths of the Responses and Conversations APIs the simulator serves, and which of their requests
 * faults may hit (the relay's calls) and with what target.
 */
import type { FaultTarget } from "./faults";
import { isObject } from "./response-request";

export type Route =
  | { name: "create" }
  | { name: "get" | "cancel" | "input_items"; id: string }
  | { name: "create_conversation" }
  | { name: "get_conversation" | "conversation_items"; id: string }
  | { name: "unknown" };

const RESPONSE_PATH = /^\/v1\/responses\/([^/]+)(\/cancel|\/input_items)?$/;
const CONVERSATION_PATH = /^\/v1\/conversations\/([^/]+)(\/items)?$/;

/**
 * Whether server.ts should hand the request to the Responses side.
 * @example isResponsesApiPath("/v1/conversations/conv_1/items") // true
 */
export function isResponsesApiPath(path: string): boolean {
  return /^\/v1\/(responses|conversations)(\/|$)/.test(path);
}

/**
 * The route of a request under `/v1/responses` or `/v1/conversations`.
 * @example route("POST", "/v1/responses/resp_1/cancel") // { name: "cancel", id: "resp_1" }
 */
export function route(method: string, path: string): Route {
  if (path === "/v1/responses") return method === "POST" ? { name: "create" } : { name: "unknown" };
  if (path === "/v1/conversations") return method === "POST" ? { name: "create_conversation" } : { name: "unknown" };
  const response = RESPONSE_PATH.exec(path);
  if (response !== null) {
    const id = decodeSegment(response[1]!);
    if (response[2] === "/cancel") return method === "POST" ? { name: "cancel", id } : { name: "unknown" };
    if (method !== "GET") return { name: "unknown" };
    return response[2] === "/input_items" ? { name: "input_items", id } : { name: "get", id };
  }
  const conversation = CONVERSATION_PATH.exec(path);
  if (conversation !== null && method === "GET") {
    const id = decodeSegment(conversation[1]!);
    return conversation[2] === "/items" ? { name: "conversation_items", id } : { name: "get_conversation", id };
  }
  return { name: "unknown" };
}

/** A path segment decoded, or as it came when it is not valid percent-encoding (the route then finds nothing). */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The fault target of a request, or undefined for requests that are never faulted (first turns, setup). */
export function faultTarget(target: Route, body: unknown): FaultTarget | undefined {
  if (target.name === "get" || target.name === "input_items") return { route: "response_get", responseId: target.id, stream: false };
  if (target.name === "cancel") return { route: "response_cancel", responseId: target.id, stream: false };
  if (target.name === "get_conversation" || target.name === "conversation_items")
    return { route: "conversation_items", conversationId: target.id, stream: false };
  if (target.name !== "create" || !isObject(body) || !Array.isArray(body.input)) return undefined;
  if (!body.input.some((item) => isObject(item) && item.type === "function_call_output")) return undefined;
  const conversation = isObject(body.conversation) ? body.conversation.id : body.conversation;
  return {
    route: "response_create",
    ...(typeof body.previous_response_id === "string" ? { responseId: body.previous_response_id } : {}),
    ...(typeof conversation === "string" ? { conversationId: conversation } : {}),
    stream: body.stream === true,
  };
}
