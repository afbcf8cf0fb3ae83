/**
 * The decision against a scripted endpoint, for paths a well-behaved server cannot be made to take
 * (the endpoint is an injected dependency of decide(); everything else is the real code).
 */
import { describe, expect, it } from "vitest";
import { type AssistantsDeps, decide } from "../../../functions/submit-tool-outputs/dialects/assistants/decide";
import type { RunStreamItem } from "../../../functions/submit-tool-outputs/dialects/assistants/event-stream";
import type { RecordContext } from "../../../functions/submit-tool-outputs/pipeline/record-context";
import { recordContext } from "../../helpers/factories";

const waiting = {
  id: "run_1",
  status: "requires_action",
  required_action: { type: "submit_tool_outputs", submit_tool_outputs: { tool_calls: [{ id: "call_1" }] } },
};
const message = {
  api: "assistants" as const,
  type: "tool_outputs" as const,
  thread_id: "thread_1",
  run_id: "run_1",
  tool_outputs: [{ tool_call_id: "call_1", output: "x" }],
  stream: true,
};
const context = (): RecordContext => recordContext();

/** Limits small enough for a unit test, around a scripted endpoint. */
const depsWith = (endpoint: AssistantsDeps["endpoint"], maxAttempts: number): AssistantsDeps => ({
  endpoint,
  maxAttempts,
  retryBaseDelayMs: 20,
  retryMaxDelayMs: 20,
  followBudgetMs: 1000,
  pollIntervalMs: 10,
});

async function* brokenStream(): AsyncGenerator<RunStreamItem> {
  yield { kind: "error", error: { message: "upstream broke", type: "server_error", code: null, param: null } };
}

describe("decide", () => {
  it("bounds re-submissions after broken streams by the attempts, with backoff between them", async () => {
    // Prepare: every stream breaks before any run state; the run keeps waiting for the same ids.
    let submits = 0;
    const deps = depsWith(
      {
        submitToolOutputs: async () => {
          submits++;
          return { ok: true, stream: brokenStream() };
        },
        getRun: async () => ({ ok: true, run: waiting }),
        listToolCallSteps: async () => ({ ok: true, steps: [] }),
      },
      3,
    );
    const ctx = context();
    // Act
    const started = Date.now();
    const outcome = await decide(message, ctx, deps);
    // Assess
    expect(submits).toBe(3);
    expect(ctx.stats.retries).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * 15);
    expect(outcome).toMatchObject({ kind: "hand_back", reason: "endpoint_unavailable" });
  });

  it("calls a failure caused by the invocation's deadline a deadline, not an unavailable endpoint", async () => {
    const stop = new AbortController();
    const deps = depsWith(
      {
        submitToolOutputs: async () => {
          stop.abort();
          return { ok: false, failure: { kind: "transient", ambiguous: true, detail: "AbortError" } };
        },
        getRun: async () => ({ ok: true, run: waiting }),
        listToolCallSteps: async () => ({ ok: true, steps: [] }),
      },
      4,
    );
    const outcome = await decide({ ...message, stream: false }, { ...context(), signal: stop.signal }, deps);
    expect(outcome).toMatchObject({ kind: "hand_back", reason: "deadline" });
  });

  it("acknowledges a duplicate that loses the race: the run asked for its ids when looked at, then a copy was faster", async () => {
    // Prepare: a redelivery looks first (round one still waiting), submits, and hears the run now wants round two.
    const roundTwo = {
      ...waiting,
      required_action: { type: "submit_tool_outputs", submit_tool_outputs: { tool_calls: [{ id: "call_2" }] } },
    };
    const looks = [waiting, roundTwo];
    let submits = 0;
    const deps = depsWith(
      {
        submitToolOutputs: async () => {
          submits++;
          const error = {
            message: "Expected tool outputs for call_ids ['call_2'], got ['call_1']",
            type: "invalid_request_error",
            code: null,
            param: null,
          };
          return {
            ok: false,
            failure: { kind: "tool_call_mismatch", httpStatus: 400, error, expectedIds: ["call_2"], givenIds: ["call_1"] },
          };
        },
        getRun: async () => ({ ok: true, run: looks.shift() ?? roundTwo }),
        listToolCallSteps: async () => ({
          ok: true,
          steps: [{ status: "completed", step_details: { type: "tool_calls", tool_calls: [{ id: "call_1" }] } }],
        }),
      },
      4,
    );
    // Act
    const outcome = await decide({ ...message, stream: false }, { ...context(), receiveCount: 2 }, deps);
    // Assess
    expect(submits).toBe(1);
    expect(outcome).toMatchObject({
      kind: "report",
      via: "already_accepted",
      state: { run: { required_action: roundTwo.required_action } },
    });
  });

  it("takes one last look when the attempts run out on a mismatch, and keeps the endpoint's answer on a real one", async () => {
    const roundTwo = {
      ...waiting,
      required_action: { type: "submit_tool_outputs", submit_tool_outputs: { tool_calls: [{ id: "call_2" }] } },
    };
    const error = {
      message: "Expected tool outputs for call_ids ['call_2'], got ['call_1']",
      type: "invalid_request_error",
      code: null,
      param: null,
    };
    const endpoint = (
      steps: Array<{ status: string; step_details: { type: string; tool_calls: Array<{ id: string }> } }>,
    ): AssistantsDeps["endpoint"] => ({
      submitToolOutputs: async () => ({
        ok: false,
        failure: { kind: "tool_call_mismatch", httpStatus: 400, error, expectedIds: ["call_2"], givenIds: ["call_1"] },
      }),
      getRun: async () => ({ ok: true, run: roundTwo }),
      listToolCallSteps: async () => ({ ok: true, steps }),
    });
    // A stale copy, with a single attempt allowed: still recognised.
    const stale = await decide(
      { ...message, stream: false },
      context(),
      depsWith(endpoint([{ status: "completed", step_details: { type: "tool_calls", tool_calls: [{ id: "call_1" }] } }]), 1),
    );
    expect(stale).toMatchObject({ kind: "report", via: "already_accepted" });
    // Ids the run never took: a mismatch that keeps the HTTP status and the endpoint's error.
    const wrong = await decide({ ...message, stream: false }, context(), depsWith(endpoint([]), 1));
    expect(wrong).toMatchObject({
      kind: "dead_letter",
      reason: "tool_call_mismatch",
      httpStatus: 400,
      endpointError: error,
      expectedToolCallIds: ["call_2"],
    });
  });

  it("does not poll in a busy loop when the endpoint asks for no wait at all", async () => {
    let gets = 0;
    const deps = depsWith(
      {
        submitToolOutputs: async () => ({ ok: true, run: { id: "run_1", status: "queued" } }),
        getRun: async () => {
          gets++;
          return { ok: true, run: { id: "run_1", status: "in_progress" }, pollAfterMs: 0 };
        },
        listToolCallSteps: async () => ({ ok: true, steps: [] }),
      },
      4,
    );
    const outcome = await decide({ ...message, stream: false }, context(), { ...deps, followBudgetMs: 200 });
    expect(outcome).toMatchObject({ kind: "watch" });
    expect(gets).toBeLessThanOrEqual(21);
  });
});
