import type * as z from "zod/mini";
import type { EndpointConfig, RelayConfig } from "../config/config";
import type { EndpointHttpOptions } from "../endpoint/endpoint-http";
import type { EnvelopeSource, EventEnvelope } from "../out/results-event";
import type { FollowUp, Outcome, RestingState } from "../pipeline/outcome";
import type { RecordContext } from "../pipeline/record-context";
import type { Result, Step } from "../pipeline/result";
import type { StateTable } from "../state/state-table";

/** The ids naming a turn, as its API's messages carry them (the dialect's own fields; the pipeline only stores them). */
export type TurnIds = Readonly<Record<string, string | undefined>>;

/** A tool output as a message carries it (a string, or the Responses API's content parts). */
export type ToolOutput = { tool_call_id: string; output: unknown };

/** How often an open collection looks at its turn at most: a turn answered elsewhere is noticed within a minute. */
export const CHECK_EVERY_MS = 60_000;

/** Whether a turn can still take a collected set (collect/collection-checks.ts asks it on each check). */
export type TurnStanding = Result<
  /** Still waiting for these ids (`ok`); `checkBy`: epoch ms by which to look again (a run's `expires_at`). */
  { checkBy?: number },
  /** It can no longer take the set: every collected message goes to the DLQ with this reason. */
  { reason: "run_expired" | "collect_incomplete"; detail: string }
>;

/**
 * What became of a complete set whose submitter is gone (it died after claiming it, maybe after its POST), as the
 * turn shows it: the check looks before it closes such a set (rule 3: never declare `collect_incomplete` for a set
 * the endpoint took). `taken`: the turn took exactly these outputs (`continuation`: what they created, when known);
 * `not_taken`: it did not (nothing went through, or it took other outputs); `unconfirmed`: a submission of these
 * outputs may have gone through and the API cannot tell; `unknown`: cannot tell now (a read failed, a submission of
 * it is still under way), look again later.
 */
export type SetFate =
  | { kind: "taken"; continuation?: string }
  | { kind: "not_taken" }
  | { kind: "unconfirmed"; detail: string }
  | { kind: "unknown"; detail: string };

/**
 * What collecting outputs from many messages into one submission needs from an API (docs/collecting.md,
 * "What happens to a collected message"). The collection itself (storing, completing, checking) is the pipeline's.
 */
export interface Collecting<Message, Turn extends TurnIds = TurnIds> {
  /** The ids of the turn a collecting message answers. */
  turnOf(message: Message): Turn;
  /** The call ids the turn asks for now, read from the endpoint (once per turn), or the row that ends the message. */
  requiredIds(turn: Turn, ctx: RecordContext): Promise<Step<{ ids: string[]; expiresAt?: number }>>;
  /** Whether the turn can still take the set, after `required` were learnt. */
  standing(turn: Turn, required: readonly string[], ctx: RecordContext): Promise<TurnStanding>;
  /** The one message that submits the whole set: the completing message with every collected output. */
  combine(message: Message, outputs: ToolOutput[]): Message;
  /** A follow-up that reports the turn's state after its set was submitted (for a late duplicate). */
  reportAfterSubmission(turn: Turn, continuation?: string): Message | undefined;
  /**
   * The set's submission found the turn already answered (`via: "already_accepted"`): why, when that answer was not
   * this set (a message that did not collect, or outside the relay); undefined when it was (an earlier attempt of
   * ours, or the same outputs). `firstAttempt`: no earlier attempt of this collection submitted anything.
   */
  answeredElsewhere(turn: Turn, outputs: ToolOutput[], firstAttempt: boolean, ctx: RecordContext): Promise<string | undefined>;
  /** Whether the turn took this complete set (`outputs`, in any order), looked at without submitting anything. */
  fateOfSet(turn: Turn, outputs: ToolOutput[], ctx: RecordContext): Promise<SetFate>;
}

/** A valid message of one API, as the pipeline hands it to the dialect: its tool outputs, or its follow-up. */
export type ApiMessageOf<Api extends string, ToolOutputs, Watch> = { api: Api } & (({ type: "tool_outputs" } & ToolOutputs) | Watch);

/** How the pipeline (message.ts) tells an API's messages and checks them. */
export interface ApiMessages<IdField extends string = string> {
  /** The API's name, as results events, DLQ records and log lines carry it (`api`). */
  api: string;
  /**
   * Top-level fields naming this API's objects: a message carrying any of them is for this API; they are what its
   * log lines and DLQ records carry of an invalid message too.
   */
  idFields: readonly IdField[];
  /** Those ids in words, for a message that names no API. */
  describeIds: string;
  /** A message of tool outputs. */
  toolOutputs: z.ZodMiniType;
  /** A follow-up asking for an object's next resting state, told by its `type`. */
  watch: { type: string; schema: z.ZodMiniType };
}

/**
 * The seam between the shared pipeline and one API (docs/contract.md): the pipeline validates a message by
 * `messages`, asks `decide` what happens to it, and settles the Outcome (settle.ts). A dialect does its
 * endpoint I/O itself and never publishes, dead-letters or hands back: those are the Outcome.
 */
export interface Dialect<Message> {
  /** The message's row of this API's outcome table. Never throws for endpoint failures. */
  decide(message: Message, ctx: RecordContext): Promise<Outcome>;
  /**
   * The follow-up that reports what became of the message's outputs if a failure may hide their acceptance
   * (sent on the last receive, beside the DLQ record); none when the API cannot say.
   */
  followUpIfTaken(message: Message): FollowUp | undefined;
  /** How this API's turns are collected (`"collect": true`). */
  readonly collecting: Collecting<Message>;
}

/** A dialect as an API builds it: one whose messages never collect (its schema has no `collect`) has no `collecting`. */
export type ApiDialect<Message> = Omit<Dialect<Message>, "collecting"> & { readonly collecting?: Collecting<Message> };

/** What an API's results are: its event for a resting state, the SNS attributes and FIFO group of that event. */
export interface DialectResults<State extends RestingState, Event extends EventEnvelope> {
  /** Every event `type` this API publishes (public names: subscriptions filter on them). */
  types: readonly string[];
  /** The event reporting `state`, with the envelope fields the pipeline sets. */
  event(state: State, envelope: EnvelopeSource): Event;
  /** The API's own SNS message attributes (its ids); `type`, `status` and `api` are the envelope's. */
  attributes(event: Event): Record<string, string>;
  /** The SNS FIFO group: one thread's (conversation's, response chain's) events stay in order. */
  group(event: Event): string;
  /** What the event is about, in words, for the CLI and the local stack. */
  subject(event: Event): string;
  /** The status a resting state reports (for log lines). */
  status(state: State): string;
}

/** Where an API's endpoint is configured (docs/endpoints.md). */
export interface DialectEndpoint {
  /** The variable naming the API's base URL, e.g. `RESPONSES_BASE_URL`, and its CDK context option. */
  variable: string;
  contextOption: string;
  /** The base URL the configuration gives; undefined: this deployment does not serve the API (`api_not_configured`). */
  baseUrl(config: EndpointConfig): URL | undefined;
  /** The `api-version` query parameter on every call of this API, when set. */
  apiVersion(config: EndpointConfig): string | undefined;
}

/** The configuration's base-URL fields and `api-version` fields (config.ts), by name. */
type UrlField = { [K in keyof EndpointConfig]-?: NonNullable<EndpointConfig[K]> extends URL ? K : never }[keyof EndpointConfig];
type VersionField = { [K in keyof EndpointConfig]-?: NonNullable<EndpointConfig[K]> extends string ? K : never }[keyof EndpointConfig];

/**
 * An API's endpoint as its variable and its configuration fields name it (the context option is the field's name).
 * @example endpoint: configuredBy({ variable: "RESPONSES_BASE_URL", baseUrl: "responsesBaseUrl", apiVersion: "responsesApiVersion" })
 */
export function configuredBy(e: { variable: string; baseUrl: UrlField; apiVersion?: VersionField }): DialectEndpoint {
  return {
    variable: e.variable,
    contextOption: e.baseUrl,
    baseUrl: (config) => config[e.baseUrl],
    apiVersion: (config) => (e.apiVersion === undefined ? undefined : config[e.apiVersion]),
  };
}

/** What a dialect is built from, by the handler's wiring (create-handler.ts), the same for every API. */
export interface DialectWiring {
  config: RelayConfig;
  /** HTTP options of this API's endpoint: its base URL and `api-version` already set, credentials, timeouts. */
  endpoint: EndpointHttpOptions;
  /** The state table, opened on first use; undefined when RELAY_STATE_TABLE is unset. */
  table?: () => Promise<StateTable>;
}

/**
 * One API, as the registry (dialects/index.ts) holds it: everything about it that the shared pipeline asks, and how its
 * decisions are built. A new API is a folder exporting one of these, and one line in the registry.
 * @example export const assistants: DialectDefinition<AssistantsMessage, AssistantsState, AssistantsResultsEvent> = { … };
 */
export interface DialectDefinition<Message, State extends RestingState, Event extends EventEnvelope, IdField extends string = string> {
  readonly messages: ApiMessages<IdField>;
  readonly endpoint: DialectEndpoint;
  readonly results: DialectResults<State, Event>;
  /** The FIFO group of a follow-up (`watch_*`) this API's decisions send. */
  watchGroup(followUp: FollowUp): string;
  /** The FIFO group of a DLQ record, from the ids its message carried; undefined: the message's own group or none. */
  recordGroup(ids: Readonly<Record<string, string | undefined>>): string | undefined;
  /** A turn's scope in the state table (one collection per scope). */
  scopeOf(turn: TurnIds): string;
  /** The continuation a submission's outcome names (a later turn's id), for late copies of a collected set. */
  continuationOf(outcome: Extract<Outcome, { kind: "report" | "watch" }>): string | undefined;
  /**
   * The dialect's decisions, built once per execution environment. They live in the API's `decisions.ts`, imported
   * here on first use: a cold start compiles no API's client, decide or follow, and a deployment compiles only the
   * APIs its messages use (test/infra/bundling.test.ts checks they stay out of the init's files).
   */
  create(wiring: DialectWiring): Promise<ApiDialect<Message>>;
}
