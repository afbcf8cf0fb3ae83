/**
 * Fault injection: faults queued by a test (`inject`) are used first, in order; then, when set,
 * the seeded random mode rolls for each matching request. Only the relay's calls are faulted: submits
 * and reads of a run (GET run, GET run steps), and in the Responses API continuations, response reads,
 * cancels and conversation reads. `POST /threads/runs`, first-turn `POST /responses` and
 * `POST /conversations` are how the demo starts a chain, not relay calls.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { agentReplies } from "./agent-replies";
import { type Reply, replies, sendReply } from "./replies";
import { responseReplies } from "./response-replies";
import type { Fault, FaultKind, RandomFaults, SimulatorCounters } from "./types";

export const FAULT_KINDS: readonly FaultKind[] = [
  "rate_limit",
  "insufficient_quota",
  "server_error",
  "gateway_failure",
  "unauthorized",
  "slow",
  "drop",
  "accept_then_500",
  "stream_error",
  "conversation_locked",
  "stream_cut_after_created",
  "accept_then_drop",
  "service_unavailable",
  "invalid_request",
];

export const FAULT_ROUTES: readonly Fault["on"][] = [
  "submit",
  "get",
  "response_create",
  "response_get",
  "response_cancel",
  "conversation_items",
  "agent_events",
  "agent_get",
  "agent_stream",
  "any",
];

const FAULT_KEYS = new Set([
  "on",
  "kind",
  "retryAfterMs",
  "retryAfterSeconds",
  "delayMs",
  "times",
  "runId",
  "responseId",
  "conversationId",
  "sessionId",
]);
const RANDOM_KEYS = new Set(["probability", "kinds", "seed", "on", "retryAfterMs", "delayMs"]);

/** The request a fault may apply to. */
export interface FaultTarget {
  route: Exclude<Fault["on"], "any">;
  runId?: string;
  /** The response the request is about (path id, or a continuation's previous_response_id). */
  responseId?: string;
  /** The conversation the request is about (path id, or a continuation's conversation). */
  conversationId?: string;
  /** The Agents API session the request is about. */
  sessionId?: string;
  stream: boolean;
}

interface PendingFault {
  fault: Fault;
  remaining: number;
}

interface RandomMode {
  opts: RandomFaults;
  next: () => number;
}

/** Whether a kind makes sense for this request at all; a kind that does not is not used up on it. */
function fits(kind: FaultKind, target: FaultTarget): boolean {
  const creates = target.route === "submit" || target.route === "response_create" || target.route === "agent_events";
  if (kind === "accept_then_500") return creates;
  if (kind === "accept_then_drop") return target.route === "agent_events";
  if (kind === "stream_error") return (creates && target.stream) || target.route === "agent_stream";
  if (kind === "stream_cut_after_created") return target.route === "response_create" && target.stream;
  if (kind === "conversation_locked") return target.route === "response_create" && target.conversationId !== undefined;
  return true;
}

/** Whether the fault's own filters (run, response, conversation) let it apply to this request. */
function selects(fault: Fault, target: FaultTarget): boolean {
  return (
    (fault.runId === undefined || fault.runId === target.runId) &&
    (fault.responseId === undefined || fault.responseId === target.responseId) &&
    (fault.conversationId === undefined || fault.conversationId === target.conversationId) &&
    (fault.sessionId === undefined || fault.sessionId === target.sessionId)
  );
}

function aims(on: Fault["on"], target: FaultTarget): boolean {
  return on === "any" || on === target.route;
}

/**
 * mulberry32: tiny, fast, and the same sequence for the same seed on every platform.
 * @example const next = seededRandom(42); next() // 0.6011…
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function checkKeys(what: string, value: object, allowed: Set<string>): void {
  const unknown = Object.keys(value).filter((key) => !allowed.has(key));
  if (unknown.length > 0) throw new TypeError(`${what}: unknown option(s) ${unknown.join(", ")}`);
}

function checkKind(kind: unknown): void {
  if (!FAULT_KINDS.includes(kind as FaultKind)) throw new TypeError(`unknown fault kind ${String(kind)}`);
}

function checkOn(on: unknown): void {
  if (!FAULT_ROUTES.includes(on as Fault["on"]))
    throw new TypeError(`fault "on" must be one of ${FAULT_ROUTES.join(", ")}, got ${String(on)}`);
}

export class FaultPlan {
  #pending: PendingFault[] = [];
  #random: RandomMode | undefined;

  /**
   * Queues faults; each applies to its next `times` matching requests.
   * @example plan.inject({ on: "submit", kind: "rate_limit", retryAfterMs: 20, times: 2 })
   */
  inject(...faults: Fault[]): void {
    for (const fault of faults) {
      checkKeys("fault", fault, FAULT_KEYS);
      checkOn(fault.on);
      checkKind(fault.kind);
      const remaining = fault.times ?? 1;
      if (!Number.isInteger(remaining) || remaining < 1) throw new RangeError(`fault "times" must be a positive integer, got ${remaining}`);
      this.#pending.push({ fault: { ...fault }, remaining });
    }
  }

  /**
   * Turns the random fault mode on (or off with undefined).
   * @example plan.setRandom({ probability: 0.2, kinds: ["server_error", "drop"], seed: 7 })
   */
  setRandom(opts: RandomFaults | undefined): void {
    if (opts === undefined) {
      this.#random = undefined;
      return;
    }
    checkKeys("random faults", opts, RANDOM_KEYS);
    if (!(opts.probability >= 0 && opts.probability <= 1))
      throw new RangeError(`probability must be within [0, 1], got ${opts.probability}`);
    if (opts.kinds.length === 0) throw new RangeError("random faults need at least one kind");
    opts.kinds.forEach(checkKind);
    checkOn(opts.on ?? "any");
    this.#random = { opts: { ...opts, kinds: [...opts.kinds] }, next: seededRandom(opts.seed ?? 1) };
  }

  /** The fault to apply to this request, if any; consumes one use of it. */
  take(target: FaultTarget): Fault | undefined {
    const index = this.#pending.findIndex(({ fault }) => aims(fault.on, target) && selects(fault, target) && fits(fault.kind, target));
    if (index >= 0) {
      const pending = this.#pending[index]!;
      pending.remaining -= 1;
      if (pending.remaining === 0) this.#pending.splice(index, 1);
      return pending.fault;
    }
    return this.#roll(target);
  }

  reset(): void {
    this.#pending = [];
    this.#random = undefined;
  }

  #roll(target: FaultTarget): Fault | undefined {
    const random = this.#random;
    if (random === undefined || !aims(random.opts.on ?? "any", target)) return undefined;
    // Both draws happen for every matching request so the sequence depends only on the seed and the request order.
    const hit = random.next() < random.opts.probability;
    const kind = random.opts.kinds[Math.floor(random.next() * random.opts.kinds.length)]!;
    if (!hit || !fits(kind, target)) return undefined;
    return { on: target.route, kind, retryAfterMs: random.opts.retryAfterMs ?? 10, delayMs: random.opts.delayMs ?? 100 };
  }
}

/**
 * The answer a fault gives instead of the real one, for the faults that answer at all (the others drop the
 * connection, delay, or act on the request first).
 */
export function faultReply(fault: Fault): Reply | undefined {
  switch (fault.kind) {
    case "rate_limit":
      return replies.rateLimited(fault.retryAfterMs, fault.retryAfterSeconds);
    case "insufficient_quota":
      return replies.insufficientQuota();
    case "server_error":
      return replies.serverError();
    case "gateway_failure":
      return replies.gatewayFailure();
    case "unauthorized":
      return replies.invalidApiKey();
    case "conversation_locked":
      return responseReplies.conversationLocked();
    case "service_unavailable":
      return agentReplies.serviceUnavailable(fault.retryAfterSeconds ?? 1);
    case "invalid_request":
      return agentReplies.invalidRequest();
    default:
      return undefined;
  }
}

/**
 * Plays a fault taken for a call, the same way on every API's routes: counts it, drops the connection, waits (a slow
 * answer, then the call goes on) or answers in its stead. True when the call was answered or dropped.
 */
export async function playFault(
  fault: Fault | undefined,
  call: { req: IncomingMessage; res: ServerResponse; answerHeaders: () => Record<string, string> },
  counters: Pick<SimulatorCounters, "faultsInjected">,
  closing: AbortSignal,
): Promise<boolean> {
  if (fault === undefined) return false;
  counters.faultsInjected += 1;
  if (fault.kind === "drop") {
    call.req.socket.destroy();
    return true;
  }
  if (fault.kind === "slow") await sleep(fault.delayMs ?? 1000, undefined, { signal: closing });
  const instead = faultReply(fault);
  if (instead === undefined) return false;
  sendReply(call.res, instead, call.answerHeaders());
  return true;
}
