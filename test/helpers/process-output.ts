/**
 * Every byte the process writes, for the tests that search the logs for secrets and tool outputs. Powertools reads
 * its log level and metrics switch when its Logger and Metrics are made, so `logEverything` must run before the
 * relay's modules load (import them dynamically after it).
 */

/** Logs at DEBUG and metrics on, for modules loaded from now on. */
export function logEverything(): void {
  process.env.POWERTOOLS_LOG_LEVEL = "DEBUG";
  process.env.POWERTOOLS_METRICS_DISABLED = "false";
}

export interface CapturedOutput {
  /** What was written to stdout and stderr since the capture began, chunk by chunk (clear it with `length = 0`). */
  chunks: string[];
  /** Puts the process's own writers back. */
  restore(): void;
}

/**
 * Takes over stdout and stderr: nothing reaches the terminal until `restore`.
 * @example const output = captureProcessOutput(); ...; expect(output.chunks.join("")).not.toContain(secret); output.restore();
 */
export function captureProcessOutput(): CapturedOutput {
  const chunks: string[] = [];
  const stdout = process.stdout.write;
  const stderr = process.stderr.write;
  const capture = (chunk: unknown) => {
    chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  return {
    chunks,
    restore() {
      process.stdout.write = stdout;
      process.stderr.write = stderr;
    },
  };
}
