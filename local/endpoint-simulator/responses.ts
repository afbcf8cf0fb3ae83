/**
 * The in-memory store of Responses API responses and their timeline.
 *
 * As for runs, a response's life is decided when it is created (or cancelled): a list of segments with
 * the instant each starts. Reading never mutates: its status at any instant is a pure function of the
 * segments and the clock. Its output items are fixed at creation (so the stream and a later GET name
 * the same ids) and shown once it has completed.
 */
import { newId } from "./runs";

/**
 * What a Responses continuation does, in chain order: `afterOutputs[0]` is the first response that answers the
 * created response's calls, `afterOutputs[1]` the one answering that one's calls, and so on. Sibling forks at
 * the same depth follow the same item. When exhausted: `completed`.
 */
export type ResponseScript =
  /** Completed with one text `message` output item. */
  | "completed"
  /** Failed with `error: {code: "server_error", message: "The model failed to generate a response."}`. */
  | "failed"
  /** Incomplete with `incomplete_details.reason: "max_output_tokens"`. */
  | "incomplete"
  | "cancelled"
  /** Completed with this many `function_call` output items (or these `call_id`s). */
  | { functionCalls: number | string[] }
  /** Stay in_progress this much longer, then apply the next script item. */
  | { stayInProgressMs: number };

export type ResponseStatus = "queued" | "in_progress" | "completed" | "failed" | "incomplete" | "cancelled";
export type TerminalResponseStatus = "completed" | "failed" | "incomplete" | "cancelled";

export const TERMINAL_RESPONSE_STATUSES: readonly ResponseStatus[] = ["completed", "failed", "incomplete", "cancelled"];

export interface FunctionCallItem {
  type: "function_call";
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: "in_progress" | "completed" | "incomplete";
}

export interface FunctionCallOutputItem {
  type: "function_call_output";
  id: string;
  call_id: string;
  output: string | Array<Record<string, unknown>>;
  status: "in_progress" | "completed" | "incomplete";
}

export interface MessageItem {
  type: "message";
  id: string;
  status: "in_progress" | "completed" | "incomplete";
  role: "user" | "assistant" | "system" | "developer";
  content: Array<Record<string, unknown>>;
}

/** An item as the API stores it: in a response's input or output, and in a conversation. */
export type StoredItem = FunctionCallItem | FunctionCallOutputItem | MessageItem;

/** The request settings a response echoes (the relay copies them into its continuation). */
export interface ResponseSettings {
  model: string;
  instructions: string | null;
  tools: Array<Record<string, unknown>>;
  tool_choice: unknown;
  parallel_tool_calls: boolean;
  reasoning: Record<string, unknown>;
  text: Record<string, unknown>;
  truncation: "auto" | "disabled";
  max_output_tokens: number | null;
  max_tool_calls: number | null;
  temperature: number;
  top_p: number;
  top_logprobs: number;
  service_tier: string;
  metadata: Record<string, string>;
  prompt_cache_key: string | null;
  safety_identifier: string | null;
  user?: string;
  store: boolean;
}

export interface ResponseSegment {
  status: ResponseStatus;
  from: number;
}

/** How one response of a chain ends. */
export type Outcome = { status: "completed"; callIds: string[] } | { status: "failed" | "incomplete" | "cancelled" };

/** One scripted round of a chain: extra time in progress, then how it ends (`calls`: a count or explicit ids). */
export interface ScriptRound {
  extraMs: number;
  end: { status: "completed"; calls: number | string[] } | { status: "failed" | "incomplete" | "cancelled" };
  /** Explicit call ids are handed out once; a fork at the same depth gets fresh ones, as a second model run would. */
  used: boolean;
}

/** A round resolved for one response: its call ids are fixed. */
export interface ResolvedRound {
  extraMs: number;
  outcome: Outcome;
}

export interface ResponseRecord {
  readonly id: string;
  readonly createdAt: number;
  readonly settings: ResponseSettings;
  readonly previousResponseId: string | null;
  readonly conversationId: string | null;
  readonly background: boolean;
  /** Created with `stream: true`. */
  readonly streamed: boolean;
  /** The response whose function calls this one answers; null for a first turn. */
  readonly parentId: string | null;
  /** 0 for a first turn; a continuation is one deeper than its parent. */
  readonly depth: number;
  /** The chain's script, shared by every response of the chain: round `depth - 1` is this one's. */
  readonly chain: ScriptRound[];
  readonly input: StoredItem[];
  /** Fixed at creation, shown once completed. */
  readonly output: StoredItem[];
  readonly segments: ResponseSegment[];
  readonly children: string[];
}

/** What a caller sees of a response at an instant. */
export interface ResponseState {
  status: ResponseStatus;
  since: number;
}

const FUNCTION_NAMES = ["get_weather", "lookup_order", "convert_currency"] as const;

/**
 * Folds `stayInProgressMs` items into the round that follows them.
 * @example compileScript([{ stayInProgressMs: 500 }, { functionCalls: 2 }]) // [{ extraMs: 500, end: { status: "completed", calls: 2 }, … }]
 */
export function compileScript(script: readonly ResponseScript[]): ScriptRound[] {
  const rounds: ScriptRound[] = [];
  let extraMs = 0;
  for (const item of script) {
    if (typeof item === "object" && "stayInProgressMs" in item) {
      extraMs += item.stayInProgressMs;
      continue;
    }
    if (typeof item === "object" && (typeof item.functionCalls === "number" ? item.functionCalls : item.functionCalls.length) < 1) {
      throw new RangeError("a functionCalls item needs at least one call");
    }
    const end =
      typeof item === "string" ? (item === "completed" ? { status: item, calls: 0 } : { status: item }) : completedWith(item.functionCalls);
    rounds.push({ extraMs, end, used: false });
    extraMs = 0;
  }
  if (extraMs > 0) rounds.push({ extraMs, end: { status: "completed", calls: 0 }, used: false });
  return rounds;
}

function completedWith(calls: number | string[]): ScriptRound["end"] {
  return { status: "completed", calls: typeof calls === "number" ? calls : [...calls] };
}

/**
 * The round of the response at `depth` in a chain (1 = the first continuation); past the script's end, a plain
 * completion with a text message.
 * @example roundAt(compileScript([{ functionCalls: 1 }]), 1).outcome // { status: "completed", callIds: ["call_…"] }
 */
export function roundAt(chain: ScriptRound[], depth: number): ResolvedRound {
  const round = chain[depth - 1];
  if (round === undefined) return { extraMs: 0, outcome: { status: "completed", callIds: [] } };
  const { end } = round;
  if (end.status !== "completed") return { extraMs: round.extraMs, outcome: { status: end.status } };
  const explicit = Array.isArray(end.calls) && !round.used;
  const count = Array.isArray(end.calls) ? end.calls.length : end.calls;
  const callIds = explicit ? [...(end.calls as string[])] : Array.from({ length: count }, () => newId("call"));
  round.used = true;
  return { extraMs: round.extraMs, outcome: { status: "completed", callIds } };
}

/**
 * The output items an outcome produces: function calls named after the response's function tools, or one
 * assistant text message. Empty for an outcome that is not completed.
 */
export function outputFor(outcome: Outcome, settings: ResponseSettings, text: string): StoredItem[] {
  if (outcome.status !== "completed") return [];
  if (outcome.callIds.length === 0) {
    const content = [{ type: "output_text", text, annotations: [], logprobs: [] }];
    return [{ type: "message", id: newId("msg", 48), status: "completed", role: "assistant", content }];
  }
  const names = settings.tools
    .filter((tool) => tool.type === "function" && typeof tool.name === "string")
    .map((tool) => tool.name as string);
  return outcome.callIds.map((callId, index) => ({
    type: "function_call",
    id: newId("fc", 48),
    call_id: callId,
    name: names.length > 0 ? names[index % names.length]! : FUNCTION_NAMES[index % FUNCTION_NAMES.length]!,
    arguments: JSON.stringify({ query: `q${index + 1}` }),
    status: "completed",
  }));
}

/**
 * The segments of a response created at `at`: a background one waits queued for half the processing
 * time; a foreground one starts in_progress at once (as the spec's streaming example does).
 */
export function planSegments(at: number, background: boolean, processingMs: number, round: ResolvedRound): ResponseSegment[] {
  const segments: ResponseSegment[] = background
    ? [
        { status: "queued", from: at },
        { status: "in_progress", from: at + Math.floor(processingMs / 2) },
      ]
    : [{ status: "in_progress", from: at }];
  segments.push({ status: round.outcome.status, from: at + processingMs + round.extraMs });
  return segments;
}

/** The state at instant `at`. */
export function responseStateAt(record: ResponseRecord, at: number): ResponseState {
  let current = record.segments[0]!;
  for (const segment of record.segments) {
    if (segment.from > at) break;
    current = segment;
  }
  return { status: current.status, since: current.from };
}

/** When the response ends (its last segment), whatever the clock says now. */
export function endOf(record: ResponseRecord): ResponseSegment {
  return record.segments.at(-1)!;
}

export function isActiveAt(record: ResponseRecord, at: number): boolean {
  return !TERMINAL_RESPONSE_STATUSES.includes(responseStateAt(record, at).status);
}

export class ResponseStore {
  readonly #responses = new Map<string, ResponseRecord>();

  add(record: ResponseRecord): ResponseRecord {
    if (this.#responses.has(record.id)) throw new Error(`response ${record.id} already exists`);
    this.#responses.set(record.id, record);
    if (record.parentId !== null) this.#responses.get(record.parentId)?.children.push(record.id);
    return record;
  }

  get(id: string): ResponseRecord | undefined {
    return this.#responses.get(id);
  }

  /**
   * Cancels a response that is still queued or in_progress; a finished one is left as it is.
   * @example store.cancel(record, Date.now())
   */
  cancel(record: ResponseRecord, at: number): void {
    if (!isActiveAt(record, at)) return;
    const keep = record.segments.filter((segment) => segment.from <= at);
    record.segments.splice(0, record.segments.length, ...keep, { status: "cancelled", from: at });
  }

  clear(): void {
    this.#responses.clear();
  }
}
