/**
 * Names the relay's logs and metrics carry, shared with the CDK stack's alarms (infra/constructs): written
 * once so an alarm always watches the metric the function emits.
 */

/** Powertools' service name: the relay's logs and metrics carry it (metrics as the `service` dimension). */
export const SERVICE_NAME = "tool-output-relay";

/** The CloudWatch namespace of the relay's own metrics. */
export const METRICS_NAMESPACE = "ToolOutputRelay";

/**
 * The relay's metrics (Powertools EMF, in METRICS_NAMESPACE with the `service` dimension): emitted by
 * out/observability.ts, watched by the stack's alarms, documented in docs/configuration.md ("Observability").
 */
export const METRICS = {
  /** Outputs the endpoint took (a reported submission or duplicate; not a watch). */
  Accepted: "Accepted",
  /** Results events published. */
  ResultsPublished: "ResultsPublished",
  /** Follow-ups (`watch_*`) sent. */
  WatchesScheduled: "WatchesScheduled",
  /** Messages handed back to SQS. */
  HandedBack: "HandedBack",
  /** 401 / 403 / 429 insufficient_quota / a gateway's own refusal: the configuration is wrong, not the message. */
  EndpointRefused: "EndpointRefused",
  /** Outputs collected (their set is not complete yet). */
  Collected: "Collected",
  /** Collection checks done. */
  CollectChecks: "CollectChecks",
  /** DLQ records written (in total, and by `reason`). */
  DeadLettered: "DeadLettered",
  /** Submit attempts beyond the first. */
  Retries: "Retries",
  /** Responses: POSTs sent again after an ambiguous failure (RESPONSES_UNCONFIRMED=resubmit). */
  UnconfirmedResubmits: "UnconfirmedResubmits",
  /** Responses: submissions whose claim record the state table did not take before the deadline (handed back; rule 4). */
  SubmissionsUnrecorded: "SubmissionsUnrecorded",
  /** Time to the answer's headers of each endpoint call. */
  EndpointLatency: "EndpointLatency",
} as const;
