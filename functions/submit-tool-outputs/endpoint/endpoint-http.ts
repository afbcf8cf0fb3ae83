import { CredentialsError, errorName } from "../config/errors";
import { callLimit } from "../pipeline/call-limit";
import type { EndpointRequest, RequestAuthorizer } from "./credentials/credential-kind";
import { classifyHttpFailure, type HttpFailure, networkFailure } from "./endpoint-failure";
import { type EndpointResponse, fetchTransport, nodeTransport, type Transport } from "./endpoint-transport";

export interface EndpointHttpOptions {
  /** Where the API lives, e.g. `https://api.portkey.ai/v1`; paths are added to it segment by segment. */
  baseUrl: URL;
  /** Query parameters on every call (Azure's `api-version`). */
  query?: Readonly<Record<string, string>>;
  /** Credential and protocol headers sent on every call. */
  headers: Readonly<Record<string, string>>;
  /** The header that carries the message id (`CallOptions.traceId`) to this endpoint, if it takes one (the credential kind's). */
  traceHeader?: string;
  /** Limit for one call, up to the response headers (and the whole body for JSON answers). */
  timeoutMs: number;
  /** Told the time to the answer's headers of every call (for the latency metric). */
  onCall?: (ms: number) => void;
  /** Per-request credentials, when static headers are not enough (the credential kind's: an Entra ID token). */
  authorizer?: RequestAuthorizer;
}

export interface CallOptions {
  /** The SQS message id, sent in the endpoint's trace header so a submission can be found in its logs. */
  traceId: string;
  /** Aborts the call (the invocation's deadline). */
  signal: AbortSignal;
  /**
   * This call's limit when it is longer than the per-call timeout: a call the endpoint answers only once its
   * work is done (a foreground `POST /responses`) may take as long as the relay would follow that work.
   */
  timeoutMs?: number;
  /** Headers of this call only (the Agents API's `Idempotency-Key`). */
  headers?: Readonly<Record<string, string>>;
}

/** A 2xx answer (read its body, then `release` the timeout), or why there is none. */
export type Answer = { ok: true; response: EndpointResponse; release: () => void } | { ok: false; failure: HttpFailure };

/** One transport for every API's calls (made on first use: their connections to one host are shared), and `fetch` for event streams. */
const shared: { node?: Transport; fetch?: Transport } = {};
function transport(streaming: boolean): Transport {
  if (streaming) {
    shared.fetch ??= fetchTransport();
    return shared.fetch;
  }
  shared.node ??= nodeTransport();
  return shared.node;
}

/**
 * HTTP to the endpoint, shared by every API: URLs built from encoded path segments (never glued), one timeout
 * per call, error answers read and sorted by status. Sent on the AWS SDK's Node.js handler (endpoint-transport.ts).
 * @example const answer = await http.call("GET", http.url(["threads", threadId, "runs", runId]), { traceId, signal });
 */
export class EndpointHttp {
  private readonly origin: string;
  private readonly basePath: string;

  constructor(private readonly options: EndpointHttpOptions) {
    this.origin = options.baseUrl.origin;
    this.basePath = options.baseUrl.pathname.replace(/\/+$/, "");
  }

  /** `{base}/{segment}/…?{query}`, each segment percent-encoded, with the API's own query parameters. */
  url(segments: readonly string[], query: Readonly<Record<string, string | undefined>> = {}): URL {
    // Built as one string and parsed once: a URL's pathname setter and searchParams re-parse and re-serialize it on
    // every change (a few µs a call, three calls a message on some paths).
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries({ ...query, ...this.options.query })) {
      if (value !== undefined) params.set(name, value);
    }
    const search = params.size > 0 ? `?${params}` : "";
    return new URL(`${this.origin}${this.basePath}/${segments.map(encodeURIComponent).join("/")}${search}`);
  }

  /** The endpoint's `openai-poll-after-ms`, when it sent one: how long to wait before looking again. */
  pollAfter(response: EndpointResponse): number | undefined {
    const pollAfter = Number.parseInt(response.headers.get("openai-poll-after-ms") ?? "", 10);
    return Number.isFinite(pollAfter) ? pollAfter : undefined;
  }

  /**
   * The body of an answer that is the event stream asked for, its timeout released (from here the caller's signal bounds
   * the stream; the call's own timeout covered the headers). Undefined: a JSON answer, to be read as such.
   */
  eventStream(answer: { response: EndpointResponse; release: () => void }, asked: boolean): AsyncIterable<Uint8Array> | undefined {
    const { response } = answer;
    if (!asked || !response.headers.get("content-type")?.includes("text/event-stream")) return undefined;
    answer.release();
    return response.stream();
  }

  /**
   * A list the endpoint answers newest first, read page by page (`order=desc&limit=100&after=…`) up to `maxPages`, or
   * until `enough` says the items so far suffice.
   * @example const steps = await http.list<RunStep>(["threads", t, "runs", r, "steps"], call, { maxPages: 5, what: "run steps" });
   */
  async list<T>(
    segments: readonly string[],
    call: CallOptions,
    o: { maxPages: number; what: string; enough?: (items: T[]) => boolean },
  ): Promise<{ ok: true; items: T[] } | { ok: false; failure: HttpFailure }> {
    const items: T[] = [];
    let after: string | undefined;
    for (let page = 0; page < o.maxPages; page++) {
      const answer = await this.call("GET", this.url(segments, { order: "desc", limit: "100", after }), call);
      if (!answer.ok) return answer;
      const read = await readJson(answer, (value) => ({ success: true as const, data: value as Page<T> }), o.what);
      if (!read.ok) return read;
      const body = read.value;
      items.push(...(Array.isArray(body?.data) ? body.data : []));
      if (o.enough?.(items) || !body?.has_more || !body.last_id) break;
      after = body.last_id;
    }
    return { ok: true, items };
  }

  /**
   * One call with a timeout that covers the answer's headers and, until `release`, its body (a stream is
   * released at once by the caller and bounded by its signal).
   */
  async call(
    method: "GET" | "POST",
    url: URL,
    { traceId, signal, timeoutMs, headers: callHeaders }: CallOptions,
    { body, streaming = false }: { body?: string; streaming?: boolean } = {},
  ): Promise<Answer> {
    // One signal per call, linked to the caller's: a streamed answer stays bound to that signal after `release`
    // ends the timeout (its body is read for as long as the caller follows), any other is unlinked with it.
    const limit = callLimit(Math.max(this.options.timeoutMs, timeoutMs ?? 0), [signal], "endpoint call");
    const release = streaming ? limit.clearTimer : limit.dispose;
    const headers: Record<string, string> = { ...this.options.headers, ...callHeaders };
    if (this.options.traceHeader !== undefined) headers[this.options.traceHeader] = traceId;
    headers.accept = streaming ? "text/event-stream" : "application/json";
    if (body !== undefined) headers["content-type"] = "application/json";
    // Rule 6 (DESIGN Part 3): only a request that was dispatched and not answered can have been acted on unseen. A
    // failure before the request is sent (a token fetch that failed or outlasted the timer, a stop signal first), or
    // after an answer came (a fresh token after a 401), is never ambiguous.
    let dispatched = false;
    try {
      const sent = performance.now();
      const both = limit.signal;
      const send = async (auth: Record<string, string>) => {
        both.throwIfAborted();
        dispatched = true;
        const answered = await transport(streaming)({ method, url, headers: { ...headers, ...auth }, body, signal: both });
        dispatched = false;
        return answered;
      };
      const request = { method, url, headers, body, signal: both };
      const response = await (this.options.authorizer ? sendAuthorized(this.options.authorizer, request, send) : send({}));
      this.options.onCall?.(performance.now() - sent);
      if (response.ok) return { ok: true, response, release };
      // Read as text first: a gateway's own failures may be text/plain, and their words matter (endpoint-failure.ts).
      const text = await response.text().catch(() => "");
      release();
      return { ok: false, failure: classifyHttpFailure(response.status, jsonOrUndefined(text), response.headers, text) };
    } catch (error) {
      release();
      if (error instanceof CredentialsError) return { ok: false, failure: credentialsFailure(error) };
      return { ok: false, failure: dispatched ? networkFailure(error) : notDispatched(error) };
    }
  }
}

/** The request never left (the timer or the stop signal ended it before `fetch`): nothing can have been taken. */
function notDispatched(cause: unknown): HttpFailure {
  return { kind: "transient", ambiguous: false, notSent: true, detail: `${errorName(cause)} before the request was sent` };
}

/**
 * Sends `request` with the authorizer's headers, and once more, authorized anew, when the endpoint answers 401 and
 * the authorizer renews (a fresh token); the first answer's body is dropped then. A second 401 stands.
 * @example const response = await sendAuthorized(authorizer, request, (auth) => transport({ ...request, headers: { ...headers, ...auth } }));
 */
export async function sendAuthorized(
  authorizer: RequestAuthorizer,
  request: EndpointRequest,
  send: (auth: Record<string, string>) => Promise<EndpointResponse>,
): Promise<EndpointResponse> {
  const first = await authorizer.authorize(request);
  const response = await send(first);
  if (response.status !== 401 || authorizer.renew === undefined || !(await authorizer.renew(first, request.signal))) return response;
  await response.discard();
  return send(await authorizer.authorize(request));
}

/** One page of a list the endpoint answers newest first. */
type Page<T> = { data?: T[]; has_more?: boolean; last_id?: string } | null;

/**
 * A failure of one API's call, sorted by that API's classifier (its outcome table's rows).
 * @example const refused = refusal(classifyAssistantsFailure); if (!answer.ok) return refused(answer.failure);
 */
export const refusal =
  <Failure>(classify: (failure: HttpFailure) => Failure) =>
  (failure: HttpFailure): { ok: false; failure: Failure } => ({ ok: false, failure: classify(failure) });

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * No credentials could be had for the request (the token endpoint refused, or is down): nothing was sent. A
 * refusal is configuration (hand back, alarm); an outage is retried like any transient failure.
 */
function credentialsFailure(error: CredentialsError): HttpFailure {
  const details = error.details;
  const endpointError = { message: error.message, type: "credentials", code: null, param: null };
  if (details.transient) return { kind: "transient", ambiguous: false, notSent: true, detail: error.message, error: endpointError };
  return { kind: "unauthorized", httpStatus: details.httpStatus ?? 401, error: endpointError };
}

/**
 * Reads a 2xx JSON body with `parse`; a body that is not what the API promises is an ambiguous failure (the
 * call may have been acted on), and so is a body cut short.
 */
export async function readJson<T>(
  answer: { response: EndpointResponse; release: () => void },
  parse: (value: unknown) => { success: true; data: T } | { success: false },
  what: string,
): Promise<{ ok: true; value: T } | { ok: false; failure: HttpFailure }> {
  try {
    const parsed = parse(await answer.response.json());
    if (parsed.success) return { ok: true, value: parsed.data };
    return {
      ok: false,
      failure: { kind: "transient", httpStatus: answer.response.status, ambiguous: true, detail: `the 2xx answer is not ${what}` },
    };
  } catch (error) {
    return { ok: false, failure: networkFailure(error) };
  } finally {
    answer.release();
  }
}
