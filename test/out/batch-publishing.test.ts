/**
 * A batch's results events and DLQ records go out in batch calls (SNS PublishBatch, SQS SendMessageBatch), against
 * fauxqs through the real SDK clients; each record still learns its own entry's fate.
 */
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drainQueue } from "../../cli/queue-io";
import { buildResultsEvent, readPublishedResult } from "../../functions/submit-tool-outputs/dialects/index";
import { awsSinks } from "../../functions/submit-tool-outputs/out/aws-sinks";
import { buildDlqRecord, readDeadLetter } from "../../functions/submit-tool-outputs/out/dlq-record";
import { type EmbeddedAws, startEmbeddedAws } from "../../local/embedded-aws";
import { sqsRecord } from "../helpers/factories";

let aws: EmbeddedAws;
beforeAll(async () => {
  aws = await startEmbeddedAws();
});
afterAll(async () => aws?.close());

/** Clients that count the commands they send, by name. */
function countingClients() {
  const sent: string[] = [];
  const config = { region: aws.region, endpoint: aws.endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } };
  const sns = new SNSClient(config);
  const sqs = new SQSClient(config);
  sns.middlewareStack.add((next, context) => (args) => {
    sent.push(String(context.commandName));
    return next(args);
  });
  sqs.middlewareStack.add((next, context) => (args) => {
    sent.push(String(context.commandName));
    return next(args);
  });
  const sinks = awsSinks({
    sqs,
    sns,
    resultsTopicArn: aws.resultsTopicArn,
    dlqUrl: aws.dlq.url,
    inputQueueUrl: aws.input.url,
    watchDelaySeconds: 0,
  });
  return { sinks, sent };
}

const run = (i: number) => ({ id: `run_${i}`, status: "completed" });

describe("one batch call for a batch's results", () => {
  it("publishes ten events that settle together in one PublishBatch, each delivered", async () => {
    // Prepare
    const { sinks, sent } = countingClients();
    const events = Array.from({ length: 10 }, (_, i) =>
      buildResultsEvent({ api: "assistants", threadId: `thread_${i}`, run: run(i) }, { sourceMessageId: `m-${i}` }),
    );
    // Act
    await Promise.all(events.map((event) => sinks.publishResult(event)));
    // Assess
    expect(sent).toEqual(["PublishBatchCommand"]);
    const read = (await drainQueue(aws.sqs, aws.results.url)).map(readPublishedResult);
    expect(read.map((r) => r.event.source_message_id).sort()).toEqual(events.map((e) => e.source_message_id).sort());
    expect(read[0]!.attributes).toMatchObject({ type: "run.completed", api: "assistants" });
  });

  it("writes ten DLQ records in one SendMessageBatch, each with its reason attribute", async () => {
    const { sinks, sent } = countingClients();
    const records = Array.from({ length: 10 }, (_, i) =>
      buildDlqRecord({ reason: "invalid_message", detail: "x" }, {}, { body: `{"n":${i}}`, messageId: `m-${i}`, receiveCount: 1 }),
    );
    await Promise.all(records.map((record, i) => sinks.writeDeadLetter(record, sqsRecord(record.original, { messageId: `m-${i}` }))));
    expect(sent).toEqual(["SendMessageBatchCommand"]);
    const letters = (await drainQueue(aws.sqs, aws.dlq.url)).map(readDeadLetter);
    expect(letters.map((l) => l.original).sort()).toEqual(records.map((r) => r.original).sort());
    expect(letters.every((l) => l.attributes.reason === "invalid_message")).toBe(true);
  });
});
