/**
 * What the collecting tests share: messages that carry part of a turn with `"collect": true`, an event-source
 * loop that runs the real handler until the input queue holds nothing but the relay's own `collect_check`
 * messages, and a look at those checks (fauxqs's non-destructive `inspectQueue`, so a delayed check is seen
 * without waiting for its delay).
 */
import { DynamoDBClient, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { deleteMessages } from "../../cli/queue-io";
import type { CollectCheck } from "../../functions/submit-tool-outputs/collect/check-message";
import type { Harness } from "./relay-harness";

/** A tool-output message of either API. */
type OutputMessage = { tool_outputs: Array<{ tool_call_id: string; output: unknown }> };

/**
 * The part of a full answer that one worker sends: the outputs for `ids` only, marked `"collect": true`.
 * @example await h.send(part(answerFor(run), [run.toolCallIds[0]!]));
 */
export function part<M extends OutputMessage>(full: M, ids: readonly string[], extra: Record<string, unknown> = {}): M {
  const outputs = ids.map((id) => {
    const found = full.tool_outputs.find((o) => o.tool_call_id === id);
    if (!found) throw new Error(`the full answer has no output for ${id}`);
    return found;
  });
  return { ...full, tool_outputs: outputs, collect: true, ...extra };
}

/** A deterministic shuffle (mulberry32), so a failing order can be replayed from its seed. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const isCheck = (body: string) => body.includes('"type":"collect_check"');

/** The input queue's messages other than checks: ready, delayed or in flight (handed back, waiting out a visibility delay). */
function workLeft(h: Harness): number {
  const queue = h.aws.server.inspectQueue(h.aws.input.name);
  if (!queue) return 0;
  const { ready, delayed, inflight } = queue.messages;
  return [...ready, ...delayed, ...inflight.map((i) => i.message)].filter((m) => !isCheck(m.body)).length;
}

export interface Delivery {
  event: SQSEvent;
  response: SQSBatchResponse;
}

/**
 * The event source mapping, until only checks are left: receive a batch, invoke, delete what succeeded;
 * handed-back messages come back when their visibility delay ends. Checks received meanwhile (a FIFO queue
 * delivers them at once) are invoked too. Gives up after `withinMs` (then the test fails on what is left).
 * @example const deliveries = await deliverAll(h);
 */
export async function deliverAll(h: Harness, o: { max?: number; withinMs?: number; timeoutMs?: number } = {}): Promise<Delivery[]> {
  const deliveries: Delivery[] = [];
  const until = Date.now() + (o.withinMs ?? 45_000);
  while (Date.now() < until) {
    const event = await h.receive(o.max ?? 10);
    if (event.Records.length === 0) {
      if (workLeft(h) === 0) return deliveries;
      continue;
    }
    const response = await invokeAndDelete(h, event, o.timeoutMs);
    deliveries.push({ event, response });
  }
  throw new Error(`messages still on the input queue after ${o.withinMs ?? 45_000} ms: ${workLeft(h)}`);
}

/** One invocation as Lambda makes it: the handler's answer, and the records it succeeded for deleted. */
export async function invokeAndDelete(h: Harness, event: SQSEvent, timeoutMs?: number): Promise<SQSBatchResponse> {
  const response = await h.invoke(event, timeoutMs);
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  const done = event.Records.filter((r) => !failed.has(r.messageId)).map((r) => r.receiptHandle);
  if (done.length > 0) await deleteMessages(h.aws.sqs, h.aws.input.url, done);
  return response;
}

/** A `collect_check` on the input queue, with when SQS will hand it out (its DelaySeconds, on a standard queue). */
export interface PendingCheck {
  check: CollectCheck;
  /** Epoch ms when it becomes visible; undefined when it is visible now. */
  visibleAt?: number;
  groupId?: string;
}

/** Every check on the input queue now, without receiving any (guards, rule 9, only with `guards`). */
export function pendingChecks(h: Harness, o: { guards?: boolean } = {}): PendingCheck[] {
  const queue = h.aws.server.inspectQueue(h.aws.input.name);
  if (!queue) return [];
  const { ready, delayed, inflight } = queue.messages;
  const all = [
    ...ready.map((m) => ({ m, at: undefined as number | undefined })),
    ...delayed.map((m) => ({ m, at: m.delayUntil })),
    ...inflight.map((i) => ({ m: i.message, at: i.visibilityDeadline })),
  ];
  return all
    .filter(({ m }) => isCheck(m.body) && (o.guards || !(JSON.parse(m.body) as CollectCheck).guard))
    .map(({ m, at }) => ({
      check: JSON.parse(m.body) as CollectCheck,
      ...(at !== undefined ? { visibleAt: at } : {}),
      ...(m.messageGroupId ? { groupId: m.messageGroupId } : {}),
    }));
}

/**
 * Runs a collection's check now rather than in a minute: the pending check's own scope and round, sent through
 * the input queue with `due` now (a check only looks, so anyone may send one; the relay's copy, still delayed,
 * is dropped when the queues are cleared). Returns what the handler answered for it.
 * @example await checkNow(h, pendingChecks(h)[0]!.check);
 */
export async function checkNow(
  h: Harness,
  check: CollectCheck,
  o: { due?: number; fifo?: { groupId: string } } = {},
): Promise<SQSBatchResponse> {
  const { fifo } = o;
  const body = JSON.stringify({ ...check, due: o.due ?? Date.now() });
  await h.aws.sqs.send(
    new SendMessageCommand({
      QueueUrl: h.aws.input.url,
      MessageBody: body,
      ...(fifo ? { MessageGroupId: fifo.groupId, MessageDeduplicationId: `check-now-${Date.now()}` } : {}),
    }),
  );
  for (let tries = 0; tries < 20; tries++) {
    const event = await h.receive(10);
    const mine = event.Records.filter((r) => r.body === body);
    if (mine.length === 0) {
      if (event.Records.length > 0) await invokeAndDelete(h, event);
      continue;
    }
    return invokeAndDelete(h, event);
  }
  throw new Error("the check sent now never came back from the input queue");
}

/**
 * The event source mapping until `done` holds (checked after each receive): for waiting out a check's own delay
 * on a standard queue. Every record received is invoked, checks included.
 * @example await deliverUntil(h, async () => (await h.deadLetters()).length > 0, 15_000);
 */
export async function deliverUntil(h: Harness, done: () => boolean | Promise<boolean>, withinMs: number): Promise<void> {
  const until = Date.now() + withinMs;
  while (!(await done())) {
    if (Date.now() > until) throw new Error(`not done within ${withinMs} ms`);
    const event = await h.receive(10);
    if (event.Records.length > 0) await invokeAndDelete(h, event);
  }
}

/**
 * Changes a scope's collection item directly: what time passing, or a crash, would leave in the table.
 * @example await setInCollection(h, scope, "SET lease_until = :zero", { ":zero": 0 });
 */
export async function setInCollection(h: Harness, scope: string, update: string, values: Record<string, number> = {}): Promise<void> {
  const dynamodb = new DynamoDBClient({ endpoint: h.aws.dynamodb.endpoint, region: h.aws.region });
  try {
    const numbers = Object.entries(values).map(([name, value]) => [name, { N: String(value) }]);
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: h.aws.stateTableName,
        Key: { pk: { S: `collect#${scope}` }, sk: { S: "collection" } },
        UpdateExpression: update,
        ...(numbers.length > 0 ? { ExpressionAttributeValues: Object.fromEntries(numbers) } : {}),
      }),
    );
  } finally {
    dynamodb.destroy();
  }
}

/**
 * Moves a collection's first stored output `ms` into the past: what hours of waiting would leave in the table (past
 * COLLECT_TIMEOUT_SECONDS, and past the window a complete set's submitter's receives can take).
 * @example await backdateCollection(h, scopeOf("responses", { response_id }), 13_000_000);
 */
export function backdateCollection(h: Harness, scope: string, ms: number): Promise<void> {
  return setInCollection(h, scope, "SET first_at = first_at - :ms", { ":ms": ms });
}
