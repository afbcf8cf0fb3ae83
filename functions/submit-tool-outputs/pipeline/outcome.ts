import type { EndpointError } from "../endpoint/endpoint-failure";

/**
 * A resting state a dialect reports: tagged with its API, read only by that API's results (dialects/<api>/results-event.ts).
 * The registry's `RestingState` (dialects/index.ts) is the union of every API's.
 */
export interface RestingState {
  readonly api: string;
  readonly [field: string]: unknown;
}

/** Reasons written on DLQ records (and their `reason` attribute): public names, written once. */
export const DLQ_REASONS = [
  "invalid_message",
  "run_expired",
  "tool_call_mismatch",
  "rejected_by_endpoint",
  "run_not_found",
  "retries_exhausted",
  "unauthorized",
  "quota_exceeded",
  /** A gateway kept refusing the call itself (its configuration) up to the last receive. */
  "endpoint_misconfigured",
  /** The run's state could not be published (SNS refused it) up to the last receive. */
  "results_unpublished",
  /** Responses: the previous response (or conversation) does not exist, expired, or was never stored. */
  "response_not_found",
  /** Responses: the previous response ended failed / cancelled / incomplete, or asks for no function calls. */
  "response_not_awaiting_outputs",
  /** Responses, chained mode: the POST failed ambiguously and `RESPONSES_UNCONFIRMED` is `dead_letter`. */
  "submission_unconfirmed",
  /** The message's API has no endpoint in this deployment (its base URL is not configured). */
  "api_not_configured",
  /** Collecting: a different output for an id already stored (the first stands). */
  "conflicting_output",
  /** Collecting: the turn can no longer take the set (the missing ids are named), or the collection timed out. */
  "collect_incomplete",
  /** Collecting: an output too large for the state table, and no payload bucket. */
  "output_too_large",
] as const;
export type DlqReason = (typeof DLQ_REASONS)[number];

/** Why a message goes back to SQS to be tried again later: public names (log lines, metrics), written once. */
export const HAND_BACK_REASONS = [
  "endpoint_unavailable",
  "unauthorized",
  "quota_exceeded",
  "endpoint_misconfigured",
  "deadline",
  "group_blocked",
  "results_unavailable",
  "unexpected_error",
  /** Responses: the previous response is still queued / in_progress. */
  "response_in_progress",
  /** Responses: another copy holds a live claim on the turn (it is submitting now). */
  "claimed_elsewhere",
  /** Responses, conversation mode: whether an earlier POST was taken is not known yet (its outputs are not in the conversation). */
  "awaiting_confirmation",
  /** The message needs the state table and RELAY_STATE_TABLE is unset. */
  "not_configured",
  /** The state table or the payload bucket did not answer. */
  "state_unavailable",
  /** A collection check that came early (FIFO queues take no delay): it waits by its visibility timeout. */
  "not_due",
] as const;
export type HandBackReason = (typeof HAND_BACK_REASONS)[number];

/** What to send to the input queue to have an object's next resting state reported: its API's `watch_*` message. */
export interface FollowUp {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** What the relay decided for one message; settle.ts carries it out. */
export type Outcome =
  /** At rest (after our submission, a duplicate's, or a watch): publish its state, acknowledge. */
  | {
      kind: "report";
      state: RestingState;
      via: "submitted" | "already_accepted" | "watched";
      /** Every collected message the submission carried (the event's `source_message_ids`). */
      sources?: string[];
      /** A collected set's round (collect/): told when its event could not be published, so every part is (rule 2). */
      round?: { scope: string; round: string };
    }
  /** The outputs were taken but the run is still moving: leave it to the follow-up, acknowledge. */
  | { kind: "watch"; followUp: FollowUp; status?: string }
  /** Write a DLQ record with the reason, acknowledge; `publish` is a resting state to report as well. */
  | {
      kind: "dead_letter";
      reason: DlqReason;
      detail: string;
      httpStatus?: number;
      endpointError?: EndpointError;
      expectedToolCallIds?: string[];
      givenToolCallIds?: string[];
      /** Responses: when the claim whose submission is unconfirmed was made. */
      claimedAt?: string;
      publish?: RestingState;
    }
  /** Acknowledge with nothing to publish: an output collected (its set is not complete yet), a collection checked. */
  | { kind: "acknowledge"; result: "collected" | "checked"; detail: string }
  /** Hand the message back to SQS (batch item failure) with a growing visibility delay. */
  | {
      kind: "hand_back";
      reason: HandBackReason;
      detail: string;
      retryAfterMs?: number;
      httpStatus?: number;
      endpointError?: EndpointError;
    };

/** The DLQ reason a hand-back becomes on the last permitted receive. */
export function lastReceiveReason(reason: HandBackReason): DlqReason {
  return reason === "unauthorized" || reason === "quota_exceeded" || reason === "endpoint_misconfigured" ? reason : "retries_exhausted";
}
