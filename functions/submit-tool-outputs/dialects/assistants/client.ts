import type { HttpFailure } from "../../endpoint/endpoint-failure";
import { type CallOptions, EndpointHttp, type EndpointHttpOptions, readJson } from "../../endpoint/endpoint-http";
import { type RunStreamItem, runStreamItems } from "./event-stream";
import { type AssistantsFailure, classifyAssistantsFailure } from "./failure";
import type { ToolOutputMessage } from "./message-schema";
import { type Run, RunSchema } from "./run-state";

export type SubmitResult =
  | { ok: true; run: Run }
  | { ok: true; stream: AsyncGenerator<RunStreamItem> }
  | { ok: false; failure: AssistantsFailure };

export type GetRunResult = { ok: true; run: Run; pollAfterMs?: number } | { ok: false; failure: AssistantsFailure };

export interface RunStep {
  type?: string;
  status?: string;
  step_details?: { type?: string; tool_calls?: Array<{ id?: string; function?: { output?: string | null } }> };
}
export type ListStepsResult = { ok: true; steps: RunStep[] } | { ok: false; failure: AssistantsFailure };

/** 500 steps cover far more rounds than a run keeps open before it expires. */
const MAX_STEP_PAGES = 5;

const readRun = (answer: { response: Response; release: () => void }) => readJson(answer, (v) => RunSchema.safeParse(v), "a Run object");

/**
 * The Assistants API's run calls (`{base}/threads/{thread_id}/runs/{run_id}…`). One call per method: retries
 * and reconciliation are decisions, and live in decide.ts.
 * @example const result = await client.getRun("thread_a", "run_b", { traceId: "m-1", signal });
 */
export class AssistantsClient {
  private readonly http: EndpointHttp;

  constructor(options: EndpointHttpOptions) {
    this.http = new EndpointHttp({ ...options, headers: { ...options.headers, "openai-beta": "assistants=v2" } });
  }

  async submitToolOutputs(message: ToolOutputMessage, call: CallOptions): Promise<SubmitResult> {
    const stream = message.stream === true;
    const body = JSON.stringify({ tool_outputs: message.tool_outputs, ...(message.stream == null ? {} : { stream }) });
    const answer = await this.http.call("POST", this.runUrl(message.thread_id, message.run_id, "submit_tool_outputs"), call, body, stream);
    if (!answer.ok) return refused(answer.failure);
    if (stream && answer.response.headers.get("content-type")?.includes("text/event-stream") && answer.response.body) {
      // From here the caller's signal bounds the stream; the call's own timeout covered the headers.
      answer.release();
      return { ok: true, stream: runStreamItems(answer.response.body) };
    }
    const read = await readRun(answer);
    return read.ok ? { ok: true, run: read.value } : read;
  }

  async getRun(threadId: string, runId: string, call: CallOptions): Promise<GetRunResult> {
    const answer = await this.http.call("GET", this.runUrl(threadId, runId), call);
    if (!answer.ok) return refused(answer.failure);
    const pollAfter = Number.parseInt(answer.response.headers.get("openai-poll-after-ms") ?? "", 10);
    const read = await readRun(answer);
    if (!read.ok) return read;
    return Number.isFinite(pollAfter) ? { ok: true, run: read.value, pollAfterMs: pollAfter } : { ok: true, run: read.value };
  }

  /** The run's steps, newest first (a few pages at most): proof of which outputs it has already taken. */
  async listToolCallSteps(threadId: string, runId: string, call: CallOptions): Promise<ListStepsResult> {
    const steps: RunStep[] = [];
    let after: string | undefined;
    for (let page = 0; page < MAX_STEP_PAGES; page++) {
      const answer = await this.http.call("GET", this.runUrl(threadId, runId, "steps", { order: "desc", limit: "100", after }), call);
      if (!answer.ok) return refused(answer.failure);
      const read = await readJson(answer, (value) => ({ success: true as const, data: value as StepList }), "a list of run steps");
      if (!read.ok) return read;
      const body = read.value;
      steps.push(...(Array.isArray(body?.data) ? body.data : []));
      if (!body?.has_more || !body.last_id) break;
      after = body.last_id;
    }
    return { ok: true, steps };
  }

  private runUrl(threadId: string, runId: string, action?: string, query?: Record<string, string | undefined>): URL {
    return this.http.url(["threads", threadId, "runs", runId, ...(action ? [action] : [])], query);
  }
}

type StepList = { data?: RunStep[]; has_more?: boolean; last_id?: string } | null;

function refused(failure: HttpFailure): { ok: false; failure: AssistantsFailure } {
  return { ok: false, failure: classifyAssistantsFailure(failure) };
}
