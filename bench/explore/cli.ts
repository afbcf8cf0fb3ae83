/**
 * `npm run explore`: explores schedules from fixed seeds and prints schedules explored, faults injected by kind and
 * violations; a violation prints its seed and its trace, and `npm run explore -- --seed N` replays it.
 *   --schedules N   how many (default 100000), seeds from --from (default 1)
 *   --workers N     processes (default 2: one per core of the reference machine)
 *   --seed N        replay one seed with its trace
 *   --seeds A,B,…   explore just these seeds (one worker; the summary as with a range)
 *   --json          print the summary as JSON (for the test)
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

// The relay's logs and metrics would cost time and say nothing here: silence them before its modules load.
process.env.POWERTOOLS_LOG_LEVEL = "SILENT";
process.env.POWERTOOLS_METRICS_DISABLED = "true";
// Dev mode: Powertools writes through the global console, which the explorer silences.
process.env.POWERTOOLS_DEV = "true";
process.env.AWS_ACCESS_KEY_ID ??= "explore";
process.env.AWS_SECRET_ACCESS_KEY ??= "explore";

const { values } = parseArgs({
  options: {
    schedules: { type: "string", default: "100000" },
    from: { type: "string", default: "1" },
    workers: { type: "string", default: "2" },
    seed: { type: "string" },
    seeds: { type: "string" },
    json: { type: "boolean", default: false },
    child: { type: "boolean", default: false },
  },
});

interface Summary {
  schedules: number;
  steps: number;
  faults: Record<string, number>;
  violations: Array<{ seed: number; violations: string[] }>;
  excused: number;
  ms: number;
  /** CPU time the workers used (the machine may be shared: this is the figure that scales). */
  cpuMs: number;
}

/** The relay's Powertools write to the console (a metrics warning per invocation): silenced in this process. */
function silenceConsole(): void {
  for (const name of ["log", "info", "warn", "error", "debug", "trace"] as const) console[name] = () => undefined;
}

const print = (line: string) => process.stdout.write(`${line}\n`);

async function explore(seeds: Iterable<number>): Promise<Summary> {
  silenceConsole();
  // Errors are thrown on every lost answer, refusal and abort, and capturing their stacks was a tenth of the time.
  // Nothing reads them but the relay's log line for an unexpected failure (silenced here); a replay keeps them.
  Error.stackTraceLimit = 0;
  const { installSimRuntime } = await import("./sim-runtime");
  installSimRuntime();
  const { installWorldBoundary } = await import("./world");
  installWorldBoundary();
  // Modules the relay imports on first use are loaded now, so that loading them never takes a schedule's time.
  await import("../../functions/submit-tool-outputs/state/state-table");
  const { runSchedule, FAULT_KINDS } = await import("./schedule");
  const summary: Summary = {
    schedules: 0,
    steps: 0,
    faults: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])),
    violations: [],
    excused: 0,
    ms: 0,
    cpuMs: 0,
  };
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for (const seed of seeds) {
    const result = await runSchedule(seed);
    summary.schedules++;
    summary.steps += result.steps;
    summary.excused += result.excused;
    for (const [k, n] of Object.entries(result.faults)) summary.faults[k] = (summary.faults[k] ?? 0) + n;
    if (result.violations.length > 0) summary.violations.push({ seed, violations: result.violations });
  }
  summary.ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
  const used = process.cpuUsage(cpu);
  summary.cpuMs = Math.round((used.user + used.system) / 1000);
  return summary;
}

async function replay(seed: number): Promise<void> {
  silenceConsole();
  const { installSimRuntime } = await import("./sim-runtime");
  installSimRuntime();
  const { installWorldBoundary } = await import("./world");
  installWorldBoundary();
  await import("../../functions/submit-tool-outputs/state/state-table");
  const { runSchedule } = await import("./schedule");
  const result = await runSchedule(seed, true);
  print(`seed ${seed}: ${JSON.stringify(result.scenario)}`);
  for (const line of result.trace) print(line);
  print(`${result.steps} steps; faults ${JSON.stringify(Object.fromEntries(Object.entries(result.faults).filter(([, n]) => n > 0)))}`);
  if (result.violations.length === 0) print("no violation");
  for (const v of result.violations) print(`VIOLATION ${v}`);
  process.exitCode = result.violations.length > 0 ? 1 : 0;
}

const CHUNK = 2_000;

function* range(from: number, count: number): Generator<number> {
  for (let seed = from; seed < from + count; seed++) yield seed;
}

function runChunk(start: number, n: number): Promise<Summary> {
  return new Promise<Summary>((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ["--child", "--from", String(start), "--schedules", String(n)], {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    child.once("message", (m) => resolve(m as Summary));
    child.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`explorer worker exited with ${code}`))));
  });
}

function merge(parts: Summary[]): Summary {
  const out: Summary = { schedules: 0, steps: 0, faults: {}, violations: [], excused: 0, ms: 0, cpuMs: 0 };
  for (const p of parts) {
    out.schedules += p.schedules;
    out.steps += p.steps;
    out.excused += p.excused;
    for (const [k, n] of Object.entries(p.faults)) out.faults[k] = (out.faults[k] ?? 0) + n;
    out.violations.push(...p.violations);
    out.ms += p.ms;
    out.cpuMs += p.cpuMs;
  }
  out.violations.sort((a, b) => a.seed - b.seed);
  return out;
}

async function main(): Promise<void> {
  const from = Number(values.from);
  const count = Number(values.schedules);
  if (values.seed !== undefined) return replay(Number(values.seed));
  if (values.seeds !== undefined) {
    const summary = await explore(values.seeds.split(",").map(Number));
    if (values.json) print(JSON.stringify(summary));
    else for (const v of summary.violations) print(`seed ${v.seed}: ${v.violations.join("; ")}`);
    process.exitCode = summary.violations.length > 0 ? 1 : 0;
    return;
  }
  if (values.child) {
    const summary = await explore(range(from, count));
    process.send?.(summary);
    return;
  }
  const workers = Math.max(1, Math.min(Number(values.workers), count));
  const started = Date.now();
  // Seeds go out in chunks to fresh worker processes: a process still holds ~0.06 MB per schedule it ran (the
  // relay's own composite abort signals with a listener, whose simulated timers end unfired with their schedule, stay
  // in Node's set of signals that must outlive their listeners), so none runs more than one chunk.
  const chunks: Array<[number, number]> = [];
  const size = Math.min(CHUNK, Math.ceil(count / workers));
  for (let start = from; start < from + count; start += size) chunks.push([start, Math.min(size, from + count - start)]);
  const parts: Summary[] = [];
  const worker = async () => {
    for (let chunk = chunks.shift(); chunk; chunk = chunks.shift()) parts.push(await runChunk(chunk[0], chunk[1]));
  };
  await Promise.all(Array.from({ length: workers }, worker));
  const summary = { ...merge(parts), ms: Date.now() - started };
  if (values.json) {
    print(JSON.stringify(summary));
    return;
  }
  print(
    `schedules explored: ${summary.schedules} (seeds ${from}–${from + count - 1}, ${workers} workers, ${(summary.ms / 1000).toFixed(1)} s)`,
  );
  print(
    `operations scheduled: ${summary.steps}; CPU ${(summary.cpuMs / 1000).toFixed(1)} s (${(summary.cpuMs / summary.schedules).toFixed(2)} ms a schedule)`,
  );
  print("faults injected by kind:");
  for (const [k, n] of Object.entries(summary.faults)) print(`  ${k.padEnd(20)} ${n}`);
  print(`reported, then moved raw by SQS after its last receive died or was delivered twice (not a violation): ${summary.excused}`);
  print(`violations: ${summary.violations.length}`);
  for (const v of summary.violations.slice(0, 20))
    print(`  seed ${v.seed}: ${v.violations.join("; ")}  (replay: npm run explore -- --seed ${v.seed})`);
  if (summary.violations.length > 20) print(`  … and ${summary.violations.length - 20} more`);
  process.exitCode = summary.violations.length > 0 ? 1 : 0;
}

await main();
