import { callOptions } from "../../pipeline/record-context";
import { patiently } from "../../pipeline/retry-timing";
import { CHECK_EVERY_MS, type Collecting } from "../dialect";
import type { ResponsesDeps } from "./decide";
import type { ResponsesMessage, ResponsesToolOutputMessage } from "./message-schema";
import { conversationOf, functionCalls, isFinal, sameIds } from "./response-state";
import { outputsHashOf, turnKey } from "./submission-claims";
import { itemsAfterOutputs, listTail, outputsFor, waitingCalls } from "./turn";

/** A Responses turn: the function calls of one response, or those waiting at a conversation's tail. */
type ResponsesTurn = { response_id: string; conversation_id?: undefined } | { conversation_id: string; response_id?: undefined };

/**
 * Collecting for the Responses API: a turn is the function calls of one response (or those waiting at a
 * conversation's tail). A stored response does not expire, so only the collection's timeout, or the turn being
 * answered without this collection, ends an incomplete set.
 */
export function responsesCollecting(deps: ResponsesDeps): Collecting<ResponsesMessage, ResponsesTurn> {
  return {
    turnOf: (message): ResponsesTurn =>
      message.type === "tool_outputs" && message.conversation_id !== undefined
        ? { conversation_id: message.conversation_id }
        : { response_id: message.response_id ?? "" },
    async requiredIds(turn, ctx) {
      if (turn.response_id !== undefined) {
        const seen = await patiently(() => deps.endpoint.getResponse(turn.response_id, callOptions(ctx)), ctx, deps);
        if (!seen.ok) {
          if (seen.failure.kind === "not_found")
            return {
              ok: false,
              outcome: { kind: "dead_letter", reason: "response_not_found", detail: `the endpoint has no response ${turn.response_id}` },
            };
          return {
            ok: false,
            outcome: {
              kind: "hand_back",
              reason: "endpoint_unavailable",
              detail: "could not read the response to learn the calls it asks for",
            },
          };
        }
        if (!isFinal(seen.response))
          return {
            ok: false,
            outcome: {
              kind: "hand_back",
              reason: "response_in_progress",
              detail: `response ${turn.response_id} is still ${seen.response.status}`,
            },
          };
        const ids = functionCalls(seen.response).map((call) => call.call_id);
        if (seen.response.status !== "completed" || ids.length === 0) {
          return {
            ok: false,
            outcome: {
              kind: "dead_letter",
              reason: "response_not_awaiting_outputs",
              detail: `response ${turn.response_id} takes no outputs`,
            },
          };
        }
        return { ok: true, ids };
      }
      const listed = await patiently(() => listTail(deps, turn.conversation_id, [], ctx), ctx, deps);
      if (!listed.ok)
        return {
          ok: false,
          outcome: { kind: "hand_back", reason: "endpoint_unavailable", detail: "could not list the conversation's items" },
        };
      const tail = waitingCalls(listed.items);
      if (tail.length === 0)
        return {
          ok: false,
          outcome: {
            kind: "dead_letter",
            reason: "response_not_awaiting_outputs",
            detail: `conversation ${turn.conversation_id} waits for no function calls`,
          },
        };
      return { ok: true, ids: tail };
    },
    async standing(turn, required, ctx) {
      const checkBy = Date.now() + CHECK_EVERY_MS;
      const state = await deps.state?.();
      if (turn.response_id !== undefined) {
        // The turn's own claim, written when it was submitted without this collection (a message that did not collect);
        // a response on a conversation is claimed under the conversation, as the submission path claims it.
        const seen = await deps.endpoint.getResponse(turn.response_id, callOptions(ctx));
        if (!seen.ok) return { ok: true, checkBy };
        const key = turnKey({ previousResponseId: turn.response_id, conversationId: conversationOf(seen.response) ?? undefined }, required);
        const claim = await state?.claims.peek(key).catch(() => undefined);
        if (claim?.kind === "submitted")
          return { ok: false, reason: "collect_incomplete", detail: `response ${turn.response_id} was answered without this collection` };
        return { ok: true, checkBy };
      }
      const listed = await listTail(deps, turn.conversation_id, required, ctx);
      if (!listed.ok) return { ok: true, checkBy };
      if (sameIds(waitingCalls(listed.items), required)) return { ok: true, checkBy };
      const answered = itemsAfterOutputs(listed.items, required) !== undefined;
      return {
        ok: false,
        reason: "collect_incomplete",
        detail: `conversation ${turn.conversation_id} ${answered ? "took outputs for these calls from elsewhere" : "moved on"} without this collection`,
      };
    },
    combine: (message, outputs) => {
      if (message.type !== "tool_outputs") return message;
      const { collect: _collected, ...rest } = message;
      return { ...rest, tool_outputs: outputs as ResponsesToolOutputMessage["tool_outputs"] };
    },
    reportAfterSubmission: (_turn, continuation) =>
      continuation === undefined ? undefined : { api: "responses", type: "watch_response", response_id: continuation },
    // Before this collection's first attempt, nothing of ours can have submitted the turn: whoever did, it was not
    // this set. (Later attempts find their own earlier submission in the claim, or in the conversation.)
    answeredElsewhere: async (turn, _outputs, firstAttempt) =>
      firstAttempt
        ? `${turn.conversation_id ? `conversation ${turn.conversation_id}` : `response ${turn.response_id}`} was answered without this collection`
        : undefined,
    async fateOfSet(turn, outputs, ctx) {
      // The set's submission claimed the turn under the same key the submission path uses (its conversation's, for a
      // response on one); the claim shows what was submitted, and its outputs' hash whether it was this set.
      const state = await deps.state?.();
      if (!state) return { kind: "unknown", detail: "RELAY_STATE_TABLE is not set" };
      const ids = outputs.map((o) => o.tool_call_id);
      let conversationId = turn.conversation_id;
      if (turn.response_id !== undefined) {
        const seen = await deps.endpoint.getResponse(turn.response_id, callOptions(ctx));
        // A response the endpoint no longer has is on no conversation it can show: its claim tells. Any other failure
        // passes: looked at again later.
        if (!seen.ok && seen.failure.kind !== "not_found")
          return { kind: "unknown", detail: `response ${turn.response_id} could not be read` };
        conversationId = seen.ok ? (conversationOf(seen.response) ?? undefined) : undefined;
      }
      const claim = await state.claims.peek(turnKey({ previousResponseId: turn.response_id, conversationId }, ids));
      // No claim (or one released: nothing taken), or one for other outputs (answered without this set): not this set.
      if (!claim || claim.kind === "claimed" || (claim.outputsHash !== undefined && claim.outputsHash !== outputsHashOf(outputs)))
        return { kind: "not_taken" };
      if (claim.kind === "submitted") return { kind: "taken", ...(claim.responseId ? { continuation: claim.responseId } : {}) };
      if (claim.kind !== "unconfirmed") return { kind: "unknown", detail: "a submission of this set is under way" };
      // Its submitter ended without recording what became of its POST. A conversation shows the outputs it took once
      // the response they started completes (hours ago by now); a previous response cannot tell.
      const at = conversationId !== undefined ? await listTail(deps, conversationId, ids, ctx) : undefined;
      if (at && !at.ok) return { kind: "unknown", detail: `conversation ${conversationId} could not be listed` };
      if (at?.ok) {
        if (!itemsAfterOutputs(at.items, ids)) return { kind: "not_taken" };
        const taken = outputsFor(at.items, ids);
        const same = outputs.every((o) => JSON.stringify(taken.get(o.tool_call_id)) === JSON.stringify(o.output));
        return same ? { kind: "taken" } : { kind: "not_taken" };
      }
      const detail =
        `the attempt that submitted this set (message ${claim.owner}, claimed at ${claim.claimedAt}) ended without ` +
        `recording what became of its POST; response ${turn.response_id} cannot show whether it was taken`;
      return { kind: "unconfirmed", detail };
    },
  };
}
