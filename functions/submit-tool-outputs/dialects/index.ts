import type { EndpointConfig, RelayConfig } from "../config/config";
import type { EndpointHttpOptions } from "../endpoint/endpoint-http";
import {
  type EnvelopeSource,
  envelopeAttributes,
  type PublishedResult as Published,
  readPublishedResult as readEvent,
} from "../out/results-event";
import type { FollowUp, Outcome, RestingState as TaggedState } from "../pipeline/outcome";
import { agents } from "./agents/dialect";
import { assistants } from "./assistants/dialect";
import type { ApiDialect, DialectDefinition, DialectWiring, TurnIds } from "./dialect";
import { responses } from "./responses/dialect";

/**
 * Every API the relay speaks, one line each; the first is the default (a message naming no API is checked by its
 * rules). The shared pipeline asks only this registry about an API: a new API is a folder and a line here.
 */
export const DIALECTS = {
  assistants,
  responses,
  agents,
} as const;

/** The APIs the relay speaks; results events, DLQ records and log lines name them (`api`). */
export type Api = keyof typeof DIALECTS;

type Definitions = (typeof DIALECTS)[Api];
type Parts<D> = D extends DialectDefinition<infer M, infer S, infer E, infer F> ? { message: M; state: S; event: E; idField: F } : never;

/** A valid message of any API, as the pipeline hands it to its dialect. */
export type ApiMessage = Parts<Definitions>["message"];
/** A resting state of any API. */
export type RestingState = Parts<Definitions>["state"];
/** A results event of any API (docs/contract.md, "Results event"). */
export type ResultsEvent = Parts<Definitions>["event"];
/** Exactly the id fields a tool worker puts in its answer: `{ ...event.reply, tool_outputs }`. */
export type Reply = ResultsEvent["reply"];
/** A field naming an API's object (`thread_id`, `response_id`, …): what log lines and DLQ records carry of a message. */
export type IdField = Parts<Definitions>["idField"];
/** Those ids, as far as a message carries them. */
export type MessageIds = Partial<Record<IdField, string>>;

/** Every API, in the registry's order. */
export const APIS = Object.keys(DIALECTS) as Api[];
const [first] = APIS;
if (first === undefined) throw new Error("the registry holds no API");
/** The API whose rules check a message that names none (the registry's first). */
export const DEFAULT_API: Api = first;

/** Every API's id fields. */
export const ID_FIELDS: readonly IdField[] = APIS.flatMap((api): readonly IdField[] => DIALECTS[api].messages.idFields);

/** Every results event `type` the relay publishes, all APIs (subscriptions filter on them). */
export const RESULTS_EVENT_TYPES: readonly string[] = APIS.flatMap((api) => DIALECTS[api].results.types);

/** An API's definition, seen through the seam's own types (each API's are checked where it is written). */
const definitionOf = (api: string): DialectDefinition<unknown, TaggedState, ResultsEvent> | undefined =>
  (DIALECTS as Record<string, DialectDefinition<unknown, TaggedState, ResultsEvent>>)[api];

function definitionFor(api: string): DialectDefinition<unknown, TaggedState, ResultsEvent> {
  const definition = definitionOf(api);
  if (definition === undefined) throw new Error(`no dialect for the API ${JSON.stringify(api)}`);
  return definition;
}

/** A dialect, built on first use (its decisions are a module of their own, dialect.ts). */
export type DialectLoader = () => Promise<ApiDialect<ApiMessage>>;
/** The dialects of the APIs this deployment serves (an API without an endpoint has none), each built on first use. */
export type Dialects = Partial<Record<Api, DialectLoader>>;

/**
 * The dialect of every API whose endpoint is configured, each with its own base URL and `api-version`, built when its
 * first message comes (a failed load is tried again by the next).
 * @example const dialects = createDialects(config, { headers, timeoutMs }, table); const dialect = await dialects.assistants?.();
 */
export function createDialects(
  config: RelayConfig,
  http: Omit<EndpointHttpOptions, "baseUrl" | "query">,
  table: DialectWiring["table"],
): Dialects {
  const dialects: Dialects = {};
  for (const api of APIS) {
    const { endpoint, create } = definitionFor(api);
    const baseUrl = endpoint.baseUrl(config);
    if (baseUrl === undefined) continue;
    const version = endpoint.apiVersion(config);
    const query = version === undefined ? {} : { query: { "api-version": version } };
    let built: Promise<ApiDialect<ApiMessage>> | undefined;
    dialects[api] = () => {
      built ??= (create({ config, table, endpoint: { ...http, baseUrl, ...query } }) as Promise<ApiDialect<ApiMessage>>).catch((error) => {
        built = undefined;
        throw error;
      });
      return built;
    };
  }
  return dialects;
}

/**
 * Where each API's calls go, by the variable that says so: what the credentials are checked against at cold start.
 * @example checkCredentialDestinations(credentials, endpointDestinations(config));
 */
export function endpointDestinations(config: EndpointConfig): Array<[variable: string, url: URL]> {
  return APIS.flatMap((api) => {
    const { variable, baseUrl } = definitionFor(api).endpoint;
    const url = baseUrl(config);
    return url === undefined ? [] : [[variable, url] as [string, URL]];
  });
}

/** Where an API's endpoint is configured: its variable and context option, for `api_not_configured`. */
export const endpointOf = (api: Api) => definitionFor(api).endpoint;

/**
 * The results event reporting `state`, by its API's dialect.
 * @example buildResultsEvent({ api: "assistants", threadId: "thread_a", run }, { sourceMessageId: record.messageId })
 */
export function buildResultsEvent(
  state: RestingState | TaggedState,
  source: { sourceMessageId: string; sourceMessageIds?: string[]; metadata?: Record<string, string> },
): ResultsEvent {
  const envelope: EnvelopeSource = {
    source_message_id: source.sourceMessageId,
    ...(source.sourceMessageIds ? { source_message_ids: source.sourceMessageIds } : {}),
    ...(source.metadata ? { metadata: source.metadata } : {}),
    at: new Date().toISOString(),
  };
  return definitionFor(state.api).results.event(state, envelope);
}

/** The SNS message attributes subscribers filter on: the envelope's (`type`, `status`, `api`, `tool_names`) and the API's ids. */
export function resultAttributes(event: ResultsEvent): Record<string, string | string[]> {
  return { ...envelopeAttributes(event), ...definitionFor(event.api).results.attributes(event) };
}

/** The SNS FIFO group of an event: one thread's (conversation's, response chain's) events stay in order. */
export const resultGroupOf = (event: ResultsEvent): string => definitionFor(event.api).results.group(event);

/** What an event is about, in words: `thread / run`, the response, the conversation. */
export const subjectOf = (event: ResultsEvent): string => definitionFor(event.api).results.subject(event);

/** The status a resting state reports (for log lines). */
export const statusOf = (state: TaggedState): string => definitionFor(state.api).results.status(state);

/** The API whose follow-up (`watch_*`) this is. */
export const apiOfFollowUp = (followUp: FollowUp): Api | undefined =>
  APIS.find((api) => DIALECTS[api].messages.watch.type === followUp.type);

/** The FIFO group of a follow-up message. */
export function watchGroupOf(followUp: FollowUp): string {
  const api = apiOfFollowUp(followUp);
  return api === undefined ? followUp.type : definitionFor(api).watchGroup(followUp);
}

/** The FIFO group of a DLQ record, from the ids its message carried (the first API that names one). */
export function recordGroupOf(ids: MessageIds): string | undefined {
  for (const api of APIS) {
    const group = definitionFor(api).recordGroup(ids);
    if (group !== undefined) return group;
  }
  return undefined;
}

/** A turn's scope in the state table. */
export const scopeOf = (api: Api, turn: TurnIds): string => definitionFor(api).scopeOf(turn);

/** The continuation a submission's outcome names, for late copies of a collected set. */
export const continuationOf = (api: Api, outcome: Extract<Outcome, { kind: "report" | "watch" }>): string | undefined =>
  definitionFor(api).continuationOf(outcome);

/** A results event as a subscriber reads it, typed as every API's events. */
export type PublishedResult<Event extends ResultsEvent = ResultsEvent> = Published<Event>;

/**
 * Reads a results event from a queue subscribed to the topic (an SNS envelope, or raw delivery).
 * @example const { event } = readPublishedResult(message);
 */
export const readPublishedResult = <Event extends ResultsEvent = ResultsEvent>(message: Parameters<typeof readEvent>[0]) =>
  readEvent<Event>(message);

export type { ToolCall } from "../out/results-event";
export type { AgentsResultsEvent } from "./agents/results-event";
export type { AssistantsResultsEvent } from "./assistants/results-event";
export type { ResponsesResultsEvent } from "./responses/results-event";
