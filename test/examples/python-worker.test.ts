/**
 * The Python example worker (examples/python-worker/worker.py) builds its answers from the contract alone: fed real
 * events of each API, the messages it would send must pass the published schemas and answer the right ids. Runs
 * when python3 is on the PATH (the standard library is enough for this part; boto3 is only for the SQS loop).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { buildResultsEvent } from "../../functions/submit-tool-outputs/dialects/index";

const WORKER = fileURLToPath(new URL("../../examples/python-worker/worker.py", import.meta.url));
const python = spawnSync("python3", ["--version"], { encoding: "utf8" });
const hasPython = python.status === 0;
if (!hasPython) console.warn("python-worker.test.ts: skipped, python3 is not on the PATH");

const schema = (name: string) => JSON.parse(readFileSync(fileURLToPath(new URL(`../../schemas/${name}`, import.meta.url)), "utf8"));
const ajv = new Ajv2020({ allErrors: true, strict: false });
const validAssistants = ajv.compile(schema("input-message.assistants.schema.json"));
const validResponses = ajv.compile(schema("input-message.responses.schema.json"));

const weather = { id: "call_w", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } };
const order = { id: "call_o", type: "function", function: { name: "lookup_order", arguments: "{}" } };
const assistantsEvent = buildResultsEvent(
  {
    api: "assistants",
    threadId: "thread_1",
    run: {
      id: "run_1",
      status: "requires_action",
      required_action: { type: "submit_tool_outputs", submit_tool_outputs: { tool_calls: [weather, order] } },
    } as never,
  },
  { sourceMessageId: "m-1", metadata: { tenant: "acme" } },
);
const responsesEvent = buildResultsEvent(
  {
    api: "responses",
    response: {
      id: "resp_2",
      status: "completed",
      conversation: null,
      output: [{ type: "function_call", id: "fc_1", call_id: "call_w", name: "get_weather", arguments: '{"city":"Oslo"}' }],
    } as never,
  },
  { sourceMessageId: "m-2" },
);
/** The Agents API's event as the contract gives it (DESIGN Part 3), wrapped in an SNS envelope (no raw delivery). */
const agentsEvent = {
  event_id: "evt_a",
  api: "agents",
  type: "session.requires_action",
  status: "requires_action",
  session_id: "sess_1",
  turn_id: "turn_1",
  tool_calls: [weather, order],
  reply: { session_id: "sess_1", turn_id: "turn_1" },
  source_message_id: "m-3",
  at: "2026-01-01T00:00:00.000Z",
};
const envelope = (event: object) => ({
  Type: "Notification",
  TopicArn: "arn:aws:sns:eu-west-1:123456789012:results",
  Message: JSON.stringify(event),
});

function answers(events: object[], ...flags: string[]): Array<Record<string, any>> {
  const stdout = execFileSync("python3", [WORKER, "--answer", ...flags], {
    input: events.map((e) => JSON.stringify(e)).join("\n"),
    encoding: "utf8",
  });
  return stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

describe.skipIf(!hasPython)("the Python example worker", () => {
  it("answers an Assistants event with the reply ids, both outputs and the metadata, as the schema allows", () => {
    const [message, ...more] = answers([assistantsEvent]);
    expect(more).toEqual([]);
    expect(validAssistants(message), JSON.stringify(validAssistants.errors)).toBe(true);
    expect(message).toEqual({
      thread_id: "thread_1",
      run_id: "run_1",
      tool_outputs: [
        { tool_call_id: "call_w", output: JSON.stringify({ city: "Oslo", temperature_c: 21 }) },
        { tool_call_id: "call_o", output: JSON.stringify({ error: "order service timed out" }) },
      ],
      metadata: { tenant: "acme" },
    });
  });

  it("answers a Responses event (no metadata: none sent) with one collect message per call when asked", () => {
    const messages = answers([responsesEvent], "--collect");
    expect(messages).toEqual([
      { response_id: "resp_2", tool_outputs: [{ tool_call_id: "call_w", output: expect.any(String) }], collect: true },
    ]);
    for (const message of messages) expect(validResponses(message), JSON.stringify(validResponses.errors)).toBe(true);
  });

  it("answers an Agents event read from an SNS envelope, a failed tool as an error", () => {
    expect(answers([envelope(agentsEvent)])).toEqual([
      {
        session_id: "sess_1",
        turn_id: "turn_1",
        tool_outputs: [
          { tool_call_id: "call_w", output: expect.any(String) },
          { tool_call_id: "call_o", error: "order service timed out" },
        ],
      },
    ]);
  });

  it("sends nothing for an event that asks for nothing", () => {
    expect(answers([{ ...assistantsEvent, type: "run.completed", tool_calls: [] }])).toEqual([]);
  });
});
