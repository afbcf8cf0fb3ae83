import { answerFor, type SimulatedRun } from "../fixtures/messages";
import type { ToolOutputMessage } from "../functions/submit-tool-outputs/assistants/message-schema";
import type { DlqReason } from "../functions/submit-tool-outputs/outcome";
import { subjectOf } from "../functions/submit-tool-outputs/results-event";
import { type Accounting, type LocalStack, type LocalStackOptions, startLocalStack } from "./local-stack";
import { startToolWorker } from "./tool-worker";

/** One message the scenario (or its tool worker) sent, and what became of it. */
export interface ScenarioMessage {
  messageId: string;
  label: string;
  threadId?: string;
  runId?: string;
  toolOutputs: number;
  fate: "accepted" | "dead_lettered" | "lost";
  reason?: string;
}

export interface ScenarioReport {
  messages: ScenarioMessage[];
  results: Array<{ type: string; subject: string; sourceLabel: string; note?: string }>;
  deadLetters: Array<{ reason: string; threadId?: string; runId?: string; sourceLabel: string; detail: string }>;
  accounting: Accounting;
  counters: { submits: number; accepted: number; doubleAcceptances: number; faultsInjected: number; invocations: number };
  /** What the scenario expected and did not see (empty when all went as designed). */
  missing: string[];
  /** True when nothing was lost and everything expected happened: `npm start` exits 0. */
  ok: boolean;
  setup: { endpoint: string; aws: string; maxReceiveCount: number; pollers: number };
}

const METADATA = { tenant: "demo" };

/**
 * The `npm start` story on the local stack: runs that need tools, valid outputs, an invalid message,
 * a late submission to an expired run, and a run that asks for a second round of tools, answered by a
 * tool worker from the `run.requires_action` event. Returns what reached the results topic and the DLQ.
 * @example const report = await runDemoScenario(); console.log(formatScenarioReport(report));
 */
export async function runDemoScenario(options: Omit<LocalStackOptions, "endpoint"> & { timeoutMs?: number } = {}): Promise<ScenarioReport> {
  const maxReceiveCount = options.maxReceiveCount ?? 3;
  const pollers = options.poller?.pollers ?? 2;
  const stack = await startLocalStack({ ...options, maxReceiveCount, poller: { ...options.poller, pollers } });
  const labels = new Map<string, Omit<ScenarioMessage, "fate" | "messageId">>();
  const worker = startToolWorker(stack, {
    onAnswer: (a) =>
      labels.set(a.messageId, {
        label: "second round, sent by the tool worker",
        threadId: a.threadId,
        runId: a.runId,
        toolOutputs: a.toolCallIds.length,
      }),
  });
  try {
    const sim = stack.sim!;
    const send = async (label: string, message: Record<string, unknown>) => {
      const outputs = Array.isArray(message.tool_outputs) ? message.tool_outputs.length : 0;
      const id = await stack.send(message);
      labels.set(id, { label, threadId: message.thread_id as string, runId: message.run_id as string, toolOutputs: outputs });
      return id;
    };
    const answer = (run: SimulatedRun, extra: Partial<ToolOutputMessage> = {}) =>
      answerFor(run, { metadata: METADATA, ...extra }, () => JSON.stringify({ temperature_c: 21 }));

    const weather = sim.createRun({ toolCalls: 1, afterOutputs: ["completed"] });
    const twoTools = sim.createRun({ toolCalls: 2, afterOutputs: ["completed"] });
    sim.inject({ on: "submit", kind: "rate_limit", retryAfterMs: 100, runId: twoTools.runId });
    const twoRounds = sim.createRun({ toolCalls: 1, afterOutputs: [{ requiresAction: 2 }, "completed"] });
    const expired = sim.createRun({ toolCalls: 1 });
    sim.expireRun(expired.threadId, expired.runId);

    await send("valid outputs", answer(weather));
    await send("valid outputs, streamed, one 429 on the way", answer(twoTools, { stream: true }));
    await send("first round of a two-round run", answer(twoRounds));
    await send("late submission to an expired run", answer(expired));
    await send("invalid message", { thread_id: "thread/../etc", run_id: "run_1", tool_outputs: [], colour: "blue" });

    // Settle until the tool worker has answered every requires_action event read and nothing is moving.
    let accounting: Accounting;
    let answered = -1;
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    do {
      answered = worker.sent.length;
      accounting = await stack.settle(labels.keys(), { timeoutMs: Math.max(1, deadline - Date.now()) });
      await worker.caughtUp();
    } while (worker.sent.length !== answered && Date.now() < deadline);
    accounting = stack.ledger.account(labels.keys());

    return buildReport(
      stack,
      labels,
      accounting,
      {
        endpoint: `endpoint simulator on ${stack.endpointBaseUrl}`,
        aws: `fauxqs on ${stack.aws.endpoint}`,
        maxReceiveCount,
        pollers,
      },
      { weather, twoTools, twoRounds, expired },
    );
  } finally {
    await worker.stop();
    await stack.close();
  }
}

type RunIds = { threadId: string; runId: string };

function buildReport(
  stack: LocalStack,
  labels: Map<string, Omit<ScenarioMessage, "fate" | "messageId">>,
  accounting: Accounting,
  setup: ScenarioReport["setup"],
  runs: Record<"weather" | "twoTools" | "twoRounds" | "expired", RunIds>,
): ScenarioReport {
  const labelOf = (id: string) => labels.get(id)?.label ?? `message ${id.slice(0, 8)}`;
  const reasons = new Map(accounting.deadLettered.map((d) => [d.messageId, d.reason]));
  const messages: ScenarioMessage[] = [...labels].map(([messageId, m]) => ({
    messageId,
    ...m,
    fate: reasons.has(messageId) ? "dead_lettered" : accounting.accepted.includes(messageId) ? "accepted" : "lost",
    ...(reasons.has(messageId) ? { reason: reasons.get(messageId) } : {}),
  }));
  const results = stack.ledger.results.map(({ event }) => {
    const calls = event.tool_calls;
    return {
      type: event.type,
      subject: subjectOf(event),
      sourceLabel: labelOf(event.source_message_id),
      ...(calls.length > 0 ? { note: `asks for ${calls.length} more tool call${calls.length === 1 ? "" : "s"}` } : {}),
    };
  });
  const deadLetters = stack.ledger.deadLetters.map((d) => ({
    reason: d.reason,
    threadId: d.record.thread_id,
    runId: d.record.run_id,
    sourceLabel: labelOf(d.sourceMessageId),
    detail: d.record.detail ?? "(moved by SQS's redrive: no record)",
  }));

  const has = (type: string, run: RunIds) => results.some((r) => r.type === type && r.subject.endsWith(run.runId));
  const dead = (reason: DlqReason, run?: RunIds) => deadLetters.some((d) => d.reason === reason && (!run || d.runId === run.runId));
  const expectations: Array<[boolean, string]> = [
    [has("run.completed", runs.weather), "run.completed for the one-tool run"],
    [has("run.completed", runs.twoTools), "run.completed for the two-tool run (after a 429)"],
    [has("run.requires_action", runs.twoRounds), "run.requires_action asking for the second round"],
    [has("run.completed", runs.twoRounds), "run.completed after the tool worker's second round"],
    [has("run.expired", runs.expired), "run.expired for the late submission"],
    [dead("run_expired", runs.expired), "a run_expired DLQ record"],
    [dead("invalid_message"), "an invalid_message DLQ record"],
  ];
  const missing = expectations.filter(([seen]) => !seen).map(([, what]) => what);
  const sim = stack.sim!.counters;
  return {
    messages,
    results,
    deadLetters,
    accounting,
    counters: {
      submits: sim.submits,
      accepted: sim.accepted,
      doubleAcceptances: sim.doubleAcceptances,
      faultsInjected: sim.faultsInjected,
      invocations: stack.poller.stats.invocations,
    },
    missing,
    ok: missing.length === 0 && accounting.pending.length === 0 && sim.doubleAcceptances === 0,
    setup,
  };
}

/** The human summary `npm start` prints: ids, types and reasons only (never outputs or keys). */
export function formatScenarioReport(report: ScenarioReport): string {
  const pad = (text: string, width: number) => text.padEnd(width);
  const ids = (threadId?: string, runId?: string) => (threadId && runId ? `${threadId} / ${runId}` : "(ids not readable)");
  const lines: string[] = [];
  lines.push("tool-output-relay · local run (no AWS account, no LLM key)");
  lines.push(`  endpoint  ${report.setup.endpoint}`);
  lines.push(
    `  AWS       ${report.setup.aws}: input queue (redrive to the DLQ after ${report.setup.maxReceiveCount} receives), DLQ, results topic`,
  );
  lines.push(`  Lambda    the real handler, driven by ${report.setup.pollers} event-source pollers`);
  lines.push("");
  lines.push(`Messages sent to the input queue (${report.messages.length})`);
  report.messages.forEach((m, i) => {
    const fate = m.fate === "dead_lettered" ? `dead-lettered: ${m.reason}` : m.fate === "lost" ? "LOST" : "accepted";
    lines.push(`  ${i + 1}. ${pad(m.label, 46)} ${pad(`${m.toolOutputs} output${m.toolOutputs === 1 ? "" : "s"}`, 10)} → ${fate}`);
  });
  lines.push("");
  lines.push(`Results topic (${report.results.length} event${report.results.length === 1 ? "" : "s"})`);
  for (const r of report.results)
    lines.push(`  ${pad(r.type, 20)} ${pad(r.subject, 64)} from: ${r.sourceLabel}${r.note ? ` (${r.note})` : ""}`);
  lines.push("");
  lines.push(`DLQ (${report.deadLetters.length} record${report.deadLetters.length === 1 ? "" : "s"})`);
  for (const d of report.deadLetters) {
    lines.push(`  ${pad(d.reason, 20)} ${pad(ids(d.threadId, d.runId), 64)} from: ${d.sourceLabel}`);
    lines.push(`  ${pad("", 20)} ${d.detail.length > 160 ? `${d.detail.slice(0, 157)}…` : d.detail}`);
  }
  lines.push("");
  const { accepted, deadLettered, pending } = report.accounting;
  lines.push(
    `Every message accounted for? ${pending.length === 0 ? "yes" : "NO"}: ${report.messages.length} sent · ${accepted.length} accepted · ${deadLettered.length} dead-lettered · ${pending.length} lost`,
  );
  const c = report.counters;
  lines.push(
    `Endpoint: ${c.submits} submits, ${c.accepted} accepted, ${c.doubleAcceptances} accepted twice, ${c.faultsInjected} fault${c.faultsInjected === 1 ? "" : "s"} injected · Lambda invocations: ${c.invocations}`,
  );
  for (const what of report.missing) lines.push(`MISSING: ${what}`);
  lines.push(report.ok ? "OK: the relay did its whole job." : "NOT OK: see above.");
  return lines.join("\n");
}
