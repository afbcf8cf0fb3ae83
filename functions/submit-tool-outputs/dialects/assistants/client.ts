import { type CallOptions, EndpointHttp, type EndpointHttpOptions, readJson, refusal } from "../../endpoint/endpoint-http";
import type { EndpointResponse } from "../../endpoint/endpoint-transport";
import type { Result } from "../../pipeline/result";
import { type RunStreamItem, runStreamItems } from "./event-stream";
import { type AssistantsFailure, classifyAssistantsFailure } from "./failure";
import type { ToolOutputMessage } from "./message-schema";
import { parseRun, type Run } from "./run-state";

type Refused = { failure: AssistantsFailure };

export type SubmitResult = Result<{ run: Run } | { stream: AsyncGenerator<RunStreamItem> }, Refused>;

export type GetRunResult = Result<{ run: Run; pollAfterMs?: number }, Refused>;

export interface RunStep {
  type?: string;
  status?: string;
  step_details?: { type?: string; tool_calls?: Array<{ id?: string; function?: { output?: string | null } }> };
}
export type ListStepsResult = Result<{ steps: RunStep[] }, Refused>;

/** 500 steps cover far more rounds than a run keeps open before it expires. */
const MAX_STEP_PAGES = 5;

const readRun = (answer: { response: EndpointResponse; release: () => void }) => readJson(answer, parseRun, "a Run object");

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
    const answer = await this.http.call("POST", this.runUrl(message.thread_id, message.run_id, "submit_tool_outputs"), call, {
      body,
      streaming: stream,
    });
    if (!answer.ok) return refused(answer.failure);
    const events = this.http.eventStream(answer, stream);
    if (events) return { ok: true, stream: runStreamItems(events) };
    const read = await readRun(answer);
    return read.ok ? { ok: true, run: read.value } : read;
  }

  async getRun(threadId: string, runId: string, call: CallOptions): Promise<GetRunResult> {
    const answer = await this.http.call("GET", this.runUrl(threadId, runId), call);
    if (!answer.ok) return refused(answer.failure);
    const pollAfterMs = this.http.pollAfter(answer.response);
    const read = await readRun(answer);
    if (!read.ok) return read;
    return pollAfterMs === undefined ? { ok: true, run: read.value } : { ok: true, run: read.value, pollAfterMs };
  }

  /** The run's steps, newest first (a few pages at most): proof of which outputs it has already taken. */
  async listToolCallSteps(threadId: string, runId: string, call: CallOptions): Promise<ListStepsResult> {
    const listed = await this.http.list<RunStep>(["threads", threadId, "runs", runId, "steps"], call, {
      maxPages: MAX_STEP_PAGES,
      what: "a list of run steps",
    });
    return listed.ok ? { ok: true, steps: listed.items } : refused(listed.failure);
  }

  private runUrl(threadId: string, runId: string, action?: string): URL {
    return this.http.url(["threads", threadId, "runs", runId, ...(action ? [action] : [])]);
  }
}

const refused = refusal(classifyAssistantsFailure);
