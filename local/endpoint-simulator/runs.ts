/**
 * The in-memory run store and its state machine.
 *
 * A run's life is a timeline of segments decided when something happens (creation, an accepted
 * submission, a forced expiry). Reading a run never mutates it: its state at any instant is a pure
 * function of the timeline and the clock, so there are no timers to leak and a stream can render
 * the run exactly as it was at the instant an event describes.
 */
import { randomBytes } from "node:crypto";
import { type RunStatus, TERMINAL_RUN_STATUSES } from "../../functions/submit-tool-outputs/dialects/assistants/run-state";

/** What the run does after an accepted submission (or, for a run created over HTTP, after creation). */
export type RunScript =
  | "completed"
  | "failed"
  | "incomplete"
  | "cancelled"
  | "expired"
  | { requiresAction: number | string[] }
  /** Stay in_progress this much longer, then apply the next script item. */
  | { stayInProgressMs: number };

export interface CreateRunOptions {
  /** Generated `thread_…` id (only [A-Za-z0-9_]) when absent. Several runs may share a thread. */
  threadId?: string;
  /** Generated `run_…` id when absent. */
  runId?: string;
  /** First round of tool calls: a count or explicit ids. Default 1. */
  toolCalls?: number | string[];
  /** What the run does after each accepted submission, in order. Default `["completed"]`; when exhausted, `completed`. */
  afterOutputs?: RunScript[];
  /** Default `asst_simulator`. */
  assistantId?: string;
  /** Default `gpt-4o-mini`. */
  model?: string;
  metadata?: Record<string, string>;
}

/** The statuses a run can have: the relay's own list, so the simulator and the relay never disagree. */
export type { RunStatus } from "../../functions/submit-tool-outputs/dialects/assistants/run-state";

export type TerminalStatus = (typeof TERMINAL_RUN_STATUSES)[number];

export const TERMINAL_STATUSES: readonly RunStatus[] = TERMINAL_RUN_STATUSES;

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/**
 * One state the run enters at `from` (epoch ms) and keeps until the next segment starts. The step
 * and message ids are fixed here so the stream and the steps list name the same objects.
 */
export type Segment =
  /** Start of a processing round: the model writes one message (its run step and message ids). */
  | { status: "queued"; from: number; stepId: string; messageId: string }
  | { status: "in_progress"; from: number }
  /** A round of tool calls: the tool_calls run step that carries them. */
  | { status: "requires_action"; from: number; toolCalls: ToolCall[]; stepId: string }
  | { status: TerminalStatus; from: number };

export interface RunRecord {
  readonly threadId: string;
  readonly runId: string;
  readonly assistantId: string;
  readonly model: string;
  readonly metadata: Record<string, string>;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly segments: Segment[];
  /** Script items not consumed yet. */
  readonly script: RunScript[];
  /** Sorted, joined call-id sets of every accepted submission, to catch a set accepted twice. */
  readonly acceptedCallSets: Set<string>;
  /** Accepted outputs by call id: run steps report them, as the real endpoint's do. */
  readonly outputs: Map<string, string>;
  /** `azure`: rendered as Azure's ThreadRun (run-object.ts). */
  readonly dialect?: "azure";
}

export type SubmitOutcome =
  | { kind: "accepted"; at: number; round: Extract<Segment, { status: "requires_action" }>; doubleAcceptance: boolean }
  | { kind: "not_accepting"; status: RunStatus }
  | { kind: "mismatch"; expected: string[]; given: string[] };

/** What a caller sees of a run at an instant. */
export interface RunState {
  status: RunStatus;
  since: number;
  /** The segment the state comes from (a lazily expired run keeps its requires_action segment). */
  segment: Segment;
}

export interface RunStoreConfig {
  processingMs: number;
  ttlMs: number;
  now: () => number;
  /** Given to every run created (see RunRecord.dialect). */
  dialect?: "azure";
}

const FUNCTION_NAMES = ["get_weather", "lookup_order", "convert_currency"] as const;
const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A random id of `[A-Za-z0-9_]` only, because the relay rejects anything else in a URL path. */
export function newId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let id = `${prefix}_`;
  for (const byte of bytes) id += ID_ALPHABET[byte % ID_ALPHABET.length];
  return id;
}

/** Names each requested call after one of the simulated assistant's function tools. */
export function toolCallsFor(spec: number | string[]): ToolCall[] {
  const ids = typeof spec === "number" ? Array.from({ length: spec }, () => newId("call")) : spec;
  if (ids.length === 0) throw new RangeError("a tool call round needs at least one call");
  return ids.map((id, index) => {
    const name = FUNCTION_NAMES[index % FUNCTION_NAMES.length]!;
    return { id, type: "function", function: { name, arguments: JSON.stringify({ query: `q${index + 1}` }) } };
  });
}

/** The state at instant `at`; a run paused past its `expires_at` reads as expired. */
export function stateAt(run: RunRecord, at: number): RunState {
  let current: Segment = run.segments[0]!;
  for (const segment of run.segments) {
    if (segment.from > at) break;
    current = segment;
  }
  if (current.status === "requires_action" && at >= run.expiresAt) {
    return { status: "expired", since: Math.max(run.expiresAt, current.from), segment: current };
  }
  return { status: current.status, since: current.from, segment: current };
}

/** When the run entered the resting state it has at `at` (requires_action, or a terminal status); undefined while it moves. */
export function restingSince(run: RunRecord, at: number): number | undefined {
  const state = stateAt(run, at);
  return state.status === "requires_action" || TERMINAL_STATUSES.includes(state.status) ? state.since : undefined;
}

/** How many submissions the run had accepted by instant `at` (drives usage numbers). */
export function acceptedRoundsAt(run: RunRecord, at: number): number {
  return run.segments.filter((s, i) => i > 0 && s.status === "queued" && s.from <= at).length;
}

/** When the run first went in_progress by instant `at`, if it did. */
export function startedAt(run: RunRecord, at: number): number | undefined {
  const first = run.segments[0]!;
  if (first.status === "requires_action") return first.from;
  return run.segments.find((s) => s.status === "in_progress" && s.from <= at)?.from;
}

/** The instant the run reaches its next resting state (requires_action or terminal) after `from`. */
export function nextRestAfter(run: RunRecord, from: number): Segment | undefined {
  return run.segments.find((s) => s.from > from && (s.status === "requires_action" || TERMINAL_STATUSES.includes(s.status)));
}

export class RunStore {
  readonly #threads = new Map<string, Map<string, RunRecord>>();
  readonly #config: RunStoreConfig;

  constructor(config: RunStoreConfig) {
    this.#config = config;
  }

  /** A run already paused in requires_action, as if the model had just asked for tools. */
  create(opts: CreateRunOptions = {}): RunRecord {
    const createdAt = this.#config.now();
    const toolCalls = toolCallsFor(opts.toolCalls ?? 1);
    const round: Segment = { status: "requires_action", from: createdAt, toolCalls, stepId: newId("step") };
    return this.#add(opts, createdAt, [round], [...(opts.afterOutputs ?? ["completed"])]);
  }

  /**
   * A run that starts queued, as `POST /threads/runs` creates it, and follows `script` from the start.
   * @example store.createQueued({ metadata }, [{ requiresAction: 2 }, "completed"])
   */
  createQueued(opts: CreateRunOptions, script: RunScript[]): RunRecord {
    const createdAt = this.#config.now();
    const run = this.#add(opts, createdAt, [], script);
    this.#planProcessing(run, createdAt);
    return run;
  }

  get(threadId: string, runId: string): RunRecord | undefined {
    return this.#threads.get(threadId)?.get(runId);
  }

  hasThread(threadId: string): boolean {
    return this.#threads.has(threadId);
  }

  /**
   * Applies a submission if the run is waiting for exactly these call ids.
   * @example store.submit(run, [{ tool_call_id: "call_A", output: "{}" }]) // { kind: "accepted", … }
   */
  submit(run: RunRecord, toolOutputs: Array<{ tool_call_id: string; output: string }>): SubmitOutcome {
    const at = this.#config.now();
    const state = stateAt(run, at);
    if (state.status !== "requires_action" || state.segment.status !== "requires_action")
      return { kind: "not_accepting", status: state.status };
    const round = state.segment;
    const callIds = toolOutputs.map((item) => item.tool_call_id);
    const expected = round.toolCalls.map((call) => call.id);
    if (!sameIdSet(expected, callIds)) return { kind: "mismatch", expected, given: callIds };

    const key = [...callIds].sort().join("\u0000");
    const doubleAcceptance = run.acceptedCallSets.has(key);
    run.acceptedCallSets.add(key);
    for (const item of toolOutputs) run.outputs.set(item.tool_call_id, item.output);
    this.#planProcessing(run, at);
    return { kind: "accepted", at, round, doubleAcceptance };
  }

  /** Forces the run to expired now, dropping whatever it had planned. */
  expire(run: RunRecord): void {
    const at = this.#config.now();
    if (stateAt(run, at).status === "expired") return;
    truncateAfter(run, at);
    run.segments.push({ status: "expired", from: at });
  }

  clear(): void {
    this.#threads.clear();
  }

  #add(opts: CreateRunOptions, createdAt: number, segments: Segment[], script: RunScript[]): RunRecord {
    const threadId = opts.threadId ?? newId("thread");
    const runId = opts.runId ?? newId("run");
    const runs = this.#threads.get(threadId) ?? new Map<string, RunRecord>();
    if (runs.has(runId)) throw new Error(`run ${runId} already exists in thread ${threadId}`);
    const run: RunRecord = {
      threadId,
      runId,
      assistantId: opts.assistantId ?? "asst_simulator",
      model: opts.model ?? "gpt-4o-mini",
      metadata: { ...opts.metadata },
      createdAt,
      expiresAt: createdAt + this.#config.ttlMs,
      segments,
      script,
      acceptedCallSets: new Set(),
      outputs: new Map(),
      ...(this.#config.dialect === undefined ? {} : { dialect: this.#config.dialect }),
    };
    runs.set(runId, run);
    this.#threads.set(threadId, runs);
    return run;
  }

  /** Decides now, from the script, everything the run will do until it rests again. */
  #planProcessing(run: RunRecord, at: number): void {
    const { processingMs } = this.#config;
    truncateAfter(run, at);
    run.segments.push(
      { status: "queued", from: at, stepId: newId("step"), messageId: newId("msg") },
      { status: "in_progress", from: at + Math.floor(processingMs / 2) },
    );
    let restAt = at + processingMs;
    for (;;) {
      const item = run.script.shift() ?? "completed";
      if (typeof item === "string") {
        run.segments.push({ status: item, from: restAt });
        return;
      }
      if ("stayInProgressMs" in item) {
        restAt += item.stayInProgressMs;
        continue;
      }
      run.segments.push({ status: "requires_action", from: restAt, toolCalls: toolCallsFor(item.requiresAction), stepId: newId("step") });
      return;
    }
  }
}

function truncateAfter(run: RunRecord, at: number): void {
  const keep = run.segments.filter((s) => s.from <= at);
  run.segments.splice(0, run.segments.length, ...keep);
}

function sameIdSet(expected: string[], given: string[]): boolean {
  if (expected.length !== given.length || new Set(given).size !== given.length) return false;
  const wanted = new Set(expected);
  return given.every((id) => wanted.has(id));
}
