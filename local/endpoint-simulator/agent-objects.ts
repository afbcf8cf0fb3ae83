/**
 * The Agents API's objects as openai 7.60.0 types them (`AgentSession`, `Turn`, `AgentSessionItem`), rendered from
 * a session record at an instant. Every field the SDK marks required is present.
 */
import {
  type AgentCall,
  type AgentSessionRecord,
  type AgentTurnRecord,
  pendingApprovals,
  pendingCalls,
  SIMULATED_AGENT_TOOLS,
} from "./agent-sessions";

const seconds = (ms: number): number => Math.floor(ms / 1000);

function usage(turns: number): Record<string, unknown> {
  return {
    input_tokens: 120 * turns,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 30 * turns,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 150 * turns,
  };
}

export type AgentSessionStatus = "idle" | "in_progress" | "requires_action" | "failed";
export type AgentTurnStatus = "queued" | "in_progress" | "waiting" | "completed" | "failed" | "cancelled";

/** The session's status at `now` (the records must have been advanced to `now`). */
export function sessionStatusAt(session: AgentSessionRecord, now: number): AgentSessionStatus {
  if (session.failed !== undefined && session.failed.at <= now) return "failed";
  const turn = session.turns.at(-1);
  if (turn === undefined || (turn.ending !== undefined && turn.ending.at <= now)) return "idle";
  return pendingCalls(turn, now).length > 0 || pendingApprovals(turn, now).length > 0 ? "requires_action" : "in_progress";
}

export function turnStatusAt(turn: AgentTurnRecord, now: number): AgentTurnStatus {
  if (turn.ending !== undefined && turn.ending.at <= now) return turn.ending.status;
  return pendingCalls(turn, now).length > 0 || pendingApprovals(turn, now).length > 0 ? "waiting" : "in_progress";
}

export function requiredActionsAt(session: AgentSessionRecord, now: number): Array<Record<string, unknown>> {
  if (session.failed !== undefined) return [];
  const turn = session.turns.at(-1);
  if (turn === undefined) return [];
  const calls = pendingCalls(turn, now).map((call) => ({
    type: "function_call",
    turn_id: turn.id,
    call_id: call.callId,
    name: call.name,
    arguments: call.arguments,
  }));
  const approvals = pendingApprovals(turn, now).map((approval) => ({
    type: "mcp_approval_request",
    turn_id: turn.id,
    request_id: approval.requestId,
    request: {
      type: "mcp_tool_call",
      server_label: approval.serverLabel,
      name: approval.name,
      arguments: { record: "42" },
      message: `Allow ${approval.name} on ${approval.serverLabel}?`,
    },
  }));
  return [...calls, ...approvals];
}

/** `AgentSession` at `now`. */
export function buildAgentSession(session: AgentSessionRecord, now: number): Record<string, unknown> {
  const status = sessionStatusAt(session, now);
  const ended = session.turns.filter((turn) => turn.ending !== undefined && turn.ending.at <= now).length;
  const lastActive = Math.max(session.createdAt, ...session.turns.map((turn) => lastActivity(turn, now)));
  return {
    id: session.id,
    object: "agent.session",
    status,
    required_actions: requiredActionsAt(session, now),
    error: status === "failed" ? (session.failed?.error ?? null) : null,
    created_at: seconds(session.createdAt),
    last_active_at: seconds(lastActive),
    metadata: { ...session.metadata },
    agent: {
      id: `agent_${session.id.slice(5)}`,
      instructions: session.instructions,
      model: session.model,
      multi_agent: { enabled: false, max_concurrent_subagents: null },
      name: null,
      reasoning: { effort: "low", summary: null },
      service_tier: "auto",
      text: { format: { type: "text" }, verbosity: "medium" },
      tools: SIMULATED_AGENT_TOOLS.map((tool) => ({
        type: "function",
        name: tool.name,
        description: tool.description,
        parameters: { type: "object", properties: {}, additionalProperties: true },
        defer_loading: false,
      })),
    },
    environment: { type: "none" },
    usage: ended === 0 ? null : usage(ended),
    vault_ids: [],
  };
}

function lastActivity(turn: AgentTurnRecord, now: number): number {
  const times = [turn.createdAt, ...turn.results.map((result) => result.at)];
  for (const round of turn.rounds) for (const call of round.calls) times.push(call.addedAt);
  if (turn.ending !== undefined) times.push(turn.ending.at);
  return Math.max(...times.filter((time) => time <= now));
}

/** `Turn` at `now`. */
export function buildTurn(session: AgentSessionRecord, turn: AgentTurnRecord, now: number): Record<string, unknown> {
  const status = turnStatusAt(turn, now);
  const ended = turn.ending !== undefined && turn.ending.at <= now;
  return {
    id: turn.id,
    object: "agent.session.turn",
    agent_id: `agent_${session.id.slice(5)}`,
    session_id: session.id,
    subagent_id: null,
    status,
    created_at: seconds(turn.createdAt),
    started_at: seconds(turn.createdAt),
    completed_at: ended ? seconds(turn.ending!.at) : null,
    error: status === "failed" ? { code: "server_error", message: "The turn failed while the model was working." } : null,
    usage: ended ? usage(1) : null,
  };
}

function functionCallItem(turn: AgentTurnRecord, call: AgentCall): Record<string, unknown> {
  return {
    id: call.itemId,
    type: "function_call",
    call_id: call.callId,
    name: call.name,
    arguments: call.arguments,
    status: "completed",
    turn_id: turn.id,
  };
}

/** The turn's items visible at `now`, oldest first: its input message, calls and their outputs, its final message. */
export function turnItemsAt(turn: AgentTurnRecord, now: number): Array<Record<string, unknown>> {
  const timed: Array<{ at: number; item: Record<string, unknown> }> = [];
  if (turn.input !== undefined) {
    timed.push({
      at: turn.createdAt,
      item: {
        id: turn.input.itemId,
        type: "message",
        role: "user",
        phase: null,
        content: [{ type: "input_text", text: turn.input.text }],
        status: "completed",
        turn_id: turn.id,
      },
    });
  }
  for (const round of turn.rounds) for (const call of round.calls) timed.push({ at: call.addedAt, item: functionCallItem(turn, call) });
  for (const result of turn.results) {
    timed.push({
      at: result.at,
      item: {
        id: result.itemId,
        type: "function_call_output",
        call_id: result.callId,
        output: result.success ? result.output : null,
        error: result.error,
        status: result.success ? "completed" : "failed",
        turn_id: turn.id,
      },
    });
  }
  if (turn.ending?.messageItemId !== undefined) {
    timed.push({
      at: turn.ending.at,
      item: {
        id: turn.ending.messageItemId,
        type: "message",
        role: "assistant",
        phase: "final_answer",
        content: [{ type: "output_text", text: "Here is what the tools found." }],
        status: "completed",
        turn_id: turn.id,
      },
    });
  }
  // Stable sort: items of one instant keep the order they were produced in.
  return timed
    .filter((entry) => entry.at <= now)
    .sort((a, b) => a.at - b.at)
    .map((entry) => entry.item);
}
