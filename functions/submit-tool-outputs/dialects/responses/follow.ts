import { type Polled, pollUntilRest } from "../../endpoint/poll";
import { closedInBackground } from "../../endpoint/server-sent-events";
import type { Outcome } from "../../pipeline/outcome";
import { callOptions, type DecisionLimits, type RecordContext } from "../../pipeline/record-context";
import type { Result } from "../../pipeline/result";
import type { ResponsesClient } from "./client";
import type { ResponseStreamItem } from "./event-stream";
import { isFinal, type ResponseObject } from "./response-state";

export type Via = Extract<Outcome, { kind: "report" }>["via"];
export type ResponsesFollowDeps = DecisionLimits & { endpoint: Pick<ResponsesClient, "getResponse"> };

/** Publish a final response; leave a moving one to a `watch_response` follow-up. */
export function reportOrWatch(response: ResponseObject, via: Via): Outcome {
  if (isFinal(response)) return { kind: "report", state: { api: "responses", response }, via };
  return { kind: "watch", followUp: { type: "watch_response", response_id: response.id }, status: response.status };
}

/**
 * Row "submit … follow it to rest": polls `GET /responses/{id}` (honouring `openai-poll-after-ms` when sent)
 * until the response is final or `until` (the end of the follow budget); one still moving then is left to a
 * `watch_response`. The outputs are already taken here, so a failing GET also ends in a watch.
 */
export async function followResponse(
  response: ResponseObject,
  { via, until }: { via: Via; until: number },
  ctx: RecordContext,
  deps: ResponsesFollowDeps,
): Promise<Outcome> {
  const look = async (current: ResponseObject): Promise<Polled<ResponseObject>> => {
    const seen = await deps.endpoint.getResponse(current.id, callOptions(ctx));
    return seen.ok
      ? { ok: true, value: seen.response, pollAfterMs: seen.pollAfterMs }
      : { ok: false, transient: seen.failure.kind === "transient" };
  };
  const latest = await pollUntilRest(response, { atRest: isFinal, look, pollIntervalMs: deps.pollIntervalMs, until }, ctx);
  return reportOrWatch(latest, via);
}

/** How a response's stream ended: at rest (`ok`, its outcome), or cut (with the response if the stream said it). */
export type StreamEnd = Result<{ outcome: Outcome }, { response?: ResponseObject }>;

/**
 * Row "submit … or stream": reads the submission's event stream until a terminal event (the caller cuts it at
 * the end of the follow budget). `onCreated` is told the new response's id as soon as the first event carries
 * it. A stream cut after that is followed by GET (never resubmitted); one cut before is an ambiguous failure.
 */
export async function readResponseStream(
  stream: AsyncGenerator<ResponseStreamItem>,
  onCreated: (response: ResponseObject) => Promise<void>,
): Promise<StreamEnd> {
  let latest: ResponseObject | undefined;
  try {
    for await (const item of closedInBackground(stream)) {
      if (item.kind === "error") break;
      if (latest === undefined) await onCreated(item.response);
      latest = item.response;
      if (isFinal(latest)) return { ok: true, outcome: reportOrWatch(latest, "submitted") };
    }
  } catch {
    // The stream broke (reset, timeout, the follow budget): what we know is below.
  }
  return latest ? { ok: false, response: latest } : { ok: false };
}
