import { type EnvelopeSource, type EventEnvelope, eventDigest, kept, toolCall } from "../../out/results-event";
import type { DialectResults } from "../dialect";
import { type AgentSession, pendingFunctionCalls, pendingIds, type RequiredAction, type Turn } from "./session-state";

/** A session at rest, as the relay reports it (docs/agents.md, "Results events"). */
export interface AgentsRestingState {
  readonly [field: string]: unknown;
  api: "agents";
  session: AgentSession;
  /** The turn the event is about: the turn of the new calls, else the message's (or, for a watch, the latest) turn. */
  turnId: string;
  /** That turn, when it was read (always for an ending). */
  turn?: Turn;
  /** The pending function calls that are new work for the workers; the rest are answered by other messages. */
  newCallIds: readonly string[];
  /** A pending approval (or other non-function action) is new work too. */
  otherActions: boolean;
}

/** An Agents-API results event (docs/agents.md, "Results events"). */
export interface AgentsResultsEvent extends EventEnvelope {
  api: "agents";
  type: `session.${string}`;
  session_id: string;
  turn_id: string;
  required_actions: RequiredAction[];
  reply: { session_id: string; turn_id: string };
  session: Record<string, unknown>;
  turn?: Record<string, unknown>;
}

const SESSION_FIELDS = ["id", "status", "error", "usage", "last_active_at", "metadata"] as const;
const TURN_FIELDS = ["id", "status", "error", "usage"] as const;

/**
 * The event's type: new work → `session.requires_action`; waiting only for calls other messages answer →
 * `session.waiting` (workers must not run anything again); an idle session → its turn's ending; `session.failed`.
 */
export function eventTypeOf(state: AgentsRestingState): AgentsResultsEvent["type"] {
  const { session } = state;
  if (session.status === "failed") return "session.failed";
  if (session.status === "requires_action")
    return state.newCallIds.length > 0 || state.otherActions ? "session.requires_action" : "session.waiting";
  return `session.turn_${state.turn?.status ?? "completed"}`;
}

/**
 * Stable for the same session state: the session, its status, the turn and the set of pending ids (or the turn's
 * ending) give the id, so two copies of one message report one event id, whoever publishes it.
 */
export function agentsEventId(state: AgentsRestingState): string {
  const { session } = state;
  const what = session.status === "requires_action" ? pendingIds(session).join(",") : (state.turn?.status ?? "");
  return eventDigest(`agents\n${session.id}\n${session.status}\n${state.turnId}\n${what}`);
}

/** @example buildAgentsEvent(state, { source_message_id: record.messageId, at: new Date().toISOString() }) */
export function buildAgentsEvent(state: AgentsRestingState, envelope: EnvelopeSource): AgentsResultsEvent {
  const { session } = state;
  const newIds = new Set(state.newCallIds);
  const calls = pendingFunctionCalls(session).filter((call) => newIds.has(call.call_id));
  return {
    event_id: agentsEventId(state),
    api: "agents",
    type: eventTypeOf(state),
    status: session.status,
    session_id: session.id,
    turn_id: state.turnId,
    // `arguments` as a JSON string, as the other APIs give it (the Agents API sends an object).
    tool_calls: calls.map((call) =>
      toolCall(call.call_id, call.name, typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments ?? {})),
    ),
    required_actions: session.status === "requires_action" ? session.required_actions : [],
    reply: { session_id: session.id, turn_id: state.turnId },
    session: kept(session, SESSION_FIELDS),
    ...(state.turn ? { turn: kept(state.turn, TURN_FIELDS) } : {}),
    ...envelope,
  };
}

/** The Agents API's results: its event, its SNS attribute (`session_id`) and FIFO group (the session). */
export const agentsResults: DialectResults<AgentsRestingState, AgentsResultsEvent> = {
  types: ["requires_action", "waiting", "turn_completed", "turn_failed", "turn_cancelled", "failed"].map((type) => `session.${type}`),
  event: buildAgentsEvent,
  attributes: (event) => ({ session_id: event.session_id }),
  group: (event) => event.session_id,
  subject: (event) => `${event.session_id} / ${event.turn_id}`,
  status: (state) => state.session.status,
};
