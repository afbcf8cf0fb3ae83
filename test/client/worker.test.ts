/**
 * The tool-worker client's decisions, with an in-memory source and sink: what it answers, for each API, what it
 * drops, what it retries and how it stops. The SQS/SNS path is in worker-through-local-stack.test.ts.
 */
import { describe, expect, it } from "vitest";
import {
  type AnswerSink,
  type EventDelivery,
  type EventSource,
  sqsAnswerSink,
  startToolWorker,
  type ToolWorkerOptions,
  type WorkerEvent,
  workerFilterPolicy,
} from "../../client/index";

const call = (id: string, name: string, args: unknown = {}) => ({
  id,
  type: "function" as const,
  function: { name, arguments: JSON.stringify(args) },
});

const EVENTS = {
  assistants: {
    event_id: "evt_run",
    type: "run.requires_action",
    api: "assistants",
    status: "requires_action",
    tool_calls: [call("call_1", "get_weather", { city: "Oslo" }), call("call_2", "lookup_order")],
    reply: { thread_id: "thread_1", run_id: "run_1" },
    metadata: { tenant: "acme" },
  },
  responses: {
    event_id: "evt_resp",
    type: "response.requires_action",
    api: "responses",
    status: "completed",
    tool_calls: [call("call_1", "get_weather"), call("call_2", "lookup_order")],
    reply: { response_id: "resp_1" },
  },
  agents: {
    event_id: "evt_sess",
    type: "session.requires_action",
    api: "agents",
    status: "requires_action",
    tool_calls: [call("call_1", "get_weather"), call("call_2", "lookup_order")],
    reply: { session_id: "sess_1", turn_id: "turn_1" },
    metadata: null,
  },
} satisfies Record<string, WorkerEvent>;

/** A source that hands out what is queued, once per receive, and tells which deliveries were acknowledged. */
function memorySource(...batches: unknown[][]) {
  const acked: string[] = [];
  const pending = batches.map((batch) => batch.map((item) => (typeof item === "string" ? item : JSON.stringify(item))));
  const source: EventSource = {
    async receive() {
      const bodies = pending.shift() ?? [];
      return bodies.map((body): EventDelivery => ({ body, ack: async () => void acked.push(body) }));
    },
  };
  return { source, acked, requeue: (...items: unknown[]) => pending.push(items.map((item) => JSON.stringify(item))) };
}

function memorySink(failures = 0) {
  const messages: Array<{ body: Record<string, any>; group: string }> = [];
  let left = failures;
  const sink: AnswerSink = {
    async send(body, group) {
      if (left-- > 0) throw new Error("SQS is unavailable");
      messages.push({ body: JSON.parse(body), group });
      return `msg_${messages.length}`;
    },
  };
  return { sink, messages };
}

const weather = { get_weather: () => "21", lookup_order: () => "shipped" };

/** Runs the worker over `passes` receives (no loop timing involved), then stops it. */
async function run(options: Omit<ToolWorkerOptions, "idleMs">, passes: number) {
  const worker = startToolWorker({ ...options, idleMs: 60_000 });
  for (let i = 0; i < passes; i++) await worker.poll();
  await worker.stop();
  return worker;
}

describe("answering an event", () => {
  it.each([
    { api: "assistants", reply: { thread_id: "thread_1", run_id: "run_1" }, group: "thread_1", metadata: { tenant: "acme" } },
    { api: "responses", reply: { response_id: "resp_1" }, group: "resp_1", metadata: undefined },
    { api: "agents", reply: { session_id: "sess_1", turn_id: "turn_1" }, group: "sess_1", metadata: undefined },
  ] as const)(
    "sends { ...event.reply, tool_outputs } for the $api API, one output per call from its tool's handler",
    async ({ api, reply, group, metadata }) => {
      // Prepare
      const { source, acked } = memorySource([EVENTS[api]]);
      const { sink, messages } = memorySink();

      // Act
      await run({ source, sink, handlers: weather }, 1);

      // Assess
      expect(messages).toEqual([
        {
          group,
          body: {
            ...reply,
            tool_outputs: [
              { tool_call_id: "call_1", output: "21" },
              { tool_call_id: "call_2", output: "shipped" },
            ],
            ...(metadata ? { metadata } : {}),
          },
        },
      ]);
      expect(acked).toHaveLength(1);
    },
  );

  it("passes each handler its call's parsed arguments", async () => {
    const seen: unknown[] = [];
    const { source } = memorySource([EVENTS.assistants]);
    await run(
      {
        source,
        sink: memorySink().sink,
        handlers: {
          get_weather: ({ args }) => {
            seen.push(args);
            return "21";
          },
          lookup_order: () => "x",
        },
      },
      1,
    );
    expect(seen).toEqual([{ city: "Oslo" }]);
  });

  it.each([
    { api: "agents", failed: { tool_call_id: "call_1", error: "weather service timed out" } },
    { api: "assistants", failed: { tool_call_id: "call_1", output: JSON.stringify({ error: "weather service timed out" }) } },
    { api: "responses", failed: { tool_call_id: "call_1", output: JSON.stringify({ error: "weather service timed out" }) } },
  ] as const)("reports a handler that throws as the $api API takes a failure", async ({ api, failed }) => {
    // Prepare
    const { source } = memorySource([EVENTS[api]]);
    const { sink, messages } = memorySink();
    const failing = { ...weather, get_weather: () => Promise.reject(new Error("weather service timed out")) };

    // Act
    await run({ source, sink, handlers: failing }, 1);

    // Assess
    expect(messages[0]!.body.tool_outputs).toEqual([failed, { tool_call_id: "call_2", output: "shipped" }]);
  });

  it("with collect, sends one collect message per call, and leaves calls without a handler to the fleet that has it", async () => {
    // Prepare
    const { source, acked } = memorySource([EVENTS.responses]);
    const { sink, messages } = memorySink();

    // Act
    await run({ source, sink, handlers: { get_weather: () => "21" }, collect: true }, 1);

    // Assess
    expect(messages.map((m) => m.body)).toEqual([
      { response_id: "resp_1", tool_outputs: [{ tool_call_id: "call_1", output: "21" }], collect: true },
    ]);
    expect(acked).toHaveLength(1);
  });

  it("without collect, answers a call that has no handler as failed, so the turn is not left waiting", async () => {
    const { source } = memorySource([EVENTS.agents]);
    const { sink, messages } = memorySink();
    await run({ source, sink, handlers: { get_weather: () => "21" } }, 1);
    expect(messages[0]!.body.tool_outputs[1]).toEqual({ tool_call_id: "call_2", error: "no handler for tool lookup_order" });
  });
});

describe("what the worker drops", () => {
  it("answers an event once however many copies arrive, in one batch or later, and acknowledges every copy", async () => {
    // Prepare
    const { source, acked } = memorySource([EVENTS.assistants, EVENTS.assistants], [EVENTS.assistants]);
    const { sink, messages } = memorySink();

    // Act
    await run({ source, sink, handlers: weather }, 2);

    // Assess
    expect(messages).toHaveLength(1);
    expect(acked).toHaveLength(3);
  });

  it("acknowledges events that ask for nothing (session.waiting, run.completed) without answering", async () => {
    const { source, acked } = memorySource([
      { ...EVENTS.agents, event_id: "e2", type: "session.waiting", tool_calls: [] },
      { ...EVENTS.assistants, event_id: "e3", type: "run.completed", tool_calls: [] },
    ]);
    const { sink, messages } = memorySink();
    await run({ source, sink, handlers: weather }, 1);
    expect(messages).toEqual([]);
    expect(acked).toHaveLength(2);
  });

  it("reports and drops a body that is no results event", async () => {
    const errors: string[] = [];
    const { source, acked } = memorySource(["not json", { hello: "world" }]);
    await run({ source, sink: memorySink().sink, handlers: weather, onError: (error) => errors.push((error as Error).message) }, 1);
    expect(errors).toEqual(["the body is not JSON", "not a results event: no event_id, type, api, reply, tool_calls"]);
    expect(acked).toHaveLength(2);
  });
});

describe("sending", () => {
  it("retries a failed send and sends the answer once", async () => {
    const { source, acked } = memorySource([EVENTS.assistants]);
    const { sink, messages } = memorySink(2);
    await run({ source, sink, handlers: weather, sendAttempts: 3 }, 1);
    expect(messages).toHaveLength(1);
    expect(acked).toHaveLength(1);
  });

  it("leaves an event unacknowledged when sending keeps failing, and on its return sends only the calls not yet sent", async () => {
    // Prepare: collect mode, the second call's send fails every attempt of the first pass.
    const { source, acked, requeue } = memorySource([EVENTS.responses]);
    const messages: Array<Record<string, any>> = [];
    let failSecond = true;
    const sink: AnswerSink = {
      async send(body) {
        const parsed = JSON.parse(body);
        if (failSecond && parsed.tool_outputs[0].tool_call_id === "call_2") throw new Error("SQS is unavailable");
        messages.push(parsed);
        return "id";
      },
    };
    const errors: unknown[] = [];
    const worker = startToolWorker({
      source,
      sink,
      handlers: weather,
      collect: true,
      sendAttempts: 1,
      idleMs: 60_000,
      onError: (e) => errors.push(e),
    });

    // Act
    await worker.poll();
    const ackedAfterFailure = acked.length;
    failSecond = false;
    requeue(EVENTS.responses); // the queue's visibility timeout brings it back
    await worker.poll();
    await worker.stop();

    // Assess
    expect(ackedAfterFailure).toBe(0);
    expect(errors).toHaveLength(1);
    expect(messages.map((m) => m.tool_outputs[0].tool_call_id)).toEqual(["call_1", "call_2"]);
    expect(acked).toHaveLength(1);
  });
});

describe("stopping", () => {
  it("waits for the handler in progress and sends its answer before it resolves", async () => {
    // Prepare
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const handlerStarted = new Promise<void>((resolve) => (started = resolve));
    const { source } = memorySource([EVENTS.assistants]);
    const { sink, messages } = memorySink();
    const worker = startToolWorker({
      source,
      sink,
      handlers: {
        ...weather,
        get_weather: async () => {
          started();
          await slow;
          return "21";
        },
      },
    });
    await handlerStarted;

    // Act
    let stopped = false;
    const stopping = worker.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const stoppedBeforeRelease = stopped;
    release();
    await stopping;

    // Assess
    expect(stoppedBeforeRelease).toBe(false);
    expect(messages).toHaveLength(1);
  });
});

describe("the subscription's filter and the answer queue", () => {
  it("filters on every requires_action type, and on tool_names for a fleet per tool", () => {
    expect(workerFilterPolicy({})).toEqual({ type: ["run.requires_action", "response.requires_action", "session.requires_action"] });
    expect(workerFilterPolicy({ types: ["run.requires_action"], toolNames: ["get_weather"] })).toEqual({
      type: ["run.requires_action"],
      tool_names: ["get_weather"],
    });
  });

  it("sends to a FIFO input queue with the group it is given and the body's hash as deduplication id", async () => {
    // Prepare: an SQS client that records what it is asked to send.
    const sent: Array<Record<string, unknown>> = [];
    const sqs = {
      send: async (command: { input: Record<string, unknown> }) => {
        sent.push(command.input);
        return { MessageId: "m-1" };
      },
    };
    const fifo = sqsAnswerSink({ sqs: sqs as never, queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/outputs.fifo" });
    const standard = sqsAnswerSink({ sqs: sqs as never, queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/outputs" });

    // Act
    await fifo.send('{"a":1}', "thread_1");
    await fifo.send('{"a":1}', "thread_1");
    await standard.send('{"a":1}', "thread_1");

    // Assess
    expect(sent[0]).toMatchObject({ MessageGroupId: "thread_1", MessageDeduplicationId: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(sent[1]!.MessageDeduplicationId).toBe(sent[0]!.MessageDeduplicationId);
    expect(sent[2]).not.toHaveProperty("MessageGroupId");
  });
});
