import { hash } from "node:crypto";
import type { Message } from "@aws-sdk/client-sqs";
import * as z from "zod/mini";
import { lazySchema } from "../config/lazy-schema";

/**
 * The results event's envelope: what every API's event carries (docs/contract.md, "Results event"), and how a
 * subscriber reads an event back. Each API's own fields, SNS attributes and FIFO group are its dialect's
 * (dialects/<api>/results-event.ts); the registry (dialects/index.ts) puts them together.
 */

/** A tool call to answer, in one shape for every API (the Responses `call_id` is the `id`). */
export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** The fields every event has; an API's event adds its `api`, `type`, ids and the object it reports. */
export interface EventEnvelope {
  event_id: string;
  api: string;
  type: string;
  status: string;
  tool_calls: ToolCall[];
  /** Exactly the id fields a tool worker puts in its answer: `{ ...event.reply, tool_outputs }`. */
  reply: Readonly<Record<string, string>>;
  /** The message that completed the submission (for a collected set: the one that completed it). */
  source_message_id: string;
  /** Every collected message the submission carried, when outputs were collected. */
  source_message_ids?: string[];
  metadata?: Record<string, string>;
  at: string;
}

/** The envelope fields the pipeline sets, whatever the API. */
export type EnvelopeSource = Pick<EventEnvelope, "source_message_id" | "source_message_ids" | "metadata" | "at">;

/**
 * SNS refuses a message over 256 KiB (body and attributes); this leaves room for the attributes: the ids, and
 * `tool_names` (at most 128 distinct names of at most 64 characters, quoted, in a JSON array).
 */
export const MAX_EVENT_BYTES = 256 * 1024 - 12 * 1024;

/** Whether an event (as built, fitted) is within SNS's 256 KB: one that is not can never be published (rule 2). */
export function eventFits(event: EventEnvelope): boolean {
  return Buffer.byteLength(JSON.stringify(event)) <= MAX_EVENT_BYTES;
}

/** A stable event id from what identifies a state: the same state always gets the same id. */
// crypto.hash, one call without a Hash stream object: a few µs less for every results event.
export const eventDigest = (text: string) => hash("sha256", text, "hex").slice(0, 32);

/** The fields of `value` an event keeps. */
export function kept(value: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const summary: Record<string, unknown> = {};
  for (const field of fields) if (field in value) summary[field] = value[field];
  return summary;
}

export function toolCall(id: string, name = "", args = ""): ToolCall {
  return { id, type: "function", function: { name, arguments: args } };
}

/**
 * The envelope's own SNS message attributes; an API adds its ids. Tool workers subscribe to `type`
 * `*.requires_action`; a fleet per tool also to `tool_names`, a String.Array of the names the event asks for (each
 * once, present when it asks for any), the same for every API since `tool_calls` is the envelope's.
 */
export function envelopeAttributes(event: EventEnvelope): Record<string, string | string[]> {
  const toolNames = [...new Set(event.tool_calls.map((call) => call.function.name))];
  return { type: event.type, status: event.status, api: event.api, ...(toolNames.length > 0 ? { tool_names: toolNames } : {}) };
}

/** A results event as a subscriber reads it (from an SQS queue subscribed to the topic). */
export interface PublishedResult<Event extends EventEnvelope = EventEnvelope> {
  event: Event;
  /** The SNS message attributes (`type`, `status`, `api`, and the API's ids). */
  attributes: Record<string, string>;
}

/** An SNS notification as SQS receives it without raw delivery: the event in `Message`, the attributes beside it. */
const SnsNotification = lazySchema(() =>
  z.object({
    Type: z.literal("Notification"),
    Message: z.string(),
    MessageAttributes: z.optional(z.record(z.string(), z.object({ Value: z.string() }))),
  }),
);

/**
 * Reads a results event from a queue subscribed to the topic: an SNS envelope (attributes inside), or the
 * event itself with SQS message attributes (raw delivery).
 * @example const { event } = readPublishedResult<ResultsEvent>(message);
 */
export function readPublishedResult<Event extends EventEnvelope = EventEnvelope>(
  message: Pick<Message, "Body" | "MessageAttributes">,
): PublishedResult<Event> {
  const body: unknown = JSON.parse(message.Body ?? "");
  const notification = SnsNotification.safeParse(body);
  // The event is what the relay published: read as the subscriber's declared type, not checked again here.
  if (notification.success) {
    const { Message, MessageAttributes } = notification.data;
    return {
      event: JSON.parse(Message) as Event,
      attributes: Object.fromEntries(Object.entries(MessageAttributes ?? {}).map(([k, v]) => [k, v.Value])),
    };
  }
  const attributes = Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? ""]));
  return { event: body as Event, attributes };
}
