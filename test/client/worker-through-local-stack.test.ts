/**
 * The tool-worker client against the local stack's real SQS/SNS (fauxqs) and the relay: a worker queue subscribed to
 * the results topic with `subscribeWorkerQueue`, events received with `sqsEventSource`, answers sent to the input
 * queue with `sqsAnswerSink`; the loop closes for each API. A new API is one row of API_CASES.
 */

import { ListSubscriptionsByTopicCommand } from "@aws-sdk/client-sns";
import { CreateQueueCommand, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ParsedToolCall,
  sqsAnswerSink,
  sqsEventSource,
  startToolWorker,
  subscribeWorkerQueue,
  type ToolWorker,
} from "../../client/index";
import { type LocalStack, startLocalStack } from "../../local/local-stack";
import { answerFor, ended, responseAnswerFor } from "../helpers/local/helpers";

const SETTLE = { timeoutMs: 45_000 };
let stack: LocalStack;
let workerQueueUrl: string;
beforeAll(async () => {
  stack = await startLocalStack({ maxReceiveCount: 3, poller: { pollers: 2 } });
  const created = await stack.aws.sqs.send(new CreateQueueCommand({ QueueName: "weather-workers" }));
  workerQueueUrl = created.QueueUrl!;
  await subscribeWorkerQueue({ sns: stack.aws.sns, sqs: stack.aws.sqs, topicArn: stack.aws.resultsTopicArn, queueUrl: workerQueueUrl });
});
afterAll(async () => stack.close());

/** Settles until the worker has answered everything and nothing moves any more. */
async function settleWithWorker(worker: ToolWorker, first: string[]) {
  let answered: number;
  do {
    answered = worker.sent.length;
    await stack.settle([...first, ...worker.sent], SETTLE);
    await worker.poll();
  } while (worker.sent.length !== answered);
  return stack.settle([...first, ...worker.sent], SETTLE);
}

interface ApiCase {
  api: string;
  /** Starts a conversation whose second round asks for two tools; returns the first answer. */
  start(stack: LocalStack): { first: unknown; done(): boolean };
  /** The second round's calls as the handlers see them (each simulator names and fills its calls its own way). */
  calls: [string, unknown][];
}

const QUERIES: [string, unknown][] = [
  ["get_weather", { query: "q1" }],
  ["lookup_order", { query: "q2" }],
];

const API_CASES: ApiCase[] = [
  {
    api: "assistants",
    start(local) {
      const run = local.sim!.createRun({ toolCalls: 1, afterOutputs: [{ requiresAction: 2 }, "completed"] });
      return { first: answerFor(run), done: () => local.sim!.run(run.threadId, run.runId)!.status === "completed" };
    },
    calls: QUERIES,
  },
  {
    api: "responses",
    start(local) {
      const sim = local.sim!;
      const first = sim.createResponse({ toolCalls: 1, afterOutputs: [{ functionCalls: 2 }, "completed"] });
      return {
        first: responseAnswerFor(first),
        done: () => {
          const [second] = sim.children(first.responseId);
          const [third] = second ? sim.children(second) : [];
          return third !== undefined && sim.response(third)!.status === "completed";
        },
      };
    },
    calls: QUERIES,
  },
  {
    api: "agents",
    start(local) {
      const sim = local.sim!;
      const { sessionId, turnId, callIds } = sim.createSession({ toolCalls: 1, afterOutputs: [{ functionCalls: 2 }, "completed"] });
      return {
        first: { session_id: sessionId, turn_id: turnId, tool_outputs: [{ tool_call_id: callIds[0]!, output: "sunny" }] },
        done: () => sim.session(sessionId)?.status === "idle",
      };
    },
    calls: [
      ["lookup_order", { order_id: "ord_1000" }],
      ["convert_currency", { amount: 20, from: "EUR", to: "USD" }],
    ],
  },
];

describe("the subscription subscribeWorkerQueue makes", () => {
  it("delivers raw events filtered on every requires_action type, and lets the topic send to the queue", async () => {
    // Act
    const { Subscriptions = [] } = await stack.aws.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: stack.aws.resultsTopicArn }));
    const { Attributes = {} } = await stack.aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: workerQueueUrl, AttributeNames: ["Policy", "QueueArn"] }),
    );

    // Assess
    expect(Subscriptions.map((s) => s.Endpoint)).toContain(Attributes.QueueArn);
    const policy = JSON.parse(Attributes.Policy!);
    expect(policy.Statement).toEqual([
      expect.objectContaining({ Action: "sqs:SendMessage", Condition: { ArnEquals: { "aws:SourceArn": stack.aws.resultsTopicArn } } }),
    ]);
  });
});

describe.each(API_CASES)("a worker built on the client, $api API", ({ api, start, calls: expectedCalls }) => {
  it("answers the second round's requires_action with a handler per tool, and the conversation completes", async () => {
    // Prepare
    const calls: ParsedToolCall[] = [];
    const worker = startToolWorker({
      source: sqsEventSource({ sqs: stack.aws.sqs, queueUrl: workerQueueUrl, waitTimeSeconds: 1 }),
      sink: sqsAnswerSink({ sqs: stack.aws.sqs, queueUrl: stack.aws.input.url }),
      handlers: {
        get_weather: (call) => {
          calls.push(call);
          return JSON.stringify({ temperature_c: 21 });
        },
        lookup_order: (call) => {
          calls.push(call);
          return JSON.stringify({ order: "shipped" });
        },
        convert_currency: (call) => {
          calls.push(call);
          return JSON.stringify({ amount: 21.7 });
        },
      },
    });
    try {
      const conversation = start(stack);

      // Act
      const first = await stack.send(conversation.first);
      const accounting = await settleWithWorker(worker, [first]);

      // Assess: one answer carrying both calls, each run by its own handler with its parsed arguments.
      expect(ended(accounting)).toEqual({ accepted: 2, deadLettered: [], lost: 0 });
      expect(worker.sent).toHaveLength(1);
      expect(calls.map((call) => [call.name, call.args])).toEqual(expectedCalls);
      expect(conversation.done()).toBe(true);
      // The event that asked carried the tool names as a String.Array attribute, for per-tool fleets' filter policies.
      const asked = stack.ledger.results.find(
        (result) => result.event.api === api && result.event.type.endsWith(".requires_action") && result.event.tool_calls.length === 2,
      );
      expect(asked?.attributes.tool_names).toBe(JSON.stringify(expectedCalls.map(([name]) => name)));
      expect(stack.sim!.counters.doubleAcceptances).toBe(0);
    } finally {
      await worker.stop();
    }
  });
});
