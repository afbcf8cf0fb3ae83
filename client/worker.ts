import { type AnswerOptions, answersFor, type ToolOutput, type ToolResult } from "./answers";
import { type EventIdMemory, recentEventIds } from "./event-ids";
import { asksForTools, messageGroupOf, readWorkerEvent, type ToolCall, UnreadableEventError, type WorkerEvent } from "./events";

/** Runs one tool call. Throw to report the call as failed (an `error` for the Agents API). */
export type ToolHandler = (call: ParsedToolCall, event: WorkerEvent) => ToolOutput | Promise<ToolOutput>;

/** A tool call with its arguments parsed (`args` is undefined when they are not JSON; `call.function.arguments` has them raw). */
export interface ParsedToolCall {
  id: string;
  name: string;
  args: unknown;
  call: ToolCall;
}

/** One results event as the source delivered it; `ack` removes it from the source once it is answered. */
export interface EventDelivery {
  body: string;
  ack(): Promise<void>;
}

/** Where events come from: an SQS queue subscribed to the results topic (`sqsEventSource`), or anything else. */
export interface EventSource {
  /** The next deliveries; may wait (long polling). `signal` tells that the worker is stopping. */
  receive(signal: AbortSignal): Promise<EventDelivery[]>;
}

/** Where answers go: the relay's input queue (`sqsAnswerSink`). Resolves to the message id. */
export interface AnswerSink {
  send(body: string, messageGroupId: string): Promise<string>;
}

/** One message the worker sent (its body holds tool outputs: never log it). */
export interface SentAnswer {
  messageId: string;
  event: WorkerEvent;
  toolCallIds: string[];
  body: string;
}

export interface ToolWorkerOptions extends AnswerOptions {
  source: EventSource;
  sink: AnswerSink;
  /** A handler per tool name. */
  handlers: Readonly<Record<string, ToolHandler>>;
  /**
   * Runs calls whose tool has no handler.
   * @default none: without `collect` such a call is answered as failed ("no handler for tool …"); with `collect` it is
   * left to the worker that has the handler (per-tool fleets filter on the `tool_names` attribute)
   */
  fallback?: ToolHandler;
  /**
   * Remembers answered `event_id`s, so a duplicate delivery is dropped. Replicas reading one queue each get different
   * messages; give them a shared memory to drop a duplicate that reaches two replicas.
   * @default the last 10 000 ids of this process
   */
  answered?: EventIdMemory;
  /**
   * Attempts to send one answer before the event is left to come back (its message is not acknowledged).
   * @default 5, with exponential backoff from 200 ms
   */
  sendAttempts?: number;
  /** Pause between receives that found nothing (a long-polling source needs none). @default 0 */
  idleMs?: number;
  /** Told of every message sent. */
  onAnswer?: (answer: SentAnswer) => void;
  /** Told of what went wrong (an unreadable event, a send that kept failing); the worker goes on. @default console.error of the error's message */
  onError?: (error: unknown, context: { eventId?: string }) => void;
  /** The order in which collected messages go (tests draw a random one). @default the event's order */
  order?: <T>(items: T[]) => T[];
  /** Stops the worker like `stop()`. */
  signal?: AbortSignal;
}

export interface ToolWorker {
  /** Every message id sent so far. */
  readonly sent: readonly string[];
  /** One receive-and-answer pass (the loop runs them on its own; tests call it to catch up). */
  poll(): Promise<void>;
  /** Stops receiving (after the receive in progress: a long poll's wait at most), answers the events in hand, then resolves. */
  stop(): Promise<void>;
  /** Resolves when the worker has stopped. */
  readonly stopped: Promise<void>;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/**
 * A tool worker: receives `*.requires_action` events, drops duplicates by `event_id`, runs a handler per tool name,
 * and sends `{ ...event.reply, tool_outputs }` (or one `collect: true` message per call) to the relay, for the
 * Assistants, Responses and Agents APIs alike. An event is acknowledged only once its answer is sent.
 * @example
 * const worker = startToolWorker({
 *   source: sqsEventSource({ sqs, queueUrl: workerQueueUrl }),
 *   sink: sqsAnswerSink({ sqs, queueUrl: inputQueueUrl }),
 *   handlers: { get_weather: async ({ args }) => JSON.stringify(await weather(args)) },
 * });
 * process.once("SIGTERM", () => worker.stop());
 */
export function startToolWorker(options: ToolWorkerOptions): ToolWorker {
  const answered = options.answered ?? recentEventIds();
  const sent: string[] = [];
  // Calls already sent for an event whose other calls failed to go: a retry sends only the rest.
  const sentCalls = new Map<string, Set<string>>();
  const stopping = new AbortController();
  options.signal?.addEventListener("abort", () => stopping.abort(), { once: true });
  const report = options.onError ?? ((error: unknown) => console.error(`tool worker: ${(error as Error)?.message ?? error}`));

  const runCall = async (call: ToolCall, event: WorkerEvent): Promise<ToolResult | undefined> => {
    const handler = options.handlers[call.function.name] ?? options.fallback;
    if (!handler) return options.collect ? undefined : { call, error: `no handler for tool ${call.function.name}` };
    let args: unknown;
    try {
      args = JSON.parse(call.function.arguments);
    } catch {
      args = undefined;
    }
    try {
      return { call, output: await handler({ id: call.id, name: call.function.name, args, call }, event) };
    } catch (error) {
      return { call, error: error instanceof Error ? error.message : String(error) };
    }
  };

  const send = async (body: string, group: string): Promise<string> => {
    const attempts = options.sendAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      try {
        return await options.sink.send(body, group);
      } catch (error) {
        if (attempt >= attempts) throw error;
        await sleep(200 * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
      }
    }
  };

  const handle = async (delivery: EventDelivery): Promise<void> => {
    let event: WorkerEvent;
    try {
      event = readWorkerEvent(delivery.body);
    } catch (error) {
      if (!(error instanceof UnreadableEventError)) throw error;
      report(error, {});
      await delivery.ack(); // it would never become readable: keeping it only blocks the queue
      return;
    }
    if (!asksForTools(event) || (await answered.has(event.event_id))) return delivery.ack();
    const done = sentCalls.get(event.event_id) ?? new Set<string>();
    const pending = event.tool_calls.filter((call) => !done.has(call.id));
    const results = (await Promise.all(pending.map((call) => runCall(call, event)))).filter((r): r is ToolResult => r !== undefined);
    const messages = answersFor(event, results, options);
    try {
      for (const message of options.order ? options.order(messages) : messages) {
        const body = JSON.stringify(message);
        const messageId = await send(body, messageGroupOf(event.reply));
        const toolCallIds = (message.tool_outputs as Array<{ tool_call_id: string }>).map((item) => item.tool_call_id);
        for (const id of toolCallIds) done.add(id);
        sent.push(messageId);
        options.onAnswer?.({ messageId, event, toolCallIds, body });
      }
    } catch (error) {
      // Not acknowledged: the event comes back after the queue's visibility timeout, and only the unsent calls go.
      sentCalls.set(event.event_id, done);
      report(error, { eventId: event.event_id });
      return;
    }
    sentCalls.delete(event.event_id);
    await answered.add(event.event_id);
    await delivery.ack();
  };

  // One pass at a time: two passes could answer copies of one event side by side.
  let passes: Promise<void> = Promise.resolve();
  const pass = async () => {
    const deliveries = await options.source.receive(stopping.signal);
    // Copies of one event within a batch: the first is answered, the others dropped once it is.
    const byEvent = new Map<string, EventDelivery[]>();
    const others: EventDelivery[] = [];
    for (const delivery of deliveries) {
      const id = eventIdOf(delivery.body);
      if (id === undefined) others.push(delivery);
      else byEvent.set(id, [...(byEvent.get(id) ?? []), delivery]);
    }
    await Promise.all([
      ...others.map(handle),
      ...[...byEvent.values()].map(async ([first, ...copies]) => {
        await handle(first!);
        for (const copy of copies) await handle(copy);
      }),
    ]);
    return deliveries.length;
  };
  const poll = () => {
    const next = passes.catch(() => undefined).then(pass);
    passes = next.then(() => undefined);
    return next;
  };

  const stopped = (async () => {
    while (!stopping.signal.aborted) {
      try {
        const received = await poll();
        if (received === 0) await sleep(options.idleMs ?? 0, stopping.signal);
      } catch (error) {
        if (!stopping.signal.aborted) {
          report(error, {});
          await sleep(1000, stopping.signal); // a source that keeps failing (the queue gone) is not hammered
        }
      }
    }
    await passes.catch(() => undefined);
  })();

  return {
    sent,
    poll: () => poll().then(() => undefined),
    async stop() {
      stopping.abort();
      await stopped;
    },
    stopped,
  };
}

function eventIdOf(body: string): string | undefined {
  try {
    return readWorkerEvent(body).event_id;
  } catch {
    return undefined;
  }
}
