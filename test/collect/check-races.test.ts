/**
 * DESIGN Part 3, rule 3: a check never closes a set that is complete or claimed. The interleaving the check loses
 * to is played in order, by hand, on the relay's real collection code against the local DynamoDB and fauxqs: the
 * check reads the collection (one output missing), another execution environment stores the last output and claims
 * the set, then the check's close lands. The close must find the collection changed and write nothing; no part is
 * dead-lettered while the set is being submitted. The control: nothing changes, and the same close ends the round.
 */
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { CollectState } from "../../functions/submit-tool-outputs/collect/collect-state";
import { CollectedMessages } from "../../functions/submit-tool-outputs/collect/collected-messages";
import { outputHash, roundOf } from "../../functions/submit-tool-outputs/collect/collection";
import { CollectionChecks } from "../../functions/submit-tool-outputs/collect/collection-checks";
import type { CollectionStore } from "../../functions/submit-tool-outputs/collect/collection-store";
import { awsSinks } from "../../functions/submit-tool-outputs/out/aws-sinks";
import type { RecordContext } from "../../functions/submit-tool-outputs/pipeline/record-context";
import { StateTable } from "../../functions/submit-tool-outputs/state/state-table";
import { pendingChecks } from "../helpers/collect-rig";
import { type Harness, useHarness } from "../helpers/relay-harness";

let h: Harness;
useHarness({ maxReceiveCount: 5 }, (started) => (h = started));

async function parts() {
  const aws = { region: h.aws.region, endpoint: h.aws.endpoint };
  const sinks = awsSinks({
    sqs: new SQSClient(aws),
    sns: new SNSClient(aws),
    resultsTopicArn: h.aws.resultsTopicArn,
    dlqUrl: h.aws.dlq.url,
    inputQueueUrl: h.aws.input.url,
    watchDelaySeconds: 0,
  });
  const table = new StateTable({ tableName: h.aws.stateTableName, region: h.aws.region, endpoint: h.aws.dynamodb.endpoint });
  const state = new CollectState({ table: async () => table, collectTimeoutSeconds: 3_600 });
  const collectParts = { state, sinks, maxReceiveCount: 5, collectTimeoutSeconds: 3_600 };
  const messages = new CollectedMessages(collectParts);
  return { store: await state.collections(), checks: new CollectionChecks(collectParts, messages) };
}

const ctx = (messageId: string): RecordContext => ({
  messageId,
  receiveCount: 1,
  signal: new AbortController().signal,
  deadline: Date.now() + 10_000,
  leaseUntil: Date.now() + 10_000,
  stats: { endpointCalls: 0, retries: 0, unconfirmedResubmits: 0 },
});

const body = (id: string) =>
  JSON.stringify({ thread_id: "thread_r", run_id: "run_r", collect: true, tool_outputs: [{ tool_call_id: id, output: id }] });

async function openedWithOneOfTwo(store: CollectionStore, scope: string) {
  const required = ["call_a", "call_b"];
  const opened = await store.open(
    {
      scope,
      round: roundOf(required),
      api: "assistants",
      turn: { thread_id: "thread_r", run_id: "run_r" },
      required,
      checkDue: Date.now(),
    },
    {
      messageId: "m-a",
      outputs: [{ callId: "call_a", hash: outputHash("call_a") }],
      message: { receiveCount: 1, body: body("call_a") },
      leaseUntil: Date.now() + 10_000,
    },
  );
  expect(opened?.collection.missing).toBe(1);
  return (await store.current(scope))!;
}

describe("rule 3: the check's close is conditional on what the check read", () => {
  it("a set completed and claimed between the check's read and its close stays open; nothing is dead-lettered", async () => {
    const { store, checks } = await parts();
    const scope = `run#thread_r#run_${Date.now()}`;
    const seen = await openedWithOneOfTwo(store, scope);
    // Another environment stores the last output: the set is complete and claimed by m-b.
    const added = await store.addNew(scope, {
      messageId: "m-b",
      outputs: [{ callId: "call_b", hash: outputHash("call_b") }],
      message: { receiveCount: 1, body: body("call_b") },
      leaseUntil: Date.now() + 10_000,
    });
    expect(added?.claim).toBeDefined();
    // The check, acting on its earlier read ("the run moved on"), closes.
    const ended = await checks.close(seen, "collect_incomplete", "the run moved on", ctx("check-1"));
    expect(ended).toBeUndefined();
    expect(await store.current(scope)).toMatchObject({ status: "open", missing: 0, owner: "m-b" });
    expect(await h.deadLetters()).toEqual([]);
  });

  it("control: the collection unchanged since the read, the same close ends the round and dead-letters its part", async () => {
    const { store, checks } = await parts();
    const scope = `run#thread_r#run_${Date.now()}`;
    const seen = await openedWithOneOfTwo(store, scope);
    const ended = await checks.close(seen, "collect_incomplete", "the run moved on", ctx("check-2"));
    expect(ended?.status).toBe("closed");
    expect((await h.deadLetters()).map((d) => [d.sourceMessageId, d.reason])).toEqual([["m-a", "collect_incomplete"]]);
  });
});

describe("rule 9: a check whose close is refused goes on", () => {
  it("the set was claimed between its read and its close: the round stays open and the chain passes to the next check", async () => {
    // Prepare: a one-call set, complete, its claim lapsed after as many tries as a message has receives (here 1), past
    // its timeout: the check will close it. Between its read and its close another copy claims the set.
    const aws = { region: h.aws.region, endpoint: h.aws.endpoint };
    const sinks = awsSinks({
      sqs: new SQSClient(aws),
      sns: new SNSClient(aws),
      resultsTopicArn: h.aws.resultsTopicArn,
      dlqUrl: h.aws.dlq.url,
      inputQueueUrl: h.aws.input.url,
      watchDelaySeconds: 0,
    });
    const real = new StateTable({ tableName: h.aws.stateTableName, region: h.aws.region, endpoint: h.aws.dynamodb.endpoint });
    let store: CollectionStore | undefined;
    const scope = `run#thread_r#run_${Date.now()}`;
    const racing = Object.create(real) as StateTable;
    racing.update = async (...args: Parameters<StateTable["update"]>) => {
      if (args[1].expression.includes("closed_reason")) {
        const claimed = await store!.claim((await store!.current(scope))!, "m-b", Date.now() + 60_000);
        expect(claimed).toBeDefined();
      }
      return real.update(...args);
    };
    const state = new CollectState({ table: async () => racing, collectTimeoutSeconds: 0 });
    const collectParts = { state, sinks, maxReceiveCount: 1, collectTimeoutSeconds: 0 };
    const checks = new CollectionChecks(collectParts, new CollectedMessages(collectParts));
    store = await state.collections();
    const due = Date.now() - 1_000;
    const required = ["call_a"];
    await store.open(
      { scope, round: roundOf(required), api: "assistants", turn: { thread_id: "thread_r", run_id: "run_r" }, required, checkDue: due },
      {
        messageId: "m-a",
        outputs: [{ callId: "call_a", hash: outputHash("call_a") }],
        message: { receiveCount: 1, body: body("call_a") },
        leaseUntil: Date.now() - 1,
      },
    );
    h.aws.server.reset();
    // Act: the live check looks.
    const outcome = await checks.check({ type: "collect_check", scope, round: roundOf(required), due }, {}, ctx("check-3"));
    // Assess: nothing closed or dead-lettered; a next check is on the queue and is the live one.
    expect(outcome).toMatchObject({ kind: "acknowledge", result: "checked" });
    const after = (await store.current(scope))!;
    expect(after).toMatchObject({ status: "open", owner: "m-b" });
    expect(await h.deadLetters()).toEqual([]);
    const next = pendingChecks(h).map((p) => p.check);
    expect(next).toHaveLength(1); // and its guard, two minutes after it
    expect(pendingChecks(h, { guards: true }).map((p) => p.check)).toContainEqual({
      ...next[0]!,
      due: next[0]!.due + 120_000,
      guard: true,
    });
    expect(next[0]!.due).toBeGreaterThan(Date.now());
    expect(after.checkDue).toBe(next[0]!.due);
  });
});
