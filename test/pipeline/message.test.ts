import { describe, expect, it } from "vitest";
import { parseMessage } from "../../functions/submit-tool-outputs/pipeline/message";
import { MAX_TOOL_OUTPUTS } from "../../functions/submit-tool-outputs/pipeline/message-fields";

const valid = { thread_id: "thread_abc123", run_id: "run_abc123", tool_outputs: [{ tool_call_id: "call_abc123", output: '{"temp":21}' }] };
const body = (patch: Record<string, unknown>) => JSON.stringify({ ...valid, ...patch });

describe("parseMessage accepts the contract", () => {
  it.each([
    ["the minimal message", JSON.stringify(valid)],
    ["an empty output", body({ tool_outputs: [{ tool_call_id: "call_1", output: "" }] })],
    ["stream true", body({ stream: true })],
    ["stream null", body({ stream: null })],
    ["metadata", body({ metadata: { tenant: "acme" } })],
    ["128-character ids", body({ thread_id: "t".repeat(128) })],
  ])("%s", (_, text) => {
    const parsed = parseMessage(text);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.message.type).toBe("tool_outputs");
  });

  it.each([
    ["an Assistants message", body({ metadata: null })],
    ["a Responses message", JSON.stringify({ response_id: "resp_1", tool_outputs: valid.tool_outputs, metadata: null })],
    ["a watch_run message", JSON.stringify({ type: "watch_run", thread_id: "thread_a", run_id: "run_b", metadata: null })],
    ["a watch_response message", JSON.stringify({ type: "watch_response", response_id: "resp_1", metadata: null })],
  ])("reads metadata null in %s as no metadata (a worker copying an event's absent metadata sends null)", (_, text) => {
    // Act
    const parsed = parseMessage(text);

    // Assess: accepted, and nothing null is carried on into events or DLQ records.
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect((parsed.message as { metadata?: unknown }).metadata).toBeUndefined();
  });

  it("still refuses metadata that is neither an object nor null", () => {
    const parsed = parseMessage(body({ metadata: "acme" }));
    expect(parsed).toMatchObject({ ok: false, problems: [expect.stringContaining("metadata")] });
  });

  it("reads a watch_run message", () => {
    const parsed = parseMessage(JSON.stringify({ type: "watch_run", thread_id: "thread_a", run_id: "run_b", metadata: { k: "v" } }));
    expect(parsed).toMatchObject({
      ok: true,
      message: { type: "watch_run", thread_id: "thread_a", run_id: "run_b", metadata: { k: "v" } },
    });
  });

  it("reads the original out of one of the relay's DLQ records moved back whole (SQS's message-move task)", () => {
    const record = {
      reason: "run_not_found",
      detail: "…",
      original: JSON.stringify(valid),
      source_message_id: "m-1",
      receive_count: 1,
      at: "x",
    };
    expect(parseMessage(JSON.stringify(record))).toMatchObject({ ok: true, message: { thread_id: "thread_abc123" } });
  });

  it("unwraps an SNS notification envelope", () => {
    const envelope = {
      Type: "Notification",
      MessageId: "m",
      TopicArn: "arn:aws:sns:us-east-1:1:t",
      Message: JSON.stringify(valid),
      Timestamp: "x",
    };
    expect(parseMessage(JSON.stringify(envelope))).toMatchObject({ ok: true, message: { run_id: "run_abc123" } });
  });
});

describe("parseMessage rejects with a specific reason", () => {
  it.each([
    ["not JSON", "{nope", /^body is not JSON/],
    ["an array", "[1]", /must be a JSON object, got an array/],
    ["null", "null", /got null/],
    ["a slash in an id", body({ thread_id: "thread/1" }), /thread_id: must be 1–128 characters/],
    ["dots in an id", body({ run_id: "../run" }), /run_id: must be 1–128/],
    ["a percent-encoded slash", body({ run_id: "run%2F1" }), /run_id: must be 1–128/],
    ["a space", body({ run_id: "run 1" }), /run_id: must be 1–128/],
    ["a unicode look-alike", body({ run_id: "run_аbc" }), /run_id: must be 1–128/],
    ["a NUL", body({ run_id: "run\u0000" }), /run_id: must be 1–128/],
    ["a 129-character id", body({ thread_id: "t".repeat(129) }), /thread_id: must be 1–128/],
    ["an empty id", body({ thread_id: "" }), /thread_id: must be 1–128/],
    ["a missing run_id", JSON.stringify({ thread_id: "t", tool_outputs: valid.tool_outputs }), /run_id: is required/],
    // zod's record skips this key silently (JSON.parse makes it an own property): it must be refused, not dropped.
    [
      "a __proto__ metadata key",
      body({ metadata: JSON.parse('{"__proto__":"x","tenant":"acme"}') }),
      /metadata: metadata keys must not be "__proto__"/,
    ],
    ["no outputs", body({ tool_outputs: [] }), /tool_outputs: must hold at least one/],
    [
      "too many outputs",
      body({ tool_outputs: Array.from({ length: MAX_TOOL_OUTPUTS + 1 }, (_, i) => ({ tool_call_id: `c${i}`, output: "" })) }),
      /at most 128/,
    ],
    [
      "duplicate call ids",
      body({
        tool_outputs: [
          { tool_call_id: "c", output: "1" },
          { tool_call_id: "c", output: "2" },
        ],
      }),
      /tool_outputs.1.tool_call_id: duplicate tool_call_id c/,
    ],
    ["a non-string output", body({ tool_outputs: [{ tool_call_id: "c", output: { temp: 21 } }] }), /output: must be a string/],
    ["a string stream", body({ stream: "yes" }), /stream:/],
    ["an unknown field", body({ colour: "blue" }), /message: unknown field "colour"/],
    [
      "unknown fields in an output",
      body({ tool_outputs: [{ tool_call_id: "c", output: "", extra: 1 }] }),
      /tool_outputs.0: unknown field "extra"/,
    ],
    ["17 metadata keys", body({ metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])) }), /at most 16 keys/],
    ["a long metadata key", body({ metadata: { ["k".repeat(65)]: "v" } }), /metadata keys must be at most 64 characters/],
    ["a long metadata value", body({ metadata: { k: "v".repeat(513) } }), /at most 512/],
    ["a non-string metadata value", body({ metadata: { k: 1 } }), /metadata.k/],
    ["an unknown message type", JSON.stringify({ type: "cancel_run", thread_id: "t", run_id: "r" }), /type:/],
    [
      "an SNS envelope around garbage",
      JSON.stringify({ Type: "Notification", TopicArn: "arn", Message: "garbage" }),
      /SNS envelope's Message is not JSON/,
    ],
  ])("%s", (_, text, problem) => {
    const parsed = parseMessage(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems.join("; ")).toMatch(problem);
  });

  it("lists every problem, not only the first", () => {
    const parsed = parseMessage(JSON.stringify({ thread_id: "a/b", run_id: "", tool_outputs: [], typo: 1 }));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems.length).toBeGreaterThanOrEqual(4);
  });

  it("keeps the valid ids and metadata of an invalid message for its DLQ record", () => {
    const parsed = parseMessage(body({ tool_outputs: [], metadata: { tenant: "acme" } }));
    expect(parsed.context).toEqual({ thread_id: "thread_abc123", run_id: "run_abc123", metadata: { tenant: "acme" } });
  });
});
