/**
 * `npm start`: the demo scenario on a fresh local stack prints its summary and exits 0.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatScenarioReport, runDemoScenario } from "../../local/demo-scenario";
import type { SqsHandler } from "../../local/event-source-poller";

const tsx = join(process.cwd(), "node_modules", "tsx", "dist", "cli.mjs");

describe("npm start", () => {
  it("the scenario accounts for every message of the three APIs: fourteen accepted, three dead-lettered with their reasons, none lost", async () => {
    // Act
    const report = await runDemoScenario();
    // Assess
    expect(report.missing).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.messages.map((m) => [m.label, m.fate, m.reason ?? ""])).toEqual([
      ["valid outputs", "accepted", ""],
      ["valid outputs, streamed, one 429 on the way", "accepted", ""],
      ["first round of a two-round run", "accepted", ""],
      ["late submission to an expired run", "dead_lettered", "run_expired"],
      ["invalid message", "dead_lettered", "invalid_message"],
      ["Responses: first round of a two-round chain", "accepted", ""],
      ["Responses: a turn, streamed", "accepted", ""],
      ["Responses: outputs for calls it did not ask for", "dead_lettered", "tool_call_mismatch"],
      ["collected: 1 of 3 parallel calls, own worker", "accepted", ""],
      ["collected: 1 of 3 parallel calls, own worker", "accepted", ""],
      ["collected: 1 of 3 parallel calls, own worker", "accepted", ""],
      ["Agents: 1 of 2 calls, own worker", "accepted", ""],
      ["Agents: 2 of 2 calls, own worker, a tool failure", "accepted", ""],
      ["Responses: the same turn again (a duplicate)", "accepted", ""],
      ["Agents: the failed call again (a duplicate)", "accepted", ""],
      ["second round of the response, by the tool worker", "accepted", ""],
      ["second round of the run, by the tool worker", "accepted", ""],
    ]);
    expect(report.results.map((r) => r.type).sort()).toEqual([
      "response.completed",
      "response.completed",
      "response.completed",
      "response.requires_action",
      "run.completed",
      "run.completed",
      "run.completed",
      "run.completed",
      "run.expired",
      "run.requires_action",
      "session.turn_completed",
      "session.turn_completed",
      "session.waiting",
    ]);
    expect(report.counters).toMatchObject({ doubleAcceptances: 0, forks: 0, continuations: 3 });
    expect(report.duplicate).toMatchObject({ copies: 2, accepted: 2, created: 1 });
    expect(report.collected).toEqual({ messages: 3, submissions: 1, inEvent: 3 });
    expect(report.agents).toMatchObject({
      messages: 3,
      accepted: 3,
      admissions: [1, 1],
      events: ["session.waiting", "session.turn_completed", "session.turn_completed"],
    });
    const summary = formatScenarioReport(report);
    expect(summary).toContain("17 sent · 14 accepted · 3 dead-lettered · 0 lost");
    expect(summary).toContain("admissions per call id: 1, 1 · events: session.waiting → session.turn_completed → session.turn_completed");
    expect(summary).toContain("forks: 0 · the turn delivered twice: 2 of 2 copies acknowledged, accepted once (1 response created)");
  });

  it("a relay that acknowledges Responses messages without doing their job is caught: NOT OK, and the summary says what is missing", async () => {
    // Prepare: a stand-in that takes every Responses message off the queue and does nothing with it.
    const swallowResponses =
      (handler: SqsHandler): SqsHandler =>
      async (event, context) => {
        const records = event.Records.filter((r) => !r.body.includes('"response_id"'));
        return records.length === 0 ? { batchItemFailures: [] } : handler({ Records: records }, context);
      };
    // Act
    const report = await runDemoScenario({ wrapHandler: swallowResponses, timeoutMs: 30_000 });
    // Assess
    expect(report.ok).toBe(false);
    expect(report.missing).toContain("response.requires_action asking for the chain's second round");
    expect(report.missing).toContain("a tool_call_mismatch DLQ record for the response");
    expect(report.missing).not.toContain("run.completed for the one-tool run");
    expect(formatScenarioReport(report)).toMatch(/MISSING: .*\nNOT OK: see above\.$/s);
  });

  it("the script prints the summary, never an output or a key, and exits 0", () => {
    const env = { ...process.env, ENDPOINT_BASE_URL: "", PORTKEY_API_KEY: "" };
    const run = spawnSync(process.execPath, [tsx, "local/start.ts"], { encoding: "utf8", timeout: 120_000, env });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("Results topic (13 events)");
    expect(run.stdout).toContain("answered by 3 workers in random order: 1 submission, 3 messages named in its event");
    expect(run.stdout).toContain("DLQ (3 records)");
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
