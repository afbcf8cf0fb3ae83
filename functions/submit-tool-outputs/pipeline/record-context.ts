import type { RelayConfig } from "../config/config";
import type { CallOptions } from "../endpoint/endpoint-http";

/** One record's identity and time, as every API's decision sees it. */
export interface RecordContext {
  messageId: string;
  /** `ApproximateReceiveCount`, read once from the record. */
  receiveCount: number;
  /** Epoch ms of the record's first receive (`ApproximateFirstReceiveTimestamp`), when SQS said. */
  firstReceivedAt?: number;
  /** Aborted when the invocation must stop taking work (its deadline). */
  signal: AbortSignal;
  /** Epoch ms of that deadline. */
  deadline: number;
  /** Epoch ms when the Lambda invocation itself ends: how long a claim on a turn holds. */
  leaseUntil: number;
  /** The reason on the relay's own DLQ record when the message came back as that whole record (a redrive). */
  redrivenAfter?: string;
  /** Counts for the record's log line. */
  stats: {
    endpointCalls: number;
    retries: number;
    unconfirmedResubmits: number;
    /** Submissions whose record the state table did not take before the deadline (rule 4; alarmed). */
    unrecordedSubmissions?: number;
  };
}

/** The limits a decision works within (config.ts has their defaults). */
export interface DecisionLimits {
  /** Submit attempts inside one invocation before the message is handed back. */
  maxAttempts: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /** How long one invocation follows a run after submitting. */
  followBudgetMs: number;
  /** Poll interval when the endpoint sends no `openai-poll-after-ms`. */
  pollIntervalMs: number;
}

/** The decision limits the configuration sets. */
export function decisionLimits(config: RelayConfig): DecisionLimits {
  const { maxAttempts, retryBaseDelayMs, retryMaxDelayMs, followBudgetMs, pollIntervalMs } = config;
  return { maxAttempts, retryBaseDelayMs, retryMaxDelayMs, followBudgetMs, pollIntervalMs };
}

/** The options of one endpoint call made for the record (counted for its log line). */
export function callOptions(ctx: RecordContext, signal: AbortSignal = ctx.signal): CallOptions {
  ctx.stats.endpointCalls++;
  return { traceId: ctx.messageId, signal };
}

/** `ApproximateReceiveCount` of a record (1 when SQS did not say). */
export function receiveCountOf(record: { attributes: { ApproximateReceiveCount?: string } }): number {
  return Number(record.attributes.ApproximateReceiveCount) || 1;
}

/** `ApproximateFirstReceiveTimestamp` of a record (undefined when SQS did not say). */
export function firstReceivedAtOf(record: { attributes: { ApproximateFirstReceiveTimestamp?: string } }): number | undefined {
  const at = Number(record.attributes.ApproximateFirstReceiveTimestamp);
  return Number.isFinite(at) && at > 0 ? at : undefined;
}

/** When following must end: the follow budget from now, and never past the invocation's deadline. */
export function followUntil(ctx: RecordContext, limits: Pick<DecisionLimits, "followBudgetMs">): number {
  return Math.min(ctx.deadline, Date.now() + limits.followBudgetMs);
}
