/**
 * What reached the endpoint simulator, read from its recorded requests: the continuations the relay POSTed
 * and the reads it made, by the response or conversation they concern.
 */
import type { EndpointSimulator, RecordedRequest } from "../../../local/endpoint-simulator";

export type CreateBody = Record<string, unknown> & { input?: Array<Record<string, unknown>> };

const isCreate = (r: RecordedRequest) => r.method === "POST" && r.path === "/v1/responses";

/** The POST /responses bodies continuing this previous response (`previous_response_id`). */
export function postsContinuing(sim: EndpointSimulator, responseId: string): CreateBody[] {
  return sim.requests
    .filter((r) => isCreate(r) && (r.body as CreateBody)?.previous_response_id === responseId)
    .map((r) => r.body as CreateBody);
}

/** The POST /responses bodies continuing this conversation (`conversation`). */
export function postsOnConversation(sim: EndpointSimulator, conversationId: string): CreateBody[] {
  return sim.requests
    .filter((r) => isCreate(r) && (r.body as CreateBody)?.conversation === conversationId)
    .map((r) => r.body as CreateBody);
}

/** Every GET of one response (`GET /responses/{id}`). */
export function readsOf(sim: EndpointSimulator, responseId: string): RecordedRequest[] {
  return sim.requests.filter((r) => r.method === "GET" && r.path === `/v1/responses/${responseId}`);
}

/** Every listing of a conversation's items. */
export function listingsOf(sim: EndpointSimulator, conversationId: string): RecordedRequest[] {
  return sim.requests.filter((r) => r.method === "GET" && r.path === `/v1/conversations/${conversationId}/items`);
}

/** The call ids a POST body answers. */
export function answeredIds(body: CreateBody): string[] {
  return (body.input ?? []).map((item) => item.call_id as string);
}
