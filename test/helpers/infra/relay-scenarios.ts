/**
 * What the IAM evaluation runs the bundled relay through (test/infra/iam-evaluation.test.ts). Each scenario drives
 * the relay on loopback AWS and checks its outcome; `calls` names the AWS actions it must make the bundle call.
 * Add scenarios here.
 */
import { expect } from "vitest";
import { answerFor, responseAnswerFor } from "../relay-harness";
import { LOOPBACK_API_KEY, type LoopbackRelay } from "./relay-on-loopback-aws";

export interface Scenario {
  name: string;
  /** Actions the bundle must call in it (evidence that the scenario did what it says). */
  calls: string[];
  /** Count the calls from the cold start on (the secret is read while the bundle initializes). */
  fromColdStart?: boolean;
  run(relay: LoopbackRelay): Promise<void>;
}

export const SCENARIOS: Scenario[] = [
  {
    name: "a message accepted and its run reported, with the endpoint secret read at cold start",
    calls: ["secretsmanager:GetSecretValue", "sns:Publish"],
    fromColdStart: true,
    async run(relay) {
      const run = relay.sim.createRun();
      const messageId = await relay.send(answerFor(run));
      const { response } = await relay.deliver();
      expect(response.batchItemFailures).toEqual([]);
      expect(await relay.results()).toEqual([
        expect.objectContaining({ type: "run.completed", run_id: run.runId, source_message_id: messageId }),
      ]);
      // The keys came from the secret: the template sets no key in the environment.
      const submits = relay.sim.requests.filter((request) => request.method === "POST");
      expect(submits.map((request) => request.headers["x-portkey-api-key"])).toEqual([LOOPBACK_API_KEY]);
    },
  },
  {
    name: "a run still moving when the follow budget ends gets a watch_run follow-up on the input queue",
    calls: ["sqs:SendMessage"],
    async run(relay) {
      const run = relay.sim.createRun({ afterOutputs: [{ stayInProgressMs: 60_000 }, "completed"] });
      await relay.send(answerFor(run));
      const { response } = await relay.deliver();
      expect(response.batchItemFailures).toEqual([]);
      const follow = await relay.receive(relay.inputQueueUrl);
      expect(follow.map((message) => JSON.parse(message.Body!))).toEqual([
        expect.objectContaining({ type: "watch_run", thread_id: run.threadId, run_id: run.runId }),
      ]);
      await relay.remove(relay.inputQueueUrl, follow);
    },
  },
  {
    name: "a message that is not JSON gets a reasoned DLQ record",
    calls: ["sqs:SendMessage"],
    async run(relay) {
      const messageId = await relay.send("{not json");
      const { response } = await relay.deliver();
      expect(response.batchItemFailures).toEqual([]);
      const records = await relay.receive(relay.deadLetterQueueUrl);
      expect(records.map((message) => JSON.parse(message.Body!))).toEqual([
        expect.objectContaining({ reason: "invalid_message", original: "{not json", source_message_id: messageId }),
      ]);
      await relay.remove(relay.deadLetterQueueUrl, records);
    },
  },
  {
    name: "a message the endpoint refuses (401) is handed back with a longer visibility",
    calls: ["sqs:ChangeMessageVisibility"],
    async run(relay) {
      relay.sim.inject({ on: "submit", kind: "unauthorized" });
      await relay.send(answerFor(relay.sim.createRun()));
      const { event, response } = await relay.deliver();
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
      // The relay's first hand-back delay: RETRY_VISIBILITY_BASE_SECONDS (10 s) ± 20 %, instead of the queue's 360 s.
      const queue = relay.fauxqs.inspectQueue(relay.inputQueueUrl.split("/").pop()!)!;
      const hidden = (queue.messages.inflight[0]!.visibilityDeadline - Date.now()) / 1000;
      expect(hidden).toBeGreaterThan(5);
      expect(hidden).toBeLessThan(13);
      await relay.remove(relay.inputQueueUrl, event.Records);
    },
  },
  {
    name: "a Responses message claimed in the state table, submitted once, and a duplicate that finds the claim",
    calls: ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "sns:Publish"],
    async run(relay) {
      const previous = relay.sim.createResponse({ toolCalls: 1 });
      await relay.send(responseAnswerFor(previous));
      expect((await relay.deliver()).response.batchItemFailures).toEqual([]);
      await relay.send(responseAnswerFor(previous));
      expect((await relay.deliver()).response.batchItemFailures).toEqual([]);
      expect(relay.sim.counters.forks).toBe(0);
      expect((await relay.results()).map((event) => event.type)).toEqual(["response.completed", "response.completed"]);
    },
  },
  {
    name: "a run's two outputs collected from two messages, the second completing the set, with a check scheduled",
    calls: ["dynamodb:GetItem", "dynamodb:UpdateItem", "sqs:SendMessage", "sns:Publish"],
    async run(relay) {
      const run = relay.sim.createRun({ toolCalls: 2 });
      const full = answerFor(run);
      const acceptedBefore = relay.sim.counters.accepted;
      for (const output of full.tool_outputs) await relay.send({ ...full, tool_outputs: [output], collect: true });
      expect((await relay.deliver()).response.batchItemFailures).toEqual([]);
      expect(relay.sim.counters.accepted - acceptedBefore).toBe(1);
      expect(await relay.results()).toEqual([expect.objectContaining({ type: "run.completed", run_id: run.runId })]);
    },
  },
  {
    name: "a collected output too large for a table item kept in the payload bucket and read back to submit",
    calls: ["s3:PutObject", "s3:GetObject"],
    async run(relay) {
      const run = relay.sim.createRun({ toolCalls: 2 });
      const full = answerFor(run, {}, (id) => (id === run.toolCallIds[0] ? "x".repeat(400_000) : "small"));
      const acceptedBefore = relay.sim.counters.accepted;
      for (const output of full.tool_outputs) await relay.send({ ...full, tool_outputs: [output], collect: true });
      expect((await relay.deliver()).response.batchItemFailures).toEqual([]);
      expect(relay.sim.counters.accepted - acceptedBefore).toBe(1);
      expect((await relay.results()).map((event) => event.type)).toEqual(["run.completed"]);
    },
  },
];
