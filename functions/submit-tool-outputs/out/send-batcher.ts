/**
 * Gathers the sends that records of one batch make at about the same time into batch calls (SNS PublishBatch,
 * SQS SendMessageBatch: at most 10 entries and a byte limit per call), and gives each caller its own entry's
 * result, so a partial failure fails only the entries it names.
 *
 * Written here rather than with DataLoader (the usual micro-batcher), which cannot split a batch by bytes
 * (a large event must go alone) nor drop one caller's entry when that caller's signal aborts.
 */

export interface BatchEntry<T> {
  value: T;
  /** What the entry adds to a call's size. */
  bytes: number;
}

export interface SendBatcherOptions<T> {
  /** Entries per call (10 for both services). */
  maxEntries: number;
  /** Bytes per call (SNS: 256 KiB; SQS: 1 MiB). */
  maxBytes: number;
  /**
   * How long a call waits for company after its latest entry: each entry that joins restarts it, so the results of
   * records that finish close together (one batch's answers) share one call.
   */
  lingerMs: number;
  /** How long the first entry of a call may wait in all, however often the linger restarts. Default: 10 × `lingerMs`. */
  maxLingerMs?: number;
  /**
   * Whether another entry may still come (a record of the batch is still deciding). When none can, the call goes
   * out at once instead of lingering: a lone record's result is not held back. Default: always wait.
   */
  moreMayCome?: () => boolean;
  /** Sends one call; resolves with the errors of the entries that failed (by index), rejects when the whole call failed. */
  send(values: T[], signal?: AbortSignal): Promise<Map<number, Error>>;
}

interface Waiting<T> extends BatchEntry<T> {
  signal?: AbortSignal;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * @example
 * const batcher = new SendBatcher({ maxEntries: 10, maxBytes: 262_144, lingerMs: 2, send: publishBatch });
 * await batcher.add({ value: event, bytes }, signal);
 */
export class SendBatcher<T> {
  private queue: Waiting<T>[] = [];
  private queuedBytes = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** When the oldest and the latest waiting entries came (performance.now()). */
  private firstAt = 0;
  private lastAt = 0;

  constructor(private readonly options: SendBatcherOptions<T>) {}

  /** Resolves when this entry was sent, rejects with its own failure (or the call's). */
  add(entry: BatchEntry<T>, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      if (this.queuedBytes + entry.bytes > this.options.maxBytes) this.flush();
      if (this.queue.length === 0) this.firstAt = performance.now();
      this.queue.push({ ...entry, signal, resolve, reject });
      this.queuedBytes += entry.bytes;
      const full = this.queue.length >= this.options.maxEntries || entry.bytes >= this.options.maxBytes;
      if (full || this.options.moreMayCome?.() === false) this.flush();
      else this.lingerAgain();
    });
  }

  /**
   * Waits `lingerMs` from the latest entry, never past `maxLingerMs` from the oldest. One timer per wait: an entry
   * only notes when it came, and the timer, when it fires, waits again for what is left (a timer per entry costs more
   * than the linger saves).
   */
  private lingerAgain(): void {
    this.lastAt = performance.now();
    this.timer ??= setTimeout(() => this.lingerOrFlush(), this.options.lingerMs);
  }

  private lingerOrFlush(): void {
    const { lingerMs, maxLingerMs = 10 * lingerMs } = this.options;
    const now = performance.now();
    const waitMs = Math.min(this.lastAt + lingerMs, this.firstAt + maxLingerMs) - now;
    if (waitMs >= 1) this.timer = setTimeout(() => this.lingerOrFlush(), waitMs);
    else this.flush();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const entries = this.queue.filter((entry) => {
      if (!entry.signal?.aborted) return true;
      entry.reject(entry.signal.reason);
      return false;
    });
    this.queue = [];
    this.queuedBytes = 0;
    if (entries.length === 0) return;
    this.options
      .send(
        entries.map((entry) => entry.value),
        callSignal(entries),
      )
      .then(
        (failed) => {
          for (const [index, entry] of entries.entries()) {
            const error = failed.get(index);
            if (error) entry.reject(error);
            else entry.resolve();
          }
        },
        (error) => {
          for (const entry of entries) entry.reject(error);
        },
      );
  }
}

/**
 * The call ends when a caller's signal aborts. The entries of one invocation share its signal (its cutoff), so that
 * is almost always one signal, passed as it is: no composite signal for each call.
 */
function callSignal(entries: ReadonlyArray<{ signal?: AbortSignal }>): AbortSignal | undefined {
  const signals = new Set<AbortSignal>();
  for (const entry of entries) if (entry.signal) signals.add(entry.signal);
  if (signals.size <= 1) return signals.values().next().value;
  return AbortSignal.any([...signals]);
}
