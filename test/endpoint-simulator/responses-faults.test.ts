import { describe, expect, it } from "vitest";
import { FAULT_KINDS, type Fault } from "../../local/endpoint-simulator";
import { API_KEY, simulator } from "../helpers/endpoint-simulator/helpers";
import {
  cancelResponse,
  continuation,
  getResponse,
  pollResponse,
  postResponse,
  request,
  responsesHeaders,
  streamEvents,
} from "../helpers/endpoint-simulator/response-helpers";

describe("injected faults on the Responses routes", () => {
  it.each<{ kind: Fault["kind"]; status: number }>([
    { kind: "server_error", status: 500 },
    { kind: "gateway_failure", status: 502 },
    { kind: "insufficient_quota", status: 429 },
    { kind: "unauthorized", status: 401 },
  ])("$kind on response_create answers $status and creates nothing", async ({ kind, status }) => {
    // Prepare
    const sim = await simulator();
    const { responseId, callIds } = sim.createResponse();
    sim.inject({ on: "response_create", kind });

    // Act
    const faulted = await postResponse(sim, continuation(responseId, callIds));
    const retried = await postResponse(sim, continuation(responseId, callIds));

    // Assess
    expect(faulted.status).toBe(status);
    expect(retried.status).toBe(200);
    expect(sim.children(responseId)).toEqual([retried.body.id]);
    expect(sim.counters).toMatchObject({ responsePosts: 2, responsesCreated: 1, faultsInjected: 1, forks: 0 });
  });

  it("rate_limit sends retry-after-ms and retry-after on a continuation", async () => {
    // Prepare
    const sim = await simulator();
    const { responseId, callIds } = sim.createResponse();
    sim.inject({ on: "response_create", kind: "rate_limit", retryAfterMs: 250, retryAfterSeconds: 1 });

    // Act
    const response = await fetch(`${sim.baseUrl}/responses`, {
      method: "POST",
      headers: responsesHeaders(),
      body: JSON.stringify(continuation(responseId, callIds)),
    });

    // Assess
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after-ms")).toBe("250");
    expect(response.headers.get("retry-after")).toBe("1");
    expect(((await response.json()) as any).error.code).toBe("rate_limit_exceeded");
  });

  it("accept_then_500 creates the response for real, then answers 500: a blind resubmission forks", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 10 });
    const { responseId, callIds } = sim.createResponse();
    sim.inject({ on: "any", kind: "accept_then_500" });

    // Act
    const read = await getResponse(sim, responseId);
    const ambiguous = await postResponse(sim, continuation(responseId, callIds));
    const [hidden] = sim.children(responseId);
    const final = await pollResponse(sim, hidden!);
    await postResponse(sim, continuation(responseId, callIds));

    // Assess: the GET did not use it up; the POST did
    expect(read.status).toBe(200);
    expect(ambiguous.status).toBe(500);
    expect(final.body.status).toBe("completed");
    expect(sim.counters).toMatchObject({ responsesCreated: 2, faultsInjected: 1, forks: 1 });
  });

  it("drop destroys the socket and creates nothing", async () => {
    // Prepare
    const sim = await simulator();
    const { responseId, callIds } = sim.createResponse();
    sim.inject({ on: "response_create", kind: "drop" });

    // Act
    const attempt = postResponse(sim, continuation(responseId, callIds));

    // Assess
    await expect(attempt).rejects.toThrow(TypeError);
    expect(sim.children(responseId)).toEqual([]);
  });

  it("slow creates the response after the delay even when the client gave up", async () => {
    // Prepare
    const sim = await simulator();
    const { responseId, callIds } = sim.createResponse();
    sim.inject({ on: "response_create", kind: "slow", delayMs: 400 });

    // Act
    const timedOut = fetch(`${sim.baseUrl}/responses`, {
      method: "POST",
      headers: responsesHeaders(),
      body: JSON.stringify(continuation(responseId, callIds)),
      signal: AbortSignal.timeout(100),
    });
    await expect(timedOut).rejects.toThrow();
    for (let i = 0; i < 300 && sim.children(responseId).length === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));

    // Assess
    expect(sim.children(responseId)).toHaveLength(1);
  });

  it("conversation_locked answers the lock error only to continuations on a conversation", async () => {
    // Prepare
    const sim = await simulator();
    const plain = sim.createResponse();
    const onConversation = sim.createResponse({ conversation: true });
    sim.inject({ on: "response_create", kind: "conversation_locked" });
    const body = {
      model: "gpt-5-mini",
      conversation: onConversation.conversationId,
      input: continuation("x", onConversation.callIds).input,
    };

    // Act
    const notUsedUp = await postResponse(sim, continuation(plain.responseId, plain.callIds));
    const locked = await postResponse(sim, body);
    const retried = await postResponse(sim, { ...body, background: true });

    // Assess
    expect(notUsedUp.status).toBe(200);
    expect(locked.status).toBe(400);
    expect(locked.body.error.code).toBe("conversation_locked");
    expect(retried.status).toBe(200);
  });

  it("stream_cut_after_created sends response.created, cuts the socket, and the response goes on for real", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 20 });
    const { responseId, callIds } = sim.createResponse();
    sim.inject({ on: "response_create", kind: "stream_cut_after_created" });

    // Act
    const nonStream = await postResponse(sim, continuation(responseId, callIds));
    const { events, cut } = await streamEvents(sim, { body: continuation(responseId, callIds, { stream: true }) });
    const id = events[0]!.data.response.id;
    const final = await pollResponse(sim, id);

    // Assess: a non-stream POST does not use it up
    expect(nonStream.status).toBe(200);
    expect(events.map((e) => e.event)).toEqual(["response.created"]);
    expect(cut).toBeInstanceOf(Error);
    expect(final.body.status).toBe("completed");
  });

  it("stream_error sends the opening events, then a flat error event, and the response goes on", async () => {
    // Prepare
    const sim = await simulator({ processingMs: 20 });
    const { responseId, callIds } = sim.createResponse();
    sim.inject({ on: "response_create", kind: "stream_error" });

    // Act
    const { events, cut } = await streamEvents(sim, { body: continuation(responseId, callIds, { stream: true, background: false }) });
    const final = await pollResponse(sim, events[0]!.data.response.id);

    // Assess
    expect(cut).toBeUndefined();
    expect(events.map((e) => e.event)).toEqual(["response.created", "response.in_progress", "response.output_item.added", "error"]);
    expect(events.at(-1)!.data).toEqual({ type: "error", code: null, message: expect.any(String), param: null, sequence_number: 3 });
    expect(final.body.status).toBe("completed");
  });

  it("applies only to the named route and response; first turns and Assistants faults never touch them", async () => {
    // Prepare
    const sim = await simulator();
    const a = sim.createResponse();
    const b = sim.createResponse();
    sim.inject({ on: "get", kind: "server_error" }, { on: "response_get", kind: "server_error", responseId: b.responseId });
    sim.inject({ on: "response_create", kind: "server_error" });

    // Act
    const firstTurn = await postResponse(sim, { model: "gpt-5-mini", input: "hi", background: true });
    const getA = await getResponse(sim, a.responseId);
    const getB = await getResponse(sim, b.responseId);
    const cancelB = await cancelResponse(sim, b.responseId);

    // Assess
    expect([firstTurn.status, getA.status, getB.status, cancelB.status]).toEqual([200, 200, 500, 400]);
    expect(sim.counters.faultsInjected).toBe(1);
  });

  it("response_cancel and conversation_items faults reach their routes", async () => {
    // Prepare
    const sim = await simulator();
    const { conversationId } = sim.createResponse({ conversation: true });
    sim.inject({ on: "response_cancel", kind: "gateway_failure" }, { on: "conversation_items", kind: "rate_limit", conversationId });

    // Act
    const cancel = await cancelResponse(sim, "resp_any");
    const items = await request(sim, "GET", `/conversations/${conversationId}/items`);

    // Assess
    expect(cancel.body).toEqual({ status: "failure", message: expect.any(String) });
    expect(items.status).toBe(429);
  });

  it("random faults with on: any reach the Responses routes, deterministically by seed", async () => {
    // Prepare
    const statuses = async (seed: number) => {
      const sim = await simulator();
      const { responseId } = sim.createResponse();
      sim.setRandomFaults({ probability: 0.5, kinds: ["server_error", "rate_limit"], seed });
      const seen: number[] = [];
      for (let i = 0; i < 30; i += 1) seen.push((await getResponse(sim, responseId)).status);
      return seen;
    };

    // Act
    const first = await statuses(3);
    const again = await statuses(3);

    // Assess
    expect(again).toEqual(first);
    expect(new Set(first)).toEqual(new Set([200, 500, 429]));
  });

  it("every fault kind is accepted on the new routes, and unknown routes are refused", async () => {
    // Prepare
    const sim = await simulator();

    // Act
    const all = () => sim.inject(...FAULT_KINDS.map((kind) => ({ on: "response_create" as const, kind })));
    const badRoute = () => sim.inject({ on: "responses" as Fault["on"], kind: "drop" });

    // Assess
    expect(all).not.toThrow();
    expect(badRoute).toThrow(/fault "on" must be one of/);
  });
});

describe("the gateway's checks on the Responses routes", () => {
  it("401 without the Portkey key, Portkey's failure shape without a provider, and no beta header needed", async () => {
    // Prepare
    const sim = await simulator({ apiKey: API_KEY, virtualKey: "vk-test" });
    const { responseId } = sim.createResponse();
    const url = `${sim.baseUrl}/responses/${responseId}`;

    // Act
    const noKey = await fetch(url, { headers: { "x-portkey-virtual-key": "vk-test" } });
    const noProvider = await fetch(url, { headers: { "x-portkey-api-key": API_KEY } });
    const ok = await fetch(url, { headers: responsesHeaders() });

    // Assess
    expect(noKey.status).toBe(401);
    expect(((await noKey.json()) as any).error.code).toBe("invalid_api_key");
    expect(noProvider.status).toBe(400);
    expect(await noProvider.json()).toEqual({ status: "failure", message: expect.any(String) });
    expect(ok.status).toBe(200);
    expect(sim.counters.responseGets).toBe(3);
  });

  it("answers 404 Invalid URL for a route the simulator does not serve", async () => {
    // Prepare
    const sim = await simulator();

    // Act
    const call = await request(sim, "DELETE", "/responses/resp_x");

    // Assess
    expect(call.status).toBe(404);
    expect(call.body.error.message).toBe("Invalid URL (DELETE /v1/responses/resp_x)");
  });
});
