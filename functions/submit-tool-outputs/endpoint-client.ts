import { classifyHttpFailure, type EndpointFailure, networkFailure } from "./endpoint-failure";
import { type RunStreamItem, runStreamItems } from "./event-stream";
import type { ToolOutputMessage } from "./message";
import { type Run, RunSchema } from "./run-state";

export interface EndpointClientOptions {
  /** `{base}` of `POST {base}/threads/{thread_id}/runs/{run_id}/submit_tool_outputs`. */
  baseUrl: URL;
  /** Credential headers (see credentials.ts). */
  credentialHeaders: Record<string, string>;
  /** Limit for one call, up to the response headers (and the whole body for JSON answers). */
  timeoutMs: number;
  /** Told the time to the answer's headers of every call (for the latency metric). */
  onCall?: (ms: number) => void;
}

export interface CallOptions {
  /** Sent as `x-portkey-trace-id` so a submission can be found in Portkey's logs: the SQS message id. */
  traceId: string;
  /** Aborts the call (the invocation's deadline). */
  signal: AbortSignal;
}

export type SubmitResult =
  | { ok: true; run: Run }
  | { ok: true; stream: AsyncGenerator<RunStreamItem> }
  | { ok: false; failure: EndpointFailure };

export type GetRunResult = { ok: true; run: Run; pollAfterMs?: number } | { ok: false; failure: EndpointFailure };

export interface RunStep {
  type?: string;
  status?: string;
  step_details?: { type?: string; tool_calls?: Array<{ id?: string; function?: { output?: string | null } }> };
}
export type ListStepsResult = { ok: true; steps: RunStep[] } | { ok: false; failure: EndpointFailure };

/** 500 steps cover far more rounds than a run keeps open before it expires. */
const MAX_STEP_PAGES = 5;

/**
 * The Assistants-compatible endpoint, over plain `fetch` (Node's undici keeps connections alive).
 * One call per method: retries and reconciliation are decisions, and live in decide.ts.
 * @example const result = await client.getRun("thread_a", "run_b", { traceId: "m-1", signal });
 */
export class EndpointClient {
  private readonly base: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly options: EndpointClientOptions) {
    this.base = options.baseUrl.href.replace(/\/+$/, "");
    this.headers = { ...options.credentialHeaders, "openai-beta": "assistants=v2", accept: "application/json" };
  }

  async submitToolOutputs(message: ToolOutputMessage, call: CallOptions): Promise<SubmitResult> {
    const stream = message.stream === true;
    const body = JSON.stringify({ tool_outputs: message.tool_outputs, ...(message.stream == null ? {} : { stream }) });
    const answer = await this.call("POST", `${this.runPath(message.thread_id, message.run_id)}/submit_tool_outputs`, call, body, stream);
    if (!answer.ok) return answer;
    if (stream && answer.response.headers.get("content-type")?.includes("text/event-stream") && answer.response.body) {
      // From here the caller's signal bounds the stream; the call's own timeout covered the headers.
      answer.release();
      return { ok: true, stream: runStreamItems(answer.response.body) };
    }
    return this.readRun(answer.response, answer.release);
  }

  async getRun(threadId: string, runId: string, call: CallOptions): Promise<GetRunResult> {
    const answer = await this.call("GET", this.runPath(threadId, runId), call);
    if (!answer.ok) return answer;
    const pollAfter = Number.parseInt(answer.response.headers.get("openai-poll-after-ms") ?? "", 10);
    const result = await this.readRun(answer.response, answer.release);
    return result.ok && Number.isFinite(pollAfter) ? { ...result, pollAfterMs: pollAfter } : result;
  }

  /** The run's steps, newest first (a few pages at most): proof of which outputs it has already taken. */
  async listToolCallSteps(threadId: string, runId: string, call: CallOptions): Promise<ListStepsResult> {
    const steps: RunStep[] = [];
    let after: string | undefined;
    for (let page = 0; page < MAX_STEP_PAGES; page++) {
      const query = `order=desc&limit=100${after ? `&after=${encodeURIComponent(after)}` : ""}`;
      const answer = await this.call("GET", `${this.runPath(threadId, runId)}/steps?${query}`, call);
      if (!answer.ok) return answer;
      try {
        const body = (await answer.response.json()) as { data?: RunStep[]; has_more?: boolean; last_id?: string };
        steps.push(...(Array.isArray(body?.data) ? body.data : []));
        if (!body?.has_more || !body.last_id) break;
        after = body.last_id;
      } catch (error) {
        return { ok: false, failure: networkFailure(error) };
      } finally {
        answer.release();
      }
    }
    return { ok: true, steps };
  }

  private runPath(threadId: string, runId: string): string {
    return `${this.base}/threads/${encodeURIComponent(threadId)}/runs/${encodeURIComponent(runId)}`;
  }

  private async readRun(
    response: Response,
    release: () => void,
  ): Promise<{ ok: true; run: Run } | { ok: false; failure: EndpointFailure }> {
    try {
      const run = RunSchema.safeParse(await response.json());
      if (run.success) return { ok: true, run: run.data };
      return {
        ok: false,
        failure: { kind: "transient", httpStatus: response.status, ambiguous: true, detail: "the 2xx answer is not a Run object" },
      };
    } catch (error) {
      return { ok: false, failure: networkFailure(error) };
    } finally {
      release();
    }
  }

  /**
   * One HTTP call with a timeout that covers the answer's headers and, until `release`, its body
   * (a stream is released at once and bounded by the caller's signal). Error answers are read and
   * classified here.
   */
  private async call(
    method: "GET" | "POST",
    url: string,
    { traceId, signal }: CallOptions,
    body?: string,
    streaming = false,
  ): Promise<{ ok: true; response: Response; release: () => void } | { ok: false; failure: EndpointFailure }> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new DOMException("endpoint call timed out", "TimeoutError")), this.options.timeoutMs);
    const release = () => clearTimeout(timer);
    const headers: Record<string, string> = { ...this.headers, "x-portkey-trace-id": traceId };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (streaming) headers.accept = "text/event-stream";
    try {
      const sent = performance.now();
      const response = await fetch(url, { method, headers, body, signal: AbortSignal.any([signal, timeout.signal]) });
      this.options.onCall?.(performance.now() - sent);
      if (response.ok) return { ok: true, response, release };
      const errorBody = await response.json().catch(() => undefined);
      release();
      return { ok: false, failure: classifyHttpFailure(response.status, errorBody, response.headers) };
    } catch (error) {
      release();
      return { ok: false, failure: networkFailure(error) };
    }
  }
}
