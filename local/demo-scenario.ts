import { answerFor, responseAnswerFor, type SimulatedResponse, type SimulatedRun } from "../fixtures/messages";
import type { ToolOutputMessage } from "../functions/submit-tool-outputs/dialects/assistants/message-schema";
import { type ResultsEvent, subjectOf } from "../functions/submit-tool-outputs/dialects/index";
import type { ResponsesToolOutputMessage } from "../functions/submit-tool-outputs/dialects/responses/message-schema";
import type { DlqReason } from "../functions/submit-tool-outputs/pipeline/outcome";
import type { ScenarioMessage, ScenarioReport } from "./demo-summary";
import { type Accounting, type LocalStack, type LocalStackOptions, startLocalStack } from "./local-stack";
import { startToolWorker, type ToolWorker } from "./tool-worker";

export { formatScenarioReport, type ScenarioMessage, type ScenarioReport } from "./demo-summary";

type Label = Omit<ScenarioMessage, "fate" | "messageId">;

const METADATA = { tenant: "demo" };
const OUTPUT = () => JSON.stringify({ temperature_c: 21 });

/**
 * The `npm start` story on the local stack, for both APIs. Assistants: runs that need tools, valid outputs, an
 * invalid message, a late submission to an expired run, and a run that asks for a second round. Responses: a
 * two-round chain, a turn delivered twice (it must not fork), and outputs for calls the response did not ask for.
 * Collecting: a turn of three parallel calls answered by three workers in random order, submitted once.
 * The tool worker answers both second rounds from their `*.requires_action` events. Returns what reached the
 * results topic and the DLQ.
 * @example const report = await runDemoScenario(); console.log(formatScenarioReport(report));
 */
export async function runDemoScenario(options: Omit<LocalStackOptions, "endpoint"> & { timeoutMs?: number } = {}): Promise<ScenarioReport> {
  const maxReceiveCount = options.maxReceiveCount ?? 3;
  const pollers = options.poller?.pollers ?? 2;
  const stack = await startLocalStack({ ...options, maxReceiveCount, poller: { ...options.poller, pollers } });
  const sent = new Map<string, Label>();
  const answers = new Map<string, Label>();
  const worker = startToolWorker(stack, {
    runTool: OUTPUT,
    onAnswer: (a) =>
      answers.set(a.messageId, {
        label: `second round of the ${a.api === "assistants" ? "run" : "response"}, by the tool worker`,
        subject: "run_id" in a.reply ? `${a.reply.thread_id} / ${a.reply.run_id}` : Object.values(a.reply)[0],
        toolOutputs: a.toolCallIds.length,
      }),
  });
  try {
    const sim = stack.sim!;
    const send = async (label: string, message: Record<string, unknown>) => {
      const outputs = Array.isArray(message.tool_outputs) ? message.tool_outputs.length : 0;
      const id = await stack.send(message);
      sent.set(id, { label, subject: subjectOfMessage(message), toolOutputs: outputs });
      return id;
    };
    const answer = (run: SimulatedRun, extra: Partial<ToolOutputMessage> = {}) => answerFor(run, { metadata: METADATA, ...extra }, OUTPUT);
    const respond = (response: SimulatedResponse, extra: Partial<ResponsesToolOutputMessage> = {}) =>
      responseAnswerFor(response, { metadata: METADATA, ...extra }, OUTPUT);

    const weather = sim.createRun({ toolCalls: 1, afterOutputs: ["completed"] });
    const twoTools = sim.createRun({ toolCalls: 2, afterOutputs: ["completed"] });
    sim.inject({ on: "submit", kind: "rate_limit", retryAfterMs: 100, runId: twoTools.runId });
    const twoRounds = sim.createRun({ toolCalls: 1, afterOutputs: [{ requiresAction: 2 }, "completed"] });
    const expired = sim.createRun({ toolCalls: 1 });
    sim.expireRun(expired.threadId, expired.runId);
    const chain = sim.createResponse({ toolCalls: 1, afterOutputs: [{ functionCalls: 2 }, "completed"] });
    const turn = sim.createResponse({ toolCalls: 2 });
    const mismatched = sim.createResponse({ toolCalls: 1 });
    const fanIn = sim.createRun({ toolCalls: 3, afterOutputs: ["completed"] });

    await send("valid outputs", answer(weather));
    await send("valid outputs, streamed, one 429 on the way", answer(twoTools, { stream: true }));
    await send("first round of a two-round run", answer(twoRounds));
    await send("late submission to an expired run", answer(expired));
    await send("invalid message", { thread_id: "thread/../etc", run_id: "run_1", tool_outputs: [], colour: "blue" });
    await send("Responses: first round of a two-round chain", respond(chain));
    const turnMessage = respond(turn, { stream: true });
    await send("Responses: a turn, streamed", turnMessage);
    await send("Responses: outputs for calls it did not ask for", {
      ...respond(mismatched),
      tool_outputs: [{ tool_call_id: "call_not_asked_for", output: OUTPUT() }],
    });

    // Fan-in: three parallel calls of one turn, each run by a worker of its own, arriving in random order.
    for (const output of shuffled(answer(fanIn).tool_outputs)) {
      await send("collected: 1 of 3 parallel calls, own worker", { ...answer(fanIn), tool_outputs: [output], collect: true });
    }

    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    await settleWithWorker(stack, worker, [...sent.keys(), ...answers.keys()], deadline);
    // A duplicate delivery, as SQS's at-least-once brings one: the same body again, after the first copy was accepted.
    await send("Responses: the same turn again (a duplicate)", turnMessage);
    await settleWithWorker(stack, worker, [...sent.keys(), ...answers.keys()], deadline);
    const labels = new Map([...sent, ...[...answers].sort(([, a], [, b]) => a.label.localeCompare(b.label))]);
    const accounting = stack.ledger.account(labels.keys());

    return buildReport(
      stack,
      labels,
      accounting,
      {
        endpoint: `endpoint simulator on ${stack.endpointBaseUrl} (Assistants and Responses APIs)`,
        aws: `fauxqs on ${stack.aws.endpoint}, dynalite on ${stack.aws.dynamodb.endpoint}`,
        maxReceiveCount,
        pollers,
      },
      { weather, twoTools, twoRounds, expired, fanIn },
      { chain, turn, mismatched },
    );
  } finally {
    await worker.stop();
    await stack.close();
  }
}

/** Settles until the tool worker has answered every requires_action event read and nothing is moving. */
async function settleWithWorker(stack: LocalStack, worker: ToolWorker, ids: string[], deadline: number): Promise<void> {
  let answered: number;
  do {
    answered = worker.sent.length;
    await stack.settle([...ids, ...worker.sent], { timeoutMs: Math.max(1, deadline - Date.now()) });
    await worker.caughtUp();
  } while (worker.sent.length !== answered && Date.now() < deadline);
}

function subjectOfMessage(message: Record<string, unknown>): string | undefined {
  if (typeof message.response_id === "string") return message.response_id;
  if (typeof message.conversation_id === "string") return `conversation ${message.conversation_id}`;
  return typeof message.thread_id === "string" && typeof message.run_id === "string"
    ? `${message.thread_id} / ${message.run_id}`
    : undefined;
}

type RunIds = { threadId: string; runId: string };
type ResponseIds = { responseId: string };

function buildReport(
  stack: LocalStack,
  labels: Map<string, Label>,
  accounting: Accounting,
  setup: ScenarioReport["setup"],
  runs: Record<"weather" | "twoTools" | "twoRounds" | "expired" | "fanIn", RunIds>,
  responses: Record<"chain" | "turn" | "mismatched", ResponseIds>,
): ScenarioReport {
  const sim = stack.sim!;
  const labelOf = (id: string) => labels.get(id)?.label ?? `message ${id.slice(0, 8)}`;
  const reasons = new Map(accounting.deadLettered.map((d) => [d.messageId, d.reason]));
  const messages: ScenarioMessage[] = [...labels].map(([messageId, m]) => ({
    messageId,
    ...m,
    fate: reasons.has(messageId) ? "dead_lettered" : accounting.accepted.includes(messageId) ? "accepted" : "lost",
    ...(reasons.has(messageId) ? { reason: reasons.get(messageId) } : {}),
  }));
  const events = stack.ledger.results.map(({ event }) => event);
  const results = events.map((event) => {
    const calls = event.tool_calls;
    return {
      type: event.type,
      subject: subjectOf(event),
      sourceLabel: labelOf(event.source_message_id),
      ...(calls.length > 0 ? { note: `asks for ${calls.length} more tool call${calls.length === 1 ? "" : "s"}` } : {}),
    };
  });
  const deadLetters = stack.ledger.deadLetters.map((d) => {
    const r = d.record;
    const subject = r.thread_id && r.run_id ? `${r.thread_id} / ${r.run_id}` : (r.response_id ?? r.conversation_id);
    return {
      reason: d.reason,
      ...(subject ? { subject } : {}),
      sourceLabel: labelOf(d.sourceMessageId),
      detail: r.detail ?? "(moved by SQS's redrive: no record)",
    };
  });

  const has = (type: string, run: RunIds) =>
    events.some((e) => e.type === type && e.api === "assistants" && e.run_id === run.runId && e.thread_id === run.threadId);
  // A Responses event is about the turn it answered: the continuation of `answered`.
  const continued = (type: string, answered: string, by?: (e: ResultsEvent) => boolean) =>
    events.some((e) => e.type === type && e.api === "responses" && e.previous_response_id === answered && (!by || by(e)));
  const dead = (reason: DlqReason, subject?: string) => deadLetters.some((d) => d.reason === reason && (!subject || d.subject === subject));
  const [second] = sim.children(responses.chain.responseId);
  const copies = [...labels].filter(([, m]) => m.subject === responses.turn.responseId).map(([id]) => id);
  const duplicate = {
    responseId: responses.turn.responseId,
    copies: copies.length,
    accepted: copies.filter((id) => accounting.accepted.includes(id)).length,
    created: sim.children(responses.turn.responseId).length,
  };
  const fanInEvent = events.find((e) => e.api === "assistants" && e.run_id === runs.fanIn.runId && e.type === "run.completed");
  const collected = {
    messages: [...labels.values()].filter((m) => m.subject === `${runs.fanIn.threadId} / ${runs.fanIn.runId}`).length,
    submissions: sim.requests.filter((r) => r.method === "POST" && r.path.includes(`/runs/${runs.fanIn.runId}/submit_tool_outputs`)).length,
    inEvent: fanInEvent?.source_message_ids?.length ?? 0,
  };
  const expectations: Array<[boolean, string]> = [
    [has("run.completed", runs.weather), "run.completed for the one-tool run"],
    [has("run.completed", runs.twoTools), "run.completed for the two-tool run (after a 429)"],
    [has("run.requires_action", runs.twoRounds), "run.requires_action asking for the second round"],
    [has("run.completed", runs.twoRounds), "run.completed after the tool worker's second round"],
    [has("run.expired", runs.expired), "run.expired for the late submission"],
    [dead("run_expired", `${runs.expired.threadId} / ${runs.expired.runId}`), "a run_expired DLQ record"],
    [dead("invalid_message"), "an invalid_message DLQ record"],
    [continued("response.requires_action", responses.chain.responseId), "response.requires_action asking for the chain's second round"],
    [second !== undefined && continued("response.completed", second), "response.completed after the tool worker's second round"],
    [continued("response.completed", responses.turn.responseId), "response.completed for the streamed turn"],
    [
      duplicate.copies === 2 && duplicate.accepted === 2 && duplicate.created === 1,
      "the duplicated turn: both copies acknowledged, one response created",
    ],
    [dead("tool_call_mismatch", responses.mismatched.responseId), "a tool_call_mismatch DLQ record for the response"],
    [
      collected.submissions === 1 && collected.inEvent === 3,
      "the parallel turn's three outputs submitted once, the event naming all three messages",
    ],
  ];
  const missing = expectations.filter(([seen]) => !seen).map(([, what]) => what);
  const c = sim.counters;
  return {
    messages,
    results,
    deadLetters,
    accounting,
    counters: {
      submits: c.submits,
      accepted: c.accepted,
      doubleAcceptances: c.doubleAcceptances,
      faultsInjected: c.faultsInjected,
      invocations: stack.poller.stats.invocations,
      continuations: c.continuations,
      forks: c.forks,
    },
    duplicate,
    collected,
    missing,
    ok: missing.length === 0 && accounting.pending.length === 0 && c.doubleAcceptances === 0 && c.forks === 0,
    setup,
  };
}

/** The parts in a random order, as independent workers finish. */
function shuffled<T>(items: T[]): T[] {
  const order = [...items];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
