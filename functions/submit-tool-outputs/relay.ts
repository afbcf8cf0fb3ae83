import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { RelaySinks } from "./aws-sinks";
import { runBatch } from "./batch-runner";
import type { RelayConfig } from "./config";
import { decide } from "./decide";
import { parseMessage } from "./message";
import type { Telemetry } from "./observability";
import type { Outcome } from "./outcome";
import type { DecisionDeps, RecordContext } from "./record-context";
import { settle } from "./settle";

export interface RelayParts {
  config: RelayConfig;
  endpoint: DecisionDeps["endpoint"];
  sinks: RelaySinks;
  telemetry: Telemetry;
}

/**
 * The relay: one SQS batch in, a partial batch response out. Each record is parsed, decided (decide.ts)
 * and settled (settle.ts); the batch stops taking work `deadlineReserveMs` before the Lambda deadline
 * and answers, with whatever is not done handed back, at half of that.
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

  return async function relay(
    event: SQSEvent,
    context: Pick<Context, "getRemainingTimeInMillis">,
    signal?: AbortSignal,
  ): Promise<SQSBatchResponse> {
    // Two moments before the Lambda deadline: `stop` (no new record starts, endpoint calls end) at the
    // reserve, and `cutoff` (the answer goes out, whatever is still settling is handed back) at half of
    // it. Middy's own early timeout, at a quarter, is never reached when the sinks answer in time.
    const remaining = context.getRemainingTimeInMillis();
    const workMs = Math.max(0, remaining - config.deadlineReserveMs);
    const deadline = Date.now() + workMs;
    const middy = signal ? [signal] : [];
    const stop = AbortSignal.any([AbortSignal.timeout(workMs), ...middy]);
    const cutoff = AbortSignal.any([AbortSignal.timeout(Math.max(0, remaining - Math.ceil(config.deadlineReserveMs / 2))), ...middy]);

    /** Decides (or takes the given outcome of) one record, carries it out, logs it; never throws. */
    const work = async (record: SQSRecord, preset?: Outcome): Promise<boolean> => {
      const started = Date.now();
      const ctx: RecordContext = {
        messageId: record.messageId,
        receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
        signal: stop,
        deadline,
        stats: { endpointCalls: 0, retries: 0 },
      };
      const parsed = parseMessage(record.body);
      let outcome: Outcome;
      try {
        outcome = preset ?? (parsed.ok ? await decide(parsed.message, ctx, deps) : invalid(parsed.problems));
      } catch (error) {
        telemetry.failedUnexpectedly(record.messageId, error);
        outcome = {
          kind: "hand_back",
          reason: "unexpected_error",
          detail: `the relay failed unexpectedly (${(error as Error)?.name ?? "Error"})`,
        };
      }
      const carriesOutputs = parsed.ok && parsed.message.type === "tool_outputs";
      const settled = await settle(outcome, { record, context: parsed.context, carriesOutputs }, sinks, config, cutoff);
      try {
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
      } catch {
        // Telemetry must never turn a settled record into a failed one.
      }
      return settled.done;
    };

    return runBatch(event.Records, {
      concurrency: config.batchConcurrency,
      stop,
      cutoff,
      process: (record) => work(record),
      skip: (record, why) =>
        work(record, {
          kind: "hand_back",
          reason: why,
          detail:
            why === "deadline" ? "not started before the invocation's deadline" : "an earlier message of its FIFO group was handed back",
        }),
    });
  };
}

function invalid(problems: string[]): Outcome {
  return { kind: "dead_letter", reason: "invalid_message", detail: problems.join("; ") };
}
