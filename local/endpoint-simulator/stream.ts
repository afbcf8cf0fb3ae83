/**
 * Server-sent events for `stream: true`, in the order of the spec's examples, spread over the
 * run's own timeline: each event is sent when the run reaches the instant it describes and renders
 * the run as it was then, so a GET made in between agrees with the stream.
 */
import type { ServerResponse } from "node:http";
import type { OpenAIError } from "./replies";
import { buildRunObject } from "./run-object";
import { nextRestAfter, type RunRecord, type Segment, stateAt } from "./runs";
import { message, messageCreationStep, messageCreationStepDelta, messageDelta, threadObject, toolCallsStep } from "./step-objects";

/** Not in the spec: clients must ignore event names they do not know (the spec says new ones may appear). */
export const UNKNOWN_EVENT_NAME = "thread.run.simulator_progress";

export interface PlannedEvent {
  at: number;
  /** A function when the name depends on the run's state then (a forced expiry may change it). */
  event: string | (() => string);
  data: () => unknown;
}

const REPLY_PARTS = ["The tool outputs ", "were received."];

function runEvent(run: RunRecord, at: number): PlannedEvent {
  return { at, event: () => `thread.run.${stateAt(run, at).status}`, data: () => buildRunObject(run, at) };
}

/** The run going from its queued segment to its next resting state: in_progress, a message, maybe new tool calls, the rest. */
function towardsRest(run: RunRecord, queued: Extract<Segment, { status: "queued" }>): PlannedEvent[] {
  const inProgress = run.segments.find((s) => s.status === "in_progress" && s.from >= queued.from);
  const rest = nextRestAfter(run, queued.from);
  if (inProgress === undefined || rest === undefined) return [];
  const start = inProgress.from;
  const { stepId, messageId } = queued;
  const body: Array<Omit<PlannedEvent, "at">> = [
    { event: "thread.run.step.created", data: () => messageCreationStep(run, stepId, messageId, "in_progress", start, start) },
    { event: "thread.run.step.in_progress", data: () => messageCreationStep(run, stepId, messageId, "in_progress", start, start) },
    { event: "thread.run.step.delta", data: () => messageCreationStepDelta(stepId, messageId) },
    { event: UNKNOWN_EVENT_NAME, data: () => ({ object: UNKNOWN_EVENT_NAME, run_id: run.runId, progress: 0.5 }) },
    { event: "thread.message.created", data: () => message(run, messageId, "", "in_progress", start, start) },
    { event: "thread.message.in_progress", data: () => message(run, messageId, "", "in_progress", start, start) },
    ...REPLY_PARTS.map((part, index) => ({ event: "thread.message.delta", data: () => messageDelta(messageId, index, part) })),
    { event: "thread.message.completed", data: () => message(run, messageId, REPLY_PARTS.join(""), "completed", start, rest.from) },
    { event: "thread.run.step.completed", data: () => messageCreationStep(run, stepId, messageId, "completed", start, rest.from) },
  ];
  if (rest.status === "requires_action") {
    const calls = rest.toolCalls.map((call) => ({ ...call, output: null }));
    body.push({
      event: "thread.run.step.created",
      data: () => toolCallsStep(run, rest.stepId, calls, "in_progress", rest.from, rest.from),
    });
  }
  // Body events share the in_progress span evenly; the resting event lands exactly when the run rests.
  const span = Math.max(0, rest.from - start);
  const timed = body.map((event, index) => ({ ...event, at: start + Math.floor((span * (index + 1)) / (body.length + 1)) }));
  return [runEvent(run, start), ...timed, runEvent(run, rest.from), { at: rest.from, event: "done", data: () => "[DONE]" }];
}

function queuedAt(run: RunRecord, at: number): Extract<Segment, { status: "queued" }> | undefined {
  return run.segments.find((s): s is Extract<Segment, { status: "queued" }> => s.status === "queued" && s.from === at);
}

/**
 * Events after an accepted submission: the answered tool_calls step completes, then the run moves on.
 * @example sendEvents(res, submitStreamPlan(run, outcome.at, outcome.round), now, headers)
 */
export function submitStreamPlan(
  run: RunRecord,
  acceptedAt: number,
  round: Extract<Segment, { status: "requires_action" }>,
): PlannedEvent[] {
  const answered = round.toolCalls.map((call) => ({ ...call, output: run.outputs.get(call.id) ?? null }));
  const queued = queuedAt(run, acceptedAt);
  return [
    {
      at: acceptedAt,
      event: "thread.run.step.completed",
      data: () => toolCallsStep(run, round.stepId, answered, "completed", round.from, acceptedAt),
    },
    runEvent(run, acceptedAt),
    ...(queued === undefined ? [] : towardsRest(run, queued)),
  ];
}

/** Events of `POST /threads/runs` with `stream: true`. */
export function createStreamPlan(run: RunRecord): PlannedEvent[] {
  const at = run.createdAt;
  return [
    { at, event: "thread.created", data: () => threadObject(run) },
    { at, event: "thread.run.created", data: () => buildRunObject(run, at) },
    runEvent(run, at),
    ...towardsRest(run, queuedAt(run, at)!),
  ];
}

/** The `stream_error` fault: the first few events of a real plan, then `event: error` and the end. */
export function failingStreamPlan(plan: PlannedEvent[], error: OpenAIError): PlannedEvent[] {
  const head = plan.slice(0, 3);
  const at = head.at(-1)?.at ?? 0;
  return [...head, { at, event: "error", data: () => error }];
}

/**
 * Writes the events as SSE, each when the simulator's clock reaches its instant, or when as much
 * real time has passed (so that a frozen test clock cannot hold a stream open forever). Returns a
 * function that ends the stream early (used when the simulator closes).
 * @example const stop = sendEvents(res, plan, Date.now, { "x-request-id": id })
 */
export function sendEvents(res: ServerResponse, plan: PlannedEvent[], now: () => number, headers: Record<string, string>): () => void {
  res.writeHead(200, {
    ...headers,
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  res.flushHeaders();
  const simStart = now();
  const realStart = performance.now();
  let timer: NodeJS.Timeout | undefined;
  let index = 0;
  const stop = (): void => {
    clearTimeout(timer);
    if (!res.writableEnded) res.end();
  };
  const pump = (): void => {
    while (index < plan.length) {
      const next = plan[index]!;
      const wait = Math.min(next.at - now(), next.at - simStart - (performance.now() - realStart));
      if (wait > 0) {
        timer = setTimeout(pump, wait);
        return;
      }
      if (res.destroyed) return;
      const data = next.data();
      const name = typeof next.event === "string" ? next.event : next.event();
      res.write(`event: ${name}\ndata: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
      index += 1;
    }
    res.end();
  };
  res.on("close", () => clearTimeout(timer));
  pump();
  return stop;
}
