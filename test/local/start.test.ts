/**
 * `npm start`: the demo scenario on a fresh local stack prints its summary and exits 0.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatScenarioReport, runDemoScenario } from "../../local/demo-scenario";

const tsx = join(process.cwd(), "node_modules", "tsx", "dist", "cli.mjs");

describe("npm start", () => {
  it("the scenario accounts for every message: four accepted, two dead-lettered with their reasons, none lost", async () => {
    const report = await runDemoScenario();
    expect(report.missing).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.messages.map((m) => [m.label, m.fate, m.reason ?? ""])).toEqual([
      ["valid outputs", "accepted", ""],
      ["valid outputs, streamed, one 429 on the way", "accepted", ""],
      ["first round of a two-round run", "accepted", ""],
      ["late submission to an expired run", "dead_lettered", "run_expired"],
      ["invalid message", "dead_lettered", "invalid_message"],
      ["second round, sent by the tool worker", "accepted", ""],
    ]);
    expect(report.results.map((r) => r.type).sort()).toEqual([
      "run.completed",
      "run.completed",
      "run.completed",
      "run.expired",
      "run.requires_action",
    ]);
    expect(report.counters.doubleAcceptances).toBe(0);
    expect(formatScenarioReport(report)).toContain("6 sent · 4 accepted · 2 dead-lettered · 0 lost");
  });

  it("the script prints the summary, never an output or a key, and exits 0", () => {
    const env = { ...process.env, ENDPOINT_BASE_URL: "", PORTKEY_API_KEY: "" };
    const run = spawnSync(process.execPath, [tsx, "local/start.ts"], { encoding: "utf8", timeout: 120_000, env });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("Results topic (5 events)");
    expect(run.stdout).toContain("DLQ (2 records)");
    expect(run.stdout).toContain("OK: the relay did its whole job.");
    expect(run.stdout).not.toContain("temperature_c");
    expect(run.stdout).not.toContain("pk-local-simulator");
  });

  it("with a real endpoint configured and no --serve, it explains that --serve is the mode for it and exits 2", () => {
    const env = { ...process.env, ENDPOINT_BASE_URL: "https://api.portkey.ai/v1", PORTKEY_API_KEY: "pk-not-used" };
    const run = spawnSync(process.execPath, [tsx, "local/start.ts"], { encoding: "utf8", timeout: 60_000, env });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("npm start -- --serve");
    expect(run.stderr).not.toContain("pk-not-used");
  });
});
