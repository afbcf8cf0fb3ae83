/**
 * What the soak's invocations would be billed: each invocation's wall time as Lambda bills it (rounded up to 1 ms),
 * the event source mapping's receives and deletes, the producer's sends and, through request meters, the relay's own
 * AWS calls; and that at list prices, per million messages.
 */
import type { EventSourcePoller, InvocationReport, SqsHandler } from "../../local/event-source-poller";
import type { LocalStack } from "../../local/local-stack";
import { type Assumptions, usageFromCounts } from "./cost-model";
import { type MeterCounts, type RequestMeter, startRequestMeter } from "./request-meter";
import { percentile } from "./stats";

export interface SoakBilling {
  invocations: number;
  /** Per invocation, the wall time rounded up to 1 ms (this machine's CPU, loopback I/O). */
  billedMsP50: number;
  billedMsP95: number;
  billedMsTotal: number;
  /** The event source mapping's non-empty receives and its DeleteMessageBatch calls. */
  esmReceives: number;
  esmDeletes: number;
  /** The producer's SendMessageBatch calls (the soak sends in batches of ten). */
  producerSends: number;
  /** The relay's own requests, when metered. */
  relayRequests?: MeterCounts;
}

/** The stack's defaults (512 MB); the rest of the cost model does not apply to a counted run. */
const ASSUMPTIONS: Assumptions = {
  memoryMb: 512,
  pollIntervalMs: 1000,
  endpointMs: 0,
  followBudgetMs: 3000,
  watchDelaySeconds: 0,
  coldStartShare: 0,
  initMs: 0,
  platformLogBytes: 0,
  fifo: false,
};

/**
 * Counts a soak's billing: give `env`, `wrapHandler` and `onInvocation` to the local stack, then `attach` it.
 * @example const billing = await soakBilling(true); const stack = await startLocalStack({ env: billing.env, … }); billing.attach(stack);
 */
export async function soakBilling(meter: boolean) {
  let stack: LocalStack | undefined;
  const meters: RequestMeter[] = meter
    ? [await startRequestMeter(() => stack!.aws.endpoint), await startRequestMeter(() => stack!.aws.dynamodb.endpoint)]
    : [];
  const billedMs: number[] = [];
  let esmDeletes = 0;
  return {
    /** Points the relay's AWS clients at the meters. */
    env: meters.length > 0 ? { AWS_ENDPOINT_URL: meters[0]!.endpoint, AWS_ENDPOINT_URL_DYNAMODB: meters[1]!.endpoint } : {},
    wrapHandler:
      (handler: SqsHandler): SqsHandler =>
      async (event, context) => {
        const at = performance.now();
        try {
          return await handler(event, context);
        } finally {
          billedMs.push(Math.ceil(performance.now() - at));
        }
      },
    onInvocation(invocation: InvocationReport) {
      esmDeletes += Math.ceil(invocation.deleted.length / 10);
    },
    attach(started: LocalStack) {
      stack = started;
    },
    /** What was counted, for `sent` messages sent. */
    report(poller: EventSourcePoller, sent: number): SoakBilling {
      const relayRequests: MeterCounts = {};
      for (const m of meters) Object.assign(relayRequests, m.counts());
      return {
        invocations: billedMs.length,
        billedMsP50: percentile(billedMs, 50),
        billedMsP95: percentile(billedMs, 95),
        billedMsTotal: billedMs.reduce((a, b) => a + b, 0),
        esmReceives: poller.stats.receives - poller.stats.emptyReceives,
        esmDeletes,
        producerSends: Math.ceil(sent / 10),
        ...(meters.length > 0 ? { relayRequests } : {}),
      };
    },
    close: () => Promise.all(meters.map((m) => m.close())),
  };
}

/** The billing in words: billed time per invocation and, at list prices, what a million such messages cost. */
export function billingLines(b: SoakBilling, sent: number): string[] {
  const usage = usageFromCounts(ASSUMPTIONS, {
    billedMsTotal: b.billedMsTotal,
    invocations: b.invocations,
    otherSqsRequests: b.esmReceives + b.esmDeletes + b.producerSends,
    relayRequests: b.relayRequests,
  }).scaled(1 / sent);
  const d = usage.dollars();
  const perMillion = (usd: number) => `$${(usd * 1e6).toFixed(2)}`;
  const lines = [
    `billed per invocation     p50 ${b.billedMsP50} ms, p95 ${b.billedMsP95} ms (wall time, rounded up to 1 ms; this machine, loopback)`,
    `Lambda per million msgs   ${perMillion(d.lambda)} at ${ASSUMPTIONS.memoryMb} MB Arm (${(b.billedMsTotal / sent).toFixed(1)} billed ms and ${(b.invocations / sent).toFixed(3)} invocations a message)`,
  ];
  if (b.relayRequests) {
    const total = d.lambda + d.sqs + d.sns + d.dynamodb + d.s3;
    lines.push(
      `AWS per million msgs      ${perMillion(total)}: Lambda ${perMillion(d.lambda)}, SQS ${perMillion(d.sqs)}, SNS ${perMillion(d.sns)}, DynamoDB ${perMillion(d.dynamodb)} (list prices, bench/lib/prices.ts; logs not counted)`,
    );
  }
  return lines;
}
