import { callOptions, type RecordContext } from "../../pipeline/record-context";
import { patiently } from "../../pipeline/retry-timing";
import { CHECK_EVERY_MS, type Collecting } from "../dialect";
import type { AssistantsDeps } from "./decide";
import type { AssistantsMessage } from "./message-schema";
import { requiredToolCallIds } from "./run-state";

/** An Assistants turn: one round of a run's `required_action`, named by its thread and run. */
type RunTurn = { thread_id: string; run_id: string };

/**
 * Collecting for the Assistants API: a turn is one round of a run's `required_action`; the run says which ids it
 * wants and when it expires (`expires_at`).
 */
export function assistantsCollecting(deps: AssistantsDeps): Collecting<AssistantsMessage, RunTurn> {
  const getRun = (turn: RunTurn, ctx: RecordContext) =>
    patiently(() => deps.endpoint.getRun(turn.thread_id, turn.run_id, callOptions(ctx)), ctx, deps);
  return {
    turnOf: (message) => ({ thread_id: message.thread_id, run_id: message.run_id }),
    async requiredIds(turn, ctx) {
      const seen = await getRun(turn, ctx);
      if (!seen.ok) {
        const failure = seen.failure;
        if (failure.kind === "not_found")
          return { ok: false, outcome: { kind: "dead_letter", reason: "run_not_found", detail: "the endpoint has no such thread or run" } };
        return {
          ok: false,
          outcome: { kind: "hand_back", reason: "endpoint_unavailable", detail: "could not read the run to learn the ids it asks for" },
        };
      }
      const run = seen.run;
      if (run.status === "expired")
        return {
          ok: false,
          outcome: { kind: "dead_letter", reason: "run_expired", detail: `run ${run.id} expired before the outputs were collected` },
        };
      const ids = requiredToolCallIds(run);
      if (ids.length === 0) {
        // The run took this round already, or never asked: a collected message for it is a late duplicate or wrong.
        return {
          ok: false,
          outcome: {
            kind: "dead_letter",
            reason: "collect_incomplete",
            detail: `run ${run.id} is ${run.status} and asks for no outputs now`,
          },
        };
      }
      const expiresAt = typeof run.expires_at === "number" ? run.expires_at * 1000 : undefined;
      return { ok: true, ids, ...(expiresAt ? { expiresAt } : {}) };
    },
    async standing(turn, required, ctx) {
      const seen = await getRun(turn, ctx);
      if (!seen.ok) return { ok: true, checkBy: Date.now() + CHECK_EVERY_MS };
      const run = seen.run;
      if (run.status === "expired")
        return { ok: false, reason: "run_expired", detail: `run ${run.id} expired before the set was complete` };
      const asks = new Set(requiredToolCallIds(run));
      if (run.status === "requires_action" && required.every((id) => asks.has(id))) {
        const expiresAt = typeof run.expires_at === "number" ? run.expires_at * 1000 + 1_000 : Number.POSITIVE_INFINITY;
        return { ok: true, checkBy: Math.min(expiresAt, Date.now() + CHECK_EVERY_MS) };
      }
      return { ok: false, reason: "collect_incomplete", detail: `run ${run.id} moved on (${run.status}) without this collection` };
    },
    combine: (message, outputs) => {
      if (message.type !== "tool_outputs") return message;
      const { collect: _collected, ...rest } = message;
      return { ...rest, tool_outputs: outputs.map((o) => ({ tool_call_id: o.tool_call_id, output: String(o.output) })) };
    },
    reportAfterSubmission: (turn) => ({ api: "assistants", type: "watch_run", thread_id: turn.thread_id, run_id: turn.run_id }),
    async answeredElsewhere(turn, outputs, firstAttempt, ctx) {
      // The run's steps keep the outputs it took: the same as the set's, ours (or an identical copy); others, not.
      // Without them the relay cannot say the run took this set, so it never reports it as taken (rule 12).
      const taken = await takenOutputs(turn, ctx);
      if (taken === undefined || taken === "not_found")
        return firstAttempt
          ? `run ${turn.run_id} moved on before this collection was submitted, and its steps could not be read to show what it took`
          : `run ${turn.run_id} moved on; its steps could not be read to show whether it took this collection (an earlier attempt may have submitted it)`;
      const differing = outputs.filter((o) => taken.has(o.tool_call_id) && taken.get(o.tool_call_id) !== String(o.output));
      // A first attempt submitted nothing: only steps showing every output of the set, equal, make it this set.
      const unshown = firstAttempt ? outputs.filter((o) => !taken.has(o.tool_call_id)) : [];
      if (differing.length === 0 && unshown.length > 0)
        return `run ${turn.run_id} moved on before this collection was submitted; its steps do not show [${unshown.map((o) => o.tool_call_id).join(", ")}] taken from it`;
      if (differing.length === 0) return undefined;
      const ids = differing.map((o) => o.tool_call_id).join(", ");
      return `run ${turn.run_id} took other outputs for [${ids}] without this collection`;
    },
    async fateOfSet(turn, outputs, ctx) {
      // The run's steps show the outputs it took: every one of the set, equal, is this set taken; anything else is not
      // (a run's submission is one request: it took all of them or none).
      const taken = await takenOutputs(turn, ctx);
      // A run the endpoint no longer has took nothing it can show; any other failure passes: looked at again later.
      if (taken === "not_found") return { kind: "not_taken" };
      if (!taken) return { kind: "unknown", detail: `the steps of run ${turn.run_id} could not be read` };
      return outputs.every((o) => taken.get(o.tool_call_id) === String(o.output)) ? { kind: "taken" } : { kind: "not_taken" };
    },
  };

  /** Call id → the output the run took for it, from the run's tool-call steps; undefined when they could not be read. */
  async function takenOutputs(turn: RunTurn, ctx: RecordContext): Promise<Map<string, string> | "not_found" | undefined> {
    const listed = await patiently(() => deps.endpoint.listToolCallSteps(turn.thread_id, turn.run_id, callOptions(ctx)), ctx, deps);
    if (!listed.ok) return listed.failure.kind === "not_found" ? "not_found" : undefined;
    const taken = new Map<string, string>();
    for (const step of listed.steps)
      for (const call of step.step_details?.tool_calls ?? [])
        if (call.id && typeof call.function?.output === "string") taken.set(call.id, call.function.output);
    return taken;
  }
}
