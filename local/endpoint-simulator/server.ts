/**
 * The HTTP side: routing, the gateway's checks (keys, beta header), fault application, and the
 * bookkeeping tests assert on. Bodies are never logged: they carry tool outputs.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { AgentsHttp, agentCounters, isAgentsApiPath } from "./agent-http";
import { type AzureApi, AzureFrontDoor, azureScriptProblem } from "./azure";
import { BedrockFrontDoor } from "./bedrock";
import { FaultPlan, faultReply } from "./faults";
import { type Reply, replies, sendReply } from "./replies";
import { ResponsesHttp, responseCounters } from "./response-http";
import { decodeSegment, isResponsesApiPath } from "./response-paths";
import { createThreadAndRun, listRunSteps, type RouteResult, retrieveRun, submitToolOutputs } from "./routes";
import { buildRunObject } from "./run-object";
import { newId, RunStore, restingSince } from "./runs";
import { failingStreamPlan, sendEvents } from "./stream";
import type { EndpointSimulator, EndpointSimulatorOptions, RecordedRequest, SimulatorCounters } from "./types";

const OPTION_KEYS = new Set([
  "port",
  "apiKey",
  "apiKeyHeader",
  "virtualKey",
  "pollAfterMs",
  "processingMs",
  "runTtlSeconds",
  "requireBetaHeader",
  "now",
  "azure",
  "bedrock",
]);
const MAX_RECORDED_REQUESTS = 10_000;
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const SUBMIT_PATH = /^\/v1\/threads\/([^/]+)\/runs\/([^/]+)\/submit_tool_outputs$/;
const RUN_PATH = /^\/v1\/threads\/([^/]+)\/runs\/([^/]+)$/;
const STEPS_PATH = /^\/v1\/threads\/([^/]+)\/runs\/([^/]+)\/steps$/;

type Route =
  | { name: "submit"; threadId: string; runId: string }
  | { name: "get"; threadId: string; runId: string }
  | { name: "steps"; threadId: string; runId: string }
  | { name: "create" }
  | { name: "unknown" };

function route(method: string, path: string): Route {
  const submit = SUBMIT_PATH.exec(path);
  if (method === "POST" && submit !== null)
    return { name: "submit", threadId: decodeSegment(submit[1]!), runId: decodeSegment(submit[2]!) };
  const run = RUN_PATH.exec(path);
  if (method === "GET" && run !== null) return { name: "get", threadId: decodeSegment(run[1]!), runId: decodeSegment(run[2]!) };
  const steps = STEPS_PATH.exec(path);
  if (method === "GET" && steps !== null) return { name: "steps", threadId: decodeSegment(steps[1]!), runId: decodeSegment(steps[2]!) };
  if (method === "POST" && path === "/v1/threads/runs") return { name: "create" };
  return { name: "unknown" };
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new RangeError("body too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function checkOptions(opts: EndpointSimulatorOptions): void {
  const unknown = Object.keys(opts).filter((key) => !OPTION_KEYS.has(key));
  if (unknown.length > 0) throw new TypeError(`endpoint simulator: unknown option(s) ${unknown.join(", ")}`);
  if (opts.azure !== undefined && (opts.apiKey !== undefined || opts.virtualKey !== undefined)) {
    throw new TypeError("endpoint simulator: azure mode authenticates with Entra ID tokens; apiKey and virtualKey do not apply");
  }
  if (opts.bedrock !== undefined && (opts.apiKey !== undefined || opts.virtualKey !== undefined || opts.azure !== undefined)) {
    throw new TypeError(
      "endpoint simulator: bedrock mode authenticates with SigV4 or bedrock.apiKeys; apiKey, virtualKey and azure do not apply",
    );
  }
}

/**
 * Starts the simulator on 127.0.0.1.
 * @example
 * const sim = await startEndpointSimulator({ apiKey: "pk-test", virtualKey: "vk-test" });
 * const { threadId, runId, toolCallIds } = sim.createRun({ toolCalls: 2, afterOutputs: [{ requiresAction: 1 }, "completed"] });
 * // point the relay at sim.baseUrl …
 * await sim.close();
 */
export async function startEndpointSimulator(opts: EndpointSimulatorOptions = {}): Promise<EndpointSimulator> {
  checkOptions(opts);
  const now = opts.now ?? Date.now;
  const pollAfterMs = opts.pollAfterMs ?? 50;
  const requireBetaHeader = opts.requireBetaHeader ?? opts.azure === undefined;
  const apiKeyHeader = opts.apiKeyHeader ?? "x-portkey-api-key";
  const store = new RunStore({
    processingMs: opts.processingMs ?? 30,
    ttlMs: (opts.runTtlSeconds ?? 600) * 1000,
    now,
    ...(opts.azure === undefined ? {} : { dialect: "azure" as const }),
  });
  const faults = new FaultPlan();
  const counters = emptyCounters();
  const azure = opts.azure === undefined ? undefined : new AzureFrontDoor(opts.azure, now, counters);
  const bedrock = opts.bedrock === undefined ? undefined : new BedrockFrontDoor(opts.bedrock, now, counters);
  const requests: RecordedRequest[] = [];
  const openStreams = new Set<() => void>();
  // Ends pending `slow` delays on close, so a closed simulator holds no timers.
  const closing = new AbortController();
  const responses = new ResponsesHttp({
    now,
    pollAfterMs,
    processingMs: opts.processingMs ?? 30,
    counters,
    faults,
    closing: closing.signal,
    openStreams,
  });
  const agents = new AgentsHttp({
    now,
    processingMs: opts.processingMs ?? 30,
    requireBetaHeader,
    counters,
    faults,
    closing: closing.signal,
    openStreams,
  });

  /** Portkey's and OpenAI's own checks, which come before anything reaches a run (the Responses API needs no beta header). */
  function gatewayCheck(headers: Record<string, string>, assistants = true): Reply | undefined {
    if (opts.apiKey !== undefined) {
      const expected = apiKeyHeader === "authorization" ? `Bearer ${opts.apiKey}` : opts.apiKey;
      if (headers[apiKeyHeader] !== expected) return replies.invalidApiKey();
    }
    if (opts.virtualKey !== undefined && !headers["x-portkey-virtual-key"] && !headers["x-portkey-provider"])
      return replies.missingProvider();
    if (assistants && requireBetaHeader && !(headers["openai-beta"] ?? "").includes("assistants=v2")) return replies.missingBetaHeader();
    return undefined;
  }

  /** Every JSON answer goes out here; azure mode reshapes error bodies as Azure's. */
  function send(res: ServerResponse, reply: Reply, headers: Record<string, string>): void {
    sendReply(res, azure === undefined ? reply : azure.shape(reply), headers);
  }

  function respond(res: ServerResponse, result: RouteResult, headers: Record<string, string>): void {
    if ("reply" in result) {
      send(res, result.reply, headers);
      return;
    }
    if (res.destroyed) return;
    const stop = sendEvents(res, result.events, now, headers);
    openStreams.add(stop);
    res.on("close", () => openStreams.delete(stop));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://simulator");
    let path = url.pathname;
    const headers = flattenHeaders(req);
    const raw = await readBody(req);
    const text = raw.toString("utf8");
    const parsed = parseJson(text);
    requests.push({
      method,
      path,
      search: url.search,
      headers,
      ...(text === "" ? {} : { body: parsed.ok ? parsed.value : text }),
      at: now(),
    });
    if (requests.length > MAX_RECORDED_REQUESTS) requests.shift();

    const answerHeaders = (): Record<string, string> => ({
      "x-request-id": newId("req", 32),
      "openai-processing-ms": String(Math.round(performance.now() - started)),
      ...(headers["x-portkey-trace-id"] ? { "x-portkey-trace-id": headers["x-portkey-trace-id"] } : {}),
    });
    let azureApi: AzureApi = "agents";
    if (azure !== undefined) {
      const identity = azure.identity(method, path, text, `http://${req.headers.host ?? "127.0.0.1"}`);
      if (identity !== undefined) return sendReply(res, identity, answerHeaders());
      const resolved = azure.resolve(path);
      if (resolved === undefined) return sendReply(res, azure.notFound(), answerHeaders());
      ({ path, api: azureApi } = resolved);
    }
    if (bedrock !== undefined) {
      // Bedrock signs the path as sent and serves the Responses API only: check, then route as `/v1/…`.
      const resolved = bedrock.resolve(path);
      if (resolved === undefined || !isResponsesApiPath(resolved.path)) return sendReply(res, bedrock.notFound(), answerHeaders());
      const signed = { method, path: url.pathname, query: url.searchParams, headers, body: raw };
      const refused = bedrock.check(signed, resolved.prefix, parsed.ok ? parsed.value : undefined);
      if (refused !== undefined) return sendReply(res, refused, answerHeaders());
      const routed = new URL(`${resolved.path}${url.search}`, url);
      return responses.handle({ req, res, method, url: routed, text, parsed, answerHeaders, gatewayCheck: () => undefined });
    }
    if (isResponsesApiPath(path)) {
      const denied = azure?.check(method, url.pathname, azureApi, url.searchParams, headers);
      if (denied !== undefined) return send(res, denied, answerHeaders());
      const gatewayChecked = () => gatewayCheck(headers, false);
      // Azure serves the API under the project's `/openai/v1`: route on the path it resolves to.
      const routed = new URL(`${path}${url.search}`, url);
      return responses.handle({ req, res, method, url: routed, text, parsed, answerHeaders, gatewayCheck: gatewayChecked });
    }
    if (isAgentsApiPath(path)) {
      const denied = azure?.check(method, url.pathname, azureApi, url.searchParams, headers);
      if (denied !== undefined) return send(res, denied, answerHeaders());
      const gatewayChecked = () => gatewayCheck(headers, false);
      return agents.handle({ req, res, method, url, text, parsed, headers, answerHeaders, gatewayCheck: gatewayChecked });
    }
    const target = route(method, path);
    if (target.name === "submit") counters.submits += 1;
    if (target.name === "get") counters.gets += 1;
    if (target.name === "steps") counters.stepLists += 1;
    // Azure checks the token (and api-version, role) before it routes; Portkey routes first.
    const denied = azure?.check(method, url.pathname, azureApi, url.searchParams, headers);
    if (denied !== undefined) return send(res, denied, answerHeaders());
    if (target.name === "unknown") return send(res, replies.invalidUrl(method, url.pathname), answerHeaders());

    const refused = gatewayCheck(headers);
    if (refused !== undefined) return send(res, refused, answerHeaders());
    if (text !== "" && !parsed.ok) return send(res, replies.invalidJson(), answerHeaders());
    const body = parsed.ok ? parsed.value : undefined;

    if (target.name === "create") return respond(res, createThreadAndRun(store, body, azure && azureScriptProblem), answerHeaders());

    const stream = target.name === "submit" && typeof body === "object" && body !== null && (body as { stream?: unknown }).stream === true;
    // Listing steps is a read of the run too, so `get` faults cover it.
    const fault = faults.take({ route: target.name === "submit" ? "submit" : "get", runId: target.runId, stream });
    if (fault !== undefined) counters.faultsInjected += 1;
    if (fault?.kind === "drop") {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "slow") await sleep(fault.delayMs ?? 1000, undefined, { signal: closing.signal });
    const instead = fault === undefined ? undefined : faultReply(fault);
    if (instead !== undefined) return send(res, instead, answerHeaders());

    if (target.name === "get") return respond(res, retrieveRun(store, target.threadId, target.runId, now, pollAfterMs), answerHeaders());
    if (target.name === "steps")
      return respond(res, listRunSteps(store, target.threadId, target.runId, url.searchParams, now), answerHeaders());

    const result = submitToolOutputs(store, counters, target.threadId, target.runId, body);
    if (fault?.kind === "accept_then_500") return send(res, replies.serverError(), answerHeaders());
    if (fault?.kind === "stream_error" && "events" in result) {
      const error = (replies.serverError().body as { error: Parameters<typeof failingStreamPlan>[1] }).error;
      return respond(res, { events: failingStreamPlan(result.events, error) }, answerHeaders());
    }
    return respond(res, result, answerHeaders());
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // An oversized or aborted body, a close during a delay, or a simulator bug; the client may be gone already.
      const tooLarge = error instanceof RangeError;
      const message = tooLarge ? "Request body too large." : "The simulator failed while handling the request.";
      sendReply(res, {
        status: tooLarge ? 413 : 500,
        body: { error: { message, type: tooLarge ? "invalid_request_error" : "server_error", param: null, code: null } },
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const azureControls = azure?.controls(origin);
  const bedrockControls = bedrock?.controls(origin);

  const findOrThrow = (threadId: string, runId: string) => {
    const run = store.get(threadId, runId);
    if (run === undefined) throw new Error(`endpoint simulator: no run ${runId} in thread ${threadId}`);
    return run;
  };

  return {
    baseUrl: azureControls?.projectEndpoint ?? bedrockControls?.baseUrl ?? `${origin}/v1`,
    ...(azureControls === undefined ? {} : { azure: azureControls }),
    ...(bedrockControls === undefined ? {} : { bedrock: bedrockControls }),
    createRun(createOpts = {}) {
      const problem = azure && azureScriptProblem(createOpts.afterOutputs);
      if (problem) throw new TypeError(`endpoint simulator: ${problem}`);
      const run = store.create(createOpts);
      const first = run.segments[0];
      const toolCallIds = first?.status === "requires_action" ? first.toolCalls.map((call) => call.id) : [];
      return { threadId: run.threadId, runId: run.runId, toolCallIds };
    },
    run(threadId, runId) {
      const run = store.get(threadId, runId);
      return run === undefined ? undefined : buildRunObject(run, now());
    },
    expireRun(threadId, runId) {
      store.expire(findOrThrow(threadId, runId));
    },
    restingSince(of) {
      if ("responseId" in of) return responses.restingSince(of.responseId);
      if ("sessionId" in of) return agents.restingSince(of.sessionId);
      const run = store.get(of.threadId, of.runId);
      return run === undefined ? undefined : restingSince(run, now());
    },
    createResponse: (createOpts) => responses.createResponse(createOpts),
    response: (responseId) => responses.response(responseId),
    children: (responseId) => responses.children(responseId),
    conversationItems: (conversationId) => responses.conversationItems(conversationId),
    createSession: (createOpts) => agents.createSession(createOpts),
    session: (sessionId) => agents.session(sessionId),
    agentAdmissions: (sessionId, callId) => agents.admissions(sessionId, callId),
    forgetIdempotencyKeys: () => agents.forgetIdempotencyKeys(),
    cancelTurn: (sessionId) => agents.cancelTurn(sessionId),
    inject(...list) {
      faults.inject(...list);
    },
    setRandomFaults(randomOpts) {
      faults.setRandom(randomOpts);
    },
    counters,
    requests,
    reset() {
      store.clear();
      responses.clear();
      agents.clear();
      faults.reset();
      for (const key of Object.keys(counters) as Array<keyof SimulatorCounters>) counters[key] = 0;
      requests.length = 0;
    },
    async close() {
      closing.abort();
      for (const stop of openStreams) stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Every counter of the simulator at zero (one place, so a counter added for a new API reaches every user). */
export function emptyCounters(): SimulatorCounters {
  return {
    submits: 0,
    accepted: 0,
    rejected: 0,
    gets: 0,
    stepLists: 0,
    faultsInjected: 0,
    doubleAcceptances: 0,
    tokenRequests: 0,
    tokensIssued: 0,
    tokensRejected: 0,
    permissionDenied: 0,
    signaturesVerified: 0,
    signaturesRejected: 0,
    ...responseCounters(),
    ...agentCounters(),
  };
}
