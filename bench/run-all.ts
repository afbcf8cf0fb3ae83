/**
 * `npm run bench`: every benchmark in its own Node process (no shared JIT state or heap), one table.
 * Quick look: BENCH_RUNS=3 BENCH_COLD_RUNS=7 BENCH_THROUGHPUT_RUNS=1 npm run bench
 */
import { spawn } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { type BenchRow, formatTable, ROWS_PREFIX } from "./lib/table";

const quiet = { POWERTOOLS_LOG_LEVEL: "ERROR", POWERTOOLS_METRICS_DISABLED: "true" };
const asDeployed = { POWERTOOLS_LOG_LEVEL: "INFO", POWERTOOLS_METRICS_DISABLED: "false" };
const benches: Array<{ file: string; env: Record<string, string> }> = [
  { file: "bench/concurrency.ts", env: quiet },
  { file: "bench/overhead.ts", env: asDeployed },
  { file: "bench/overhead.ts", env: quiet },
  { file: "bench/cold-start.ts", env: quiet },
  { file: "bench/throughput.ts", env: quiet },
  { file: "bench/collect.ts", env: quiet },
];

/** Runs one benchmark; its own output (relay logs included, never printed) is read and dropped. */
function run(file: string, env: Record<string, string>): Promise<BenchRow[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", file], {
      env: { ...process.env, ...env, BENCH_CHILD: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let rows: BenchRow[] = [];
    let pending = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop()!;
      for (const line of lines) if (line.startsWith(ROWS_PREFIX)) rows = JSON.parse(line.slice(ROWS_PREFIX.length)) as BenchRow[];
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    child.on("exit", (code) => (code === 0 ? resolve(rows) : reject(new Error(`${file} exited with ${code}\n${stderr}`))));
  });
}

const rows: BenchRow[] = [];
for (const { file, env } of benches) {
  process.stderr.write(`running ${file} …\n`);
  rows.push(...(await run(file, env)));
}
console.log(
  `Node ${process.versions.node}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM`,
);
console.log(formatTable(rows));
if (rows.some((r) => r.verdict === "missed"))
  console.log('\nA target was missed: see "Performance" in README.md for why and what would close it.');
