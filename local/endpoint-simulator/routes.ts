/**
 * The three endpoints the simulator serves, each a function of (store, request) → reply or stream.
 * Checks run in the endpoint's order: body shape, then thread, then run, then run status, then ids.
 */

import { type Reply, replies } from "./replies";
import { buildRunObject } from "./run-object";
import type { RunRecord, RunStore } from "./runs";
import { stepsAt } from "./steps";
import { createStreamPlan, type PlannedEvent, submitStreamPlan } from "./stream";
import type { RunScript, SimulatorCounters } from "./types";

/** What a route asks the HTTP layer to do. */
export type RouteResult = { reply: Reply } | { events: PlannedEvent[] };

export interface SubmitRequest {
  toolOutputs: Array<{ tool_call_id: string; output: string }>;
  stream: boolean;
}

const SUBMIT_FIELDS = new Set(["tool_outputs", "stream"]);
const TOOL_OUTPUT_FIELDS = new Set(["tool_call_id", "output"]);
const TERMINAL_SCRIPT = new Set(["completed", "failed", "incomplete", "cancelled", "expired"]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Checks a submit body against `SubmitToolOutputsRunRequest` (additionalProperties false).
 * @example parseSubmitBody({ tool_outputs: [{ tool_call_id: "call_A", output: "" }] }) // { toolOutputs: [...], stream: false }
 */
export function parseSubmitBody(body: unknown): SubmitRequest | Reply {
  if (!isObject(body)) return replies.invalidType("body", "an object", body);
  const unknown = Object.keys(body).find((key) => !SUBMIT_FIELDS.has(key));
  if (unknown !== undefined) return replies.unknownArgument(unknown);
  if (!("tool_outputs" in body)) return replies.missingParameter("tool_outputs");
  const { tool_outputs: items, stream } = body;
  if (!Array.isArray(items)) return replies.invalidType("tool_outputs", "an array", items);
  if (stream !== undefined && stream !== null && typeof stream !== "boolean") return replies.invalidType("stream", "a boolean", stream);
  const toolOutputs: SubmitRequest["toolOutputs"] = [];
  for (const [index, item] of items.entries()) {
    const at = `tool_outputs[${index}]`;
    if (!isObject(item)) return replies.invalidType(at, "an object", item);
    const extra = Object.keys(item).find((key) => !TOOL_OUTPUT_FIELDS.has(key));
    if (extra !== undefined) return replies.unknownArgument(`${at}.${extra}`);
    for (const field of TOOL_OUTPUT_FIELDS) {
      if (!(field in item)) return replies.missingParameter(`${at}.${field}`);
      if (typeof item[field] !== "string") return replies.invalidType(`${at}.${field}`, "a string", item[field]);
    }
    toolOutputs.push({ tool_call_id: item.tool_call_id as string, output: item.output as string });
  }
  return { toolOutputs, stream: stream === true };
}

function findRun(store: RunStore, threadId: string, runId: string): RunRecord | Reply {
  if (!store.hasThread(threadId)) return replies.threadNotFound(threadId);
  return store.get(threadId, runId) ?? replies.runNotFound(runId);
}

function isReply(value: object): value is Reply {
  return "status" in value && "body" in value;
}

/** `POST /threads/{thread_id}/runs/{run_id}/submit_tool_outputs` */
export function submitToolOutputs(
  store: RunStore,
  counters: SimulatorCounters,
  threadId: string,
  runId: string,
  body: unknown,
): RouteResult {
  const reject = (reply: Reply): RouteResult => {
    counters.rejected += 1;
    return { reply };
  };
  const request = parseSubmitBody(body);
  if (isReply(request)) return reject(request);
  const run = findRun(store, threadId, runId);
  if (isReply(run)) return reject(run);

  const outcome = store.submit(run, request.toolOutputs);
  if (outcome.kind === "not_accepting") return reject(replies.notAccepting(outcome.status));
  if (outcome.kind === "mismatch") return reject(replies.callIdMismatch(outcome.expected, outcome.given));

  counters.accepted += 1;
  if (outcome.doubleAcceptance) counters.doubleAcceptances += 1;
  if (request.stream) return { events: submitStreamPlan(run, outcome.at, outcome.round) };
  // The answer shows the run as the submission left it (queued), however long the request took to get here.
  return { reply: { status: 200, body: buildRunObject(run, outcome.at) } };
}

/** `GET /threads/{thread_id}/runs/{run_id}` */
export function retrieveRun(store: RunStore, threadId: string, runId: string, now: () => number, pollAfterMs: number): RouteResult {
  const run = findRun(store, threadId, runId);
  if (isReply(run)) return { reply: run };
  return { reply: { status: 200, body: buildRunObject(run, now()), headers: { "openai-poll-after-ms": String(pollAfterMs) } } };
}

const STEP_ORDERS = new Set(["asc", "desc"]);

/**
 * `GET /threads/{thread_id}/runs/{run_id}/steps` with `order` (default desc), `limit` (1–100,
 * default 20) and the `after` / `before` cursors (step ids), as the list endpoints page.
 */
export function listRunSteps(store: RunStore, threadId: string, runId: string, query: URLSearchParams, now: () => number): RouteResult {
  const run = findRun(store, threadId, runId);
  if (isReply(run)) return { reply: run };
  const order = query.get("order") ?? "desc";
  if (!STEP_ORDERS.has(order)) return { reply: replies.invalidValue("order", order, ["asc", "desc"]) };
  const limit = Number(query.get("limit") ?? "20");
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    return { reply: replies.invalidValue("limit", query.get("limit") ?? "", ["1 to 100"]) };
  let steps = stepsAt(run, now());
  if (order === "desc") steps.reverse();
  const after = query.get("after");
  const before = query.get("before");
  if (after !== null) steps = steps.slice(steps.findIndex((step) => step.id === after) + 1);
  if (before !== null)
    steps = steps.slice(
      0,
      Math.max(
        0,
        steps.findIndex((step) => step.id === before),
      ),
    );
  const page = steps.slice(0, limit);
  const body = {
    object: "list",
    data: page,
    first_id: page[0]?.id ?? null,
    last_id: page.at(-1)?.id ?? null,
    has_more: steps.length > limit,
  };
  return { reply: { status: 200, body } };
}

/**
 * Reads the demo's knobs from run metadata: `sim_tool_calls` (count of the first round, default "1",
 * "0" skips it) and `sim_then` (comma list of completed|failed|incomplete|cancelled|expired|requires_action:<n>).
 * @example scriptFromMetadata({ sim_tool_calls: "2", sim_then: "requires_action:1,completed" })
 */
export function scriptFromMetadata(metadata: Record<string, string>): RunScript[] | Reply {
  const count = Number(metadata.sim_tool_calls ?? "1");
  if (!Number.isInteger(count) || count < 0 || count > 128) {
    return replies.invalidType("metadata.sim_tool_calls", "a count from 0 to 128 as a string", metadata.sim_tool_calls);
  }
  const script: RunScript[] = count > 0 ? [{ requiresAction: count }] : [];
  for (const item of (metadata.sim_then ?? "completed").split(",").map((part) => part.trim())) {
    const more = /^requires_action:(\d+)$/.exec(item);
    if (more !== null && Number(more[1]) > 0) script.push({ requiresAction: Number(more[1]) });
    else if (TERMINAL_SCRIPT.has(item)) script.push(item as RunScript);
    else return replies.invalidType("metadata.sim_then", "completed|failed|incomplete|cancelled|expired|requires_action:<n>", item);
  }
  return script;
}

/**
 * `POST /threads/runs` (create thread and run): the run starts queued and reaches requires_action
 * after processingMs, as a real one does while the model thinks.
 */
export function createThreadAndRun(
  store: RunStore,
  body: unknown,
  /** A dialect's objection to a script (azure mode: no `incomplete`). */
  scriptProblem: (script: RunScript[]) => string | undefined = () => undefined,
): RouteResult {
  if (!isObject(body)) return { reply: replies.invalidType("body", "an object", body) };
  if (!("assistant_id" in body)) return { reply: replies.missingParameter("assistant_id") };
  if (typeof body.assistant_id !== "string") return { reply: replies.invalidType("assistant_id", "a string", body.assistant_id) };
  if (body.model !== undefined && body.model !== null && typeof body.model !== "string") {
    return { reply: replies.invalidType("model", "a string", body.model) };
  }
  const metadata = body.metadata ?? {};
  if (!isObject(metadata) || Object.values(metadata).some((value) => typeof value !== "string")) {
    return { reply: replies.invalidType("metadata", "an object of strings", metadata) };
  }
  const stringMetadata = metadata as Record<string, string>;
  const script = scriptFromMetadata(stringMetadata);
  if (!Array.isArray(script)) return { reply: script };
  if (scriptProblem(script) !== undefined) {
    const allowed = ["completed", "failed", "cancelled", "expired", "requires_action:<n>"];
    return { reply: replies.invalidValue("metadata.sim_then", stringMetadata.sim_then ?? "", allowed) };
  }
  const run = store.createQueued(
    { assistantId: body.assistant_id, model: (body.model as string | null | undefined) ?? undefined, metadata: stringMetadata },
    script,
  );
  if (body.stream === true) return { events: createStreamPlan(run) };
  // The answer shows the run as created (queued), however long the request took to get here.
  return { reply: { status: 200, body: buildRunObject(run, run.createdAt) } };
}
