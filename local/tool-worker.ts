import type { ToolOutputMessage } from "../functions/submit-tool-outputs/assistants/message-schema";
import type { LocalStack } from "./local-stack";

/** One tool call as `required_action.submit_tool_outputs.tool_calls[]` carries it. */
export interface ToolCall {
  id: string;
  type: string;
  function?: { name: string; arguments: string };
}

export interface ToolWorkerOptions {
  /** Runs a tool call; the answer goes back as its output. Default: a made-up weather answer. */
  runTool?: (call: ToolCall) => string;
  /** Told of every message the worker sent (its id and the ids it answered for). */
  onAnswer?: (answer: { messageId: string; threadId: string; runId: string; toolCallIds: string[] }) => void;
  /** How often the worker reads the results queue. Default 50 ms. */
  intervalMs?: number;
}

export interface ToolWorker {
  /** Message ids of everything the worker sent. */
  readonly sent: string[];
  /** Reads the results queue once more and answers every requires_action event read so far. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A tiny tool worker that closes the loop: it reads `run.requires_action` events from the results topic
 * (through the stack's reader queue), runs the tool calls and sends their outputs to the input queue.
 * Duplicate events (same `event_id`) are answered once.
 * @example const worker = startToolWorker(stack); … await worker.stop();
 */
export function startToolWorker(stack: LocalStack, options: ToolWorkerOptions = {}): ToolWorker {
  const runTool = options.runTool ?? ((call: ToolCall) => JSON.stringify({ tool: call.function?.name ?? call.type, temperature_c: 21 }));
  const answered = new Set<string>();
  const sent: string[] = [];
  let cursor = 0;
  let running = true;

  const answerNew = async () => {
    // The ledger holds every event read so far, by the worker or by anyone else reading through the stack.
    await stack.readResults();
    while (cursor < stack.ledger.results.length) {
      const { event } = stack.ledger.results[cursor]!;
      if (event.type === "run.requires_action" && !answered.has(event.event_id)) {
        const calls =
          (event.run.required_action as { submit_tool_outputs?: { tool_calls?: ToolCall[] } } | null)?.submit_tool_outputs?.tool_calls ??
          [];
        const message: ToolOutputMessage = {
          thread_id: event.thread_id,
          run_id: event.run_id,
          tool_outputs: calls.map((call) => ({ tool_call_id: call.id, output: runTool(call) })),
          ...(event.metadata ? { metadata: event.metadata } : {}),
        };
        // A failed send throws before the cursor moves: the event is answered on the next round.
        const messageId = await stack.send(message);
        answered.add(event.event_id);
        sent.push(messageId);
        options.onAnswer?.({ messageId, threadId: event.thread_id, runId: event.run_id, toolCallIds: calls.map((c) => c.id) });
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
