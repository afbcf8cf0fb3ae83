import { type EventSourceMessage, EventSourceParserStream } from "eventsource-parser/stream";
import * as z from "zod/mini";

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

/** An event's data when it is a JSON object: its `type` (when a string) beside its other fields, left unread. */
const EventFields = z.lazy(() => z.looseObject({ type: z.catch(z.optional(z.string()), undefined) }));

/**
 * An event's data as the fields of a JSON object, or undefined when it is not one.
 * @example eventFields('{"type":"response.completed","response":{…}}')?.response
 */
export function eventFields(text: string): z.infer<typeof EventFields> | undefined {
  const read = EventFields.safeParse(eventData(text));
  return read.success ? read.data : undefined;
}
