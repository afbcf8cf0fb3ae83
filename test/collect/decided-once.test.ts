/**
 * DESIGN Part 3, rule 3: a round's fate is decided once, by a conditional write, and a part is never both accepted
 * and dead-lettered. SQS delivers the message that completes a Responses set twice, at once. The first delivery
 * completes the set (its first attempt) and stalls at the endpoint; the second finds the set complete and claimed by
 * its own message, takes it again, submits it and reports it. The first, resumed, finds the turn answered: to a first
 * attempt that means "answered without this collection", and its close is refused (the round is no longer its
 * attempt's). Its conclusion is void then: the round as it stands tells the message (it was submitted, and it reports
 * as its submitter), never a DLQ record beside the event. Found by the explorer (seeds 58335, 65120, 92585). Through
 * the real handler, fauxqs, the local DynamoDB and the endpoint simulator (its `slow` fault holds the first delivery).
 */
import { ChangeMessageVisibilityCommand } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { createHandler } from "../../functions/submit-tool-outputs/create-handler";
import type { ResponsesResultsEvent } from "../../functions/submit-tool-outputs/dialects/index";
import { lambdaContext } from "../../local/lambda-shapes";
import { deliverAll, part } from "../helpers/collect-rig";
import { type Harness, responseAnswerFor, useHarness } from "../helpers/relay-harness";

let h: Harness;
useHarness({ maxReceiveCount: 5 }, (started) => (h = started));

async function until(done: () => boolean, withinMs: number): Promise<void> {
  const by = Date.now() + withinMs;
  while (!done()) {
    if (Date.now() > by) throw new Error("the first delivery never reached the endpoint");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("two deliveries of the completing message, at once", () => {
  it("the one whose close is refused follows the round: reported with the set, not dead-lettered", { timeout: 30_000 }, async () => {
    // Prepare: a two-call turn whose first part is collected; the completing part received twice (two receipt handles).
    const t = h.sim.createResponse({ toolCalls: 2 });
    const full = responseAnswerFor(t);
    const other = await h.send(part(full, [t.callIds[0]!]));
    await deliverAll(h);
    const id = await h.send(part(full, [t.callIds[1]!]));
    const first = await h.receive(1);
    expect(first.Records[0]!.messageId).toBe(id);
    await h.aws.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: h.aws.input.url,
        ReceiptHandle: first.Records[0]!.receiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const second = await h.receive(1);
    expect(second.Records[0]!.messageId).toBe(id);
    // Act: the first delivery completes the set and stalls on its first read of the response; the second runs whole
    // meanwhile; then the first goes on.
    const faults = h.sim.counters.faultsInjected;
    h.sim.inject({ on: "response_get", kind: "slow", delayMs: 1_500, responseId: t.responseId });
    const firstAnswer = createHandler(h.env)(first, lambdaContext(20_000)) as Promise<SQSBatchResponse>;
    await until(() => h.sim.counters.faultsInjected > faults, 10_000);
    let firstSettled = false;
    const settled = () => {
      firstSettled = true;
    };
    firstAnswer.then(settled, settled);
    const secondAnswer = (await createHandler(h.env)(second, lambdaContext(20_000))) as SQSBatchResponse;
    // The interleaving under test: the second delivery ran whole (~0.1 s) while the first was held at the endpoint.
    expect(firstSettled).toBe(false);
    const firstDone = await firstAnswer;
    // Assess: both deliveries succeed; one continuation; no DLQ record; every event names both parts.
    expect(secondAnswer.batchItemFailures).toEqual([]);
    expect(firstDone.batchItemFailures).toEqual([]);
    expect(h.sim.counters).toMatchObject({ continuations: 1, forks: 0 });
    expect(await h.deadLetters()).toEqual([]);
    const events = (await h.results<ResponsesResultsEvent>()).map((r) => r.event);
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) expect(event.source_message_ids).toEqual([id, other].sort());
  });
});
