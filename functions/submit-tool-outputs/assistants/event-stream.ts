import { EventSourceParserStream } from "eventsource-parser/stream";
import { type EndpointError, readEndpointError } from "../endpoint-failure";
import { type Run, RunSchema } from "./run-state";

/** What the relay takes from a run's event stream; steps, messages, deltas and unknown events are skipped. */
export type RunStreamItem = { kind: "run"; run: Run } | { kind: "error"; error?: EndpointError } | { kind: "done" };

/** `thread.run.<status>` but not `thread.run.step.*`: only these carry a Run object. */
const RUN_EVENT = /^thread\.run\.(?!step\.)[a-z_]+$/;
/** One event's data larger than this is not a Run object anyone would send; stop rather than buffer without end. */
const MAX_EVENT_CHARS = 4 * 1024 * 1024;

/**
 * Reads a server-sent event stream (the answer to a submit with `stream: true`).
 * The SSE framing (CRLF, multi-line data, comments) is parsed by eventsource-parser; this keeps the
 * Assistants semantics: Run events, `error`, and `done`, in the order they come.
 * @example for await (const item of runStreamItems(response.body)) if (item.kind === "run") latest = item.run;
 */
export async function* runStreamItems(body: ReadableStream<Uint8Array>): AsyncGenerator<RunStreamItem> {
  const events = body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream({ maxBufferSize: MAX_EVENT_CHARS }));
  for await (const event of events) {
    if (event.event === "done") {
      yield { kind: "done" };
      return;
    }
    if (event.event === "error") {
      yield { kind: "error", error: readEndpointError({ error: safeJson(event.data) }) };
      return;
    }
    if (event.event === undefined || !RUN_EVENT.test(event.event)) continue;
    const run = RunSchema.safeParse(safeJson(event.data));
    if (run.success) yield { kind: "run", run: run.data };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
