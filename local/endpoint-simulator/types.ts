/**
 * Public types of the endpoint simulator: the contract that the relay's tests, the local stack and
 * the soak test code against. Add fields freely; never change the meaning of existing ones.
 */
import type { ConversationItem, ResponseFunctionTool, ResponseObject } from "./response-object";
import type { RunObject } from "./run-object";

export type { ConversationItem, ResponseFunctionTool, ResponseObject } from "./response-object";
export type { RunObject } from "./run-object";

import type { AgentScript } from "./agent-sessions";
import type { ResponseScript } from "./responses";
import type { CreateRunOptions } from "./runs";

export type { AgentScript } from "./agent-sessions";

export type { ResponseScript } from "./responses";
export type { CreateRunOptions, RunScript } from "./runs";

export interface EndpointSimulatorOptions {
  /** Port on 127.0.0.1. Default 0 (the OS picks a free one). */
  port?: number;
  /** When set, requests must carry `<apiKeyHeader>: <apiKey>` (Bearer form for `authorization`), else 401 in OpenAI error shape. */
  apiKey?: string;
  /** Which header carries `apiKey`. Default `x-portkey-api-key`; `authorization` simulates a direct OpenAI-compatible server. */
  apiKeyHeader?: "x-portkey-api-key" | "authorization";
  /** When set, requests must carry `x-portkey-virtual-key` or `x-portkey-provider` (presence only), else 400 `{status:"failure",message}`. */
  virtualKey?: string;
  /** Value of the `openai-poll-after-ms` header on GET run. Default 50. */
  pollAfterMs?: number;
  /** How long a run stays queued/in_progress after an accepted submission before its next state. Default 30. */
  processingMs?: number;
  /** `expires_at = created_at + runTtlSeconds`. Fractions are allowed (tests); `expires_at` is rounded up to the second. Default 600. */
  runTtlSeconds?: number;
  /** Default true (false in azure mode): 400 when `OpenAI-Beta: assistants=v2` is missing. */
  requireBetaHeader?: boolean;
  /**
   * Play Azure AI Foundry instead of Portkey: Entra ID tokens from a loopback authority, `api-version`, Azure's
   * Run and error shapes, routes under a project endpoint (see `EndpointSimulator.azure`). Not with apiKey/virtualKey.
   */
  azure?: AzureModeOptions;
  /**
   * Play Amazon Bedrock's Responses API instead of Portkey: SigV4 verified on every call (or a Bedrock API key),
   * runtime's or Mantle's paths, refusals and limits (see `EndpointSimulator.bedrock`). Not with apiKey/virtualKey/azure.
   */
  bedrock?: BedrockModeOptions;
  /** Clock in epoch milliseconds. Default `Date.now`. Run states are computed from it on every read. */
  now?: () => number;
}

export interface AzureModeOptions {
  /** The only tenant the loopback authority knows (`POST /{tenantId}/oauth2/v2.0/token`). */
  tenantId: string;
  /** The only application it issues tokens to, with this secret (client-credentials grant, scope `https://ai.azure.com/.default`). */
  clientId: string;
  clientSecret: string;
  /** The `api-version` every classic-agents (threads/runs) call must carry. Default `v1`. */
  apiVersion?: string;
  /** `expires_in` of minted tokens; they stop working that long after minting, on the simulator's clock. Default 3600. */
  tokenLifetimeSeconds?: number;
  /** Principals that get tokens but lack the data-plane role: every endpoint call answers 401 `PermissionDenied`. */
  deniedClientIds?: string[];
  /** `{projectName}` of the project endpoint `/api/projects/{projectName}`. Default `sim-project`. */
  projectName?: string;
}

/** The Azure side of a simulator started with `azure`: where to point the relay, and the token controls. */
export interface AzureSimulator {
  /** `AZURE_AUTHORITY_HOST`: the simulator's origin, `http://127.0.0.1:<port>`. */
  readonly authorityHost: string;
  readonly tenantId: string;
  /** `ENDPOINT_BASE_URL` for classic agents: `http://127.0.0.1:<port>/api/projects/<project>` (also `baseUrl`). */
  readonly projectEndpoint: string;
  /** `RESPONSES_BASE_URL`: `<projectEndpoint>/openai/v1` (no api-version there; one sent is refused, as Azure does). */
  readonly openaiBaseUrl: string;
  /** `ENDPOINT_API_VERSION`. */
  readonly apiVersion: string;
  /** Every token minted so far stops working now; clients must fetch new ones. (To move time instead, pass `now`.) */
  expireAllTokens(): void;
}

export interface BedrockModeOptions {
  /** `runtime`: bedrock-runtime (`/openai/v1`, service `bedrock`, no background); `mantle`: bedrock-mantle (`/v1` and `/openai/v1`). */
  endpoint: "runtime" | "mantle";
  /** The region signatures must be scoped to, e.g. `us-east-1`. */
  region: string;
  /** The AWS credentials the simulated account accepts (replace them with `bedrock.setCredentials` to rotate). */
  credentials?: Array<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>;
  /** Bedrock API keys accepted as `Authorization: Bearer <key>`. */
  apiKeys?: string[];
  /** Mantle: the one path prefix a model is served under; a POST naming it under the other is refused. Unlisted: both. */
  modelPrefixes?: Record<string, "/v1" | "/openai/v1">;
  /** How a wrong prefix is refused: 400 (default), 401 or 404, the variants seen in practice. */
  wrongRouteStatus?: 400 | 401 | 404;
  /** IAM actions the caller's role lacks (e.g. `bedrock:GetInvoke`): 403 AccessDeniedException. */
  deniedActions?: string[];
  /** Default `123456789012`. */
  accountId?: string;
  /** The role name AccessDeniedException names. Default `relay-function-role`. */
  roleName?: string;
  /**
   * The Host the caller signed for, when its calls to the real name (`bedrock-runtime.<region>.amazonaws.com`) are
   * redirected here by a test: signatures are checked against it instead of the received Host. Default: as received.
   */
  publicHost?: string;
}

/** The Bedrock side of a simulator started with `bedrock`. */
export interface BedrockSimulator {
  readonly endpoint: "runtime" | "mantle";
  /** The SigV4 service name signatures must carry: `bedrock` (runtime) or `bedrock-mantle`. */
  readonly service: "bedrock" | "bedrock-mantle";
  readonly region: string;
  readonly accountId: string;
  /** `RESPONSES_BASE_URL`: `http://127.0.0.1:<port>/openai/v1` (also `baseUrl`). */
  readonly baseUrl: string;
  /** Mantle only: the `/v1` root. */
  readonly v1BaseUrl?: string;
  /** From now on only these credentials are accepted (a rotation: the old session token stops working). */
  setCredentials(list: Array<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>): void;
  /**
   * Every action and resource IAM evaluated for the calls that passed authentication and IAM, oldest first (a runtime
   * inference names three: the inference profile, its foundation model, the default project).
   */
  readonly calls: ReadonlyArray<{ action: string; resource: string; principal: string }>;
}

export type FaultKind =
  /** 429 rate_limit_exceeded, with `retry-after-ms` / `retry-after` from retryAfterMs / retryAfterSeconds (none when neither is set). */
  | "rate_limit"
  /** 429 insufficient_quota, no retry-after. */
  | "insufficient_quota"
  /** 500 in OpenAI error shape. */
  | "server_error"
  /** 502 in Portkey shape `{status:"failure",message}`. */
  | "gateway_failure"
  /** 401 invalid_api_key. */
  | "unauthorized"
  /** Answer normally after delayMs (a submission is applied after the delay, even if the client gave up). */
  | "slow"
  /** Destroy the socket without answering; nothing is applied. */
  | "drop"
  /** Submits and Responses continuations only: apply the submission (create the response) for real, then answer 500. */
  | "accept_then_500"
  /**
   * Submits and Responses continuations with `stream: true` only: accept, send a few events, then `event: error`
   * (for a response, a flat `ResponseErrorEvent`) and end the stream; the run or response goes on.
   */
  | "stream_error"
  /** Responses continuations on a conversation only: 400 conversation_locked; nothing is created. */
  | "conversation_locked"
  /** Responses continuations with `stream: true` only: create for real, send `response.created`, then destroy the socket. */
  | "stream_cut_after_created"
  /** Agents API events POSTs only: admit the results for real, then destroy the socket without answering. */
  | "accept_then_drop"
  /** 503 `service_unavailable_error` with `retry-after` (retryAfterSeconds, default 1). */
  | "service_unavailable"
  /** 400 `invalid_request_error` that is neither the race nor a known refusal (nothing is applied). */
  | "invalid_request";

export interface Fault {
  /**
   * `get` covers GET run and GET run steps. Responses API: `response_create` = POST /responses that carries
   * function_call_output items (a continuation, what the relay sends; first turns are never faulted),
   * `response_get` = GET /responses/{id} and its input_items, `response_cancel` = POST /responses/{id}/cancel,
   * `conversation_items` = GET /conversations/{id} and its items. `any` covers all of them and submits.
   */
  on:
    | "submit"
    | "get"
    | "response_create"
    | "response_get"
    | "response_cancel"
    | "conversation_items"
    /** Agents API: `POST /agents/sessions/{id}/events`. */
    | "agent_events"
    /** Agents API: GET session, turns, a turn, items. */
    | "agent_get"
    /** Agents API: the SSE `GET /agents/sessions/{id}/events` (`stream_error` sends an `error` event and ends it). */
    | "agent_stream"
    | "any";
  kind: FaultKind;
  retryAfterMs?: number;
  retryAfterSeconds?: number;
  /** For `slow`. Default 1000. */
  delayMs?: number;
  /** How many matching requests it applies to. Default 1. */
  times?: number;
  /** Only requests for this run. Default: any run. */
  runId?: string;
  /** Only requests about this response: the path id, or for `response_create` the `previous_response_id`. */
  responseId?: string;
  /** Only requests about this conversation: the path id, or for `response_create` the body's `conversation`. */
  conversationId?: string;
  /** Only Agents API requests about this session. */
  sessionId?: string;
}

export interface RandomFaults {
  /** Chance in [0, 1] that a matching request fails. */
  probability: number;
  kinds: FaultKind[];
  /** Same seed, same request sequence → same faults. Default 1. */
  seed?: number;
  /** Default "any". */
  on?: Fault["on"];
  /** retry-after-ms sent with random `rate_limit` faults. Default 10. */
  retryAfterMs?: number;
  /** Delay of random `slow` faults. Default 100. */
  delayMs?: number;
}

export interface SimulatorCounters {
  /** Every submit_tool_outputs request that reached the route (faulted or not). */
  submits: number;
  /** Submissions applied to a run (including accept_then_500 and stream_error ones). */
  accepted: number;
  /** Submissions refused by the run logic or validation (400/404). Auth failures and faults are not counted. */
  rejected: number;
  /** Every GET run request that reached the route. */
  gets: number;
  /** Every GET run steps (list) request that reached the route. */
  stepLists: number;
  faultsInjected: number;
  /** A set of call ids that was already accepted got accepted again: must stay 0 for a correct client. */
  doubleAcceptances: number;
  /** Azure mode: every request to the token endpoint (granted or not). */
  tokenRequests: number;
  /** Azure mode: tokens minted. */
  tokensIssued: number;
  /** Azure mode: endpoint calls refused 401 for a missing, unknown or expired token. */
  tokensRejected: number;
  /** Azure mode: endpoint calls refused 401 PermissionDenied (a principal in `deniedClientIds`). */
  permissionDenied: number;
  /** Bedrock mode: calls whose SigV4 signature was recomputed and matched. */
  signaturesVerified: number;
  /** Bedrock mode: calls refused 403 for their signature, credentials or key (before IAM). */
  signaturesRejected: number;
  /** Responses API: every POST /responses that reached the route (faulted or not). */
  responsePosts: number;
  /** Responses created by POST /responses (first turns and continuations, including accept_then_500 / stream-fault ones). */
  responsesCreated: number;
  /** Created responses that answer function calls (their input carries function_call_output items). */
  continuations: number;
  /**
   * A parent response continued again while an earlier continuation of it still stands (running, or completed): two
   * answers to the same calls. One per extra child; must stay 0 for a correct client.
   */
  forks: number;
  /**
   * A parent continued again after every earlier continuation ended failed, incomplete or cancelled (whose items a
   * conversation never lists): the turn retried, not forked.
   */
  retriesAfterFailure: number;
  /** POST /responses refused by validation or the pairing checks (400/404). Auth failures and faults are not counted. */
  responsesRejected: number;
  /** Every GET /responses/{id} (including stream resumes) that reached the route. */
  responseGets: number;
  /** Every GET /responses/{id}/input_items that reached the route. */
  inputItemLists: number;
  /** Every POST /responses/{id}/cancel that reached the route. */
  cancels: number;
  /** Every GET /conversations/{id}/items that reached the route. */
  conversationItemLists: number;
  /** Agents API: every `POST /agents/sessions/{id}/events` that reached the route (faulted or not). */
  agentEventPosts: number;
  /** Agents API: tool results admitted (one per call id for a correct client; see `agentAdmissions`). */
  agentResultsAdmitted: number;
  /**
   * Agents API: tool results sent for a call the session had already taken, under another `Idempotency-Key` or none
   * (refused 400 here; the real API's answer is undocumented). A client that reads the session before sending again
   * keeps it at 0 unless someone else answered the call.
   */
  agentResultsForAnsweredCalls: number;
  /** Agents API: events POSTs answered 202 again for an `Idempotency-Key` already admitted, changing nothing. */
  agentIdempotentReplays: number;
  /** Agents API: events POSTs refused (400 race / not pending, 404, 409, validation). */
  agentRejected: number;
  /** Agents API: GET session and GET turn. */
  agentReads: number;
  /** Agents API: item lists (session or turn). */
  agentItemLists: number;
  /** Agents API: SSE streams opened. */
  agentStreams: number;
}

export interface CreateSessionOptions {
  /** Generated `sess_…` / `turn_…` ids when absent. */
  sessionId?: string;
  turnId?: string;
  /** The first round of the turn, pending at once: a count or explicit `call_id`s. Default 1. */
  toolCalls?: number | string[];
  /** MCP approval requests pending beside the calls. Default 0. */
  approvals?: number;
  /** What the turn does after each answered round. Default `["completed"]`. */
  afterOutputs?: AgentScript[];
  /**
   * New rounds' calls appear as items this long before they are pending (the documented registration race: a result
   * sent in between gets 400 `Unknown pending tool call`). Default 0. The first round is pending at once.
   */
  registrationDelayMs?: number;
  metadata?: Record<string, string>;
  model?: string;
  instructions?: string | null;
}

export interface CreateResponseOptions {
  /** Generated `resp_…` id when absent. */
  responseId?: string;
  /** Its `function_call` items: a count or explicit `call_id`s. Default 1; 0 ends it with a text message instead. */
  toolCalls?: number | string[];
  /** What each continuation down the chain does. Default `["completed"]`. */
  afterOutputs?: ResponseScript[];
  /** Default `gpt-5-mini`. */
  model?: string;
  /** Default: the simulator's long instructions text (null is allowed). */
  instructions?: string | null;
  /** Default: three function tools (get_weather, lookup_order, convert_currency); calls are named after them. */
  tools?: ResponseFunctionTool[];
  metadata?: Record<string, string>;
  /** `true`: a new conversation holds the response's items; a string: that conversation (created when unknown). */
  conversation?: true | string;
  /** How the response ended. Default `completed`; the others have no output and so ask for nothing. */
  status?: "completed" | "failed" | "incomplete" | "cancelled";
  /** A background response still queued / in_progress for this long, then ending as above. Default 0. */
  readyAfterMs?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** The query string as sent, with its `?` (empty when there is none), e.g. `?api-version=v1`. */
  search: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Parsed JSON, or the raw text when it is not JSON; absent when empty. */
  body?: unknown;
  at: number;
}

export interface EndpointSimulator {
  /** Where `ENDPOINT_BASE_URL` points: `http://127.0.0.1:<port>/v1`, or in azure mode the project endpoint. */
  readonly baseUrl: string;
  /** Set in azure mode only. */
  readonly azure?: AzureSimulator;
  /** Set in bedrock mode only. */
  readonly bedrock?: BedrockSimulator;
  createRun(opts?: CreateRunOptions): { threadId: string; runId: string; toolCallIds: string[] };
  /** The current spec-shaped Run object. */
  run(threadId: string, runId: string): RunObject | undefined;
  /** Force status `expired` now. */
  expireRun(threadId: string, runId: string): void;
  /**
   * The instant (the simulator's clock, epoch ms) a run or response entered the resting state it is in now:
   * a run's `requires_action` or terminal status, a response's terminal one. Undefined while it still moves, or
   * when unknown. For benchmarks that time what a client does after the rest (`completed_at` is in seconds).
   */
  restingSince(of: { threadId: string; runId: string } | { responseId: string } | { sessionId: string }): number | undefined;
  /**
   * Responses API: a stored response waiting for its function calls (completed with `function_call` items),
   * as if the model had just asked for tools. `callIds` are its calls' `call_id`s, in output order.
   */
  createResponse(opts?: CreateResponseOptions): { responseId: string; callIds: string[]; conversationId?: string };
  /** The current spec-shaped Response object (undefined when unknown). */
  response(responseId: string): ResponseObject | undefined;
  /** Ids of the responses created on it (by `previous_response_id`, or on its conversation answering its calls), oldest first. */
  children(responseId: string): string[];
  /** The conversation's items as listed now, oldest first (a response's items appear once it completed); undefined when unknown. */
  conversationItems(conversationId: string): ConversationItem[] | undefined;
  /**
   * Agents API: a session whose turn waits for its first round of function calls (status `requires_action`),
   * as if the agent had just asked for tools.
   */
  createSession(opts?: CreateSessionOptions): { sessionId: string; turnId: string; callIds: string[] };
  /** The current `AgentSession` (undefined when unknown). */
  session(sessionId: string): Record<string, unknown> | undefined;
  /** How many times the session admitted a result for this call id: at most 1 for a correct client. */
  agentAdmissions(sessionId: string, callId: string): number;
  /** Forget every `Idempotency-Key` seen so far (the API does not say how long it keeps them). */
  forgetIdempotencyKeys(): void;
  /** End the session's running turn as cancelled (as a client's `agent.session.input.cancel` would). */
  cancelTurn(sessionId: string): void;
  inject(...faults: Fault[]): void;
  /** Fault rate mode for soak tests: each matching request fails with probability p, picking a kind from the list; deterministic with a seed. */
  setRandomFaults(opts: RandomFaults | undefined): void;
  readonly counters: SimulatorCounters;
  /** For header assertions; the last 10 000 requests. */
  readonly requests: RecordedRequest[];
  /** Forget runs, responses, conversations, faults, counters, requests. */
  reset(): void;
  close(): Promise<void>;
}
