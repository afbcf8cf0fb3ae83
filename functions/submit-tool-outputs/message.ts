import * as z from "zod/mini";
import "./zod-messages";

/**
 * The input contract (README.md, "The message"). Ids go into a URL path, so they are held to a
 * narrow alphabet; unknown fields are rejected by name so that typos surface instead of vanishing.
 */
const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
/** The endpoint sets no limit; this one keeps a message well inside SQS's 1 MiB and one submit sane. */
export const MAX_TOOL_OUTPUTS = 128;

const Id = z.string().check(z.regex(ID_PATTERN, { error: "must be 1–128 characters of A–Z, a–z, 0–9, _ or -" }));

const Metadata = z
  .record(
    z.string().check(z.maxLength(64, { error: "metadata keys must be at most 64 characters" })),
    z.string().check(z.maxLength(512, { error: "metadata values must be strings of at most 512 characters" })),
  )
  .check(z.refine((m) => Object.keys(m).length <= 16, { error: "metadata may have at most 16 keys" }));

const ToolOutput = z.strictObject({
  tool_call_id: Id,
  output: z.string({ error: "must be a string (send JSON as a string)" }),
});

export const ToolOutputMessageSchema = z.strictObject({
  thread_id: Id,
  run_id: Id,
  tool_outputs: z.array(ToolOutput).check(
    z.minLength(1, { error: "must hold at least one tool output" }),
    z.maxLength(MAX_TOOL_OUTPUTS, { error: `must hold at most ${MAX_TOOL_OUTPUTS} tool outputs` }),
    z.superRefine((outputs, ctx) => {
      const seen = new Set<string>();
      for (const [index, { tool_call_id }] of outputs.entries()) {
        if (seen.has(tool_call_id))
          ctx.addIssue({
            code: "custom",
            path: [index, "tool_call_id"],
            message: `duplicate tool_call_id ${tool_call_id}`,
            input: tool_call_id,
          });
        seen.add(tool_call_id);
      }
    }),
  ),
  stream: z.optional(z.nullable(z.boolean())),
  metadata: z.optional(Metadata),
});

/** A follow-up asking the relay to report a run's next resting state (sent by the relay itself, or anyone). */
export const WatchRunMessageSchema = z.strictObject({
  type: z.literal("watch_run"),
  thread_id: Id,
  run_id: Id,
  metadata: z.optional(Metadata),
});

export type ToolOutputMessage = z.infer<typeof ToolOutputMessageSchema>;
export type WatchRunMessage = z.infer<typeof WatchRunMessageSchema>;
export type RelayMessage = ({ type: "tool_outputs" } & ToolOutputMessage) | WatchRunMessage;

/** What could be read of a message even when it is invalid, so DLQ records still carry it. */
export interface MessageContext {
  thread_id?: string;
  run_id?: string;
  metadata?: Record<string, string>;
}

export type ParsedMessage =
  | { ok: true; message: RelayMessage; context: MessageContext }
  | { ok: false; problems: string[]; context: MessageContext };

const SnsEnvelope = z.looseObject({
  Type: z.literal("Notification"),
  TopicArn: z.string(),
  Message: z.string(),
});

/** A DLQ record the relay wrote, sent back whole (as SQS's own message-move task does): its `original` is the message. */
const RedrivenDlqRecord = z.looseObject({
  reason: z.string(),
  original: z.string(),
  source_message_id: z.string(),
  receive_count: z.number(),
});

/**
 * Parses an SQS body: raw JSON, an SNS notification envelope around it (SNS → SQS without raw delivery),
 * or one of the relay's own DLQ records moved back to the input queue (the message is its `original`).
 * Lists every problem found; never throws.
 * @example const parsed = parseMessage(record.body); if (!parsed.ok) console.log(parsed.problems);
 */
export function parseMessage(body: string): ParsedMessage {
  let json = parseJson(body);
  if (!json.ok) return { ok: false, problems: [`body is not JSON (${json.problem})`], context: {} };

  const redriven = RedrivenDlqRecord.safeParse(json.value);
  if (redriven.success) {
    json = parseJson(redriven.data.original);
    if (!json.ok) return { ok: false, problems: [`the redriven DLQ record's original is not JSON (${json.problem})`], context: {} };
  }

  const envelope = SnsEnvelope.safeParse(json.value);
  if (envelope.success) {
    json = parseJson(envelope.data.Message);
    if (!json.ok) return { ok: false, problems: [`the SNS envelope's Message is not JSON (${json.problem})`], context: {} };
  }

  const value = json.value;
  const context = readableContext(value);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return {
      ok: false,
      problems: [`body must be a JSON object, got ${Array.isArray(value) ? "an array" : value === null ? "null" : typeof value}`],
      context,
    };
  }
  const isWatch = "type" in value;
  // reportInput: lets describeIssue tell a missing field from a wrong one (the input itself is never quoted).
  const result = (isWatch ? WatchRunMessageSchema : ToolOutputMessageSchema).safeParse(value, { reportInput: true });
  if (!result.success) return { ok: false, problems: result.error.issues.map(describeIssue), context };
  const message: RelayMessage = isWatch
    ? (result.data as WatchRunMessage)
    : { type: "tool_outputs", ...(result.data as ToolOutputMessage) };
  return { ok: true, message, context };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, problem: (error as Error).message.slice(0, 200) };
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 0 ? issue.path.join(".") : "message";
  if (issue.code === "unrecognized_keys") {
    return `${where}: unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
  }
  if (issue.code === "invalid_type" && issue.input === undefined) return `${where}: is required`;
  // A record key that fails its own schema: say why, not only that it is invalid.
  if (issue.code === "invalid_key") return `${where}: ${issue.issues.map((inner) => inner.message).join("; ")}`;
  return `${where}: ${issue.message}`;
}

/** Whatever valid ids and metadata an invalid message still carries (for the DLQ record). */
function readableContext(value: unknown): MessageContext {
  if (typeof value !== "object" || value === null) return {};
  const v = value as Record<string, unknown>;
  const context: MessageContext = {};
  if (Id.safeParse(v.thread_id).success) context.thread_id = v.thread_id as string;
  if (Id.safeParse(v.run_id).success) context.run_id = v.run_id as string;
  const metadata = Metadata.safeParse(v.metadata);
  if (metadata.success) context.metadata = metadata.data;
  return context;
}
