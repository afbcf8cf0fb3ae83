import { type CallOptions, EndpointHttp, type EndpointHttpOptions, readJson, refusal } from "../../endpoint/endpoint-http";
import type { EndpointResponse } from "../../endpoint/endpoint-transport";
import type { Result } from "../../pipeline/result";
import { type ResponseStreamItem, responseStreamItems } from "./event-stream";
import { classifyResponsesFailure, type ResponsesFailure } from "./failure";
import { type ConversationItem, parseResponse, type ResponseObject } from "./response-state";

export type { ConversationItem } from "./response-state";

type Refused = { failure: ResponsesFailure };

export type CreateResult = Result<{ response: ResponseObject } | { stream: AsyncGenerator<ResponseStreamItem> }, Refused>;

export type GetResponseResult = Result<{ response: ResponseObject; pollAfterMs?: number }, Refused>;

export type ListItemsResult = Result<{ items: ConversationItem[] }, Refused>;

/** 500 items reach far further back than one turn's function calls and their outputs. */
const MAX_ITEM_PAGES = 5;

const readResponse = (answer: { response: EndpointResponse; release: () => void }) => readJson(answer, parseResponse, "a Response object");

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
    const pollAfterMs = this.http.pollAfter(answer.response);
    const read = await readResponse(answer);
    if (!read.ok) return read;
    return pollAfterMs === undefined ? { ok: true, response: read.value } : { ok: true, response: read.value, pollAfterMs };
  }

  /**
   * `POST /responses`: answers with the new response (background: at once, `queued`) or its event stream. The body
   * comes serialised (decide.ts builds it before the claim: a body that cannot be built never leaves one behind).
   */
  async createResponse(body: { json: string; stream: boolean }, call: CallOptions): Promise<CreateResult> {
    const stream = body.stream;
    const answer = await this.http.call("POST", this.http.url(["responses"]), call, { body: body.json, streaming: stream });
    if (!answer.ok) return refused(answer.failure);
    const events = this.http.eventStream(answer, stream);
    if (events) return { ok: true, stream: responseStreamItems(events) };
    const read = await readResponse(answer);
    return read.ok ? { ok: true, response: read.value } : read;
  }

  /** The conversation's items, newest first, up to `until` says enough (a few pages at most). */
  async listConversationItems(
    conversationId: string,
    call: CallOptions,
    until: (items: ConversationItem[]) => boolean,
  ): Promise<ListItemsResult> {
    const listed = await this.http.list<ConversationItem>(["conversations", conversationId, "items"], call, {
      maxPages: MAX_ITEM_PAGES,
      what: "a list of conversation items",
      enough: until,
    });
    return listed.ok ? listed : refused(listed.failure);
  }
}

const refused = refusal(classifyResponsesFailure);
