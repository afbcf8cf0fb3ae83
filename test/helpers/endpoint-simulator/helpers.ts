/** Factories shared by the endpoint simulator tests: a started simulator and a thin HTTP client. */
import { afterEach } from "vitest";
import { type EndpointSimulator, type EndpointSimulatorOptions, startEndpointSimulator } from "../../../local/endpoint-simulator";

export const API_KEY = "pk-test-key";
export const VIRTUAL_KEY = "vk-test";

const started: EndpointSimulator[] = [];

/** Starts a simulator that is closed after the test. */
export async function simulator(opts: EndpointSimulatorOptions = {}): Promise<EndpointSimulator> {
  const sim = await startEndpointSimulator(opts);
  started.push(sim);
  return sim;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

/** The headers a well-behaved client sends through Portkey. */
export function portkeyHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return {
    "content-type": "application/json",
    "openai-beta": "assistants=v2",
    "x-portkey-api-key": API_KEY,
    "x-portkey-virtual-key": VIRTUAL_KEY,
    ...extra,
  };
}

export interface Call {
  status: number;
  headers: Headers;
  body: any;
}

async function asCall(response: Response): Promise<Call> {
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === "" ? undefined : JSON.parse(text) };
}

export function submitUrl(sim: EndpointSimulator, threadId: string, runId: string): string {
  return `${sim.baseUrl}/threads/${threadId}/runs/${runId}/submit_tool_outputs`;
}

/** POSTs tool outputs; `outputs` are call ids (output "ok") or the raw body. */
export async function submit(
  sim: EndpointSimulator,
  threadId: string,
  runId: string,
  outputs: string[] | Record<string, unknown>,
  headers: Record<string, string> = portkeyHeaders(),
): Promise<Call> {
  const body = Array.isArray(outputs) ? { tool_outputs: outputs.map((id) => ({ tool_call_id: id, output: `{"for":"${id}"}` })) } : outputs;
  return asCall(await fetch(submitUrl(sim, threadId, runId), { method: "POST", headers, body: JSON.stringify(body) }));
}

export async function getRun(
  sim: EndpointSimulator,
  threadId: string,
  runId: string,
  headers: Record<string, string> = portkeyHeaders(),
): Promise<Call> {
  return asCall(await fetch(`${sim.baseUrl}/threads/${threadId}/runs/${runId}`, { headers }));
}

export async function createThreadAndRun(sim: EndpointSimulator, body: Record<string, unknown>): Promise<Call> {
  return asCall(await fetch(`${sim.baseUrl}/threads/runs`, { method: "POST", headers: portkeyHeaders(), body: JSON.stringify(body) }));
}

export interface SseEvent {
  event: string;
  data: any;
  /** ms since the response headers arrived */
  receivedAfterMs: number;
}

/** Reads a whole SSE response; `data` is parsed JSON except for `[DONE]`. */
export async function readEvents(response: Response): Promise<SseEvent[]> {
  const start = performance.now();
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? "";
      events.push({ event, data: data === "[DONE]" ? data : JSON.parse(data), receivedAfterMs: performance.now() - start });
      end = buffer.indexOf("\n\n");
    }
  }
  return events;
}

/** Submits with `stream: true` and reads the events to the end. */
export async function submitStreaming(
  sim: EndpointSimulator,
  threadId: string,
  runId: string,
  callIds: string[],
): Promise<{ response: Response; events: SseEvent[] }> {
  const response = await fetch(submitUrl(sim, threadId, runId), {
    method: "POST",
    headers: portkeyHeaders(),
    body: JSON.stringify({ tool_outputs: callIds.map((id) => ({ tool_call_id: id, output: "done" })), stream: true }),
  });
  return { response, events: await readEvents(response) };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls GET until the run leaves queued/in_progress, like openai-node's poller. */
export async function pollUntilResting(sim: EndpointSimulator, threadId: string, runId: string, timeoutMs = 5000): Promise<Call> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const call = await getRun(sim, threadId, runId);
    if (!["queued", "in_progress", "cancelling"].includes(call.body?.status)) return call;
    if (performance.now() > deadline) throw new Error(`run ${runId} still ${call.body.status}`);
    await sleep(Number(call.headers.get("openai-poll-after-ms") ?? 20));
  }
}
