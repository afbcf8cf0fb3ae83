import type { HttpFailure } from "../../endpoint/endpoint-failure";
import { type CallOptions, EndpointHttp, type EndpointHttpOptions, readJson } from "../../endpoint/endpoint-http";
import { type ResponseStreamItem, responseStreamItems } from "./event-stream";
import { classifyResponsesFailure, type ResponsesFailure } from "./failure";
import { type ConversationItem, type ResponseObject, ResponseSchema } from "./response-state";

export type { ConversationItem } from "./response-state";

export type CreateResult =
  | { ok: true; response: ResponseObject }
  | { ok: true; stream: AsyncGenerator<ResponseStreamItem> }
  | { ok: false; failure: ResponsesFailure };

export type GetResponseResult = { ok: true; response: ResponseObject; pollAfterMs?: number } | { ok: false; failure: ResponsesFailure };

export type ListItemsResult = { ok: true; items: ConversationItem[] } | { ok: false; failure: ResponsesFailure };

/** 500 items reach far further back than one turn's function calls and their outputs. */
const MAX_ITEM_PAGES = 5;

const readResponse = (answer: { response: Response; release: () => void }) =>
  readJson(answer, (value) => ResponseSchema.safeParse(value), "a Response object");

/**
 * The Responses and Conversations API calls the relay makes (`{base}/responses…`, `{base}/conversations/{id}/items`).
 * One call per method: retries and reconciliation are decisions, and live in decide.ts.
 * @example const seen = await client.getResponse("resp_a", { traceId: "m-1", signal });
 */
export class ResponsesClient {
  private readonly http: EndpointHttp;

  constructor(options: EndpointHttpOptions) {
    this.http = new EndpointHttp(options);
  }

  async getResponse(responseId: string, call: CallOptions): Promise<GetResponseResult> {
    const answer = await this.http.call("GET", this.http.url(["responses", responseId]), call);
    if (!answer.ok) return refused(answer.failure);
    const pollAfter = Number.parseInt(answer.response.headers.get("openai-poll-after-ms") ?? "", 10);
    const read = await readResponse(answer);
    if (!read.ok) return read;
    return Number.isFinite(pollAfter) ? { ok: true, response: read.value, pollAfterMs: pollAfter } : { ok: true, response: read.value };
  }

  /**
   * `POST /responses`: answers with the new response (background: at once, `queued`) or its event stream. The body
   * comes serialised (decide.ts builds it before the claim: a body that cannot be built never leaves one behind).
   */
  async createResponse(body: { json: string; stream: boolean }, call: CallOptions): Promise<CreateResult> {
    const stream = body.stream;
    const answer = await this.http.call("POST", this.http.url(["responses"]), call, body.json, stream);
    if (!answer.ok) return refused(answer.failure);
    if (stream && answer.response.headers.get("content-type")?.includes("text/event-stream") && answer.response.body) {
      // From here the caller's signal bounds the stream; the call's own timeout covered the headers.
      answer.release();
      return { ok: true, stream: responseStreamItems(answer.response.body) };
    }
    const read = await readResponse(answer);
    return read.ok ? { ok: true, response: read.value } : read;
  }

  /** The conversation's items, newest first, up to `until` says enough (a few pages at most). */
  async listConversationItems(
    conversationId: string,
    call: CallOptions,
    until: (items: ConversationItem[]) => boolean,
  ): Promise<ListItemsResult> {
    const items: ConversationItem[] = [];
    let after: string | undefined;
    for (let page = 0; page < MAX_ITEM_PAGES; page++) {
      const url = this.http.url(["conversations", conversationId, "items"], { order: "desc", limit: "100", after });
      const answer = await this.http.call("GET", url, call);
      if (!answer.ok) return refused(answer.failure);
      const read = await readJson(answer, (value) => ({ success: true as const, data: value as ItemList }), "a list of conversation items");
      if (!read.ok) return read;
      const body = read.value;
      items.push(...(Array.isArray(body?.data) ? body.data : []));
      if (until(items) || !body?.has_more || !body.last_id) break;
      after = body.last_id;
    }
    return { ok: true, items };
  }
}

type ItemList = { data?: ConversationItem[]; has_more?: boolean; last_id?: string } | null;

function refused(failure: HttpFailure): { ok: false; failure: ResponsesFailure } {
  return { ok: false, failure: classifyResponsesFailure(failure) };
}
