import { setTimeout as sleep } from "node:timers/promises";
import type { CallOptions, EndpointClient } from "./endpoint-client";

/** What deciding one message needs: the endpoint (passed in, so tests and the local stack can point it anywhere) and the limits. */
export interface DecisionDeps {
  endpoint: Pick<EndpointClient, "submitToolOutputs" | "getRun" | "listToolCallSteps">;
  maxAttempts: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  followBudgetMs: number;
  pollIntervalMs: number;
}

/** One record's identity and time. */
export interface RecordContext {
  messageId: string;
  receiveCount: number;
  /** Aborted when the invocation must stop taking work (its deadline). */
  signal: AbortSignal;
  /** Epoch ms of that deadline. */
  deadline: number;
  /** Counts for the record's log line. */
  stats: { endpointCalls: number; retries: number };
}

export function callOptions(ctx: RecordContext, signal: AbortSignal = ctx.signal): CallOptions {
  ctx.stats.endpointCalls++;
  return { traceId: ctx.messageId, signal };
}

/**
 * Exponential backoff with jitter as openai-node does it (base × 2^n, capped, minus up to 25 %),
 * or the server's own `retry-after` when it gave one.
 */
export function backoffMs(attempt: number, deps: DecisionDeps, retryAfterMs?: number, random = Math.random): number {
  if (retryAfterMs !== undefined) return retryAfterMs;
  const ceiling = Math.min(deps.retryBaseDelayMs * 2 ** (attempt - 1), deps.retryMaxDelayMs);
  return ceiling * (1 - 0.25 * random());
}

/** Waits `ms` unless that would pass the deadline or the invocation stops; says whether it waited. */
export async function pause(ms: number, ctx: RecordContext, until = ctx.deadline): Promise<boolean> {
  if (Date.now() + ms >= until || ctx.signal.aborted) return false;
  try {
    await sleep(ms, undefined, { signal: ctx.signal });
    return true;
  } catch {
    return false;
  }
}
