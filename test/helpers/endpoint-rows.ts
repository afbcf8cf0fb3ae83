/**
 * What the endpoint-row tests share: one message of either API through the real handler, what the endpoint saw of
 * it (URLs and the relay's own headers, transport headers aside), and the Azure simulator's settings.
 */
import { expect } from "vitest";
import type { ResultsEvent } from "../../functions/submit-tool-outputs/dialects/index";
import type { EndpointSimulator, RecordedRequest } from "../../local/endpoint-simulator";
import { answerFor, type Harness, type HarnessOptions, responseAnswerFor } from "./relay-harness";

export type Api = "assistants" | "responses";
export const APIS: readonly Api[] = ["assistants", "responses"];

/** Headers the HTTP client (Node's http; fetch, for a token) adds by itself: not the relay's choice, so not part of what a row promises. */
const TRANSPORT_HEADERS = new Set([
  "host",
  "connection",
  "content-length",
  "accept-language",
  "accept-encoding",
  "sec-fetch-mode",
  "user-agent",
]);

/** The headers the relay chose to send on a request. */
export function relayHeadersOf(request: RecordedRequest): Record<string, string> {
  return Object.fromEntries(Object.entries(request.headers).filter(([name]) => !TRANSPORT_HEADERS.has(name)));
}

/** The calls that reached the endpoint's API routes (the Entra ID token requests aside). */
export const endpointCalls = (h: Harness) => h.sim.requests.filter((request) => !request.path.includes("/oauth2/"));
/** The Entra ID token requests the simulator's authority received. */
export const tokenRequests = (h: Harness) => h.sim.requests.filter((request) => request.path.includes("/oauth2/"));

/** `METHOD path?query` of each call, for URL assertions. */
export const urlsOf = (calls: RecordedRequest[]) => calls.map((call) => `${call.method} ${call.path}${call.search}`);

/**
 * The headers a row promises on every call of one API, besides its credentials: the message id in the endpoint's own
 * trace header, `accept`, `content-type` on a POST, and `OpenAI-Beta` on the Assistants API.
 */
export function callHeaders(api: Api, call: RecordedRequest, messageId: string, traceHeader: string): Record<string, string> {
  return {
    accept: "application/json",
    [traceHeader]: messageId,
    ...(call.method === "POST" ? { "content-type": "application/json" } : {}),
    ...(api === "assistants" ? { "openai-beta": "assistants=v2" } : {}),
  };
}

export interface Sent {
  messageId: string;
  /** The run's thread (Assistants). */
  threadId?: string;
  /** The run, or the response the outputs answer. */
  id: string;
  callIds: string[];
}

/** A message of `api` answering a fresh run or response of the simulator: sent, not yet delivered. */
export async function sendOne(h: Harness, api: Api): Promise<Sent> {
  if (api === "assistants") {
    const run = h.sim.createRun({ toolCalls: 2 });
    return { messageId: await h.send(answerFor(run)), threadId: run.threadId, id: run.runId, callIds: run.toolCallIds };
  }
  const response = h.sim.createResponse({ toolCalls: 2 });
  return { messageId: await h.send(responseAnswerFor(response)), id: response.responseId, callIds: response.callIds };
}

/** What an endpoint row promises a message: where the calls go, and with exactly which credentials. */
export interface RowPromise {
  /** The path of each API's base URL on the endpoint, e.g. `/v1`. */
  basePath: Record<Api, string>;
  /** The query string on every call of each API (`?api-version=v1`, or empty). */
  search: Record<Api, string>;
  /** The credential headers, exactly (values or matchers): any other header on a call fails the test. */
  credentials: Record<string, unknown>;
  /**
   * The header that carries the message id to this endpoint, as its docs name it: `x-portkey-trace-id` to Portkey,
   * `x-client-request-id` to OpenAI or a compatible server, `x-ms-client-request-id` to Azure.
   */
  traceHeader: string;
}

/**
 * Sends one message of `api`, delivers it once and checks the row's promise: accepted and reported, nothing in the
 * DLQ, every call at the row's URL with its query, and no header beyond the credentials and the call's own.
 * @example await expectDeliveredAsPromised(h, "responses", { basePath, search, credentials: { authorization: "Bearer sk" }, traceHeader: "x-client-request-id" });
 */
export async function expectDeliveredAsPromised(h: Harness, api: Api, row: RowPromise): Promise<Sent> {
  // Act
  const sent = await sendOne(h, api);
  const { response } = await h.deliver();

  // Assess
  expect(response.batchItemFailures).toEqual([]);
  expect((await h.results<ResultsEvent>()).map(({ event }) => [event.api, event.status])).toEqual([[api, "completed"]]);
  expect(await h.deadLetters()).toEqual([]);
  const calls = endpointCalls(h);
  const [base, query] = [row.basePath[api], row.search[api]];
  if (api === "assistants") {
    const run = `${base}/threads/${sent.threadId}/runs/${sent.id}`;
    expect(urlsOf(calls)).toEqual([`POST ${run}/submit_tool_outputs${query}`, ...calls.slice(1).map(() => `GET ${run}${query}`)]);
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(h.sim.counters).toMatchObject({ accepted: 1, doubleAcceptances: 0 });
  } else {
    const [child] = h.sim.children(sent.id);
    const follow = calls.slice(2).map(() => `GET ${base}/responses/${child}${query}`);
    expect(urlsOf(calls)).toEqual([`GET ${base}/responses/${sent.id}${query}`, `POST ${base}/responses${query}`, ...follow]);
    expect(calls.length).toBeGreaterThanOrEqual(3);
    expect(h.sim.counters).toMatchObject({ continuations: 1, forks: 0 });
  }
  for (const call of calls)
    expect(relayHeadersOf(call)).toEqual({ ...row.credentials, ...callHeaders(api, call, sent.messageId, row.traceHeader) });
  return sent;
}

/** The Entra ID application the Azure simulator knows. The secret is a marker the log and record checks look for. */
export const AZURE_APP = { tenantId: "tenant-contoso", clientId: "app-relay-1", clientSecret: "entra-5ecret-value-0000" };

/**
 * The Azure AI Foundry rows' environment, as docs/endpoints.md gives it: the project endpoint with `api-version=v1`
 * for classic agents, `…/openai/v1` for Responses, Entra ID against the simulator's authority.
 */
export const azureEndpoint =
  (overrides: Record<string, string> = {}): NonNullable<HarnessOptions["endpoint"]> =>
  (sim) => ({ ...azureVariables(sim), ...overrides });

/** The Azure row's variables for a simulator playing Azure: both base URLs, `api-version`, the app's Entra ID credentials. */
export function azureVariables(sim: EndpointSimulator, app: typeof AZURE_APP = AZURE_APP): Record<string, string> {
  return {
    ENDPOINT_BASE_URL: sim.azure!.projectEndpoint,
    ENDPOINT_API_VERSION: sim.azure!.apiVersion,
    RESPONSES_BASE_URL: sim.azure!.openaiBaseUrl,
    AZURE_TENANT_ID: app.tenantId,
    AZURE_CLIENT_ID: app.clientId,
    AZURE_CLIENT_SECRET: app.clientSecret,
    AZURE_AUTHORITY_HOST: sim.azure!.authorityHost,
  };
}

/** Simulator options of the Azure rows: Azure mode, none of the Portkey checks. */
export const azureSimulator = (azure: Partial<NonNullable<HarnessOptions["simulator"]>["azure"]> = {}): HarnessOptions["simulator"] => ({
  apiKey: undefined,
  virtualKey: undefined,
  azure: { ...AZURE_APP, ...azure },
});
