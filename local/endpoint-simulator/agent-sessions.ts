/**
 * The Agents API's sessions, turns and items, in memory. As for runs and responses, a session's life is a
 * timeline decided when something happens (creation, an admitted result, a cancel); reading computes the state
 * at the clock's instant (`advance` only materialises what the clock already passed), so there are no timers.
 *
 * A turn asks for a round of function calls (and optionally MCP approvals); it waits until every one of them is
 * answered, works for `processingMs`, then does the next item of its script: another round, or an ending.
 * What the real API does with partial results is not documented; waiting for the whole round is the stricter
 * case for a relay (a turn that resumed after each result would only end sooner).
 */
import { createHash } from "node:crypto";
import { newId } from "./runs";

/** What a turn does once a round is answered (and, for a turn started over HTTP, right after it starts). */
export type AgentScript =
  | "completed"
  | "failed"
  | "cancelled"
  /** The whole session fails (status `failed`, `error` set); its turn ends failed. */
  | "session_failed"
  | { functionCalls: number | string[]; approvals?: number }
  /** Stay in progress this much longer, then do the next script item. */
  | { stayInProgressMs: number };

export interface AgentCall {
  callId: string;
  itemId: string;
  name: string;
  arguments: Record<string, unknown>;
  /** When its `function_call` item appears in the turn's items. */
  addedAt: number;
  /** When it becomes pending (listed in `required_actions`); before that a result for it is the registration race. */
  registeredAt: number;
}

export interface AgentApproval {
  requestId: string;
  registeredAt: number;
  serverLabel: string;
  name: string;
}

export interface AgentResult {
  callId: string;
  itemId: string;
  success: boolean;
  output: unknown;
  error: string | null;
  at: number;
}

export interface AgentRound {
  calls: AgentCall[];
  approvals: AgentApproval[];
}

export interface AgentTurnRecord {
  id: string;
  createdAt: number;
  /** The user message that started it (absent for a test-seeded turn). */
  input?: { itemId: string; text: string };
  script: AgentScript[];
  rounds: AgentRound[];
  results: AgentResult[];
  approvalsAnswered: Map<string, { decision: string; at: number }>;
  /** When the turn works again after its last round was answered (or after it started). */
  resumedAt: number;
  ending?: { status: "completed" | "failed" | "cancelled"; at: number; messageItemId?: string };
}

export interface AgentSessionRecord {
  id: string;
  createdAt: number;
  metadata: Record<string, string>;
  model: string;
  instructions: string | null;
  /** Function tools: calls are named after them. */
  tools: Array<{ name: string; description: string }>;
  turns: AgentTurnRecord[];
  failed?: { at: number; error: string };
  registrationDelayMs: number;
  /** What a new turn started by an input message does (from `metadata.sim_tool_calls` / `sim_then`). */
  newTurnScript: AgentScript[];
  /** `Idempotency-Key` → digest of the body it was first admitted with. */
  keys: Map<string, string>;
  /** Admissions per call id: the counter a test reads (one per call id for a correct client). */
  admissions: Map<string, number>;
}

export const SIMULATED_AGENT_TOOLS = [
  { name: "get_weather", description: "Current weather for a city." },
  { name: "lookup_order", description: "An order's status by id." },
  { name: "convert_currency", description: "Converts an amount between currencies." },
];

export class AgentSessionStore {
  readonly #sessions = new Map<string, AgentSessionRecord>();
  readonly #processingMs: number;

  constructor(processingMs: number) {
    this.#processingMs = processingMs;
  }

  get(id: string): AgentSessionRecord | undefined {
    return this.#sessions.get(id);
  }

  all(): IterableIterator<AgentSessionRecord> {
    return this.#sessions.values();
  }

  delete(id: string): void {
    this.#sessions.delete(id);
  }

  clear(): void {
    this.#sessions.clear();
  }

  /** A new session; with `firstTurn`, a turn starts at once (its first round after `processingMs`, or at once when `waiting`). */
  create(opts: {
    id?: string;
    at: number;
    metadata: Record<string, string>;
    model: string;
    instructions: string | null;
    registrationDelayMs: number;
    newTurnScript: AgentScript[];
  }): AgentSessionRecord {
    const id = opts.id ?? newId("sess");
    if (this.#sessions.has(id)) throw new TypeError(`endpoint simulator: session ${id} exists`);
    const session: AgentSessionRecord = {
      id,
      createdAt: opts.at,
      metadata: { ...opts.metadata },
      model: opts.model,
      instructions: opts.instructions,
      tools: SIMULATED_AGENT_TOOLS,
      turns: [],
      registrationDelayMs: opts.registrationDelayMs,
      newTurnScript: opts.newTurnScript,
      keys: new Map(),
      admissions: new Map(),
    };
    this.#sessions.set(id, session);
    return session;
  }

  /**
   * Starts a turn at `at`. `script[0]`, when it is a round, is applied after `processingMs` (`immediate`: at `at`,
   * for a test that wants the session already waiting).
   */
  startTurn(
    session: AgentSessionRecord,
    at: number,
    script: AgentScript[],
    opts: { input?: string; turnId?: string; immediate?: boolean },
  ): AgentTurnRecord {
    const turn: AgentTurnRecord = {
      id: opts.turnId ?? newId("turn"),
      createdAt: at,
      ...(opts.input === undefined ? {} : { input: { itemId: newId("msg"), text: opts.input } }),
      script: [...script],
      rounds: [],
      results: [],
      approvalsAnswered: new Map(),
      resumedAt: opts.immediate ? at - this.#processingMs : at,
    };
    session.turns.push(turn);
    this.advance(session, at);
    return turn;
  }

  /** Materialises every step of the session's latest turn that the clock has passed. */
  advance(session: AgentSessionRecord, now: number): void {
    if (session.failed !== undefined) return;
    const turn = session.turns.at(-1);
    if (turn === undefined) return;
    while (turn.ending === undefined && roundAnswered(turn)) {
      const at = turn.resumedAt + this.#processingMs;
      if (at > now) return;
      const step = turn.script.shift() ?? "completed";
      if (step === "session_failed") {
        turn.ending = { status: "failed", at };
        session.failed = { at, error: "The agent session failed while processing the turn." };
        return;
      }
      if (typeof step === "object" && "stayInProgressMs" in step) {
        turn.resumedAt = at + step.stayInProgressMs - this.#processingMs;
        continue;
      }
      if (typeof step === "string") {
        turn.ending = { status: step, at, ...(step === "completed" ? { messageItemId: newId("msg") } : {}) };
        return;
      }
      turn.rounds.push(this.#round(session, turn, step, at));
    }
  }

  #round(
    session: AgentSessionRecord,
    turn: AgentTurnRecord,
    step: Extract<AgentScript, { functionCalls: unknown }>,
    at: number,
  ): AgentRound {
    const ids =
      typeof step.functionCalls === "number" ? Array.from({ length: step.functionCalls }, () => newId("call")) : step.functionCalls;
    const registeredAt = at + session.registrationDelayMs;
    const calls = ids.map((callId, index) => {
      const tool = session.tools[(turn.rounds.length + index) % session.tools.length]!;
      return { callId, itemId: newId("fc"), name: tool.name, arguments: argumentsFor(tool.name, index), addedAt: at, registeredAt };
    });
    const approvals = Array.from({ length: step.approvals ?? 0 }, () => ({
      requestId: newId("mcpr"),
      registeredAt,
      serverLabel: "crm",
      name: "update_record",
    }));
    return { calls, approvals };
  }

  /** Ends the running turn as cancelled (`agent.session.input.cancel`). */
  cancel(session: AgentSessionRecord, at: number): boolean {
    const turn = session.turns.at(-1);
    if (turn === undefined || turn.ending !== undefined || session.failed !== undefined) return false;
    turn.ending = { status: "cancelled", at };
    return true;
  }

  /** Records an admitted result; when it completes the round, the turn works again from `at`. */
  admit(session: AgentSessionRecord, turn: AgentTurnRecord, result: Omit<AgentResult, "itemId">): void {
    turn.results.push({ ...result, itemId: newId("fco") });
    session.admissions.set(result.callId, (session.admissions.get(result.callId) ?? 0) + 1);
    if (roundAnswered(turn)) turn.resumedAt = result.at;
  }

  answerApproval(turn: AgentTurnRecord, requestId: string, decision: string, at: number): void {
    turn.approvalsAnswered.set(requestId, { decision, at });
    if (roundAnswered(turn)) turn.resumedAt = at;
  }
}

/** Whether the turn's latest round (if any) has every call and approval answered. */
export function roundAnswered(turn: AgentTurnRecord): boolean {
  const round = turn.rounds.at(-1);
  if (round === undefined) return true;
  const answered = new Set(turn.results.map((result) => result.callId));
  return round.calls.every((call) => answered.has(call.callId)) && round.approvals.every((a) => turn.approvalsAnswered.has(a.requestId));
}

/** The calls of the turn's latest round that are registered and unanswered at `now`. */
export function pendingCalls(turn: AgentTurnRecord, now: number): AgentCall[] {
  const round = turn.rounds.at(-1);
  if (round === undefined || turn.ending !== undefined) return [];
  const answered = new Set(turn.results.map((result) => result.callId));
  return round.calls.filter((call) => call.registeredAt <= now && !answered.has(call.callId));
}

export function pendingApprovals(turn: AgentTurnRecord, now: number): AgentApproval[] {
  const round = turn.rounds.at(-1);
  if (round === undefined || turn.ending !== undefined) return [];
  return round.approvals.filter((approval) => approval.registeredAt <= now && !turn.approvalsAnswered.has(approval.requestId));
}

function argumentsFor(name: string, index: number): Record<string, unknown> {
  if (name === "get_weather") return { city: ["Paris", "Oslo", "Lima"][index % 3] };
  if (name === "lookup_order") return { order_id: `ord_${1000 + index}` };
  return { amount: 10 * (index + 1), from: "EUR", to: "USD" };
}

/** The digest an `Idempotency-Key` is held against: the events as sent (canonical JSON). */
export function bodyDigest(events: unknown): string {
  return createHash("sha256").update(JSON.stringify(events)).digest("hex");
}

/**
 * Reads the demo's knobs from session metadata: `sim_tool_calls` (first round, default "1", "0" ends the turn at
 * once) and `sim_then` (comma list of completed|failed|cancelled|session_failed|function_calls:<n>).
 * @example agentScriptFromMetadata({ sim_tool_calls: "2", sim_then: "function_calls:1,completed" })
 */
export function agentScriptFromMetadata(metadata: Record<string, string>): AgentScript[] | string {
  const count = Number(metadata.sim_tool_calls ?? "1");
  if (!Number.isInteger(count) || count < 0 || count > 128) return "metadata.sim_tool_calls: a count from 0 to 128 as a string";
  const script: AgentScript[] = count > 0 ? [{ functionCalls: count }] : [];
  for (const item of (metadata.sim_then ?? "completed").split(",").map((part) => part.trim())) {
    const more = /^function_calls:(\d+)$/.exec(item);
    if (more !== null && Number(more[1]) > 0) script.push({ functionCalls: Number(more[1]) });
    else if (item === "completed" || item === "failed" || item === "cancelled" || item === "session_failed") script.push(item);
    else return "metadata.sim_then: completed|failed|cancelled|session_failed|function_calls:<n>";
  }
  return script;
}
