import * as z from "zod/mini";
import "../config/zod-messages";
import { lazySchema } from "../config/lazy-schema";

/**
 * Fields every API's messages share (docs/contract.md, "The message"). Ids go into a URL path, so they are
 * held to a narrow alphabet.
 */
const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
/** The endpoint sets no limit; this one keeps a message well inside SQS's 1 MiB and one submit sane. */
export const MAX_TOOL_OUTPUTS = 128;

export const Id = lazySchema(() => z.string().check(z.regex(ID_PATTERN, { error: "must be 1–128 characters of A–Z, a–z, 0–9, _ or -" })));

const RECORD_PROTOTYPE_KEY = "__proto__";

/**
 * The relay's own metadata, echoed into events and DLQ records. zod's record skips a `__proto__` key (JSON.parse
 * makes it an own property), so it is refused here first rather than silently dropped.
 */
export const Metadata = lazySchema(() =>
  z.pipe(
    z.unknown().check(
      z.refine((value) => !(typeof value === "object" && value !== null && Object.hasOwn(value, RECORD_PROTOTYPE_KEY)), {
        error: `metadata keys must not be "${RECORD_PROTOTYPE_KEY}"`,
        abort: true,
      }),
    ),
    z
      .record(
        z.string().check(z.maxLength(64, { error: "metadata keys must be at most 64 characters" })),
        z.string().check(z.maxLength(512, { error: "metadata values must be strings of at most 512 characters" })),
      )
      .check(z.refine((m) => Object.keys(m).length <= 16, { error: "metadata may have at most 16 keys" })),
  ),
);

/**
 * A message's `metadata`: absent, `null` (read as absent, as `stream` takes null: a worker that copies
 * `event.get("metadata")` from an event without metadata sends null), or the relay's metadata.
 */
export const OptionalMetadata = lazySchema(() =>
  z.optional(
    z.pipe(
      z.nullable(Metadata),
      z.transform((metadata) => metadata ?? undefined),
    ),
  ),
);

/** 1 to MAX_TOOL_OUTPUTS items whose `tool_call_id`s are unique, each checked by `output`. */
export function toolOutputList<Output extends z.ZodMiniType>(output: Output) {
  return toolOutputItems(z.strictObject({ tool_call_id: Id, output }));
}

/** 1 to MAX_TOOL_OUTPUTS items of any shape that has a `tool_call_id`, their ids unique. */
export function toolOutputItems<Item extends z.ZodMiniType<{ tool_call_id: string }>>(item: Item) {
  return z.array(item).check(
    z.minLength(1, { error: "must hold at least one tool output" }),
    z.maxLength(MAX_TOOL_OUTPUTS, { error: `must hold at most ${MAX_TOOL_OUTPUTS} tool outputs` }),
    z.superRefine((outputs, ctx) => {
      const seen = new Set<string>();
      for (const [index, { tool_call_id }] of outputs.entries()) {
        if (seen.has(tool_call_id)) {
          ctx.addIssue({
            code: "custom",
            path: [index, "tool_call_id"],
            message: `duplicate tool_call_id ${tool_call_id}`,
            input: tool_call_id,
          });
        }
        seen.add(tool_call_id);
      }
    }),
  );
}

/**
 * A follow-up asking the relay to report an object's next resting state (sent by the relay itself, or anyone): its
 * `type`, the object's ids, and the relay's metadata.
 * @example const WatchOrderSchema = watchMessage("watch_order", { order_id: Id }); // an API whose objects are orders
 */
export function watchMessage<Type extends string, Ids extends Record<string, typeof Id>>(type: Type, ids: Ids) {
  return z.strictObject({ type: z.literal(type), ...ids, metadata: OptionalMetadata });
}

/** `stream`: optional boolean or null, as in the endpoint. */
export const Stream = lazySchema(() => z.optional(z.nullable(z.boolean())));
