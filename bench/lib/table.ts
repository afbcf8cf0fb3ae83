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

/** A titled block of text a benchmark prints after the table (the cost benchmark's tables). */
export interface BenchSection {
  title: string;
  text: string;
}

/** Benchmarks run in child processes print their rows on one line with this prefix; the runner collects them. */
export const ROWS_PREFIX = "BENCH_ROWS ";
/** …and their sections with this one. */
export const SECTION_PREFIX = "BENCH_SECTION ";

export function emitRows(rows: BenchRow[]): void {
  process.stdout.write(`${ROWS_PREFIX}${JSON.stringify(rows)}\n`);
}

/** A Markdown table with columns padded to their widest cell. */
export function formatGrid(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((c) => (c[i] ?? "").length)));
  const line = (values: readonly string[]) => `| ${widths.map((w, i) => (values[i] ?? "").padEnd(w)).join(" | ")} |`;
  return [line(headers), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

export function formatTable(rows: BenchRow[]): string {
  const headers = ["bench", "measure", "value", "baseline", "ratio", "target", "verdict"] as const;
  return formatGrid(
    headers,
    rows.map((row) => headers.map((h) => String(row[h] ?? ""))),
  );
}

/** Prints the rows as a table, or emits them for the runner when started by it. */
export function report(rows: BenchRow[]): void {
  if (process.env.BENCH_CHILD === "1") emitRows(rows);
  else console.log(formatTable(rows));
}

/** Prints a section, or emits it for the runner (which prints every section after the table). */
export function reportSection(section: BenchSection): void {
  if (process.env.BENCH_CHILD === "1") process.stdout.write(`${SECTION_PREFIX}${JSON.stringify(section)}\n`);
  else console.log(`\n## ${section.title}\n\n${section.text}`);
}
