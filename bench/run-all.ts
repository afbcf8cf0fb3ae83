/**
 * `npm run bench`: every benchmark in its own Node process (no shared JIT state or heap), one table, the targets
 * again on their own, then the cost benchmark's tables.
 * Quick look: BENCH_RUNS=3 BENCH_COLD_RUNS=7 BENCH_THROUGHPUT_RUNS=1 BENCH_LATENCY_RUNS=15 BENCH_COST_RUNS=2 npm run bench
 * BENCH_REPEAT=3: every benchmark but the cost runs three times; the targets' table gives each one's range over the runs.
 */
import { spawn } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";
import { type BenchRow, type BenchSection, formatGrid, formatTable, ROWS_PREFIX, SECTION_PREFIX } from "./lib/table";

const quiet = { POWERTOOLS_LOG_LEVEL: "ERROR", POWERTOOLS_METRICS_DISABLED: "true" };
const asDeployed = { POWERTOOLS_LOG_LEVEL: "INFO", POWERTOOLS_METRICS_DISABLED: "false" };
const benches: Array<{ file: string; env: Record<string, string> }> = [
  { file: "bench/concurrency.ts", env: quiet },
  { file: "bench/overhead.ts", env: asDeployed },
  { file: "bench/overhead.ts", env: quiet },
  { file: "bench/cold-start.ts", env: quiet },
  { file: "bench/signing.ts", env: quiet },
  { file: "bench/latency.ts", env: quiet },
  { file: "bench/throughput.ts", env: quiet },
  { file: "bench/collect.ts", env: quiet },
  // As deployed: the log lines are part of the cost (CloudWatch Logs ingestion).
  { file: "bench/cost.ts", env: asDeployed },
];

/** Runs one benchmark; its own output (relay logs included, never printed) is read and dropped. */
function run(file: string, env: Record<string, string>): Promise<{ rows: BenchRow[]; sections: BenchSection[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", file], {
      env: { ...process.env, ...env, BENCH_CHILD: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let rows: BenchRow[] = [];
    const sections: BenchSection[] = [];
    let pending = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith(ROWS_PREFIX)) rows = JSON.parse(line.slice(ROWS_PREFIX.length)) as BenchRow[];
        if (line.startsWith(SECTION_PREFIX)) sections.push(JSON.parse(line.slice(SECTION_PREFIX.length)) as BenchSection);
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    child.on("exit", (code) => (code === 0 ? resolve({ rows, sections }) : reject(new Error(`${file} exited with ${code}\n${stderr}`))));
  });
}

const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? 1));
const runs: BenchRow[][] = [];
const sections: BenchSection[] = [];
const loads: number[] = [];
for (let round = 1; round <= REPEAT; round++) {
  const rows: BenchRow[] = [];
  for (const { file, env } of benches) {
    // The cost tables are arithmetic over measured phases: once is enough.
    if (round > 1 && file === "bench/cost.ts") continue;
    process.stderr.write(`running ${file}${REPEAT > 1 ? ` (run ${round} of ${REPEAT})` : ""} …\n`);
    const result = await run(file, env);
    rows.push(...result.rows);
    if (round === 1) sections.push(...result.sections);
    loads.push(loadavg()[0]!);
  }
  runs.push(rows);
}
const rows = runs.at(-1)!;
console.log(
  `Node ${process.versions.node}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, ` +
    `1-minute load average after each benchmark ${loads.map((l) => l.toFixed(1)).join(" / ")}`,
);
console.log(formatTable(rows));
const targets = rows.filter((row) => row.target);
console.log(
  `\nTargets (each ratio measured side by side in one run of its benchmark${REPEAT > 1 ? `; the range is over ${REPEAT} runs` : ""}):\n`,
);
console.log(
  formatGrid(
    ["bench", "measure", "latest", "target", "verdict", ...(REPEAT > 1 ? ["range over runs", "met in"] : [])],
    targets.map((row) => {
      // The same row in every run: measures name counts that vary a little between runs (requests per message), but
      // a number glued to a letter names the row (p50, p95).
      const key = (r: BenchRow) => `${r.bench} ${r.measure.replace(/(?<![A-Za-z])\d+(\.\d+)?/g, "#")}`;
      const same = runs.map((r) => r.find((other) => key(other) === key(row))).filter((r) => r !== undefined);
      const figures = same.map(figureOf).filter((f) => f !== undefined);
      const range = figures.length > 0 ? `${Math.min(...figures).toFixed(2)}–${Math.max(...figures).toFixed(2)}` : "";
      return [
        row.bench,
        row.measure,
        row.ratio || row.value,
        row.target ?? "",
        verdictWords(row),
        ...(REPEAT > 1 ? [range, `${same.filter((r) => r.verdict === "met").length} of ${same.length}`] : []),
      ];
    }),
  ),
);
if (targets.some((r) => r.verdict === "missed"))
  console.log('\nA target was missed: see "Performance" in bench/README.md for by how much, why, and what would close it.');
for (const section of sections) console.log(`\n## ${section.title}\n\n${section.text}`);

/** The number a target is about: the ratio (`1.23×`; of `p50 / p95` ratios, the larger), else the value (`0.065 ms`). */
function figureOf(row: BenchRow): number | undefined {
  const figures = [...(row.ratio || row.value).matchAll(/\d+(\.\d+)?/g)].map((match) => Number(match[0]));
  return figures.length > 0 ? Math.max(...figures) : undefined;
}

/** `met`, or `missed by N %` (how far the figure is above its target's bound). */
function verdictWords(row: BenchRow): string {
  if (row.verdict !== "missed") return row.verdict ?? "";
  const figure = figureOf(row);
  const bound = Number.parseFloat(
    (row.target ?? "")
      .replace(/[^\d.]/g, " ")
      .trim()
      .split(" ")[0] ?? "",
  );
  if (figure === undefined || !Number.isFinite(bound) || bound === 0) return "missed";
  return `missed by ${(((figure - bound) / bound) * 100).toFixed(0)} %`;
}
