/**
 * What the Agents tests share: messages, a client of their own for the simulator (to answer a call outside the relay,
 * or read a turn's items), and the check that the relay made no DynamoDB request at all for this API.
 */
import { afterEach, beforeEach, expect } from "vitest";
import type { EndpointSimulator } from "../../local/endpoint-simulator";
import { type Harness, TEST_API_KEY, TEST_VIRTUAL_KEY } from "./relay-harness";

export type Result = { output: string } | { error: string };

/** An Agents message answering `outputs` (call id → output text, or `{ error }`). */
export function agentsMessage(
  sessionId: string,
  turnId: string,
  outputs: Record<string, string | Result>,
  extra: Record<string, unknown> = {},
) {
  const tool_outputs = Object.entries(outputs).map(([id, value]) =>
    typeof value === "string" ? { tool_call_id: id, output: value } : { tool_call_id: id, ...value },
  );
  return { session_id: sessionId, turn_id: turnId, tool_outputs, ...extra };
}

const headers = {
  "content-type": "application/json",
  "openai-beta": "agents=v1",
  "x-portkey-api-key": TEST_API_KEY,
  "x-portkey-virtual-key": TEST_VIRTUAL_KEY,
};

/** Answers a call as another client would (not through the relay). */
export async function answerOutside(
  sim: EndpointSimulator,
  sessionId: string,
  turnId: string,
  callId: string,
  output: string,
): Promise<number> {
  const events = [{ type: "agent.session.input.tool_result", turn_id: turnId, call_id: callId, success: true, output }];
  const answer = await fetch(`${sim.baseUrl}/agents/sessions/${sessionId}/events`, {
    method: "POST",
    headers,
    body: JSON.stringify({ events }),
  });
  return answer.status;
}

/** The turn's items, oldest first, as the API lists them. */
export async function turnItems(sim: EndpointSimulator, sessionId: string, turnId: string): Promise<Array<Record<string, unknown>>> {
  const answer = await fetch(`${sim.baseUrl}/agents/sessions/${sessionId}/turns/${turnId}/items?order=asc&limit=100`, { headers });
  return ((await answer.json()) as { data: Array<Record<string, unknown>> }).data;
}

/** The events POSTs the relay made, with their keys and the call ids they carried. */
export function eventPosts(
  sim: EndpointSimulator,
): Array<{ key: string | undefined; beta: string | undefined; callIds: string[]; body: any }> {
  return sim.requests
    .filter(
      (request) =>
        request.method === "POST" && /\/agents\/sessions\/[^/]+\/events$/.test(request.path) && request.headers["x-portkey-trace-id"],
    )
    .map((request) => ({
      key: request.headers["idempotency-key"],
      beta: request.headers["openai-beta"],
      callIds: ((request.body as { events?: Array<{ call_id: string }> })?.events ?? []).map((event) => event.call_id),
      body: request.body,
    }));
}

/** Every test of the file: the relay sends no DynamoDB request for this API (dynalite is up and counting). */
export function expectNoDynamoDb(harness: () => Harness): void {
  let before = 0;
  beforeEach(() => {
    before = harness().aws.dynamodb.targets.length;
  });
  afterEach(() => {
    expect(harness().aws.dynamodb.targets.slice(before), "DynamoDB requests made for Agents messages").toEqual([]);
  });
}
