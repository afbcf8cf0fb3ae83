/**
 * The soak's message mix: valid turns of every API (runs, responses in each of the Responses API's modes, Agents
 * sessions, some answered by two workers), turns
 * whose outputs are collected from 2–4 messages (`collect: true`), poison of every kind, and duplicate deliveries;
 * each with what must become of it. Kept apart from bench/soak.ts, which
 * sends the mix and counts what happened.
 */
import { BAD_INPUT_CORPUS } from "../fixtures/bad-input-corpus";
import { answerFor, responseAnswerFor } from "../fixtures/messages";
import { type AgentScript, type EndpointSimulator, type ResponseScript, seededRandom } from "../local/endpoint-simulator";

/** What a message answers, so the soak can find the results event that reports it. */
export type Subject =
  /** `thread / run`, as `subjectOf` words an Assistants event. */
  | { api: "assistants"; runKey: string }
  /** The response whose function calls the outputs answer: its continuation must be reported. */
  | { api: "responses"; answers: string }
  /** The conversation whose waiting calls the outputs answer. */
  | { api: "responses"; conversation: string }
  /** The Agents session whose pending calls the outputs answer: any of its events reports it. */
  | { api: "agents"; sessionId: string };

/**
 * A turn that must be acknowledged with its subject reported: sent by the soak, a duplicate, or a second round the
 * tool worker sent. `unconfirmable`: a previous_response_id continuation off any conversation, which the API cannot
 * confirm after an ambiguous failure, so the DLQ's `submission_unconfirmed` is a correct end too.
 */
export type TurnExpectation = { kind: "accepted" | "duplicate" | "answer"; subject: Subject; unconfirmable: boolean };

/**
 * A turn whose outputs the soak splits over 2–4 messages with `collect: true`, sent close together in random order.
 * `complete: false`: one part is never sent, so the set can never complete and every part that was sent must end in
 * the DLQ (`collect_incomplete` at COLLECT_TIMEOUT_SECONDS) with nothing submitted.
 */
export interface CollectedTurn {
  subject: Subject;
  complete: boolean;
  unconfirmable: boolean;
  /** Every call the turn asks for. */
  callIds: string[];
  /** Where the soak looks whether, and how often, the endpoint took the set. */
  scope: { api: "assistants"; threadId: string; runId: string } | { api: "responses"; responseId: string; conversationId?: string };
  /** Messages the turn's outputs were split over (the ones sent, and for an incomplete set the one held back). */
  parts: number;
}

/** One part of a collected turn, or a duplicate delivery of one. */
export type CollectedExpectation = { kind: "collected"; turn: CollectedTurn; duplicate: boolean };

export type Expectation = TurnExpectation | CollectedExpectation | { kind: "dead_letter"; reason: string; poison: string };

export interface Planned {
  body: string;
  expect: Expectation;
  /** Duplicates of the second wave are sent after everything else. */
  wave: 1 | 2;
}

export interface PlanOptions {
  messages: number;
  poisonShare: number;
  duplicateShare: number;
  /** Share of the valid messages that are Responses-API turns. */
  responsesShare: number;
  /** Share of the valid messages that answer Agents-API sessions. */
  agentsShare: number;
  /** Share of the valid turns whose outputs are collected from 2–4 messages. */
  collectShare: number;
  /** Share of the collected turns that never complete (a part is held back). */
  incompleteShare: number;
  seed: number;
}

/** Bigger corpus bodies are left to the corpus test: SendMessageBatch takes at most 1 MiB per call. */
const MAX_POISON_BODY_BYTES = 64 * 1024;
const MODEL = "gpt-5-mini";

/**
 * Builds the message mix on a simulator: unique valid turns, collected turns, poison of every kind, and duplicates
 * of valid messages (collected parts included). Some runs and responses ask for a second round, which the soak's
 * tool worker answers.
 * @example const planned = planSoak(sim, { messages: 300, poisonShare: 0.06, duplicateShare: 0.06, responsesShare: 0.4, collectShare: 0.3, incompleteShare: 0.15, seed: 7 });
 */
export function planSoak(sim: EndpointSimulator, options: PlanOptions): Planned[] {
  const random = seededRandom(options.seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const poisonCount = Math.ceil(options.messages * options.poisonShare);
  const duplicateCount = Math.ceil(options.messages * options.duplicateShare);
  const validCount = options.messages - poisonCount - duplicateCount;
  const corpus = BAD_INPUT_CORPUS.filter((c) => Buffer.byteLength(c.body) <= MAX_POISON_BODY_BYTES);
  const output = (i: number) => () => JSON.stringify({ n: i, text: "soak output" });
  const metadata = (i: number) => (random() < 0.3 ? { metadata: { tenant: `t${i % 7}` } } : {});

  const valid: Planned[] = [];
  const collected: Planned[][] = [];
  let validMessages = 0;
  for (let i = 0; validMessages < validCount; i++) {
    if (random() < options.collectShare) {
      const parts = collectedTurn(sim, random, options, output(i), metadata(i));
      collected.push(parts);
      validMessages += parts.length;
      continue;
    }
    const api = random();
    if (api >= options.responsesShare && api < options.responsesShare + options.agentsShare) {
      const turn = agentsTurn(sim, random, output(i), metadata(i));
      valid.push(...turn);
      validMessages += turn.length;
      continue;
    }
    validMessages++;
    if (api < options.responsesShare) {
      valid.push(responseTurn(sim, random, output(i), metadata(i)));
      continue;
    }
    const roll = random();
    const then = roll < 0.1 ? [{ requiresAction: 1 }] : roll < 0.15 ? ["failed" as const] : ["completed" as const];
    const run = sim.createRun({ toolCalls: 1 + Math.floor(random() * 3), afterOutputs: then });
    const message = answerFor(run, { ...(random() < 0.1 ? { stream: true } : {}), ...metadata(i) }, output(i));
    const subject: Subject = { api: "assistants", runKey: `${run.threadId} / ${run.runId}` };
    valid.push({ body: JSON.stringify(message), expect: { kind: "accepted", subject, unconfirmable: false }, wave: 1 });
  }

  const poison: Planned[] = [];
  for (let i = 0; i < poisonCount; i++) {
    const roll = random();
    const deadLetter = (body: unknown, reason: string, what: string): Planned => ({
      body: typeof body === "string" ? body : JSON.stringify(body),
      expect: { kind: "dead_letter", reason, poison: what },
      wave: 1,
    });
    const one = [{ tool_call_id: "call_other", output: "1" }];
    if (roll < 0.5) {
      const badCase = pick(corpus);
      poison.push(deadLetter(badCase.body, badCase.reason, `corpus: ${badCase.name}`));
    } else if (roll < 0.6) {
      poison.push(
        deadLetter({ thread_id: `thread_missing${i}`, run_id: `run_missing${i}`, tool_outputs: one }, "run_not_found", "unknown run"),
      );
    } else if (roll < 0.7) {
      const run = sim.createRun({ toolCalls: ["call_expected"] });
      poison.push(deadLetter({ thread_id: run.threadId, run_id: run.runId, tool_outputs: one }, "tool_call_mismatch", "wrong call ids"));
    } else if (roll < 0.78) {
      const run = sim.createRun();
      sim.expireRun(run.threadId, run.runId);
      poison.push(deadLetter(answerFor(run), "run_expired", "expired run"));
    } else if (roll < 0.86) {
      const response = sim.createResponse({ toolCalls: ["call_expected"], conversation: random() < 0.3 ? true : undefined });
      poison.push(deadLetter({ response_id: response.responseId, tool_outputs: one }, "tool_call_mismatch", "wrong call ids (response)"));
    } else if (roll < 0.93) {
      poison.push(deadLetter({ response_id: `resp_missing${i}`, tool_outputs: one }, "response_not_found", "unknown response"));
    } else if (roll < 0.96) {
      const ended = sim.createSession({ toolCalls: ["call_expected"] });
      sim.cancelTurn(ended.sessionId);
      const agentsPoison = random();
      if (agentsPoison < 0.34)
        poison.push(
          deadLetter({ session_id: `sess_missing${i}`, turn_id: "turn_a", tool_outputs: one }, "session_not_found", "unknown session"),
        );
      else if (agentsPoison < 0.67)
        poison.push(
          deadLetter(
            { session_id: ended.sessionId, turn_id: ended.turnId, tool_outputs: one },
            "tool_call_mismatch",
            "wrong call ids (session)",
          ),
        );
      else {
        const body = { session_id: ended.sessionId, turn_id: ended.turnId, tool_outputs: [{ tool_call_id: "call_expected", output: "1" }] };
        poison.push(deadLetter(body, "session_not_awaiting_outputs", "a cancelled turn"));
      }
    } else {
      const response = random() < 0.5 ? sim.createResponse({ toolCalls: 0 }) : sim.createResponse({ status: "failed" });
      const body = { response_id: response.responseId, tool_outputs: one };
      poison.push(deadLetter(body, "response_not_awaiting_outputs", "a response that asks for nothing"));
    }
  }

  // Half of the duplicates travel with the first wave (often in the same batch as their twin), half come late.
  const duplicable = [...valid, ...collected.flat()];
  const duplicates: Planned[] = Array.from({ length: duplicateCount }, (_, i) => {
    const original = pick(duplicable);
    const expect: Expectation =
      original.expect.kind === "collected"
        ? { ...original.expect, duplicate: true }
        : { ...(original.expect as TurnExpectation), kind: "duplicate" };
    return { body: original.body, expect, wave: i % 2 === 0 ? 1 : 2 };
  });

  // The first wave in random order, except that a collected turn's parts stay within a few positions of one another
  // (shuffled among themselves), as the workers of one turn answer within seconds, not across the whole soak.
  const spread = 8 / Math.max(1, validCount + poisonCount + duplicateCount);
  const keyed = [...valid, ...poison, ...duplicates.filter((d) => d.wave === 1)].map((p) => ({ p, key: random() }));
  for (const parts of collected) {
    const base = random();
    for (const p of parts) keyed.push({ p, key: base + random() * spread });
  }
  keyed.sort((a, b) => a.key - b.key);
  return [...keyed.map((k) => k.p), ...duplicates.filter((d) => d.wave === 2)];
}

/**
 * One collected turn: a run, or a response in one of the Responses API's modes, with 2–4 calls, its outputs split
 * over 2–4 messages with `collect: true` (each part the same `request`, `stream` and `metadata`, as the docs ask).
 * An incomplete one holds back one part.
 */
function collectedTurn(
  sim: EndpointSimulator,
  random: () => number,
  options: PlanOptions,
  output: () => string,
  metadata: { metadata?: Record<string, string> },
): Planned[] {
  const calls = 2 + Math.floor(random() * 3);
  const partCount = 2 + Math.floor(random() * (calls - 1));
  const complete = random() >= options.incompleteShare;
  const stream = random() < 0.15 ? { stream: true } : {};
  let message: { tool_outputs: Array<{ tool_call_id: string }> };
  let turn: Omit<CollectedTurn, "complete" | "parts">;
  if (random() < options.responsesShare) {
    const mode = random();
    const onConversation = mode >= 0.5;
    const response = sim.createResponse({
      toolCalls: calls,
      afterOutputs: [random() < 0.1 ? "failed" : "completed"],
      ...(onConversation ? { conversation: true } : {}),
    });
    const byConversation = mode >= 0.8;
    message = responseAnswerFor(
      response,
      byConversation ? { conversation: true, request: { model: MODEL }, ...stream, ...metadata } : { ...stream, ...metadata },
      output,
    );
    const subject: Subject = byConversation
      ? { api: "responses", conversation: response.conversationId! }
      : { api: "responses", answers: response.responseId };
    const scope = {
      api: "responses" as const,
      responseId: response.responseId,
      ...(onConversation ? { conversationId: response.conversationId! } : {}),
    };
    turn = { subject, unconfirmable: !onConversation, callIds: response.callIds, scope };
  } else {
    const run = sim.createRun({ toolCalls: calls, afterOutputs: [random() < 0.1 ? "failed" : "completed"] });
    message = answerFor(run, { ...stream, ...metadata }, output);
    const subject: Subject = { api: "assistants", runKey: `${run.threadId} / ${run.runId}` };
    turn = {
      subject,
      unconfirmable: false,
      callIds: run.toolCallIds,
      scope: { api: "assistants", threadId: run.threadId, runId: run.runId },
    };
  }
  // Deal the calls over the parts: each part one call first, the rest at random.
  const groups: Array<typeof message.tool_outputs> = Array.from({ length: partCount }, () => []);
  const outputs = [...message.tool_outputs].sort(() => random() - 0.5);
  for (const [i, toolOutput] of outputs.entries()) groups[i < partCount ? i : Math.floor(random() * partCount)]!.push(toolOutput);
  const expect: CollectedExpectation = { kind: "collected", turn: { ...turn, complete, parts: partCount }, duplicate: false };
  const sent = complete ? groups : groups.slice(1);
  return sent.map((group) => ({ body: JSON.stringify({ ...message, tool_outputs: group, collect: true }), expect, wave: 1 }));
}

/**
 * One valid Responses turn: a response off any conversation (previous_response_id mode), a response on a
 * conversation (continued with `conversation`), or a conversation's waiting calls (`conversation_id` with
 * `request.model`). A quarter ask for a second round; some end failed; some are streamed.
 */
function responseTurn(
  sim: EndpointSimulator,
  random: () => number,
  output: () => string,
  metadata: { metadata?: Record<string, string> },
): Planned {
  const roll = random();
  const afterOutputs: ResponseScript[] =
    roll < 0.25 ? [{ functionCalls: 1 + Math.floor(random() * 2) }, "completed"] : roll < 0.3 ? ["failed"] : ["completed"];
  const mode = random();
  const onConversation = mode >= 0.5;
  const response = sim.createResponse({
    toolCalls: 1 + Math.floor(random() * 3),
    afterOutputs,
    ...(onConversation ? { conversation: true } : {}),
  });
  const stream = random() < 0.2 ? { stream: true } : {};
  if (mode >= 0.8) {
    const message = responseAnswerFor(response, { conversation: true, request: { model: MODEL }, ...stream, ...metadata }, output);
    const subject: Subject = { api: "responses", conversation: response.conversationId! };
    return { body: JSON.stringify(message), expect: { kind: "accepted", subject, unconfirmable: false }, wave: 1 };
  }
  const message = responseAnswerFor(response, { ...stream, ...metadata }, output);
  const subject: Subject = { api: "responses", answers: response.responseId };
  return { body: JSON.stringify(message), expect: { kind: "accepted", subject, unconfirmable: !onConversation }, wave: 1 };
}

/**
 * One Agents turn: a session waiting for 1–3 calls, answered in one message or, a third of the time, by two workers
 * (two messages: the first is reported `session.waiting`). A tenth of the results are a tool's failure (`error`); a
 * quarter of the turns ask for another round (the tool worker answers it); some end failed; some are followed on the
 * session's event stream.
 */
function agentsTurn(
  sim: EndpointSimulator,
  random: () => number,
  output: () => string,
  metadata: { metadata?: Record<string, string> },
): Planned[] {
  const roll = random();
  const afterOutputs: AgentScript[] =
    roll < 0.25 ? [{ functionCalls: 1 + Math.floor(random() * 2) }, "completed"] : roll < 0.3 ? ["failed"] : ["completed"];
  const session = sim.createSession({ toolCalls: 1 + Math.floor(random() * 3), afterOutputs });
  const outputs = session.callIds.map((id) =>
    random() < 0.1 ? { tool_call_id: id, error: "the tool failed (soak)" } : { tool_call_id: id, output: output() },
  );
  const stream = random() < 0.2 ? { stream: true } : {};
  const split = outputs.length > 1 && random() < 1 / 3 ? [outputs.slice(0, 1), outputs.slice(1)] : [outputs];
  const subject: Subject = { api: "agents", sessionId: session.sessionId };
  return split.map((part) => ({
    body: JSON.stringify({ session_id: session.sessionId, turn_id: session.turnId, tool_outputs: part, ...stream, ...metadata }),
    expect: { kind: "accepted", subject, unconfirmable: false },
    wave: 1,
  }));
}
