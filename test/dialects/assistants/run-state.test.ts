import { describe, expect, it } from "vitest";
import { eventIdOf, summarizeRun } from "../../../functions/submit-tool-outputs/dialects/assistants/results-event";
import {
  isResting,
  parseRun,
  type Run,
  RunSchema,
  requiredToolCallIds,
  standing,
} from "../../../functions/submit-tool-outputs/dialects/assistants/run-state";

const waitingFor = (...ids: string[]): Run => ({
  id: "run_1",
  status: "requires_action",
  required_action: { type: "submit_tool_outputs", submit_tool_outputs: { tool_calls: ids.map((id) => ({ id, type: "function" })) } },
});
const at = (status: string): Run => ({ id: "run_1", status, required_action: null });

describe("standing: where a run stands for a message's outputs", () => {
  it.each([
    [waitingFor("a", "b"), ["b", "a"], "waiting"],
    [waitingFor("a", "b"), ["a"], "other_ids"],
    [waitingFor("c"), ["a"], "other_ids"],
    [at("queued"), ["a"], "moved_on"],
    [at("in_progress"), ["a"], "moved_on"],
    [at("completed"), ["a"], "moved_on"],
    [at("failed"), ["a"], "moved_on"],
    [at("expired"), ["a"], "expired"],
  ] as const)("%#: %j with %j → %s", (run, ids, expected) => {
    expect(standing(run, ids)).toBe(expected);
  });
});

describe("isResting", () => {
  it.each([
    ["requires_action", true],
    ["completed", true],
    ["failed", true],
    ["cancelled", true],
    ["expired", true],
    ["incomplete", true],
    ["queued", false],
    ["in_progress", false],
    ["cancelling", false],
    ["some_future_status", false],
  ])("%s → %s", (status, resting) => expect(isResting(at(status))).toBe(resting));
});

describe("Azure's ThreadRun: required_action absent (not null) unless the run needs outputs, tool_resources, free-string codes", () => {
  const azureRun = (fields: Record<string, unknown>) =>
    RunSchema.parse({ id: "run_1", object: "thread.run", thread_id: "thread_1", tool_resources: null, ...fields });

  it.each([
    ["in_progress", {}, "moved_on", false],
    ["completed", {}, "moved_on", true],
    ["failed", { last_error: { code: "content_filter_v2", message: "blocked" } }, "moved_on", true],
    ["expired", {}, "expired", true],
  ])("%s without a required_action key reads as %s (resting: %s)", (status, fields, expected, resting) => {
    // Act
    const run = azureRun({ status, ...fields });

    // Assess
    expect("required_action" in run).toBe(false);
    expect(requiredToolCallIds(run)).toEqual([]);
    expect(standing(run, ["call_a"])).toBe(expected);
    expect(isResting(run)).toBe(resting);
  });

  it("reads requires_action with its calls as OpenAI's, and one whose required_action is missing as asking for nothing", () => {
    const waiting = azureRun({ status: "requires_action", required_action: waitingFor("call_a").required_action });
    expect(standing(waiting, ["call_a"])).toBe("waiting");
    expect(requiredToolCallIds(azureRun({ status: "requires_action" }))).toEqual([]);
  });
});

describe("the results event's run", () => {
  it("keeps what a consumer needs and drops instructions and tools", () => {
    const run = { ...waitingFor("a"), instructions: "x".repeat(10_000), tools: [{ type: "function" }], model: "m", usage: null };
    const summary = summarizeRun(run);
    expect(summary).toMatchObject({ id: "run_1", status: "requires_action", model: "m", usage: null });
    expect(summary).not.toHaveProperty("instructions");
    expect(summary).not.toHaveProperty("tools");
    expect(requiredToolCallIds(run)).toEqual(["a"]);
  });

  it("has an event id that is stable per run state and changes with it", () => {
    expect(eventIdOf("t", waitingFor("a", "b"))).toBe(eventIdOf("t", waitingFor("b", "a")));
    expect(eventIdOf("t", waitingFor("a"))).not.toBe(eventIdOf("t", waitingFor("c")));
    expect(eventIdOf("t", at("completed"))).not.toBe(eventIdOf("t", at("failed")));
    expect(eventIdOf("t", at("completed"))).not.toBe(eventIdOf("u", at("completed")));
  });
});

describe("parseRun: the fields the relay reads checked, the run kept whole", () => {
  it("gives the endpoint's own object, its other fields untouched and uncopied", () => {
    const fromEndpoint = { id: "run_1", status: "completed", model: "gpt-4o", usage: { total_tokens: 3 }, required_action: null };
    const read = parseRun(fromEndpoint);
    expect(read.success && read.data).toBe(fromEndpoint);
  });

  it("refuses a run whose read fields are wrong", () => {
    expect(parseRun({ id: "run_1", status: 3 }).success).toBe(false);
    expect(parseRun({ status: "completed" }).success).toBe(false);
    expect(parseRun({ id: "run_1", status: "requires_action", required_action: { type: 1 } }).success).toBe(false);
  });
});
