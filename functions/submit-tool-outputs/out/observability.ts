import { AsyncLocalStorage } from "node:async_hooks";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { METRICS, METRICS_NAMESPACE, SERVICE_NAME } from "../config/names";
import type { MessageIds } from "../dialects/index";
import type { Settled } from "../pipeline/settle";

/** Structured JSON logs (Powertools Logger). Only ids, sizes, counts, reasons and timings are ever logged. */
export const logger = new Logger({ serviceName: SERVICE_NAME });

/** CloudWatch EMF metrics (Powertools Metrics), flushed once per invocation by the middleware. */
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });

/** What the relay reports about its work; the handler wires it to Powertools, tests may capture it. */
export interface Telemetry {
  settled(line: RecordLogLine, settled: Settled): void;
  endpointCall(ms: number): void;
  failedUnexpectedly(messageId: string, error: unknown): void;
}

/** A record's log line: its ids (as far as its message carries them), what became of it, counts and timings. */
export type RecordLogLine = RecordLogFields & MessageIds;

export interface RecordLogFields {
  message_id: string;
  api?: string;
  message_type?: string;
  receive_count: number;
  body_bytes: number;
  tool_outputs?: number;
  endpoint_calls: number;
  retries: number;
  /** Responses: POSTs sent again after an ambiguous failure (RESPONSES_UNCONFIRMED=resubmit); each may fork. */
  unconfirmed_resubmits?: number;
  /** Responses: submissions whose claim record the state table did not take before the deadline (handed back). */
  unrecorded_submissions?: number;
  duration_ms: number;
}

type CountMetric = Exclude<(typeof METRICS)[keyof typeof METRICS], "EndpointLatency">;

interface Tally {
  counts: Map<CountMetric, number>;
  latenciesMs: number[];
  /** Added to the metrics document already: what comes later (a record still settling after the answer) goes straight in. */
  added: boolean;
}

/**
 * The invocation's metrics, tallied as records settle and added to Powertools' document once, when the invocation's
 * work ends (`withMetricsTally`): one `addMetric` per metric and invocation instead of several per record. Scoped by
 * the async context, as Powertools scopes its document: invocations that share a process (the local stack) keep theirs.
 */
const tallies = new AsyncLocalStorage<Tally>();

function count(name: CountMetric, n = 1): void {
  const tally = tallies.getStore();
  if (tally === undefined || tally.added) metrics.addMetric(name, MetricUnit.Count, n);
  else tally.counts.set(name, (tally.counts.get(name) ?? 0) + n);
}

/**
 * Runs one invocation's work with its own tally, then adds the tally to the invocation's metrics document (before
 * Powertools' middleware writes it).
 * @example return withMetricsTally(() => relay(event, context, signal));
 */
export async function withMetricsTally<T>(work: () => Promise<T>): Promise<T> {
  const tally: Tally = { counts: new Map(), latenciesMs: [], added: false };
  try {
    return await tallies.run(tally, work);
  } finally {
    for (const [name, n] of tally.counts) metrics.addMetric(name, MetricUnit.Count, n);
    for (const ms of tally.latenciesMs) metrics.addMetric(METRICS.EndpointLatency, MetricUnit.Milliseconds, ms);
    tally.added = true;
  }
}

export const powertoolsTelemetry: Telemetry = {
  settled(line, settled) {
    const entry = { ...line, outcome: settled.result, reason: settled.reason, via: settled.via, run_status: settled.status };
    if (settled.result === "dead_lettered") logger.warn("message dead-lettered", entry);
    else if (settled.result === "handed_back") logger.warn("message handed back", entry);
    else logger.info("message settled", entry);

    if (settled.result === "reported" && settled.via !== "watched") count(METRICS.Accepted);
    if (settled.result === "reported") count(METRICS.ResultsPublished);
    if (settled.result === "watching") count(METRICS.WatchesScheduled);
    if (settled.result === "handed_back") count(METRICS.HandedBack);
    // 401/403/insufficient_quota: the configuration is wrong, not the message (the stack alarms on it).
    if (settled.reason === "unauthorized" || settled.reason === "quota_exceeded" || settled.reason === "endpoint_misconfigured")
      count(METRICS.EndpointRefused);
    if (settled.result === "collected") count(METRICS.Collected);
    if (settled.result === "checked") count(METRICS.CollectChecks);
    // Every result adds a metric to the invocation's document, so Powertools never warns of an empty one (a WARN
    // line in every invocation of only collected messages); the total beside the by-reason count below.
    if (settled.result === "dead_lettered") {
      count(METRICS.DeadLettered);
      const single = metrics.singleMetric();
      single.addDimension("reason", settled.reason ?? "unknown");
      single.addMetric(METRICS.DeadLettered, MetricUnit.Count, 1);
    }
    if (line.retries > 0) count(METRICS.Retries, line.retries);
    if (line.unconfirmed_resubmits) count(METRICS.UnconfirmedResubmits, line.unconfirmed_resubmits);
    if (line.unrecorded_submissions) count(METRICS.SubmissionsUnrecorded, line.unrecorded_submissions);
  },
  endpointCall(ms) {
    const tally = tallies.getStore();
    if (tally === undefined || tally.added) metrics.addMetric(METRICS.EndpointLatency, MetricUnit.Milliseconds, ms);
    else tally.latenciesMs.push(ms);
  },
  failedUnexpectedly(messageId, error) {
    // The error's name and stack frames only: its message could quote input (JSON.parse's do).
    const frames = String((error as Error)?.stack ?? "")
      .split("\n")
      .filter((line) => line.trimStart().startsWith("at "));
    logger.error("record failed unexpectedly", { message_id: messageId, error_name: (error as Error)?.name, stack: frames.join("\n") });
  },
};
