/**
 * `npm run soak`: ≥ 10 000 messages of every API through the local stack under faults. Options by environment:
 * SOAK_MESSAGES (default 10 000), SOAK_FAULTS (0.41 per call, about a quarter of calls fail), SOAK_SEED (42),
 * SOAK_POLLERS (4), SOAK_RESPONSES (0.4: the share of valid turns for the Responses API), SOAK_AGENTS (0.2: for the
 * Agents API), SOAK_METER (1: count the
 * relay's AWS requests for the cost lines; 0 leaves them out), SOAK_COLLECT_TIMEOUT (60: the relay's
 * COLLECT_TIMEOUT_SECONDS, when an incomplete collected set ends). The relay's own logs stay at ERROR unless
 * POWERTOOLS_LOG_LEVEL says otherwise.
 * Exits 1 when a message was lost, a run took outputs twice, a response was continued twice (forked), or a message
 * ended other than expected.
 */
export {};

process.env.POWERTOOLS_LOG_LEVEL ??= "ERROR";
process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
// Imported after the lines above: Powertools reads its environment when the relay's modules load.
const { formatSoakReport, runSoak } = await import("./soak");

const report = await runSoak({
  messages: Number(process.env.SOAK_MESSAGES ?? 10_000),
  faultProbability: Number(process.env.SOAK_FAULTS ?? 0.41),
  seed: Number(process.env.SOAK_SEED ?? 42),
  responsesShare: Number(process.env.SOAK_RESPONSES ?? 0.4),
  agentsShare: Number(process.env.SOAK_AGENTS ?? 0.2),
  pollers: Number(process.env.SOAK_POLLERS ?? 4),
  collectTimeoutSeconds: Number(process.env.SOAK_COLLECT_TIMEOUT ?? 60),
  meter: process.env.SOAK_METER !== "0",
  onProgress: (line) => console.error(line),
});
console.log(`Soak on Node ${process.versions.node}\n${formatSoakReport(report)}`);
if (
  report.lost > 0 ||
  report.doubleAcceptances > 0 ||
  report.forks > 0 ||
  report.agentResultsForAnsweredCalls > 0 ||
  report.unexpected.length > 0
)
  process.exitCode = 1;
