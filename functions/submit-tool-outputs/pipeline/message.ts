import * as z from "zod/mini";
import "../config/zod-messages";
import { type CollectCheck, CollectCheckSchema } from "../collect/check-message";
import { lazySchema } from "../config/lazy-schema";
import type { ApiMessages } from "../dialects/dialect";
import { type ApiMessage, DEFAULT_API, DIALECTS, ID_FIELDS, type MessageIds } from "../dialects/index";
import { Id, Metadata } from "./message-fields";
import type { Result } from "./result";

/** Every API the relay speaks, in the registry's order: their ids are named so in problems (the first is the default). */
const APIS: readonly ApiMessages[] = Object.values(DIALECTS).map((dialect) => dialect.messages);
const DEFAULT_MESSAGES: ApiMessages = DIALECTS[DEFAULT_API].messages;

/** A valid message, for whichever API its ids name; or the relay's own check of a collection. */
export type RelayMessage = ApiMessage | CollectCheck;

/** What could be read of a message even when it is invalid, so DLQ records still carry it: its ids and metadata. */
export type MessageContext = MessageIds & { metadata?: Record<string, string> };

export type ParsedMessage =
  /**
   * `original`: the body a DLQ record keeps for the message (the innermost original when it came back inside the
   * relay's own DLQ records, so a record is never wrapped in another); `redrivenAfter`: that record's reason.
   */
  | { ok: true; message: RelayMessage; context: MessageContext; original: string; redrivenAfter?: string }
  | { ok: false; problems: string[]; context: MessageContext; original: string };

const SnsEnvelope = lazySchema(() =>
  z.looseObject({
    Type: z.literal("Notification"),
    TopicArn: z.string(),
    Message: z.string(),
  }),
);

/** A DLQ record the relay wrote, sent back whole (as SQS's own message-move task does): its `original` is the message. */
const RedrivenDlqRecord = lazySchema(() =>
  z.looseObject({
    reason: z.string(),
    original: z.string(),
    source_message_id: z.string(),
    receive_count: z.number(),
  }),
);

/**
 * Parses an SQS body: raw JSON, an SNS notification envelope around it (SNS → SQS without raw delivery),
 * or one of the relay's own DLQ records moved back to the input queue (the message is its `original`).
 * The message's ids pick its API. Lists every problem found; never throws.
 * @example const parsed = parseMessage(record.body); if (!parsed.ok) console.log(parsed.problems);
 */
export function parseMessage(body: string): ParsedMessage {
  // A DLQ record moved back (maybe more than once): the message is the innermost record's original.
  let original = body;
  let redrivenAfter: string | undefined;
  let json = parseJson(body);
  for (let record = redrivenRecord(json); record?.success; record = redrivenRecord(json)) {
    redrivenAfter ??= record.data.reason;
    original = record.data.original;
    json = parseJson(original);
    if (!json.ok)
      return { ok: false, problems: [`the redriven DLQ record's original is not JSON (${json.problem})`], context: {}, original };
  }
  const parsed = parseOriginal(json);
  return parsed.ok ? { ...parsed, original, ...(redrivenAfter ? { redrivenAfter } : {}) } : { ...parsed, original };
}

function parseOriginal(json: ReturnType<typeof parseJson>): DistributiveOmit<ParsedMessage, "original" | "redrivenAfter"> {
  if (!json.ok) return { ok: false, problems: [`body is not JSON (${json.problem})`], context: {} };

  const envelope = has(json.value, "Type") ? SnsEnvelope.safeParse(json.value) : undefined;
  if (envelope?.success) {
    json = parseJson(envelope.data.Message);
    if (!json.ok) return { ok: false, problems: [`the SNS envelope's Message is not JSON (${json.problem})`], context: {} };
  }

  const value = json.value;
  const context = readableContext(value);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const got = Array.isArray(value) ? "an array" : value === null ? "null" : typeof value;
    return { ok: false, problems: [`body must be a JSON object, got ${got}`], context };
  }
  if ("type" in value && value.type === "collect_check") {
    const check = CollectCheckSchema.safeParse(value, { reportInput: true });
    return check.success
      ? { ok: true, message: check.data, context }
      : { ok: false, problems: check.error.issues.map(describeIssue), context };
  }
  const picked = pickApi(value);
  if (!picked.ok) return { ok: false, problems: picked.problems, context };
  const { api, schema, watch } = picked;
  // reportInput: lets describeIssue tell a missing field from a wrong one (the input itself is never quoted).
  const result = schema.safeParse(value, { reportInput: true });
  if (!result.success) return { ok: false, problems: [...picked.notes, ...result.error.issues.map(describeIssue)], context };
  const fields = result.data as object;
  const message = (watch ? { api: api.api, ...fields } : { api: api.api, type: "tool_outputs", ...fields }) as RelayMessage;
  return { ok: true, message, context };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

type Picked = Result<{ api: ApiMessages; schema: z.ZodMiniType; watch: boolean; notes: string[] }, { problems: string[] }>;

/** A follow-up names its API by `type`; a tool-output message by its ids (none: the default API's rules say what is missing). */
function pickApi(value: object): Picked {
  if ("type" in value) {
    const api = APIS.find((candidate) => candidate.watch.type === value.type) ?? DEFAULT_MESSAGES;
    return { ok: true, api, schema: api.watch.schema, watch: true, notes: [] };
  }
  const named = APIS.filter((api) => api.idFields.some((field) => field in value));
  if (named.length > 1) {
    const fields = ID_FIELDS.filter((field) => field in value);
    return { ok: false, problems: [`message: has ids of more than one API (${fields.join(", ")}): send one API's ids`] };
  }
  const api = named[0] ?? DEFAULT_MESSAGES;
  const notes =
    named.length === 0 && APIS.length > 1 ? [`message: names no API: send ${APIS.map((a) => a.describeIds).join(", or ")}`] : [];
  return { ok: true, api, schema: api.toolOutputs, watch: false, notes };
}

/**
 * Whether `value` is an object with the field: a schema is tried only on a body that could be its shape. A body of
 * another shape is the common case (every message is tried as a redriven record and an SNS envelope), and a failed
 * zod parse builds its issues, a few µs each time.
 */
function has(value: unknown, field: string): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && Reflect.get(value, field) !== undefined;
}

function redrivenRecord(json: ReturnType<typeof parseJson>) {
  return json.ok && has(json.value, "original") ? RedrivenDlqRecord.safeParse(json.value) : undefined;
}

function parseJson(text: string): Result<{ value: unknown }, { problem: string }> {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, problem: (error instanceof Error ? error.message : String(error)).slice(0, 200) };
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 0 ? issue.path.join(".") : "message";
  if (issue.code === "unrecognized_keys") {
    return `${where}: unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
  }
  if (issue.code === "invalid_type" && issue.input === undefined) return `${where}: is required`;
  if (issue.code === "invalid_union" && issue.errors.length > 0) return describeUnion(issue, where);
  // A record key that fails its own schema: say why, not only that it is invalid.
  if (issue.code === "invalid_key") return `${where}: ${issue.issues.map((inner) => inner.message).join("; ")}`;
  return `${where}: ${issue.message}`;
}

/**
 * zod words a failed union (a Responses output: a string, or an array of content parts) as "Invalid input". A
 * branch whose one issue is a wrong type at its root only says "not this shape"; the branch that got further says
 * what is wrong, at its own path. With none, the shapes it could have been are named.
 */
function describeUnion(issue: z.core.$ZodIssueInvalidUnion, where: string): string {
  // A branch's one issue when it is a wrong type at its root ("not this shape"), else undefined.
  const notThisShape = ([only, ...more]: z.core.$ZodIssue[]) =>
    more.length === 0 && only?.code === "invalid_type" && only.path.length === 0 ? only : undefined;
  const further = issue.errors.filter((issues) => !notThisShape(issues));
  const [furthest] = further;
  if (further.length === 1 && furthest)
    return furthest.map((inner) => describeIssue({ ...inner, path: [...issue.path, ...inner.path] })).join("; ");
  if (further.length > 0) return `${where}: ${issue.message}`;
  const shapes = issue.errors.flatMap((issues) => notThisShape(issues)?.expected ?? []);
  const article = (shape: string) => (/^[aeiou]/.test(shape) ? `an ${shape}` : `a ${shape}`);
  return `${where}: must be ${shapes.map(article).join(" or ")}`;
}

/** Whatever valid ids and metadata an invalid message still carries (for the DLQ record). */
function readableContext(value: unknown): MessageContext {
  if (typeof value !== "object" || value === null) return {};
  const context: MessageContext = {};
  for (const field of ID_FIELDS) {
    if (!has(value, field)) continue;
    const id = Id.safeParse(Reflect.get(value, field));
    if (id.success) context[field] = id.data;
  }
  const metadata = has(value, "metadata") ? Metadata.safeParse(Reflect.get(value, "metadata")) : undefined;
  if (metadata?.success) context.metadata = metadata.data;
  return context;
}
