/** A thin HTTP client for the simulator's Responses and Conversations routes, shared by the responses-*.test.ts files. */
import type { EndpointSimulator } from "../../../local/endpoint-simulator";
import { API_KEY, type Call, type SseEvent, sleep, VIRTUAL_KEY } from "./helpers";

/** The headers a well-behaved client sends through Portkey to the Responses API (no OpenAI-Beta header needed). */
export function responsesHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { "content-type": "application/json", "x-portkey-api-key": API_KEY, "x-portkey-virtual-key": VIRTUAL_KEY, ...extra };
}

async function asCall(response: globalThis.Response): Promise<Call> {
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === "" ? undefined : JSON.parse(text) };
}

export async function request(sim: EndpointSimulator, method: string, path: string, body?: unknown): Promise<Call> {
  const init: RequestInit = { method, headers: responsesHeaders() };
  if (body !== undefined) init.body = JSON.stringify(body);
  return asCall(await fetch(`${sim.baseUrl}${path}`, init));
}

/** The input items that answer `callIds` (output `{"for":"<id>"}`). */
export function answerFor(callIds: string[]): Array<{ type: "function_call_output"; call_id: string; output: string }> {
  return callIds.map((callId) => ({ type: "function_call_output", call_id: callId, output: `{"for":"${callId}"}` }));
}

/** The body the relay sends to continue `previousResponseId` with outputs for `callIds`. */
export function continuation(previousResponseId: string, callIds: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: "gpt-5-mini",
    previous_response_id: previousResponseId,
    input: answerFor(callIds),
    store: true,
    background: true,
    ...extra,
  };
}

export const postResponse = (sim: EndpointSimulator, body: unknown) => request(sim, "POST", "/responses", body);
export const getResponse = (sim: EndpointSimulator, id: string) => request(sim, "GET", `/responses/${id}`);
export const cancelResponse = (sim: EndpointSimulator, id: string) => request(sim, "POST", `/responses/${id}/cancel`);

/** POSTs with `stream: true` (or GETs a resume path) and reads every event; a cut stream ends the list with its error. */
export async function streamEvents(
  sim: EndpointSimulator,
  init: { body?: unknown; path?: string },
): Promise<{ status: number; contentType: string | null; events: SseEvent[]; cut?: unknown }> {
  const response = await fetch(`${sim.baseUrl}${init.path ?? "/responses"}`, {
    method: init.body === undefined ? "GET" : "POST",
    headers: responsesHeaders(),
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const start = performance.now();
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = /^data: (.*)$/m.exec(block)?.[1] ?? "";
        events.push({ event, data: data === "[DONE]" ? data : JSON.parse(data), receivedAfterMs: performance.now() - start });
      }
    }
  } catch (error) {
    return { status: response.status, contentType: response.headers.get("content-type"), events, cut: error };
  }
  return { status: response.status, contentType: response.headers.get("content-type"), events };
}

/** Polls GET until the response leaves queued/in_progress, honouring openai-poll-after-ms. */
export async function pollResponse(sim: EndpointSimulator, id: string, timeoutMs = 5000): Promise<Call> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const call = await getResponse(sim, id);
    if (!["queued", "in_progress"].includes(call.body?.status)) return call;
    if (performance.now() > deadline) throw new Error(`response ${id} still ${call.body.status}`);
    await sleep(Number(call.headers.get("openai-poll-after-ms") ?? 20));
  }
}

/** The function_call call ids of a Response object's output. */
export function callIdsOf(response: { output: Array<{ type: string; call_id?: string }> }): string[] {
  return response.output.filter((item) => item.type === "function_call").map((item) => item.call_id!);
}
