import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { RelaySinks } from "./aws-sinks";
import { runBatch } from "./batch-runner";
import type { RelayConfig } from "./config";
import { decide } from "./decide";
import { parseMessage } from "./message";
import type { Outcome } from "./outcome";
import type { DecisionDeps, RecordContext } from "./record-context";
import { settle } from "./settle";
import type { Telemetry } from "./observability";

export interface RelayParts {
  config: RelayConfig;
  endpoint: DecisionDeps["endpoint"];
  sinks: RelaySinks;
  telemetry: Telemetry;
}

/**
 * The relay: one SQS batch in, a partial batch response out. Each record is parsed, decided (decide.ts)
 * and settled (settle.ts); the batch stops taking work `deadlineReserveMs` before the Lambda deadline
 * or when Middy's timeout signal fires, whichever comes first.
 * @example const relay = createRelay({ config, endpoint, sinks, telemetry }); await relay(event, context, signal);
 */
export function createRelay({ config, endpoint, sinks, telemetry }: RelayParts) {
  const deps: DecisionDeps = {
    endpoint,
    maxAttempts: config.maxAttempts,
    retryBaseDelayMs: config.retryBaseDelayMs,
    retryMaxDelayMs: config.retryMaxDelayMs,
    followBudgetMs: config.followBudgetMs,
    pollIntervalMs: config.pollIntervalMs,
  };

  return async function relay(event: SQSEvent, context: Pick<Context, "getRemainingTimeInMillis">, signal?: AbortSignal): Promise<SQSBatchResponse> {
    const workMs = Math.max(0, context.getRemainingTimeInMillis() - config.deadlineReserveMs);
    const deadline = Date.now() + workMs;
    const stop = AbortSignal.any([AbortSignal.timeout(workMs), ...(signal ? [signal] : [])]);

    const work = async (record: SQSRecord, decideOutcome: (ctx: RecordContext, parsed: ReturnType<typeof parseMessage>) => Promise<Outcome>) => {
      const started = Date.now();
      const ctx: RecordContext = {
        messageId: record.messageId,
        receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
        signal: stop,
        deadline,
        stats: { endpointCalls: 0, retries: 0 },
      };
      try {
        const parsed = parseMessage(record.body);
        const outcome = await decideOutcome(ctx, parsed);
        const settled = await settle(outcome, record, parsed.context, sinks, config);
        telemetry.settled(
          {
            message_id: record.messageId,
            thread_id: parsed.context.thread_id,
            run_id: parsed.context.run_id,
            message_type: parsed.ok ? parsed.message.type : "invalid",
            receive_count: ctx.receiveCount,
            body_bytes: Buffer.byteLength(record.body),
            tool_outputs: parsed.ok && parsed.message.type === "tool_outputs" ? parsed.message.tool_outputs.length : undefined,
            endpoint_calls: ctx.stats.endpointCalls,
            retries: ctx.stats.retries,
            duration_ms: Date.now() - started,
          },
          settled,
        );
        return settled.done;
      } catch (error) {
        telemetry.failedUnexpectedly(record.messageId, error);
        return false;
      }
    };

    return runBatch(event.Records, {
      concurrency: config.batchConcurrency,
      stop,
      process: (record) =>
        work(record, (ctx, parsed) =>
          parsed.ok
            ? decide(parsed.message, ctx, deps)
            : Promise.resolve({ kind: "dead_letter", reason: "invalid_message", detail: parsed.problems.join("; ") }),
        ),
      skip: (record, why) =>
        work(record, async () => ({
          kind: "hand_back",
          reason: why === "deadline" ? "deadline" : "group_blocked",
          detail: why === "deadline" ? "not started before the invocation's deadline" : "an earlier message of its FIFO group was handed back",
        })),
    });
  };
}
