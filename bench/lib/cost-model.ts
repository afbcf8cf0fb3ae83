/**
 * Cost per message from measured phases (cost-phases.ts) and list prices (prices.ts): a message's life is composed
 * of the phases it goes through — its submission (resting at once, or followed for the rest time, or leaving a
 * watch), the watches that look again every WATCH_DELAY_SECONDS, and for collected outputs the storing and the
 * collection's check — each phase's measured per-invocation figures shared among the invocation's messages.
 * Pure arithmetic: what is measured and what is assumed is in `Assumptions` and the phases.
 */
import type { PhaseFigures } from "./cost-phases";
import { PRICES } from "./prices";
import type { MeterCounts } from "./request-meter";

export interface Assumptions {
  memoryMb: number;
  /** POLL_INTERVAL_MS: in poll mode the rest is seen on average half an interval late, plus one GET. */
  pollIntervalMs: number;
  /** One endpoint call's answer time (the phases were measured with it). */
  endpointMs: number;
  /** FOLLOW_BUDGET_MS for stream and poll mode (watch only: 0). */
  followBudgetMs: number;
  /** WATCH_DELAY_SECONDS. */
  watchDelaySeconds: number;
  /** Share of invocations that start a new execution environment (AWS: under 1 % in production). */
  coldStartShare: number;
  /** Billed INIT time of a cold start (measured: the bundle's import time). */
  initMs: number;
  /** Lambda's own log records per invocation (platform.start / platform.report in JSON format). */
  platformLogBytes: number;
  fifo: boolean;
}

/** The phases of one API at one batch size. */
export interface PhaseSet {
  restPoll: PhaseFigures;
  restStream: PhaseFigures;
  leaveWatch: PhaseFigures;
  watchMoving: PhaseFigures;
  watchRest: PhaseFigures;
  /** A unit of collected turns (figures per unit), and how many turns one unit holds; none for an API that never collects. */
  collect?: { figures: PhaseFigures; turnsPerUnit: number };
  check?: PhaseFigures;
}

export type Mode = "poll" | "stream" | "watch";

/** Billable quantities, per message once divided. */
export class Usage {
  gbSeconds = 0;
  lambdaRequests = 0;
  sqsRequests = 0;
  snsPublishes = 0;
  snsPublishBytes = 0;
  readUnits = 0;
  writeUnits = 0;
  s3Puts = 0;
  s3Gets = 0;
  logBytes = 0;
  secretsCalls = 0;
  invocations = 0;
  billedMs = 0;

  constructor(private readonly a: Assumptions) {}

  /** `share` of a measured unit (1 / its messages), which ran `extraMs` longer per invocation (following a run). */
  add(phase: PhaseFigures, share: number, extraMs = 0): this {
    const gb = this.a.memoryMb / 1024;
    const billed = phase.billedMs + extraMs * phase.invocations;
    this.billedMs += billed * share;
    this.gbSeconds += (billed / 1000) * gb * share;
    this.invocations += phase.invocations * share;
    this.lambdaRequests += phase.invocations * share;
    // The event source mapping's ReceiveMessage and DeleteMessageBatch, one each per invocation.
    this.sqsRequests += 2 * phase.invocations * share;
    this.logBytes += (phase.logBytes + this.a.platformLogBytes * phase.invocations) * share;
    const colds = phase.invocations * this.a.coldStartShare * share;
    this.gbSeconds += colds * (this.a.initMs / 1000) * gb;
    this.secretsCalls += colds;
    for (const [key, line] of Object.entries(phase.requests)) {
      const [service, operation] = key.split(".") as [string, string];
      if (service === "sqs") this.sqsRequests += line.units * share;
      else if (service === "sns" && operation.startsWith("Publish")) {
        this.snsPublishes += line.units * share;
        // FIFO topics bill payload too: a results event is about 1 KiB (only FIFO prices use this).
        this.snsPublishBytes += line.units * 1024 * share;
      } else if (service === "dynamodb") {
        if (/^(Get|Query|Scan|BatchGet)/.test(operation)) this.readUnits += line.units * share;
        else this.writeUnits += line.units * share;
      } else if (service === "s3") {
        if (operation === "PutObject") this.s3Puts += line.calls * share;
        else this.s3Gets += line.calls * share;
      }
    }
    return this;
  }

  plus(other: Usage, factor = 1): this {
    for (const key of Object.keys(this) as Array<keyof Usage>) {
      if (typeof this[key] === "number") (this as unknown as Record<string, number>)[key] += (other[key] as number) * factor;
    }
    return this;
  }

  /** This usage times `factor` (a turn's usage over its messages). */
  scaled(factor: number): Usage {
    return new Usage(this.a).plus(this, factor);
  }

  /** The producer's SendMessage of each message (one request each: tool workers send as their outputs come). */
  withProducerSends(perMessage: number): this {
    this.sqsRequests += perMessage;
    return this;
  }

  /** US dollars by service for what this usage holds. */
  dollars(): Record<"lambda" | "sqs" | "sns" | "dynamodb" | "s3" | "logs" | "secrets", number> {
    const p = PRICES;
    const sns = this.a.fifo
      ? this.snsPublishes * p.snsFifoPublish.usd +
        (this.snsPublishBytes / 2 ** 30) * (p.snsFifoPublishPayload.usd + p.snsFifoSqsDeliveryPayload.usd) +
        this.snsPublishes * p.snsFifoSqsDelivery.usd
      : this.snsPublishes * p.snsStandardPublish.usd;
    return {
      lambda: this.gbSeconds * p.lambdaArmGbSecond.usd + this.lambdaRequests * p.lambdaRequest.usd,
      sqs: this.sqsRequests * (this.a.fifo ? p.sqsFifoRequest.usd : p.sqsStandardRequest.usd),
      sns,
      dynamodb: this.readUnits * p.dynamodbReadUnit.usd + this.writeUnits * p.dynamodbWriteUnit.usd,
      s3: this.s3Puts * p.s3Put.usd + this.s3Gets * p.s3Get.usd,
      logs: (this.logBytes / 2 ** 30) * p.logsIngestion.usd,
      secrets: this.secretsCalls * p.secretsManagerCall.usd,
    };
  }

  total(): number {
    return Object.values(this.dollars()).reduce((a, b) => a + b, 0);
  }
}

const perMessage = (phase: PhaseFigures) => 1 / (phase.messages * phase.invocations);

/**
 * One message whose run rests `restMs` after its submission: the submission, then what follows it in `mode`.
 * Stream and poll follow up to the follow budget in the invocation, then leave a watch; watch only leaves one at once;
 * a watch looks again every WATCH_DELAY_SECONDS (and, in stream and poll mode, follows again).
 * @example composeMessage(phases, "stream", 10_000, assumptions).total() * 1e6 // dollars per million messages
 */
export function composeMessage(p: PhaseSet, mode: Mode, restMs: number, a: Assumptions): Usage {
  const usage = new Usage(a);
  const budget = mode === "watch" ? 0 : a.followBudgetMs;
  const pollExtra = mode === "poll" ? a.pollIntervalMs / 2 + a.endpointMs : 0;
  const rest = mode === "stream" ? p.restStream : p.restPoll;
  if (mode !== "watch" && restMs <= budget) return usage.add(rest, perMessage(rest), restMs + pollExtra).withProducerSends(1);
  usage.add(p.leaveWatch, perMessage(p.leaveWatch), budget);
  let at = budget + a.watchDelaySeconds * 1000;
  for (let cycles = 0; cycles < 10_000; cycles++) {
    if (restMs <= at) return usage.add(p.watchRest, perMessage(p.watchRest)).withProducerSends(1);
    if (mode !== "watch" && restMs - at <= budget)
      return usage.add(p.watchRest, perMessage(p.watchRest), restMs - at + pollExtra).withProducerSends(1);
    usage.add(p.watchMoving, perMessage(p.watchMoving), budget);
    at += budget + a.watchDelaySeconds * 1000;
  }
  throw new RangeError("composeMessage: the run never rests");
}

/**
 * When the results event goes out after the submission (the model behind composeMessage): at once in stream mode,
 * half a poll interval and a GET late in poll mode, at the first watch after the rest otherwise.
 * @example resultDelayMs("watch", 2_000, assumptions) // 10 000: the first watch, WATCH_DELAY_SECONDS later
 */
export function resultDelayMs(mode: Mode, restMs: number, a: Assumptions): number {
  const budget = mode === "watch" ? 0 : a.followBudgetMs;
  const seen = (at: number) => at + (mode === "poll" ? a.pollIntervalMs / 2 + a.endpointMs : 0);
  if (mode !== "watch" && restMs <= budget) return seen(restMs);
  let at = budget + a.watchDelaySeconds * 1000;
  while (restMs > at) {
    if (mode !== "watch" && restMs - at <= budget) return seen(restMs);
    at += budget + a.watchDelaySeconds * 1000;
  }
  return at;
}

/**
 * One message of a collected turn of `perTurn` messages: the turn's one submission (as `composeMessage`), plus what
 * collecting adds to it (storing each message, the completing invocation, the collection's check), over its messages.
 */
export function composeCollected(p: PhaseSet, mode: Mode, restMs: number, a: Assumptions, perTurn = 3): Usage {
  if (p.collect === undefined || p.check === undefined) throw new Error("composeCollected: the phases hold no collected turns");
  const submission = composeMessage(p, mode, restMs, a);
  const unit = p.collect.figures;
  const turn = new Usage(a).add(unit, 1 / p.collect.turnsPerUnit);
  const plain = new Usage(a).add(p.restPoll, perMessage(p.restPoll));
  const check = new Usage(a).add(p.check, perMessage(p.check));
  // The submission's own producer send is the turn's first message's; the other messages were sent too.
  return new Usage(a)
    .plus(submission)
    .plus(turn)
    .plus(plain, -1)
    .plus(check)
    .withProducerSends(perTurn - 1)
    .scaled(1 / perTurn);
}

/**
 * The usage of a whole run (the soak, the throughput run) from what it counted: billed milliseconds over all
 * invocations, SQS requests made outside the relay (the event source mapping's, the producer's), and the relay's
 * own metered requests; per message once `scaled(1 / messages)`.
 * @example usageFromCounts(a, { billedMsTotal, invocations, otherSqsRequests, relayRequests }).scaled(1 / sent).total() * 1e6
 */
export function usageFromCounts(
  a: Assumptions,
  o: { billedMsTotal: number; invocations: number; otherSqsRequests: number; relayRequests?: MeterCounts },
): Usage {
  const usage = new Usage({ ...a, platformLogBytes: 0, coldStartShare: 0 });
  const measured: PhaseFigures = {
    messages: 1,
    billedMs: o.billedMsTotal,
    localWallMs: o.billedMsTotal,
    cpuMs: 0,
    requests: o.relayRequests ?? {},
    logBytes: 0,
    endpointCalls: 0,
    invocations: o.invocations,
  };
  usage.add(measured, 1);
  // `add` counted the mapping's receive and delete per invocation; the caller's own counts replace that estimate.
  usage.sqsRequests += o.otherSqsRequests - 2 * o.invocations;
  return usage;
}

/**
 * EventBridge Pipes doing the part it can (SQS → an API destination that posts the outputs, no following, no results
 * event), per message: the pipe's request, the API destination's call, the producer's send, and the pipe's own SQS
 * receive and delete per batch.
 */
export function pipesPerMessage(batch: number, fifo = false): number {
  const p = PRICES;
  const sqs = (1 + 2 / batch) * (fifo ? p.sqsFifoRequest.usd : p.sqsStandardRequest.usd);
  return p.pipesRequest.usd + p.apiDestinationCall.usd + sqs;
}
