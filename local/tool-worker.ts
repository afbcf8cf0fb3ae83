import { answersFor } from "../client/answers";
import { asksForTools as clientAsksForTools, type WorkerEvent } from "../client/events";
import { type EventDelivery, type EventSource, startToolWorker as startClientWorker } from "../client/worker";
import type { Reply, ResultsEvent, ToolCall } from "../functions/submit-tool-outputs/dialects/index";
import type { LocalStack } from "./local-stack";

export type { ToolCall } from "../functions/submit-tool-outputs/dialects/index";

/** One message the worker sent: its id, the event it answers, and the body as sent (holds tool outputs: never log it). */
export interface ToolWorkerAnswer {
  messageId: string;
  /** The event answered. */
  event: ResultsEvent;
  api: ResultsEvent["api"];
  /** The ids the message carries: the event's `reply`. */
  reply: Reply;
  toolCallIds: string[];
  /** The SQS body, for a caller that sends it again (a duplicate delivery). */
  body: string;
}

export interface ToolWorkerOptions {
  /** Runs a tool call; the answer goes back as its output. Default: a made-up weather answer. */
  runTool?: (call: ToolCall) => string;
  /** Told of every message the worker sent. */
  onAnswer?: (answer: ToolWorkerAnswer) => void;
  /** How often the worker reads the results queue. Default 50 ms. */
  intervalMs?: number;
  /**
   * Run a turn's calls as separate workers would: one message per call with `"collect": true`, sent in random
   * order, which the relay collects into one submission. Default false: one message answers the whole turn.
   */
  collect?: boolean;
  /** The order's randomness (tests pass a seeded one). Default Math.random. */
  random?: () => number;
}

export interface ToolWorker {
  /** Message ids of everything the worker sent. */
  readonly sent: string[];
  /** Reads the results queue once more and answers every requires_action event read so far. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

/** `*.requires_action` with calls: the events that ask for tools, in any API (the client's rule). */
export function asksForTools(event: ResultsEvent): boolean {
  return clientAsksForTools(event as unknown as WorkerEvent);
}

/**
 * The answering message for an event, the same for every API: the event's `reply` ids, an output per tool call,
 * and its metadata echoed back (the client's `answersFor`).
 * @example stack.send(answerEvent(event, (call) => JSON.stringify({ temp: 21 })));
 */
export function answerEvent(event: ResultsEvent, runTool: (call: ToolCall) => string): Record<string, unknown> {
  return answersFor(
    event as unknown as WorkerEvent,
    event.tool_calls.map((call) => ({ call, output: runTool(call) })),
  )[0]!;
}

/** A Fisher–Yates shuffle drawn from `random`: the order in which separate workers' messages arrive. */
function shuffled<T>(items: T[], random: () => number): T[] {
  const order = [...items];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * The answering messages for an event when each call is run by a worker of its own: one message per call, each
 * with `"collect": true`, in random order.
 * @example for (const message of collectedAnswers(event, runTool)) await stack.send(message);
 */
export function collectedAnswers(
  event: ResultsEvent,
  runTool: (call: ToolCall) => string,
  random = Math.random,
): Array<Record<string, unknown>> {
  const results = event.tool_calls.map((call) => ({ call, output: runTool(call) }));
  return shuffled(answersFor(event as unknown as WorkerEvent, results, { collect: true }), random);
}

/**
 * The events of the local stack as a worker's source: what the stack's reader queue brought into the ledger since
 * the worker started (events before it were someone else's), and again any the worker could not answer yet.
 */
function ledgerSource(stack: LocalStack): EventSource {
  let cursor = stack.ledger.results.length;
  const unanswered = new Map<number, EventDelivery>();
  return {
    async receive() {
      await stack.readResults();
      while (cursor < stack.ledger.results.length) {
        const at = cursor++;
        unanswered.set(at, {
          body: JSON.stringify(stack.ledger.results[at]!.event),
          ack: async () => {
            unanswered.delete(at);
          },
        });
      }
      return [...unanswered.values()];
    },
  };
}

/**
 * The tool worker of the local stack: the tool-worker client (client/) reading `*.requires_action` events from the
 * results topic (through the stack's reader queue), running each call and sending `{ ...event.reply, tool_outputs }`
 * to the input queue, for every API (Assistants, Responses, Agents). Duplicate events (same `event_id`) are answered once.
 * @example const worker = startToolWorker(stack); … await worker.stop();
 */
export function startToolWorker(stack: LocalStack, options: ToolWorkerOptions = {}): ToolWorker {
  const runTool = options.runTool ?? ((call: ToolCall) => JSON.stringify({ tool: call.function.name || call.type, temperature_c: 21 }));
  const random = options.random ?? Math.random;
  const worker = startClientWorker({
    source: ledgerSource(stack),
    sink: { send: (body) => stack.send(body) },
    handlers: {},
    fallback: ({ call }) => runTool(call),
    collect: options.collect,
    order: options.collect ? (messages) => shuffled(messages, random) : undefined,
    idleMs: options.intervalMs ?? 50,
    onAnswer: ({ messageId, event, toolCallIds, body }) => {
      const relayEvent = event as unknown as ResultsEvent;
      options.onAnswer?.({ messageId, event: relayEvent, api: relayEvent.api, reply: relayEvent.reply, toolCallIds, body });
    },
    onError: () => undefined, // a failed send is answered on the next pass
  });
  return {
    get sent() {
      return [...worker.sent];
    },
    caughtUp: () => worker.poll(),
    stop: () => worker.stop(),
  };
}
