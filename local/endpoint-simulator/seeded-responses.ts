/**
 * Test-side creation of a Responses API response that waits for its function calls, as if the model had
 * just asked for tools: the starting point of the relay's tests, like `createRun` for the Assistants API.
 */
import { defaultSettings, echoTool, SIMULATED_INSTRUCTIONS, SIMULATED_RESPONSE_TOOLS } from "./response-object";
import type { ResponsesState } from "./response-routes";
import { compileScript, type Outcome, outputFor, type ResponseRecord, type ResponseSegment } from "./responses";
import { newId } from "./runs";
import type { CreateResponseOptions } from "./types";

const OPTION_KEYS = new Set([
  "responseId",
  "toolCalls",
  "afterOutputs",
  "model",
  "instructions",
  "tools",
  "metadata",
  "conversation",
  "status",
  "readyAfterMs",
]);

function firstOutcome(opts: CreateResponseOptions): Outcome {
  const status = opts.status ?? "completed";
  if (status !== "completed") return { status };
  const calls = opts.toolCalls ?? 1;
  const callIds = typeof calls === "number" ? Array.from({ length: calls }, () => newId("call")) : [...calls];
  return { status, callIds };
}

function segmentsFor(at: number, readyAfterMs: number, end: Outcome["status"]): ResponseSegment[] {
  if (readyAfterMs <= 0) return [{ status: end, from: at }];
  return [
    { status: "queued", from: at },
    { status: "in_progress", from: at + Math.floor(readyAfterMs / 2) },
    { status: end, from: at + readyAfterMs },
  ];
}

/**
 * Adds the response (and its conversation when asked) to the stores.
 * @example seedResponse(state, { toolCalls: 2, afterOutputs: [{ functionCalls: 1 }, "completed"] }, Date.now())
 */
export function seedResponse(
  state: ResponsesState,
  opts: CreateResponseOptions,
  at: number,
): { responseId: string; callIds: string[]; conversationId?: string } {
  const unknown = Object.keys(opts).filter((key) => !OPTION_KEYS.has(key));
  if (unknown.length > 0) throw new TypeError(`createResponse: unknown option(s) ${unknown.join(", ")}`);
  const readyAfterMs = opts.readyAfterMs ?? 0;
  const settings = defaultSettings(opts.model ?? "gpt-5-mini");
  settings.instructions = opts.instructions === undefined ? SIMULATED_INSTRUCTIONS : opts.instructions;
  settings.tools = (opts.tools ?? SIMULATED_RESPONSE_TOOLS).map((tool) => echoTool({ ...tool }));
  settings.metadata = { ...opts.metadata };
  const conversation =
    opts.conversation === undefined
      ? undefined
      : opts.conversation === true
        ? state.conversations.create({ createdAt: at, metadata: {}, items: [] })
        : (state.conversations.get(opts.conversation) ??
          state.conversations.create({ id: opts.conversation, createdAt: at, metadata: {}, items: [] }));
  const outcome = firstOutcome(opts);
  const record: ResponseRecord = {
    id: opts.responseId ?? newId("resp", 48),
    createdAt: at,
    settings,
    previousResponseId: null,
    conversationId: conversation?.id ?? null,
    background: readyAfterMs > 0,
    streamed: false,
    parentId: null,
    depth: 0,
    chain: compileScript(opts.afterOutputs ?? ["completed"]),
    input: [
      {
        type: "message",
        id: newId("msg", 48),
        status: "completed",
        role: "user",
        content: [{ type: "input_text", text: "What is the weather in Paris?" }],
      },
    ],
    output: outputFor(outcome, settings, "Hello from the endpoint simulator."),
    segments: segmentsFor(at, readyAfterMs, outcome.status),
    children: [],
  };
  state.responses.add(record);
  conversation?.responseIds.push(record.id);
  const callIds = outcome.status === "completed" ? outcome.callIds : [];
  return { responseId: record.id, callIds, ...(conversation === undefined ? {} : { conversationId: conversation.id }) };
}
