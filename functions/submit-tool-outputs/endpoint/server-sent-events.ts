import { type EventSourceMessage, EventSourceParserStream } from "eventsource-parser/stream";

/** One event's data larger than this is not an object anyone would send; stop rather than buffer without end. */
const MAX_EVENT_CHARS = 4 * 1024 * 1024;

/**
 * The events of a server-sent event stream, in order. The framing (CRLF, multi-line data, comments) is parsed
 * by eventsource-parser; each API reads its own events from these (assistants/event-stream.ts,
 * responses/event-stream.ts).
 * @example for await (const { event, data } of serverSentEvents(response.body)) console.log(event);
 */
export function serverSentEvents(body: ReadableStream<Uint8Array>): AsyncIterable<EventSourceMessage> {
  return body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream({ maxBufferSize: MAX_EVENT_CHARS }));
}

/** An event's data as JSON, or undefined when it is not JSON. */
export function eventData(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
