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

/** `run.requires_action` and `response.requires_action`: the events that ask for tools, in either API. */
export function asksForTools(event: ResultsEvent): boolean {
  return event.type.endsWith(".requires_action") && event.tool_calls.length > 0;
}

/**
 * The answering message for an event, the same for both APIs: the event's `reply` ids, an output per tool call,
 * and its metadata echoed back.
 * @example stack.send(answerEvent(event, (call) => JSON.stringify({ temp: 21 })));
 */
export function answerEvent(event: ResultsEvent, runTool: (call: ToolCall) => string): Record<string, unknown> {
  return {
    ...event.reply,
    tool_outputs: event.tool_calls.map((call) => ({ tool_call_id: call.id, output: runTool(call) })),
    ...(event.metadata ? { metadata: event.metadata } : {}),
  };
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
  const calls = [...event.tool_calls];
  for (let i = calls.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [calls[i], calls[j]] = [calls[j]!, calls[i]!];
  }
  return calls.map((call) => ({ ...answerEvent({ ...event, tool_calls: [call] }, runTool), collect: true }));
}

/**
 * A tiny tool worker that closes the loop for both APIs: it reads `*.requires_action` events from the results
 * topic (through the stack's reader queue), runs the tool calls and sends `{ ...event.reply, tool_outputs }` to
 * the input queue. Duplicate events (same `event_id`) are answered once; events read before it started are not its own.
 * @example const worker = startToolWorker(stack); … await worker.stop();
 */
export function startToolWorker(stack: LocalStack, options: ToolWorkerOptions = {}): ToolWorker {
  const runTool = options.runTool ?? ((call: ToolCall) => JSON.stringify({ tool: call.function.name || call.type, temperature_c: 21 }));
  const answered = new Set<string>();
  const sent: string[] = [];
  // Events the ledger held before the worker started were someone else's to answer.
  let cursor = stack.ledger.results.length;
  let running = true;

  const answerNew = async () => {
    // The ledger holds every event read so far, by the worker or by anyone else reading through the stack.
    await stack.readResults();
    while (cursor < stack.ledger.results.length) {
      const { event } = stack.ledger.results[cursor]!;
      if (asksForTools(event) && !answered.has(event.event_id)) {
        const messages = options.collect ? collectedAnswers(event, runTool, options.random) : [answerEvent(event, runTool)];
        // A failed send throws before the cursor moves: the event is answered on the next round.
        for (const message of messages) {
          const body = JSON.stringify(message);
          const messageId = await stack.send(body);
          sent.push(messageId);
          const toolCallIds = (message.tool_outputs as Array<{ tool_call_id: string }>).map((o) => o.tool_call_id);
          options.onAnswer?.({ messageId, event, api: event.api, reply: event.reply, toolCallIds, body });
        }
        answered.add(event.event_id);
      }
      cursor += 1;
    }
  };

  // One pass at a time, so an event is never answered twice.
  let passes: Promise<void> = Promise.resolve();
  const pass = () => (passes = passes.catch(() => undefined).then(answerNew));

  const loop = (async () => {
    while (running) {
      await pass().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
    }
  })();

  return {
    sent,
    caughtUp: () => pass(),
    async stop() {
      running = false;
      await loop;
    },
  };
}
