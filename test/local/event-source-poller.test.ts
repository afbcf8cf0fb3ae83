/**
 * The poller drives a handler as Lambda's SQS event source mapping does. Scripted handlers here (the
 * relay is not needed to show the mapping's rules); the emulator is real.
 */
import { GetQueueAttributesCommand, SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { drainQueue } from "../../cli/queue-io";
import { type EmbeddedAws, startEmbeddedAws } from "../../local/embedded-aws";
import { type EventSourcePoller, type SqsHandler, startEventSourcePoller } from "../../local/event-source-poller";

let aws: EmbeddedAws;
let poller: EventSourcePoller | undefined;
beforeEach(async () => {
  aws = await startEmbeddedAws({ maxReceiveCount: 3, visibilityTimeoutSeconds: 1 });
});
afterEach(async () => {
  await poller?.stop();
  poller = undefined;
  await aws.close();
});

const send = async (...bodies: string[]) =>
  (
    await aws.sqs.send(
      new SendMessageBatchCommand({ QueueUrl: aws.input.url, Entries: bodies.map((b, i) => ({ Id: String(i), MessageBody: b })) }),
    )
  ).Successful!.map((s) => s.MessageId!);
const start = (handler: SqsHandler, extra: { functionTimeoutMs?: number; batchSize?: number } = {}) =>
  (poller = startEventSourcePoller({ sqs: aws.sqs, queue: aws.input, region: aws.region, handler, waitTimeSeconds: 1, ...extra }));
const until = async (condition: () => boolean | Promise<boolean>, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};
const queueIsEmpty = async () => {
  const { Attributes: a = {} } = await aws.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: aws.input.url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return a.ApproximateNumberOfMessages === "0" && a.ApproximateNumberOfMessagesNotVisible === "0";
};

describe("a partial batch response", () => {
  it("deletes what succeeded; a batch item failure reappears after its visibility timeout with a growing receive count", async () => {
    // Prepare: "flaky" fails its first two receives.
    const receives: Record<string, string[]> = {};
    const [okId, flakyId] = await send("ok", "flaky");
    start(async (event: SQSEvent): Promise<SQSBatchResponse> => {
      for (const r of event.Records) {
        receives[r.body] ??= [];
        receives[r.body]!.push(r.attributes.ApproximateReceiveCount);
      }
      return {
        batchItemFailures: event.Records.filter((r) => r.body === "flaky" && r.attributes.ApproximateReceiveCount !== "3").map((r) => ({
          itemIdentifier: r.messageId,
        })),
      };
    });
    // Act
    await until(() => poller!.stats.deleted === 2);
    // Assess
    expect(receives).toEqual({ ok: ["1"], flaky: ["1", "2", "3"] });
    expect(poller!.stats).toMatchObject({ batchItemFailures: 2, invocationErrors: 0 });
    expect(okId).not.toBe(flakyId);
    expect(await queueIsEmpty()).toBe(true);
    expect(await drainQueue(aws.sqs, aws.dlq.url)).toEqual([]);
  });

  it("an answer naming a message that is not in the batch fails the whole batch, as Lambda does", async () => {
    await send("a", "b");
    const batches: string[][] = [];
    start(async (event) => {
      batches.push(event.Records.map((r) => r.body));
      return batches.length === 1 ? { batchItemFailures: [{ itemIdentifier: "not-in-this-batch" }] } : { batchItemFailures: [] };
    });
    await until(() => poller!.stats.deleted === 2);
    expect(poller!.stats.invalidResponses).toBe(1);
    // Every message of the first batch came back, although the answer named none of them.
    const later = batches.slice(1).flat();
    for (const body of batches[0]!) expect(later).toContain(body);
  });
});

describe("a failed invocation", () => {
  it("a throw deletes nothing; after the max receive count the emulator's redrive moves the whole batch to the DLQ", async () => {
    const ids = await send("first", "second");
    start(async () => {
      throw new Error("crash");
    });
    await until(async () => (await queueIsEmpty()) && poller!.stats.invocationErrors >= 3);
    await poller!.stop();
    const dead = await drainQueue(aws.sqs, aws.dlq.url);
    expect(dead.map((m) => m.MessageId).sort()).toEqual([...ids].sort());
    expect(dead.map((m) => m.Body).sort()).toEqual(["first", "second"]);
    expect(poller!.stats.deleted).toBe(0);
  });

  it("the context counts down from the function timeout, and an invocation still running then has failed", async () => {
    await send("slow once");
    const remaining: number[] = [];
    start(
      async (event, context) => {
        remaining.push(context.getRemainingTimeInMillis());
        if (event.Records[0]!.attributes.ApproximateReceiveCount === "1") await new Promise((resolve) => setTimeout(resolve, 1_500));
        return { batchItemFailures: [] };
      },
      { functionTimeoutMs: 300 },
    );
    await until(() => poller!.stats.deleted === 1);
    expect(poller!.stats.invocationTimeouts).toBe(1);
    expect(remaining).toHaveLength(2);
    for (const ms of remaining) {
      expect(ms).toBeGreaterThan(0);
      expect(ms).toBeLessThanOrEqual(300);
    }
  });
});

describe("stop()", () => {
  it("waits for the batch in flight and deletes it before resolving", async () => {
    await send("in flight");
    const order: string[] = [];
    let release!: () => void;
    const started = new Promise<void>((resolveStarted) => {
      start(async () => {
        resolveStarted();
        await new Promise<void>((resolve) => (release = resolve));
        order.push("handler finished");
        return { batchItemFailures: [] };
      });
    });
    await started;
    const stopping = poller!.stop().then(() => order.push("stopped"));
    setTimeout(() => release(), 200);
    await stopping;
    expect(order).toEqual(["handler finished", "stopped"]);
    expect(poller!.stats.deleted).toBe(1);
    expect(await queueIsEmpty()).toBe(true);
  });
});
