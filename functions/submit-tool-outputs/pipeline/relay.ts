import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { RelayCollector } from "../collect/collector-on-first-use";
import type { RelayConfig } from "../config/config";
import { errorName, StateUnavailableError } from "../config/errors";
import { type ApiMessage, type Dialects, endpointOf } from "../dialects/index";
import type { RelaySinks } from "../out/aws-sinks";
import type { Telemetry } from "../out/observability";
import { withinRecord } from "../state/call-deadline";
import { runBatch } from "./batch-runner";
import { parseMessage, type RelayMessage } from "./message";
import type { Outcome } from "./outcome";
import { firstReceivedAtOf, type RecordContext, receiveCountOf } from "./record-context";
import { pause } from "./retry-timing";
import { settle } from "./settle";

export interface RelayParts {
  config: RelayConfig;
  /** The dialect of each API this deployment serves (dialects/index.ts); a message of another API is dead-lettered. */
  dialects: Dialects;
  /** Collecting outputs (`"collect": true`); none without the state table. */
  collector?: RelayCollector;
  sinks: RelaySinks;
  telemetry: Telemetry;
  /** Records deciding now, across invocations: the sinks send a call at once when none is (nothing more can join it). */
  deciding?: { count: number };
}

/**
 * The relay: one SQS batch in, a partial batch response out. Each record is parsed (message.ts), decided by
 * its API's dialect and settled (settle.ts); the batch stops taking work `deadlineReserveMs` before the
 * Lambda deadline and answers, with whatever is not done handed back, at half of that.
 * @example const relay = createRelay({ config, dialects, sinks, telemetry }); await relay(event, context, signal);
 */
export function createRelay({ config, dialects, collector, sinks, telemetry, deciding = { count: 0 } }: RelayParts) {
  // The collector's checks ask only the APIs whose messages may collect (each dialect built on first use).
  let collectingApis: Promise<CollectingApis> | undefined;
  const collecting = () => {
    collectingApis ??= collectingOf(dialects).catch((error) => {
      collectingApis = undefined;
      throw error;
    });
    return collectingApis;
  };
  const noTable: Outcome = {
    kind: "hand_back",
    reason: "not_configured",
    detail: "RELAY_STATE_TABLE is not set: collecting needs the state table",
  };

  /** Who decides: a collection's check, the collector for a collecting message, else the message's API. */
  const decideRecord = async (message: RelayMessage, record: SQSRecord, ctx: RecordContext): Promise<Outcome> => {
    if (message.type === "collect_check") return collector ? collector.check(message, await collecting(), ctx) : noTable;
    const dialect = await dialects[message.api]?.();
    if (dialect === undefined) return notConfigured(message);
    const turns = dialect.collecting;
    if (message.type === "tool_outputs" && "collect" in message && message.collect === true && turns !== undefined)
      return collector ? collector.collect(message, { ...dialect, collecting: turns }, record, ctx) : noTable;
    return dialect.decide(message, ctx);
  };

  return async function relay(
    event: SQSEvent,
    context: Pick<Context, "getRemainingTimeInMillis">,
    signal?: AbortSignal,
  ): Promise<SQSBatchResponse> {
    // Two moments before the Lambda deadline: `stop` (no new record starts, endpoint calls end) at the
    // reserve, and `cutoff` (the answer goes out, whatever is still settling is handed back) at half of
    // it. Middy's own early timeout, at a quarter, is never reached when the sinks answer in time.
    const invokedAt = Date.now();
    const remaining = context.getRemainingTimeInMillis();
    const workMs = Math.max(0, remaining - config.deadlineReserveMs);
    const deadline = invokedAt + workMs;
    const middy = signal ? [signal] : [];
    const stop = AbortSignal.any([AbortSignal.timeout(workMs), ...middy]);
    const cutoff = AbortSignal.any([AbortSignal.timeout(Math.max(0, remaining - Math.ceil(config.deadlineReserveMs / 2))), ...middy]);

    /** Decides (or takes the given outcome of) one record, carries it out, logs it; never throws. */
    const work = async (record: SQSRecord, preset?: Outcome): Promise<boolean> => {
      const started = Date.now();
      const ctx: RecordContext = {
        messageId: record.messageId,
        receiveCount: receiveCountOf(record),
        firstReceivedAt: firstReceivedAtOf(record),
        signal: stop,
        deadline,
        leaseUntil: invokedAt + remaining,
        stats: { endpointCalls: 0, retries: 0, unconfirmedResubmits: 0 },
      };
      const parsed = parseMessage(record.body);
      if (parsed.ok && parsed.redrivenAfter) ctx.redrivenAfter = parsed.redrivenAfter;
      // What a DLQ record or a collection keeps of it: its innermost original, never a record inside a record.
      const kept = parsed.original === record.body ? record : { ...record, body: parsed.original };
      const api: ApiMessage | undefined = parsed.ok && parsed.message.type !== "collect_check" ? parsed.message : undefined;
      let outcome: Outcome;
      deciding.count++;
      try {
        // Every state-table call of the decision ends by the invocation's cutoff (rule 11, state/call-deadline.ts).
        const decideOnce = (message: RelayMessage) => withinRecord(cutoff, () => decideRecord(message, kept, ctx));
        outcome =
          preset ?? (parsed.ok ? await triedOnLastReceive(() => decideOnce(parsed.message), ctx, config) : invalid(parsed.problems));
      } catch (error) {
        // The state table or bucket not answering is an outage, not a bug: tried again later, without an error log.
        if (error instanceof StateUnavailableError) outcome = { kind: "hand_back", reason: "state_unavailable", detail: error.message };
        else {
          telemetry.failedUnexpectedly(record.messageId, error);
          outcome = {
            kind: "hand_back",
            reason: "unexpected_error",
            detail: `the relay failed unexpectedly (${errorName(error)})`,
          };
        }
      } finally {
        deciding.count--;
      }
      // The API's dialect is built by now when its message was decided (else there is nothing to follow up).
      const followUpIfTaken = api ? (await dialects[api.api]?.().catch(() => undefined))?.followUpIfTaken(api) : undefined;
      const message = {
        record: kept,
        context: parsed.context,
        receiveCount: ctx.receiveCount,
        invokedAt,
        followUpIfTaken,
        functionTimeoutMs: remaining,
      };
      const settled = await settle(outcome, message, { sinks, limits: config, signal: cutoff });
      // Rule 2: whether a collected set's event named its parts (else the round's check tells them), or was refused by
      // SNS, or may have gone out all the same (its answer lost): then its parts are never dead-lettered as unpublished.
      const round = outcome.kind === "report" ? outcome.round : undefined;
      if (round && collector) {
        const fate = settled.result === "reported" ? "published" : settled.publishMayHaveLanded ? "unknown" : "refused";
        await withinRecord(cutoff, () => collector.told(round, fate, record.messageId)).catch(() => undefined);
      }
      try {
        const { metadata: _metadata, ...ids } = parsed.context;
        telemetry.settled(
          {
            message_id: record.messageId,
            api: api?.api,
            ...ids,
            message_type: parsed.ok ? parsed.message.type : "invalid",
            receive_count: ctx.receiveCount,
            body_bytes: Buffer.byteLength(record.body),
            tool_outputs: parsed.ok && "tool_outputs" in parsed.message ? parsed.message.tool_outputs.length : undefined,
            endpoint_calls: ctx.stats.endpointCalls,
            retries: ctx.stats.retries,
            unconfirmed_resubmits: ctx.stats.unconfirmedResubmits || undefined,
            unrecorded_submissions: ctx.stats.unrecordedSubmissions || undefined,
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

/** Decisions tried on the last receive while the state table fails, before the message is given up. */
const LAST_RECEIVE_TRIES = 3;

/**
 * On the last receive a decision that failed on the state table (a lost answer, a throttle) is tried again, a few
 * times within the invocation: no later receive will, and a message given up now may be one an earlier receive
 * reported (its publish landed, its answer lost). Decisions are safe to repeat: a redelivery does exactly that.
 */
async function triedOnLastReceive(
  decide: () => Promise<Outcome>,
  ctx: RecordContext,
  limits: Pick<RelayConfig, "maxReceiveCount">,
): Promise<Outcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await decide();
    } catch (error) {
      const again = error instanceof StateUnavailableError && ctx.receiveCount >= limits.maxReceiveCount && attempt < LAST_RECEIVE_TRIES;
      if (!again || !(await pause(200 * attempt, ctx))) throw error;
    }
  }
}

/** A message of an API this deployment has no endpoint for: no later receive can do better. */
function notConfigured(message: ApiMessage): Outcome {
  const { variable, contextOption } = endpointOf(message.api);
  return {
    kind: "dead_letter",
    reason: "api_not_configured",
    detail: `the ${message.api} API is not configured in this deployment: set ${variable} (context option ${contextOption})`,
  };
}

function invalid(problems: string[]): Outcome {
  return { kind: "dead_letter", reason: "invalid_message", detail: problems.join("; ") };
}

type CollectingApis = Parameters<RelayCollector["check"]>[1];

/** Every collecting API's collecting and decide, for a collection's check (which may be of any of them). */
async function collectingOf(dialects: Dialects): Promise<CollectingApis> {
  const built = await Promise.all(Object.entries(dialects).map(async ([api, load]) => [api, await load?.()] as const));
  return Object.fromEntries(
    built.flatMap(([api, dialect]) =>
      dialect?.collecting
        ? [
            [
              api,
              { collecting: dialect.collecting, decide: (message: unknown, ctx: RecordContext) => dialect.decide(message as never, ctx) },
            ],
          ]
        : [],
    ),
  );
}
