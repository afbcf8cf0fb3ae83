import type { EndpointError } from "./endpoint-failure";
import type { RestingState } from "./results-event";

/** Reasons written on DLQ records (and their `reason` attribute). */
export type DlqReason =
  | "invalid_message"
  | "run_expired"
  | "tool_call_mismatch"
  | "rejected_by_endpoint"
  | "run_not_found"
  | "retries_exhausted"
  | "unauthorized"
  | "quota_exceeded"
  /** A gateway kept refusing the call itself (its configuration) up to the last receive. */
  | "endpoint_misconfigured"
  /** The run's state could not be published (SNS refused it) up to the last receive. */
  | "results_unpublished";

/** Why a message goes back to SQS to be tried again later. */
export type HandBackReason =
  | "endpoint_unavailable"
  | "unauthorized"
  | "quota_exceeded"
  | "endpoint_misconfigured"
  | "deadline"
  | "group_blocked"
  | "results_unavailable"
  | "unexpected_error";

/** What to send to the input queue to have an object's next resting state reported (`watch_run`, `watch_response`). */
export type FollowUp = { type: "watch_run"; thread_id: string; run_id: string } | { type: "watch_response"; response_id: string };

/** What the relay decided for one message; settle.ts carries it out. */
export type Outcome =
  /** At rest (after our submission, a duplicate's, or a watch): publish its state, acknowledge. */
  | { kind: "report"; state: RestingState; via: "submitted" | "already_accepted" | "watched" }
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
      publish?: RestingState;
    }
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
