/**
 * One schedule: a scenario drawn from the seed (an Assistants run or a Responses turn, answered whole or collected
 * in 2–3 parts, perhaps a duplicate, perhaps another party answering at the endpoint), two or three execution
 * environments each running the real handler as Lambda's event source mapping drives it, the seeded scheduler
 * between them, and the promise checked at the end.
 */
import type { SQSBatchResponse } from "aws-lambda";
import { createHandler } from "../../functions/submit-tool-outputs/create-handler";
import { readDeadLetter } from "../../functions/submit-tool-outputs/out/dlq-record";
import { lambdaContext, toSqsEvent } from "../../local/lambda-shapes";
import { ENDPOINT_ORIGIN } from "./memory-endpoint";
import { clock, prng } from "./sim-runtime";
import {
  enterWorld,
  FAULT_KINDS,
  type FaultKind,
  type Generation,
  LEASE_JUMP_MS,
  RETENTION_SECONDS,
  TABLE_NAME,
  VISIBILITY_TIMEOUT_SECONDS,
  World,
} from "./world";

const FUNCTION_TIMEOUT_MS = 60_000;
const MAX_RECEIVE_COUNT = 3;
const MAX_STEPS = 6_000;
const HORIZON_MS = 6 * 86_400_000;

export interface Scenario {
  api: "assistants" | "responses";
  calls: number;
  parts: string[][];
  duplicate: boolean;
  otherParty: boolean;
  envs: number;
  faultRate: number;
}

export interface ScheduleResult {
  seed: number;
  scenario: Scenario;
  steps: number;
  faults: Record<FaultKind, number>;
  violations: string[];
  /** Outcomes outside the relay's reach (see checkPromise), counted apart. */
  excused: number;
  trace: string[];
}

/** What the seed asks for. Weights favour the shapes where interleavings matter (collected sets, duplicates). */
export function scenarioFor(seed: number): Scenario {
  const r = prng(seed * 2654435761);
  const api = r() < 0.55 ? "assistants" : "responses";
  const calls = 1 + Math.floor(r() * 3);
  const ids = Array.from({ length: calls }, (_, i) => `call_${seed.toString(36)}x${i}`);
  const collected = calls >= 2 && r() < 0.65;
  const parts = !collected ? [ids] : calls === 3 && r() < 0.5 ? [[ids[0]!], [ids[1]!, ids[2]!]] : ids.map((id) => [id]);
  const otherParty = api === "assistants" && collected && r() < 0.25;
  return { api, calls, parts, duplicate: r() < 0.3, otherParty, envs: r() < 0.3 ? 3 : 2, faultRate: 0.02 + r() * 0.08 };
}

function environment(world: World): Record<string, string> {
  return {
    ENDPOINT_BASE_URL: `${ENDPOINT_ORIGIN}/v1`,
    PORTKEY_API_KEY: "pk-explore",
    PORTKEY_VIRTUAL_KEY: "vk-explore",
    RESULTS_TOPIC_ARN: world.topic.arn,
    DLQ_URL: world.dlq.url,
    INPUT_QUEUE_URL: world.input.url,
    MAX_RECEIVE_COUNT: String(MAX_RECEIVE_COUNT),
    RELAY_STATE_TABLE: TABLE_NAME,
    AWS_REGION: "us-east-1",
    ENDPOINT_TIMEOUT_MS: "10000",
    RETRY_BASE_DELAY_MS: "200",
    RETRY_MAX_DELAY_MS: "2000",
    POLL_INTERVAL_MS: "1000",
    FOLLOW_BUDGET_MS: "20000",
    DEADLINE_RESERVE_MS: "2000",
    COLLECT_TIMEOUT_SECONDS: "60",
    WATCH_DELAY_SECONDS: "5",
    // What the stack tells the function about its queue (rule 1), as the explorer's queue is.
    INPUT_RETENTION_SECONDS: String(RETENTION_SECONDS),
    INPUT_VISIBILITY_TIMEOUT_SECONDS: String(VISIBILITY_TIMEOUT_SECONDS),
  };
}

/** Runs one schedule to its end and checks the promise. */
export async function runSchedule(seed: number, tracing = false): Promise<ScheduleResult> {
  clock.reset(seed);
  const scenario = scenarioFor(seed);
  const world = new World(seed, MAX_RECEIVE_COUNT, tracing);
  enterWorld(world);
  clock.owner = () => world.context.getStore();
  const env = environment(world);

  // The turn at the endpoint, and the messages the tool workers send.
  const outputFor = (id: string) => `out:${id}`;
  let reply: Record<string, string>;
  let runKey: { threadId: string; runId: string } | undefined;
  if (scenario.api === "assistants") {
    const callIds = scenario.parts.flat();
    const run = world.endpoint.createRun({ toolCalls: callIds });
    runKey = run;
    reply = { thread_id: run.threadId, run_id: run.runId };
  } else {
    const response = world.endpoint.createResponse({ toolCalls: scenario.parts.flat() });
    reply = { response_id: response.responseId };
  }
  const collected = scenario.parts.length > 1;
  const bodies = scenario.parts.map((ids) =>
    JSON.stringify({
      ...reply,
      tool_outputs: ids.map((id) => ({ tool_call_id: id, output: outputFor(id) })),
      ...(collected ? { collect: true } : {}),
    }),
  );
  if (scenario.duplicate) bodies.push(bodies[Math.floor(world.random() * bodies.length)]!);
  /** Every input message id → the scenario message it stands for (a redriven copy stands for its original). */
  const root = new Map<string, string>();
  const bodyOf = new Map<string, string>();
  for (const body of bodies) {
    const id = world.input.send(body);
    root.set(id, id);
    bodyOf.set(id, body);
  }

  // The execution environments: each polls, invokes its handler, deletes what succeeded; a crash starts it cold.
  const generations: Generation[] = [];
  let busy = 0;
  /** Receives whose invocation died (`id#count`): SQS may move such a message raw, after its last receive. */
  const diedHolding = new Set<string>();
  /**
   * Messages whose last receive SQS delivered twice (`duplicate_delivery`): the copy left visible has no receive left,
   * so the next ReceiveMessage moves it raw to the DLQ (SQS's safety net) while the relay settles the copy it holds.
   */
  const duplicatedLast = new Set<string>();
  const holding = new Map<Generation, string[]>();
  const start = (envIndex: number, gen: number) => {
    const owner: Generation = { env: envIndex, gen, dead: false };
    generations[envIndex] = owner;
    void world.context.run(owner, async () => {
      const handler = createHandler(env);
      for (;;) {
        const received = await world.io(
          "receive",
          "ReceiveMessage",
          false,
          (fault) => {
            // A batch of one or two: parts of one turn meet in one invocation or in two.
            const got = world.input.receive(1 + Math.floor(world.random() * 2), { keepVisible: fault === "duplicate_delivery" });
            if (fault === "duplicate_delivery")
              for (const m of got) if (Number(m.Attributes.ApproximateReceiveCount) >= MAX_RECEIVE_COUNT) duplicatedLast.add(m.MessageId);
            holding.set(
              owner,
              got.map((m) => `${m.MessageId}#${m.Attributes.ApproximateReceiveCount}`),
            );
            return got;
          },
          undefined,
          () => world.input.hasVisible(),
        );
        if (received.length === 0) continue;
        holding.set(
          owner,
          received.map((m) => `${m.MessageId}#${m.Attributes.ApproximateReceiveCount}`),
        );
        busy++;
        try {
          world.note(
            `env${envIndex}.${gen} invoked with ${received.map((m) => `${m.MessageId}#${m.Attributes.ApproximateReceiveCount}`).join(",")}`,
          );
          const killer = setTimeout(() => crash(owner, "function timeout"), FUNCTION_TIMEOUT_MS);
          let response: SQSBatchResponse | undefined;
          try {
            response = (await handler(toSqsEvent(received as never, world.input.arn, "us-east-1"), lambdaContext(FUNCTION_TIMEOUT_MS))) as
              | SQSBatchResponse
              | undefined;
          } catch (error) {
            world.note(`env${envIndex}.${gen} invocation failed: ${(error as Error).name}`);
          }
          clearTimeout(killer);
          if (owner.dead) return; // the environment is gone: nobody hears its answer
          if (response) {
            const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
            world.note(`env${envIndex}.${gen} answered; handed back: ${[...failed].join(",") || "none"}`);
            // Lambda's event source mapping deletes what succeeded, outside the function's environment: a crash
            // of the environment after its answer does not stop it.
            for (const m of received) if (!failed.has(m.MessageId)) world.input.delete(m.ReceiptHandle);
          }
        } finally {
          busy--;
          if (!owner.dead) holding.delete(owner);
        }
      }
    });
  };
  const crash = (owner: Generation, why: string) => {
    if (owner.dead) return;
    owner.dead = true;
    world.note(`env${owner.env}.${owner.gen} crashed (${why})`);
    for (const held of holding.get(owner) ?? []) diedHolding.add(held);
    holding.delete(owner);
    world.forget(owner);
    start(owner.env, owner.gen + 1);
  };
  for (let i = 0; i < scenario.envs; i++) start(i, 0);

  const settle = async () => {
    for (let quiet = 0; quiet < 2; ) {
      const before = world.activity;
      await new Promise<void>((resolve) => setImmediate(resolve));
      quiet = world.activity === before ? quiet + 1 : 0;
    }
  };
  const otherPartyAt = scenario.otherParty ? 1 + Math.floor(world.random() * 30) : -1;
  let redrivesLeft = world.random() < 0.4 ? 2 : 0;
  let steps = 0;
  const violations: string[] = [];
  const applicable = (kind: string, write: boolean): FaultKind[] => {
    const list: FaultKind[] = ["crash_before", "crash_after", "lease_lapse"];
    if (kind === "receive") list.push("duplicate_delivery");
    if (write && kind !== "delete") list.push("lost_answer", kind === "sns" ? "publish_refused" : "write_refused");
    return list;
  };
  try {
    for (; steps < MAX_STEPS; steps++) {
      await settle();
      if (Date.now() - 1_767_225_600_000 > HORIZON_MS) break;
      if (steps === otherPartyAt && runKey) {
        const status = world.endpoint.submitDirectly(
          runKey.threadId,
          runKey.runId,
          scenario.parts.flat().map((id) => ({ tool_call_id: id, output: `other:${id}` })),
        );
        world.note(`another party submits the whole turn at the endpoint: ${status}`);
      }
      const ready = world.readyOps();
      if (ready.length === 0) {
        const idle = busy === 0 && world.pendingOps().every((op) => op.kind === "receive");
        if (idle && world.input.messages.length === 0) {
          if (redrivesLeft > 0 && world.dlq.messages.length > 0) {
            redrivesLeft--;
            const letter = world.dlq.messages.shift()!;
            const source = readDeadLetter({
              MessageId: letter.messageId,
              Body: letter.body,
              MessageAttributes: letter.attributes,
            } as never);
            // The console's redrive moves the message as it is: body and attributes.
            const id = world.input.send(letter.body, { attributes: letter.attributes });
            root.set(id, root.get(source.sourceMessageId) ?? root.get(letter.messageId) ?? id);
            world.faults.redrive++;
            world.note(`operator redrives DLQ ${letter.messageId} (${source.reason}) as ${id}`);
            continue;
          }
          break;
        }
        const next = [clock.nextDue(), world.input.nextChange()].filter((t): t is number => t !== undefined);
        if (next.length === 0) break;
        clock.now = Math.max(clock.now, Math.min(...next));
        clock.fireDue();
        continue;
      }
      const op = ready[Math.floor(world.random() * ready.length)]!;
      let fault: FaultKind | undefined;
      if (world.random() < scenario.faultRate) {
        const kinds = applicable(op.kind, op.write);
        fault = kinds[Math.floor(world.random() * kinds.length)];
      }
      if (fault) world.faults[fault]++;
      if (fault === "lease_lapse") {
        world.note(`the clock jumps ${LEASE_JUMP_MS / 1000}s (env${op.owner.env} stalls)`);
        clock.now += LEASE_JUMP_MS;
        clock.fireDue();
        await settle();
        if (op.owner.dead || !world.readyOps().includes(op)) continue;
        fault = undefined;
      }
      if (world.settle(op, fault) === "crash") crash(op.owner, fault!);
    }
    if (steps >= MAX_STEPS) violations.push(`unfinished: ${MAX_STEPS} steps without settling`);
  } finally {
    for (const g of generations) if (g) g.dead = true;
    world.close();
    enterWorld(undefined);
  }
  const excused: string[] = [];
  violations.push(...checkPromise(world, root, bodyOf, outputFor, { diedHolding, duplicatedLast }, excused));
  for (const line of excused) world.note(`excused: ${line}`);
  return { seed, scenario, steps, faults: world.faults, violations, excused: excused.length, trace: world.trace };
}

/** The promise, over the world as the schedule left it. */
function checkPromise(
  world: World,
  root: Map<string, string>,
  bodyOf: Map<string, string>,
  outputFor: (id: string) => string,
  beyondReach: { diedHolding: Set<string>; duplicatedLast: Set<string> },
  excused: string[],
): string[] {
  const { diedHolding, duplicatedLast } = beyondReach;
  const violations: string[] = [];
  const reported = new Map<string, string[]>();
  for (const { message } of world.topic.published) {
    const event = JSON.parse(message) as { source_message_id: string; source_message_ids?: string[]; type: string };
    for (const id of new Set([event.source_message_id, ...(event.source_message_ids ?? [])])) {
      const r = root.get(id);
      if (r) reported.set(r, [...(reported.get(r) ?? []), event.type]);
    }
  }
  const dead = new Map<string, string>();
  for (const m of world.dlq.messages) {
    const letter = readDeadLetter({ MessageId: m.messageId, Body: m.body, MessageAttributes: m.attributes } as never);
    const r = root.get(letter.sourceMessageId) ?? root.get(m.messageId);
    if (!r) continue;
    // SQS moves a message raw when a receive would pass maxReceiveCount (DESIGN: "a crash or timeout that the relay
    // could not catch: SQS redrive moves the raw message to the DLQ after the max receive count (the safety net)").
    // When the invocation holding its last receive died (a crash, a function timeout), the relay never had the chance
    // to write its record; when SQS delivered that last receive twice, the copy left visible is moved by the next
    // ReceiveMessage, before and beside the relay's handling of the other: neither is the relay's doing (it never
    // sees the copy it could act on). Counted apart and named in the trace, never hidden.
    // Who moved it is the queue's to say, not the body's: an operator's redrive of a DLQ record puts the relay's
    // record on the input queue, and SQS moves that raw record as it is (it reads as the relay's own).
    const died = diedHolding.has(`${m.messageId}#${MAX_RECEIVE_COUNT}`);
    const movedBySqs = m.deadLetterQueueSourceArn !== undefined;
    if (movedBySqs && (died || duplicatedLast.has(m.messageId)) && reported.has(r)) {
      excused.push(
        `${r} reported, then moved raw by SQS after ${died ? "the invocation holding its last receive died" : "its last receive was delivered twice"}`,
      );
      if (originalOf(letter.original) !== bodyOf.get(r))
        violations.push(`DLQ record for ${r} (${letter.reason}) does not keep the original body`);
      continue;
    }
    dead.set(r, letter.reason);
    if (originalOf(letter.original) !== bodyOf.get(r))
      violations.push(`DLQ record for ${r} (${letter.reason}) does not keep the original body`);
  }
  violations.push(...closedThoughTaken(world));
  for (const m of world.input.expired) {
    const r = root.get(m.messageId);
    if (r) violations.push(`${r} outlived the queue's retention: deleted with no record`);
  }
  for (const id of bodyOf.keys()) {
    if (reported.has(id) && dead.has(id))
      violations.push(`${id} both reported (${reported.get(id)!.join(",")}) and dead-lettered (${dead.get(id)})`);
    if (!reported.has(id) && !dead.has(id)) violations.push(`${id} neither reported nor dead-lettered`);
  }
  // At most one submission per turn: the endpoint counts a call set accepted twice, and a second standing continuation.
  if (world.endpoint.counters.doubleAcceptances > 0)
    violations.push(`the run accepted the same calls ${world.endpoint.counters.doubleAcceptances + 1} times`);
  if (world.endpoint.counters.forks > 0) violations.push(`the response was continued twice (${world.endpoint.counters.forks} fork)`);
  const byTarget = new Map<string, number>();
  for (const t of world.endpoint.taken.filter((t) => t.by === "relay")) byTarget.set(t.target, (byTarget.get(t.target) ?? 0) + 1);
  for (const [target, n] of byTarget) if (n > 1) violations.push(`${n} submissions for one turn (${target})`);
  // A message reported must not be told its outputs went through when the endpoint took others for its calls.
  const took = new Map<string, string>();
  for (const t of world.endpoint.taken) for (const [id, output] of Object.entries(t.outputs)) if (!took.has(id)) took.set(id, output);
  for (const [id, types] of reported) {
    const body = JSON.parse(bodyOf.get(id)!) as { tool_outputs: Array<{ tool_call_id: string }> };
    for (const { tool_call_id } of body.tool_outputs) {
      const taken = took.get(tool_call_id);
      if (taken !== undefined && taken !== outputFor(tool_call_id))
        violations.push(`${id} reported (${types.join(",")}) though the endpoint took another party's output for ${tool_call_id}`);
    }
  }
  return violations;
}

/**
 * Rule 3: a complete set whose submission the endpoint took from the relay is never closed as one the turn could not
 * take (`collect_incomplete`, `run_expired`): its parts would be dead-lettered with a false reason (and a redrive of
 * them could submit again). Read from the collection items as the schedule left them (the current round of each
 * turn: an ended round kept in `history` no longer holds its outputs).
 */
function closedThoughTaken(world: World): string[] {
  const text = (attribute: unknown) => (attribute as { S?: string } | undefined)?.S;
  const violations: string[] = [];
  for (const item of world.table.items.values()) {
    const reason = text(item.lettered_as);
    if (text(item.sk) !== "collection" || text(item.status) !== "closed" || (item.missing as { N?: string })?.N !== "0") continue;
    if (reason !== "collect_incomplete" && reason !== "run_expired") continue;
    // Each stored output, read from the body of the message that gave it (inline in the item).
    const outputs = new Map<string, string | undefined>();
    for (const [name, value] of Object.entries(item)) {
      if (!name.startsWith("o_")) continue;
      const from = text((value as { M: Record<string, unknown> }).M.m);
      const body = text((item[`m_${from}`] as { M?: Record<string, unknown> } | undefined)?.M?.b);
      const parsed = body ? (JSON.parse(body) as { tool_outputs: Array<{ tool_call_id: string; output: string }> }) : undefined;
      outputs.set(name.slice(2), parsed?.tool_outputs.find((o) => o.tool_call_id === name.slice(2))?.output);
    }
    const taken = world.endpoint.taken.some((t) => t.by === "relay" && [...outputs].every(([id, output]) => t.outputs[id] === output));
    if (outputs.size > 0 && taken) violations.push(`a complete set the endpoint took from the relay was closed as ${reason}`);
  }
  return violations;
}

export { FAULT_KINDS };

/** A body an operator redrove from the DLQ is itself a DLQ record: its original is the one inside, however deep. */
function originalOf(body: string): string {
  for (let depth = 0; depth < 5; depth++) {
    let record: { reason?: unknown; original?: unknown };
    try {
      record = JSON.parse(body) as typeof record;
    } catch {
      return body;
    }
    if (typeof record?.reason !== "string" || typeof record.original !== "string") return body;
    body = record.original;
  }
  return body;
}
