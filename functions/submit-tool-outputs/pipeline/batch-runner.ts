import type { SQSBatchResponse, SQSRecord } from "aws-lambda";

export interface BatchRunOptions {
  /** Records in flight at once. */
  concurrency: number;
  /** Aborted when no new record may start (the invocation's deadline). */
  stop: AbortSignal;
  /** Aborted when the answer must go out: records not done by then are reported failed. Default: never. */
  cutoff?: AbortSignal;
  /** Works one record; resolves true when it is done (acknowledged), false to hand it back. Must not throw. */
  process: (record: SQSRecord) => Promise<boolean>;
  /** Settles a record that will not be worked (deadline reached, or an earlier record of its FIFO group failed). */
  skip: (record: SQSRecord, why: "deadline" | "group_blocked") => Promise<boolean>;
}

/**
 * Runs one SQS batch and answers with the partial batch response.
 *
 * Written here rather than taken from Powertools' batch utility, which either runs every record at
 * once (no bound) or, for FIFO, one record at a time across all groups; neither can stop before the
 * deadline. Here: at most `concurrency` records in flight; records of one FIFO message group run in
 * order, and after a failure the rest of that group is handed back too (as Lambda requires) while other
 * groups go on; once `stop` fires no record starts; at `cutoff` the answer goes out without waiting
 * for records still settling. Only records not done are reported failed.
 *
 * @example const response = await runBatch(event.Records, { concurrency: 10, stop, process, skip });
 */
export async function runBatch(records: SQSRecord[], options: BatchRunOptions): Promise<SQSBatchResponse> {
  const lanes = toLanes(records);
  const done = new Set<string>();
  // One iterator shared by the workers: each lane is taken by exactly one of them.
  const waiting = lanes.values();

  const worker = async () => {
    for (const lane of waiting) {
      let groupFailed = false;
      for (const record of lane) {
        const ok = options.stop.aborted
          ? await options.skip(record, "deadline")
          : groupFailed
            ? await options.skip(record, "group_blocked")
            : await options.process(record);
        if (ok) done.add(record.messageId);
        else groupFailed = record.attributes.MessageGroupId !== undefined;
      }
    }
  };

  const workers = Promise.all(Array.from({ length: Math.min(options.concurrency, lanes.length) }, worker));
  const finished = new AbortController();
  try {
    await (options.cutoff ? Promise.race([workers, aborted(options.cutoff, finished.signal)]) : workers);
  } finally {
    finished.abort(); // drops the cutoff listener when the workers won
  }
  // Only what is done is acknowledged; Lambda wants the failures in batch order.
  return { batchItemFailures: records.filter((r) => !done.has(r.messageId)).map((r) => ({ itemIdentifier: r.messageId })) };
}

/** Resolves when `signal` aborts; its listener goes when `until` aborts. */
function aborted(signal: AbortSignal, until: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true, signal: until }));
}

/** One lane per FIFO message group (in arrival order), one lane per record otherwise. */
function toLanes(records: SQSRecord[]): SQSRecord[][] {
  const groups = new Map<string, SQSRecord[]>();
  const lanes: SQSRecord[][] = [];
  for (const record of records) {
    const group = record.attributes.MessageGroupId;
    if (group === undefined) {
      lanes.push([record]);
      continue;
    }
    let lane = groups.get(group);
    if (!lane) {
      lane = [];
      groups.set(group, lane);
    }
    if (lane.length === 0) lanes.push(lane);
    lane.push(record);
  }
  return lanes;
}
