/**
 * A short run of the interleaving explorer (bench/explore): a few thousand schedules from fixed seeds keep the
 * promise, every fault kind is injected, and a seed replays to the same trace. The explorer runs in its own
 * process: it replaces time, randomness and the AWS/endpoint boundary there, never in a test worker.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { FIXED_SEEDS, OPEN_FINDINGS } from "../../bench/explore/open-findings";

const run = promisify(execFile);
const tsx = "node_modules/.bin/tsx";
const SCHEDULES = 1_000;

describe("npm run explore, short", () => {
  it(`${SCHEDULES} schedules from fixed seeds: every fault kind injected, no violation but the open findings listed`, async () => {
    const { stdout } = await run(tsx, ["bench/explore/cli.ts", "--schedules", String(SCHEDULES), "--workers", "1", "--json"], {
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? "" }));
    const summary = JSON.parse(stdout.trim().split("\n").pop()!) as {
      schedules: number;
      faults: Record<string, number>;
      violations: Array<{ seed: number; violations: string[] }>;
    };
    expect(summary.schedules).toBe(SCHEDULES);
    for (const kind of [
      "lost_answer",
      "write_refused",
      "publish_refused",
      "crash_before",
      "crash_after",
      "lease_lapse",
      "duplicate_delivery",
      "redrive",
    ])
      expect(summary.faults[kind], kind).toBeGreaterThan(0);
    // A seed listed in open-findings.ts is a known break of the promise not yet fixed (named there, by rule); any
    // other violating seed is a new one and fails here.
    const unlisted = summary.violations.filter((v) => !(v.seed in OPEN_FINDINGS));
    expect(unlisted).toEqual([]);
  }, 300_000);

  it("the seeds that once broke the promise and were fixed keep it", async () => {
    const seeds = Object.keys(FIXED_SEEDS).join(",");
    const { stdout } = await run(tsx, ["bench/explore/cli.ts", "--seeds", seeds, "--json"], { maxBuffer: 16 * 1024 * 1024 }).catch(
      (error: { stdout?: string }) => ({ stdout: error.stdout ?? "" }),
    );
    const summary = JSON.parse(stdout.trim().split("\n").pop()!) as { schedules: number; violations: unknown[] };
    expect(summary.schedules).toBe(Object.keys(FIXED_SEEDS).length);
    expect(summary.violations).toEqual([]);
  }, 120_000);

  it("replays a seed to the same trace", async () => {
    const replay = async () =>
      (await run(tsx, ["bench/explore/cli.ts", "--seed", "7"]).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? "" })))
        .stdout;
    const first = await replay();
    expect(first).toMatch(/ReceiveMessage/);
    expect(first.split("\n").length).toBeGreaterThan(10);
    expect(await replay()).toBe(first);
  }, 60_000);
});
