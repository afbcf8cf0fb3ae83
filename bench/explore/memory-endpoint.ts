/**
 * The explorer's model endpoint, in memory: the endpoint simulator's own state and route logic (RunStore and the
 * Assistants routes, the Responses store and routes), answered as `fetch` Responses without HTTP. Only what the
 * relay's paths reach is routed (submit, retrieve and list steps of a run; create, retrieve and cancel a response,
 * its input items); streams are not offered (the explorer's messages do not ask for them). It also keeps what it
 * took, per run round and per response continuation, for the invariants. test/explore/conformance.test.ts holds it
 * to the loopback simulator.
 */

import { ConversationStore } from "../../local/endpoint-simulator/conversations";
import { type Reply, replies } from "../../local/endpoint-simulator/replies";
import { buildResponseObject } from "../../local/endpoint-simulator/response-object";
import { decodeSegment, route as responsesRoute } from "../../local/endpoint-simulator/response-paths";
import {
  cancelResponse,
  createResponse,
  listInputItems,
  type ResponsesState,
  retrieveResponse,
} from "../../local/endpoint-simulator/response-routes";
import { ResponseStore } from "../../local/endpoint-simulator/responses";
import { listRunSteps, retrieveRun, submitToolOutputs } from "../../local/endpoint-simulator/routes";
import { RunStore } from "../../local/endpoint-simulator/runs";
import { seedResponse } from "../../local/endpoint-simulator/seeded-responses";
import { emptyCounters } from "../../local/endpoint-simulator/server";
import type { CreateResponseOptions, CreateRunOptions, SimulatorCounters } from "../../local/endpoint-simulator/types";

/** A loopback origin the config accepts; nothing listens there: the explorer's fetch answers in memory. */
export const ENDPOINT_ORIGIN = "http://127.0.0.1:9";
const SUBMIT_PATH = /^\/v1\/threads\/([^/]+)\/runs\/([^/]+)\/submit_tool_outputs$/;
const RUN_PATH = /^\/v1\/threads\/([^/]+)\/runs\/([^/]+)$/;
const STEPS_PATH = /^\/v1\/threads\/([^/]+)\/runs\/([^/]+)\/steps$/;
const POLL_AFTER_MS = 500;

/** Outputs the endpoint took in one accepted submission: a run round, or a response continuation. */
export interface Taken {
  target: string;
  outputs: Record<string, string>;
  by: "relay" | "other";
}

export class MemoryEndpoint {
  readonly counters: SimulatorCounters;
  readonly runs: RunStore;
  readonly responses: ResponsesState;
  readonly taken: Taken[] = [];

  constructor(private readonly now: () => number) {
    this.counters = emptyCounters();
    this.runs = new RunStore({ processingMs: 0, ttlMs: 3_600_000, now });
    this.responses = { responses: new ResponseStore(), conversations: new ConversationStore(), processingMs: 0, counters: this.counters };
  }

  createRun(opts: CreateRunOptions): { threadId: string; runId: string; toolCallIds: string[] } {
    const run = this.runs.create(opts);
    const first = run.segments[0];
    return {
      threadId: run.threadId,
      runId: run.runId,
      toolCallIds: first?.status === "requires_action" ? first.toolCalls.map((c) => c.id) : [],
    };
  }

  createResponse(opts: CreateResponseOptions): { responseId: string; callIds: string[] } {
    return seedResponse(this.responses, opts, this.now());
  }

  /** Someone other than the relay answers a run's calls (the thirteenth's other party). */
  submitDirectly(threadId: string, runId: string, outputs: Array<{ tool_call_id: string; output: string }>): number {
    const result = submitToolOutputs(this.runs, this.counters, threadId, runId, { tool_outputs: outputs });
    const status = "reply" in result ? result.reply.status : 200;
    if (status === 200) this.taken.push({ target: `${threadId}/${runId}`, outputs: outputsOf(outputs, "tool_call_id"), by: "other" });
    return status;
  }

  /** What the relay's fetch reaches: applies the request and answers it. */
  answer(method: string, url: URL, text: string | undefined, headers: Record<string, string>): Response {
    const reply = this.route(method, url, text, headers);
    return new Response(JSON.stringify(reply.body), {
      status: reply.status,
      headers: { "content-type": "application/json", "x-request-id": "req_explore", ...reply.headers },
    });
  }

  private route(method: string, url: URL, text: string | undefined, headers: Record<string, string>): Reply {
    const path = url.pathname;
    let body: unknown;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        return replies.invalidJson();
      }
    }
    const now = this.now();
    const target = responsesRoute(method, path);
    if (target.name !== "unknown") {
      if (target.name === "create") {
        const result = createResponse(this.responses, body, now);
        if ("reply" in result) return result.reply;
        const { record } = result;
        const outputs = functionOutputs(body);
        if (Object.keys(outputs).length > 0 && record.previousResponseId)
          this.taken.push({ target: record.previousResponseId, outputs, by: "relay" });
        return { status: 200, body: buildResponseObject(record, record.createdAt) };
      }
      if (target.name === "get") return retrieveResponse(this.responses, target.id, now, POLL_AFTER_MS);
      if (target.name === "cancel") return cancelResponse(this.responses, target.id, now);
      if (target.name === "input_items") return listInputItems(this.responses, target.id, url.searchParams);
      return replies.invalidUrl(method, path);
    }
    if (!(headers["openai-beta"] ?? "").includes("assistants=v2")) return replies.missingBetaHeader();
    const submit = SUBMIT_PATH.exec(path);
    if (method === "POST" && submit) {
      this.counters.submits += 1;
      const [threadId, runId] = [decodeSegment(submit[1]!), decodeSegment(submit[2]!)];
      const result = submitToolOutputs(this.runs, this.counters, threadId, runId, body);
      if (!("reply" in result)) return replies.serverError();
      if (result.reply.status === 200) {
        const list = (body as { tool_outputs: Array<{ tool_call_id: string; output: string }> }).tool_outputs;
        this.taken.push({ target: `${threadId}/${runId}`, outputs: outputsOf(list, "tool_call_id"), by: "relay" });
      }
      return result.reply;
    }
    const steps = STEPS_PATH.exec(path);
    if (method === "GET" && steps) {
      this.counters.stepLists += 1;
      const result = listRunSteps(this.runs, decodeSegment(steps[1]!), decodeSegment(steps[2]!), url.searchParams, this.now);
      return "reply" in result ? result.reply : replies.serverError();
    }
    const run = RUN_PATH.exec(path);
    if (method === "GET" && run) {
      this.counters.gets += 1;
      const result = retrieveRun(this.runs, decodeSegment(run[1]!), decodeSegment(run[2]!), this.now, POLL_AFTER_MS);
      return "reply" in result ? result.reply : replies.serverError();
    }
    return replies.invalidUrl(method, path);
  }
}

function outputsOf<K extends string>(list: Array<Record<K, string> & { output: string }>, key: K): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) out[item[key]] = item.output;
  return out;
}

function functionOutputs(body: unknown): Record<string, string> {
  const input = (body as { input?: unknown })?.input;
  if (!Array.isArray(input)) return {};
  const out: Record<string, string> = {};
  for (const item of input as Array<{ type?: string; call_id?: string; output?: unknown }>)
    if (item?.type === "function_call_output" && typeof item.call_id === "string")
      out[item.call_id] = typeof item.output === "string" ? item.output : JSON.stringify(item.output);
  return out;
}
