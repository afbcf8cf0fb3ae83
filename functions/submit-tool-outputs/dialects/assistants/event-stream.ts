import { type EndpointError, readEndpointError } from "../../endpoint/endpoint-failure";
import { eventData, serverSentEvents } from "../../endpoint/server-sent-events";
import { parseRun, type Run } from "./run-state";

/** What the relay takes from a run's event stream; steps, messages, deltas and unknown events are skipped. */
export type RunStreamItem = { kind: "run"; run: Run } | { kind: "error"; error?: EndpointError } | { kind: "done" };

/** `thread.run.<status>` but not `thread.run.step.*`: only these carry a Run object. */
const RUN_EVENT = /^thread\.run\.(?!step\.)[a-z_]+$/;

/**
 * Reads a run's event stream (the answer to a submit with `stream: true`): Run events, `error`, and `done`,
 * in the order they come.
 * @example for await (const item of runStreamItems(response.body)) if (item.kind === "run") latest = item.run;
 */
export async function* runStreamItems(body: AsyncIterable<Uint8Array>): AsyncGenerator<RunStreamItem> {
  for await (const event of serverSentEvents(body)) {
    if (event.event === "done") {
      yield { kind: "done" };
      return;
    }
    if (event.event === "error") {
      yield { kind: "error", error: readEndpointError({ error: eventData(event.data) }) };
      return;
    }
    if (event.event === undefined || !RUN_EVENT.test(event.event)) continue;
    const run = parseRun(eventData(event.data));
    if (run.success) yield { kind: "run", run: run.data };
  }
}
