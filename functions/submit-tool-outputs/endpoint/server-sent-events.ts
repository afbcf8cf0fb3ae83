import { createParser, type EventSourceMessage, type ParseError } from "eventsource-parser";
import * as z from "zod/mini";
import { lazySchema } from "../config/lazy-schema";

/** One event's data larger than this is not an object anyone would send; stop rather than buffer without end. */
const MAX_EVENT_CHARS = 4 * 1024 * 1024;

/**
 * The events of a server-sent event stream, in order, as its chunks come. The framing (CRLF, multi-line data,
 * comments) is parsed by eventsource-parser; each API reads its own events from these (assistants/event-stream.ts,
 * responses/event-stream.ts, agents/client.ts). Fed chunk by chunk rather than through the library's web
 * TransformStream: the body is a Node stream (endpoint-transport.ts), and two web streams on top cost each event
 * latency and CPU (bench/README.md, loop latency). An event larger than 4 MiB ends the stream with the parser's error.
 * @example for await (const { event, data } of serverSentEvents(answer.stream())) console.log(event);
 */
export async function* serverSentEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<EventSourceMessage> {
  const decoder = new TextDecoder();
  const ready: EventSourceMessage[] = [];
  let failed: ParseError | undefined;
  const parser = createParser({
    onEvent: (event) => ready.push(event),
    onError: (error) => {
      if (error.type === "max-buffer-size-exceeded") failed = error;
    },
    maxBufferSize: MAX_EVENT_CHARS,
  });
  for await (const chunk of body) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    if (failed) throw failed;
    for (const event of ready.splice(0)) yield event;
  }
}

/**
 * The items of a stream the relay reads until it has what it needs; however the reading ends (done, an early return,
 * a throw), the stream is closed in the background (`closeInBackground`). A `for await` that leaves early waits for
 * its stream to close, and the result it found would be published that much later.
 * @example for await (const item of closedInBackground(stream)) if (isFinal(item)) return item;
 */
export async function* closedInBackground<T>(stream: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    for (let next = await stream.next(); !next.done; next = await stream.next()) yield next.value;
  } finally {
    closeInBackground(stream);
  }
}

/**
 * Closes a stream the relay is done with on the event loop's next turn, waiting for nothing: the close (a fetch body's
 * cancel and the generators above it, ~0.1 ms on loopback) runs microtasks of its own, which would otherwise run before
 * the reader's next step and delay the result's publish (bench/README.md, loop latency). Its failure is of no interest.
 */
export function closeInBackground(stream: AsyncGenerator<unknown> | undefined): void {
  if (stream !== undefined) setImmediate(() => stream.return(undefined).catch(() => undefined));
}

/** An event's data as JSON, or undefined when it is not JSON. */
export function eventData(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** An event's data when it is a JSON object: its `type` (when a string) beside its other fields, left unread. */
const EventFields = lazySchema(() => z.looseObject({ type: z.catch(z.optional(z.string()), undefined) }));

/**
 * An event's data as the fields of a JSON object, or undefined when it is not one.
 * @example eventFields('{"type":"response.completed","response":{…}}')?.response
 */
export function eventFields(text: string): z.infer<typeof EventFields> | undefined {
  const read = EventFields.safeParse(eventData(text));
  return read.success ? read.data : undefined;
}
