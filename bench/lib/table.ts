/** One line of the benchmark table: a figure, its baseline, the ratio and the target. */
export interface BenchRow {
  bench: string;
  measure: string;
  value: string;
  baseline?: string;
  ratio?: string;
  target?: string;
  /** "met" / "missed" when there is a target; empty otherwise. */
  verdict?: "met" | "missed" | "";
}

/** Benchmarks run in child processes print their rows on one line with this prefix; the runner collects them. */
export const ROWS_PREFIX = "BENCH_ROWS ";

export function emitRows(rows: BenchRow[]): void {
  process.stdout.write(`${ROWS_PREFIX}${JSON.stringify(rows)}\n`);
}

export function formatTable(rows: BenchRow[]): string {
  const headers = ["bench", "measure", "value", "baseline", "ratio", "target", "verdict"] as const;
  const cells = rows.map((row) => headers.map((h) => String(row[h] ?? "")));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: readonly string[]) => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(headers), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...cells.map(line)].join("\n");
}

/** Prints the rows as a table, or emits them for the runner when started by it. */
export function report(rows: BenchRow[]): void {
  if (process.env.BENCH_CHILD === "1") emitRows(rows);
  else console.log(formatTable(rows));
}
