/**
 * Strict zod schemas of the Agents API objects the endpoint simulator emits, written by hand from the types of the
 * official `openai` package 7.60.0 (`resources/beta/agents/agents.d.ts`: AgentSession and its required actions,
 * TokenUsage, AgentFunctionCallItem, FunctionCallOutputItemResource, AgentSessionMessage, the AgentSession*Event
 * stream events; `sessions/turns/turns.d.ts`: Turn). No OpenAPI file is published for these paths.
 *
 * Strict: every key the SDK types as required is required (nullable ones included), optional ones may be absent,
 * and objects reject keys the SDK does not define. Deliberate narrowing: tools are function tools only, the
 * environment is `none`, items are messages, function calls and their outputs (the simulator emits nothing else).
 */
import * as z from "zod";

const unixtime = z.int().nonnegative();
const Metadata = z.record(z.string(), z.string());

export const TokenUsage = z.strictObject({
  input_tokens: z.int().nonnegative(),
  input_tokens_details: z.strictObject({ cached_tokens: z.int().nonnegative() }),
  output_tokens: z.int().nonnegative(),
  output_tokens_details: z.strictObject({ reasoning_tokens: z.int().nonnegative() }),
  total_tokens: z.int().nonnegative(),
});

const FunctionCallAction = z.strictObject({
  type: z.literal("function_call"),
  turn_id: z.string(),
  call_id: z.string(),
  name: z.string(),
  arguments: z.unknown(),
});
const McpApprovalAction = z.strictObject({
  type: z.literal("mcp_approval_request"),
  turn_id: z.string(),
  request_id: z.string(),
  request: z.strictObject({
    type: z.literal("mcp_tool_call"),
    server_label: z.string(),
    name: z.string().nullable(),
    arguments: z.unknown(),
    message: z.string(),
  }),
});
export const RequiredAction = z.discriminatedUnion("type", [FunctionCallAction, McpApprovalAction]);

const FunctionTool = z.strictObject({
  type: z.literal("function"),
  name: z.string(),
  description: z.string(),
  parameters: z.record(z.string(), z.unknown()),
  defer_loading: z.boolean(),
  async: z.boolean().optional(),
});

export const AgentSession = z.strictObject({
  id: z.string(),
  object: z.literal("agent.session"),
  status: z.enum(["idle", "in_progress", "requires_action", "failed"]),
  required_actions: z.array(RequiredAction),
  error: z.string().nullable(),
  created_at: unixtime,
  last_active_at: unixtime,
  metadata: Metadata,
  agent: z.strictObject({
    id: z.string(),
    instructions: z.string().nullable(),
    model: z.string(),
    multi_agent: z.strictObject({ enabled: z.boolean(), max_concurrent_subagents: z.int().nullable() }),
    name: z.string().nullable(),
    reasoning: z.strictObject({
      effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh", "max"]).nullable(),
      summary: z.enum(["concise", "detailed", "auto"]).nullable(),
    }),
    service_tier: z.enum(["auto", "default", "flex", "priority", "fast", "ultrafast"]),
    text: z.strictObject({ format: z.strictObject({ type: z.literal("text") }), verbosity: z.enum(["low", "medium", "high"]) }),
    tools: z.array(FunctionTool),
    compaction: z.strictObject({ async: z.boolean() }).optional(),
    experimental: z.strictObject({ time_awareness: z.boolean() }).optional(),
  }),
  environment: z.strictObject({ type: z.literal("none") }),
  usage: TokenUsage.nullable(),
  vault_ids: z.array(z.string()),
  prompt_cache_options: z
    .strictObject({ ttl: z.enum(["30m", "12h"]) })
    .nullable()
    .optional(),
  review: z.enum(["none", "auto_review"]).optional(),
});

export const Turn = z.strictObject({
  id: z.string(),
  object: z.literal("agent.session.turn"),
  agent_id: z.string(),
  session_id: z.string(),
  subagent_id: z.string().nullable(),
  status: z.enum(["queued", "in_progress", "waiting", "completed", "failed", "cancelled"]),
  created_at: unixtime,
  started_at: unixtime.nullable(),
  completed_at: unixtime.nullable(),
  error: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
  usage: TokenUsage.nullable(),
  prompt_cache_options: z
    .strictObject({ ttl: z.enum(["30m", "12h"]) })
    .nullable()
    .optional(),
});

const ItemStatus = z.enum(["in_progress", "completed", "failed", "incomplete"]);
const InputContent = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("input_text"), text: z.string() }),
  z.strictObject({ type: z.literal("input_image"), image_url: z.string() }),
]);

export const SessionItem = z.discriminatedUnion("type", [
  z.strictObject({
    id: z.string().nullable(),
    type: z.literal("message"),
    role: z.enum(["user", "assistant"]),
    phase: z.enum(["commentary", "final_answer"]).nullable(),
    content: z.array(z.union([InputContent, z.strictObject({ type: z.literal("output_text"), text: z.string() })])),
    status: ItemStatus,
    turn_id: z.string(),
  }),
  z.strictObject({
    id: z.string(),
    type: z.literal("function_call"),
    call_id: z.string(),
    name: z.string(),
    arguments: z.unknown(),
    status: ItemStatus,
    turn_id: z.string(),
  }),
  z.strictObject({
    id: z.string(),
    type: z.literal("function_call_output"),
    call_id: z.string(),
    output: z.union([z.string(), z.array(InputContent)]).nullable(),
    error: z.string().nullable(),
    status: ItemStatus,
    turn_id: z.string(),
  }),
]);

/** A cursor page (`CursorPage` reads `data` and `has_more`; `ConversationCursorPage` also `last_id`). */
export const Page = <T extends z.ZodType>(item: T) =>
  z.strictObject({
    object: z.literal("list"),
    data: z.array(item),
    first_id: z.string().nullable(),
    last_id: z.string().nullable(),
    has_more: z.boolean(),
  });

const base = { event_id: z.string(), obfuscation: z.string().optional() };
const sessionEvent = (type: string) => z.strictObject({ ...base, type: z.literal(type), session: AgentSession });
const turnEvent = (type: string) =>
  z.strictObject({ ...base, type: z.literal(type), session_id: z.string(), turn_id: z.string(), turn: Turn });
const turnEndEvent = (type: string) =>
  z.strictObject({ ...base, type: z.literal(type), session_id: z.string(), turn_id: z.string(), turn: Turn, usage: TokenUsage.nullable() });

export const SessionStreamEvent = z.discriminatedUnion("type", [
  sessionEvent("agent.session.created"),
  sessionEvent("agent.session.in_progress"),
  sessionEvent("agent.session.requires_action"),
  sessionEvent("agent.session.idle"),
  sessionEvent("agent.session.failed"),
  turnEvent("agent.session.turn.created"),
  turnEvent("agent.session.turn.in_progress"),
  turnEndEvent("agent.session.turn.completed"),
  turnEndEvent("agent.session.turn.failed"),
  turnEndEvent("agent.session.turn.cancelled"),
  z.strictObject({
    ...base,
    type: z.literal("agent.session.turn.item.added"),
    session_id: z.string(),
    turn_id: z.string().nullable(),
    item: SessionItem,
    output_index: z.int().nullable(),
  }),
  z.strictObject({
    ...base,
    type: z.literal("error"),
    session_id: z.string(),
    error: z.strictObject({ code: z.string().nullable(), message: z.string(), param: z.string().nullable(), type: z.string() }),
  }),
]);

export const ErrorResponse = z.strictObject({
  error: z.strictObject({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string().nullable() }),
});
