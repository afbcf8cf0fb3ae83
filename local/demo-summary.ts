import type { Accounting } from "./local-stack";

/** One message the scenario (or its tool worker) sent, and what became of it. */
export interface ScenarioMessage {
  messageId: string;
  label: string;
  /** `thread / run`, the response, or `conversation …` the message answers. */
  subject?: string;
  toolOutputs: number;
  fate: "accepted" | "dead_lettered" | "lost";
  reason?: string;
}

export interface ScenarioReport {
  messages: ScenarioMessage[];
  results: Array<{ type: string; subject: string; sourceLabel: string; note?: string }>;
  deadLetters: Array<{ reason: string; subject?: string; sourceLabel: string; detail: string }>;
  accounting: Accounting;
  counters: {
    submits: number;
    accepted: number;
    doubleAcceptances: number;
    faultsInjected: number;
    invocations: number;
    /** Responses API: responses created by answering function calls, and parents continued more than once. */
    continuations: number;
    forks: number;
  };
  /** The turn the scenario delivers twice: how many copies went out, and how many responses the endpoint created for it. */
  duplicate: { responseId: string; copies: number; accepted: number; created: number };
  /** The collected turn: messages sent for it, submissions the endpoint got, messages its results event names. */
  collected: { messages: number; submissions: number; inEvent: number };
  /** The Agents round: messages sent (with the duplicate), acknowledged, admissions per call id, the session's event types. */
  agents: { sessionId: string; messages: number; accepted: number; admissions: number[]; events: string[] };
  /** What the scenario expected and did not see (empty when all went as designed). */
  missing: string[];
  /** True when nothing was lost, nothing was taken twice and everything expected happened: `npm start` exits 0. */
  ok: boolean;
  setup: { endpoint: string; aws: string; maxReceiveCount: number; pollers: number };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * The human summary `npm start` prints: ids, types and reasons only (never outputs or keys).
 * @example console.log(formatScenarioReport(await runDemoScenario()));
 */
export function formatScenarioReport(report: ScenarioReport): string {
  const pad = (text: string, width: number) => text.padEnd(width);
  const lines: string[] = [];
  lines.push("tool-output-relay · local run (no AWS account, no LLM key)");
  lines.push(`  endpoint  ${report.setup.endpoint}`);
  lines.push(
    `  AWS       ${report.setup.aws}: input queue (redrive to the DLQ after ${report.setup.maxReceiveCount} receives), DLQ, results topic, state table`,
  );
  lines.push(`  Lambda    the real handler, driven by ${report.setup.pollers} event-source pollers`);
  lines.push("");
  lines.push(`Messages sent to the input queue (${report.messages.length})`);
  report.messages.forEach((m, i) => {
    const fate = m.fate === "dead_lettered" ? `dead-lettered: ${m.reason}` : m.fate === "lost" ? "LOST" : "accepted";
    lines.push(`  ${pad(`${i + 1}.`, 3)} ${pad(m.label, 50)} ${pad(plural(m.toolOutputs, "output"), 10)} → ${fate}`);
  });
  lines.push("");
  lines.push(`Results topic (${plural(report.results.length, "event")})`);
  for (const r of report.results)
    lines.push(`  ${pad(r.type, 24)} ${pad(r.subject, 64)} from: ${r.sourceLabel}${r.note ? ` (${r.note})` : ""}`);
  lines.push("");
  lines.push(`DLQ (${plural(report.deadLetters.length, "record")})`);
  for (const d of report.deadLetters) {
    lines.push(`  ${pad(d.reason, 24)} ${pad(d.subject ?? "(ids not readable)", 64)} from: ${d.sourceLabel}`);
    lines.push(`  ${pad("", 24)} ${d.detail.length > 160 ? `${d.detail.slice(0, 157)}…` : d.detail}`);
  }
  lines.push("");
  const { accepted, deadLettered, pending } = report.accounting;
  lines.push(
    `Every message accounted for? ${pending.length === 0 ? "yes" : "NO"}: ${report.messages.length} sent · ${accepted.length} accepted · ${deadLettered.length} dead-lettered · ${pending.length} lost`,
  );
  const c = report.counters;
  lines.push(
    `Endpoint: ${c.submits} submits, ${c.accepted} accepted, ${c.doubleAcceptances} accepted twice, ${plural(c.faultsInjected, "fault")} injected · Lambda invocations: ${c.invocations}`,
  );
  const d = report.duplicate;
  const once = d.created === 1 ? "accepted once" : `accepted ${d.created} times`;
  lines.push(
    `Responses: ${plural(c.continuations, "continuation")} created · forks: ${c.forks} · the turn delivered twice: ${d.accepted} of ${d.copies} copies acknowledged, ${once} (${plural(d.created, "response")} created)`,
  );
  const k = report.collected;
  lines.push(
    `Collected: a turn of 3 parallel calls answered by ${k.messages} workers in random order: ${plural(k.submissions, "submission")}, ${k.inEvent} messages named in its event`,
  );
  const a = report.agents;
  lines.push(
    `Agents: a turn of 2 calls answered by 2 workers (one an error), ${a.accepted} of ${a.messages} messages acknowledged (one a duplicate), admissions per call id: ${a.admissions.join(", ")} · events: ${a.events.join(" → ")}`,
  );
  for (const what of report.missing) lines.push(`MISSING: ${what}`);
  lines.push(report.ok ? "OK: the relay did its whole job." : "NOT OK: see above.");
  return lines.join("\n");
}
