/**
 * Server-sent events of a Responses API response (`stream: true`), in the spec's order for a tool turn:
 * response.created → (response.queued, background only) → response.in_progress → per output item
 * output_item.added, its deltas and done events, output_item.done → response.completed | response.failed |
 * response.incomplete. No `[DONE]` line. Every event carries `type` and `sequence_number` (0, 1, 2, …).
 * Each event is sent when the response reaches the instant it describes and renders the response as it
 * was then, so a GET made in between agrees with the stream. A cancelled response has no terminal event
 * (the spec has no `response.cancelled`): its stream just ends.
 */
import type { ServerResponse } from "node:http";
import type { OpenAIError } from "./replies";
import { buildResponseObject } from "./response-object";
import { endOf, type ResponseRecord, type StoredItem } from "./responses";
import type { PlannedEvent } from "./stream";

interface Draft {
  at?: number;
  type: string;
  fields: () => Record<string, unknown>;
}

/** Splits a string in two so that consumers have to join deltas. */
function halves(text: string): string[] {
  const cut = Math.ceil(text.length / 2);
  return [text.slice(0, cut), text.slice(cut)].filter((part) => part !== "");
}

function itemDrafts(item: StoredItem, outputIndex: number): Draft[] {
  const at = { output_index: outputIndex };
  if (item.type === "function_call") {
    const ref = { item_id: item.id, output_index: outputIndex };
    return [
      { type: "response.output_item.added", fields: () => ({ ...at, item: { ...item, arguments: "", status: "in_progress" } }) },
      ...halves(item.arguments).map((delta) => ({ type: "response.function_call_arguments.delta", fields: () => ({ ...ref, delta }) })),
      { type: "response.function_call_arguments.done", fields: () => ({ ...ref, name: item.name, arguments: item.arguments }) },
      { type: "response.output_item.done", fields: () => ({ ...at, item: structuredClone(item) }) },
    ];
  }
  if (item.type !== "message") return [];
  const text = String(item.content[0]?.text ?? "");
  const ref = { item_id: item.id, output_index: outputIndex, content_index: 0 };
  const part = (value: string) => ({ type: "output_text", text: value, annotations: [], logprobs: [] });
  return [
    { type: "response.output_item.added", fields: () => ({ ...at, item: { ...item, status: "in_progress", content: [] } }) },
    { type: "response.content_part.added", fields: () => ({ ...ref, part: part("") }) },
    ...halves(text).map((delta) => ({ type: "response.output_text.delta", fields: () => ({ ...ref, delta, logprobs: [] }) })),
    { type: "response.output_text.done", fields: () => ({ ...ref, text, logprobs: [] }) },
    { type: "response.content_part.done", fields: () => ({ ...ref, part: part(text) }) },
    { type: "response.output_item.done", fields: () => ({ ...at, item: structuredClone(item) }) },
  ];
}

const TERMINAL_EVENT: Record<string, string | undefined> = {
  completed: "response.completed",
  failed: "response.failed",
  incomplete: "response.incomplete",
};

/**
 * Every event of the response's stream, numbered, timed on its timeline.
 * @example sendEvents(res, responseStreamPlan(record), now, headers)
 */
export function responseStreamPlan(record: ResponseRecord): PlannedEvent[] {
  const start = record.createdAt;
  const end = endOf(record);
  const working = record.segments.find((segment) => segment.status === "in_progress" && segment.from <= end.from)?.from;
  const whole = (at: number) => () => ({ response: buildResponseObject(record, at) });
  const drafts: Draft[] = [{ at: start, type: "response.created", fields: whole(start) }];
  if (record.background) drafts.push({ at: start, type: "response.queued", fields: whole(start) });
  if (working !== undefined) {
    drafts.push({ at: working, type: "response.in_progress", fields: whole(working) });
    // Body events share the in_progress span evenly; the terminal event lands exactly when the response ends.
    const body = end.status === "completed" ? record.output.flatMap(itemDrafts) : [];
    const span = Math.max(0, end.from - working);
    for (const [index, draft] of body.entries())
      drafts.push({ ...draft, at: working + Math.floor((span * (index + 1)) / (body.length + 1)) });
  }
  const terminal = TERMINAL_EVENT[end.status];
  if (terminal !== undefined) drafts.push({ at: end.from, type: terminal, fields: whole(end.from) });
  return drafts.map((draft, sequence) => ({
    at: draft.at!,
    event: draft.type,
    data: () => ({ type: draft.type, ...draft.fields(), sequence_number: sequence }),
  }));
}

/** The `stream_error` fault: the plan's opening events, then a flat `error` event (`ResponseErrorEvent`). */
export function failingResponsePlan(plan: PlannedEvent[], error: OpenAIError): PlannedEvent[] {
  const head = plan.slice(0, 3);
  const at = head.at(-1)?.at ?? 0;
  const sequence = head.length;
  return [
    ...head,
    {
      at,
      event: "error",
      data: () => ({ type: "error", code: error.code, message: error.message, param: error.param, sequence_number: sequence }),
    },
  ];
}

/**
 * The `stream_cut_after_created` fault: the headers and `response.created`, then the socket is destroyed
 * (the client sees the body end mid-stream), while the response goes on for real.
 * @example sendCreatedThenCut(res, responseStreamPlan(record), headers)
 */
export function sendCreatedThenCut(res: ServerResponse, plan: PlannedEvent[], headers: Record<string, string>): void {
  if (res.destroyed) return;
  res.writeHead(200, { ...headers, "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
  const first = plan[0]!;
  res.write(`event: ${String(first.event)}\ndata: ${JSON.stringify(first.data())}\n\n`, () => res.destroy());
}
