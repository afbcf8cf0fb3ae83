/**
 * The bad-input corpus: SQS bodies that break the input contract (README.md, "The message") in every
 * way we could think of. Each one must end in the DLQ as `invalid_message`, with a detail that names the
 * problem, and the original body byte for byte. Bodies are what SQS can carry: SQS itself refuses raw NUL
 * and other control characters, so those appear here as JSON escapes (`\u0000`) inside strings.
 */

/** SQS's limit for one message, body and attributes together. */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;

export interface BadInputCase {
  /** Unique, readable: the test's name. */
  name: string;
  /** The SQS body exactly as a producer sends it. */
  body: string;
  /** Every corpus case is a contract violation; the reason is spelled out so the table reads like the README. */
  reason: "invalid_message";
  /** What the DLQ record's `detail` must say (the specific problem, not just "invalid"). */
  problem: RegExp;
}

const ID_RULE = /must be 1–128 characters of A–Z, a–z, 0–9, _ or -/;
const idProblem = (where: string) => new RegExp(`${where.replace(/\./g, "\\.")}: ${ID_RULE.source}`);

/** A message that is valid in every respect but the one a case breaks. */
function base(): Record<string, unknown> {
  return {
    thread_id: "thread_corpus",
    run_id: "run_corpus",
    tool_outputs: [{ tool_call_id: "call_corpus_1", output: '{"ok":true}' }],
  };
}

const json = (value: unknown) => JSON.stringify(value);
const withField = (field: string, value: unknown) => json({ ...base(), [field]: value });
const withOutputs = (outputs: unknown) => withField("tool_outputs", outputs);
const withOutput = (item: unknown) => withOutputs([item]);
const callId = (id: unknown) => withOutput({ tool_call_id: id, output: "x" });
const without = (field: string) => {
  const message = base();
  delete message[field];
  return json(message);
};
const snsEnvelope = (message: unknown) =>
  json({
    Type: "Notification",
    MessageId: "5f0e1c2a-0000-4000-8000-000000000000",
    TopicArn: "arn:aws:sns:us-east-1:000000000000:tool-outputs-in",
    Message: message,
    Timestamp: "2026-01-01T00:00:00.000Z",
    SignatureVersion: "1",
  });

/** A body of exactly `bytes` UTF-8 bytes: `{"thread_id":…,"padding":"xxxx…"}` (an unknown field). */
function hugeWithUnknownField(bytes: number): string {
  const head = `{"thread_id":"thread_corpus","run_id":"run_corpus","tool_outputs":[{"tool_call_id":"call_1","output":"x"}],"padding":"`;
  const tail = `"}`;
  return head + "x".repeat(bytes - head.length - tail.length) + tail;
}

function deeplyNested(depth: number, inner: string): string {
  return "[".repeat(depth) + inner + "]".repeat(depth);
}

export const BAD_INPUT_CORPUS: readonly BadInputCase[] = [
  // Not JSON at all.
  { name: "plain text", body: "hello relay", problem: /^body is not JSON/ },
  { name: "a single space", body: " ", problem: /^body is not JSON/ },
  { name: "XML", body: "<tool_outputs><output>1</output></tool_outputs>", problem: /^body is not JSON/ },
  { name: "single-quoted pseudo-JSON", body: "{'thread_id': 'thread_a', 'run_id': 'run_a'}", problem: /^body is not JSON/ },
  { name: "JSON with a comment", body: '{"thread_id":"thread_a" /* typo */}', problem: /^body is not JSON/ },
  { name: "trailing comma", body: '{"thread_id":"thread_a","run_id":"run_a",}', problem: /^body is not JSON/ },
  { name: "NaN literal", body: '{"thread_id":NaN}', problem: /^body is not JSON/ },
  { name: "two objects back to back", body: `${json(base())}${json(base())}`, problem: /^body is not JSON/ },
  { name: "base64 of a valid message", body: Buffer.from(json(base())).toString("base64"), problem: /^body is not JSON/ },
  { name: "byte order mark before valid JSON", body: `\uFEFF${json(base())}`, problem: /^body is not JSON/ },
  { name: "raw tab inside a string", body: json(base()).replace("thread_corpus", "thread\tcorpus"), problem: /^body is not JSON/ },

  // Truncated JSON.
  { name: "truncated after a key", body: '{"thread_id":"thread_a","run_id":', problem: /^body is not JSON/ },
  { name: "truncated inside a string", body: json(base()).slice(0, 40), problem: /^body is not JSON/ },
  { name: "truncated before the last brace", body: json(base()).slice(0, -1), problem: /^body is not JSON/ },

  // JSON, but not an object.
  { name: "null", body: "null", problem: /body must be a JSON object, got null/ },
  { name: "an array of messages", body: json([base(), base()]), problem: /body must be a JSON object, got an array/ },
  { name: "a number", body: "42", problem: /body must be a JSON object, got number/ },
  { name: "a boolean", body: "true", problem: /body must be a JSON object, got boolean/ },
  {
    name: "double-encoded JSON (a string holding the message)",
    body: json(json(base())),
    problem: /body must be a JSON object, got string/,
  },

  // Missing fields.
  { name: "empty object", body: "{}", problem: /thread_id: is required.*run_id: is required.*tool_outputs: is required/ },
  { name: "missing run_id", body: without("run_id"), problem: /run_id: is required/ },
  { name: "missing tool_outputs", body: without("tool_outputs"), problem: /tool_outputs: is required/ },
  { name: "item missing output", body: withOutput({ tool_call_id: "call_1" }), problem: /tool_outputs\.0\.output: is required/ },
  { name: "item missing tool_call_id", body: withOutput({ output: "x" }), problem: /tool_outputs\.0\.tool_call_id: is required/ },

  // Wrong types.
  { name: "number as thread_id", body: withField("thread_id", 12345), problem: /thread_id: .*string/i },
  { name: "number as run_id", body: withField("run_id", 1e21), problem: /run_id: .*string/i },
  { name: "number as tool_call_id", body: callId(7), problem: /tool_outputs\.0\.tool_call_id: .*string/i },
  {
    name: "output as an object",
    body: withOutput({ tool_call_id: "call_1", output: { temp: 21 } }),
    problem: /tool_outputs\.0\.output: must be a string/,
  },
  { name: "output null", body: withOutput({ tool_call_id: "call_1", output: null }), problem: /tool_outputs\.0\.output: must be a string/ },
  { name: "tool_outputs as an object", body: withOutputs({ call_1: "x" }), problem: /tool_outputs: .*array/i },
  { name: "tool_outputs as a string", body: withOutputs("[]"), problem: /tool_outputs: .*array/i },
  { name: "tool_outputs item null", body: withOutputs([null]), problem: /tool_outputs\.0: .*object/i },
  { name: 'stream as the string "true"', body: withField("stream", "true"), problem: /stream: .*boolean/i },
  { name: "stream as 1", body: withField("stream", 1), problem: /stream: .*boolean/i },
  { name: "metadata as an array", body: withField("metadata", ["acme"]), problem: /metadata: .*(record|object)/i },
  {
    name: "metadata value a number",
    body: withField("metadata", { tenant: 7 }),
    problem: /metadata\.tenant: .*expected string, received number/,
  },
  {
    name: "metadata with 17 keys",
    body: withField("metadata", Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"]))),
    problem: /metadata: metadata may have at most 16 keys/,
  },
  {
    name: "metadata key of 65 characters",
    body: withField("metadata", { ["k".repeat(65)]: "v" }),
    problem: /metadata\.k{65}: metadata keys must be at most 64 characters/,
  },
  {
    name: "metadata value of 513 characters",
    body: withField("metadata", { tenant: "v".repeat(513) }),
    problem: /metadata\.tenant: metadata values must be strings of at most 512/,
  },

  // Empty and huge arrays.
  { name: "empty tool_outputs", body: withOutputs([]), problem: /tool_outputs: must hold at least one tool output/ },
  {
    name: "129 tool outputs",
    body: withOutputs(Array.from({ length: 129 }, (_, i) => ({ tool_call_id: `call_${i}`, output: "x" }))),
    problem: /tool_outputs: must hold at most 128 tool outputs/,
  },
  {
    name: "20 000 tool outputs",
    body: withOutputs(Array.from({ length: 20_000 }, (_, i) => ({ tool_call_id: `call_${i}`, output: "x" }))),
    problem: /tool_outputs: must hold at most 128 tool outputs/,
  },

  // Duplicate call ids.
  {
    name: "duplicate tool_call_id",
    body: withOutputs([
      { tool_call_id: "call_1", output: "a" },
      { tool_call_id: "call_1", output: "b" },
    ]),
    problem: /tool_outputs\.1\.tool_call_id: duplicate tool_call_id call_1/,
  },
  {
    name: "duplicate tool_call_id third of three",
    body: withOutputs(["call_1", "call_2", "call_1"].map((id) => ({ tool_call_id: id, output: "" }))),
    problem: /tool_outputs\.2\.tool_call_id: duplicate tool_call_id call_1/,
  },

  // Ids that must never reach a URL path.
  { name: "slash in thread_id", body: withField("thread_id", "thread_a/runs/run_b"), problem: idProblem("thread_id") },
  { name: "dot-dot as run_id", body: withField("run_id", ".."), problem: idProblem("run_id") },
  { name: "path traversal in run_id", body: withField("run_id", "../../admin"), problem: idProblem("run_id") },
  { name: "percent-encoded slash in thread_id", body: withField("thread_id", "thread_a%2Fruns"), problem: idProblem("thread_id") },
  { name: "space in tool_call_id", body: callId("call 1"), problem: idProblem("tool_outputs.0.tool_call_id") },
  { name: "trailing space in run_id", body: withField("run_id", "run_corpus "), problem: idProblem("run_id") },
  { name: "query string in run_id", body: withField("run_id", "run_a?x=1#frag"), problem: idProblem("run_id") },
  { name: "Cyrillic look-alike in thread_id", body: withField("thread_id", "thr\u0435ad_corpus"), problem: idProblem("thread_id") },
  { name: "fullwidth letters in run_id", body: withField("run_id", "\uFF52\uFF55\uFF4E_corpus"), problem: idProblem("run_id") },
  { name: "zero-width space in tool_call_id", body: callId("call\u200B_1"), problem: idProblem("tool_outputs.0.tool_call_id") },
  { name: "NUL (JSON escape) in thread_id", body: withField("thread_id", "thread\u0000corpus"), problem: idProblem("thread_id") },
  { name: "newline (JSON escape) in run_id", body: withField("run_id", "run_a\nrun_b"), problem: idProblem("run_id") },
  { name: "lone surrogate in tool_call_id", body: callId("call_\uD800"), problem: idProblem("tool_outputs.0.tool_call_id") },
  // Escaped: fauxqs refuses characters above U+FFFF in a body (real SQS takes them).
  {
    name: "emoji (JSON escape) in thread_id",
    body: withField("thread_id", "thread_🔥").replace("🔥", "\\ud83d\\udd25"),
    problem: idProblem("thread_id"),
  },
  { name: "empty thread_id", body: withField("thread_id", ""), problem: idProblem("thread_id") },
  { name: "run_id of 129 characters", body: withField("run_id", `run_${"a".repeat(125)}`), problem: idProblem("run_id") },

  // Unknown fields: typos must surface.
  { name: "typo threadId", body: json({ ...base(), threadId: "thread_corpus" }), problem: /unknown field "threadId"/ },
  {
    name: "unknown fields listed together",
    body: json({ ...base(), assistant_id: "asst_1", tools: [] }),
    problem: /unknown fields "assistant_id", "tools"/,
  },
  {
    name: "unknown field in a tool output",
    body: withOutput({ tool_call_id: "call_1", output: "x", type: "function" }),
    problem: /tool_outputs\.0: unknown field "type"/,
  },
  { name: "__proto__ key", body: `{"__proto__":{"polluted":true},${json(base()).slice(1)}`, problem: /unknown field "__proto__"/ },
  {
    name: "EventBridge-style envelope",
    body: json({ version: "0", "detail-type": "ToolOutput", source: "workers", detail: base() }),
    problem: /unknown fields "version", "detail-type", "source", "detail"/,
  },
  { name: "S3-style Records wrapper", body: json({ Records: [{ body: json(base()) }] }), problem: /unknown field "Records"/ },
  {
    name: "duplicate JSON key, last one invalid",
    body: `{"run_id":"run_ok",${json(base()).slice(1, -1)},"run_id":"run/../x"}`,
    problem: idProblem("run_id"),
  },

  // watch_run messages that are not.
  { name: "watch_run carrying tool outputs", body: json({ type: "watch_run", ...base() }), problem: /unknown field "tool_outputs"/ },
  { name: "unknown message type", body: json({ type: "submit", ...base() }), problem: /type: / },
  { name: "watch_run without run_id", body: json({ type: "watch_run", thread_id: "thread_corpus" }), problem: /run_id: is required/ },

  // SNS envelopes (SNS → SQS without raw delivery) wrapping garbage.
  { name: "SNS envelope around plain text", body: snsEnvelope("not json inside"), problem: /^the SNS envelope's Message is not JSON/ },
  {
    name: "SNS envelope around truncated JSON",
    body: snsEnvelope(json(base()).slice(0, 30)),
    problem: /^the SNS envelope's Message is not JSON/,
  },
  { name: "SNS envelope around an array", body: snsEnvelope("[1,2,3]"), problem: /body must be a JSON object, got an array/ },
  { name: "SNS envelope around an invalid message", body: snsEnvelope(withField("run_id", "../x")), problem: idProblem("run_id") },
  {
    name: "SNS envelope around an SNS envelope",
    body: snsEnvelope(snsEnvelope(json(base()))),
    problem: /unknown fields "Type", "MessageId", "TopicArn", "Message"/,
  },
  {
    name: "SNS envelope whose Message is an object",
    body: json({ Type: "Notification", TopicArn: "arn:aws:sns:us-east-1:000000000000:t", Message: base() }),
    problem: /unknown fields "Type", "TopicArn", "Message"/,
  },

  // Deep nesting.
  { name: "10 000 nested arrays", body: deeplyNested(10_000, "1"), problem: /body must be a JSON object, got an array/ },
  {
    name: "deeply nested thread_id",
    body: `{"thread_id":${deeplyNested(5_000, '"thread_a"')},"run_id":"run_a","tool_outputs":[{"tool_call_id":"c","output":"x"}]}`,
    problem: /thread_id: .*string/i,
  },
  {
    name: "deeply nested output",
    body: withOutput({ tool_call_id: "call_1", output: JSON.parse(deeplyNested(2_000, "0")) }),
    problem: /tool_outputs\.0\.output: must be a string/,
  },

  // Bodies at SQS's size limit.
  { name: "1 MiB of text (just under SQS's limit)", body: "x".repeat(SQS_MAX_MESSAGE_BYTES - 1_024), problem: /^body is not JSON/ },
  {
    name: "1 MiB message with an unknown padding field (just under SQS's limit)",
    body: hugeWithUnknownField(SQS_MAX_MESSAGE_BYTES - 1_024),
    problem: /unknown field "padding"/,
  },
].map((c) => ({ ...c, reason: "invalid_message" as const }));
