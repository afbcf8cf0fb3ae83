import { type EndpointError, readEndpointError } from "../../endpoint/endpoint-failure";
import { eventFields, serverSentEvents } from "../../endpoint/server-sent-events";
import { parseResponse, type ResponseObject } from "./response-state";

/**
 * What the relay takes from a response's event stream: the response as its lifecycle events carry it, and
 * `error`. Output deltas and unknown events are skipped.
 */
export type ResponseStreamItem = { kind: "response"; response: ResponseObject } | { kind: "error"; error?: EndpointError };

/** Events that carry the whole Response: created, queued, in_progress, completed, failed, incomplete. */
const RESPONSE_EVENT = /^response\.(created|queued|in_progress|completed|failed|incomplete)$/;

/**
 * Reads a response's event stream (the answer to a POST with `stream: true`), in order. The first item holds
 * the new response's id. The `error` event comes flat (`{type, code, message, param}`) or nested
 * (`{type, error: {…}}`); both are read.
 * @example for await (const item of responseStreamItems(body)) if (item.kind === "response") latest = item.response;
 */
export async function* responseStreamItems(body: AsyncIterable<Uint8Array>): AsyncGenerator<ResponseStreamItem> {
  for await (const event of serverSentEvents(body)) {
    const data = eventFields(event.data);
    const type = event.event ?? data?.type;
    if (type === "error") {
      yield { kind: "error", error: readEndpointError({ error: data?.error ?? data }) };
      return;
    }
    if (type === undefined || !RESPONSE_EVENT.test(type)) continue;
    const response = parseResponse(data?.response);
    if (response.success) yield { kind: "response", response: response.data };
  }
}
