/**
 * Names the relay's logs and metrics carry, shared with the CDK stack's alarms (infra/constructs): written
 * once so an alarm always watches the metric the function emits.
 */

/** Powertools' service name: the relay's logs and metrics carry it (metrics as the `service` dimension). */
export const SERVICE_NAME = "tool-output-relay";

/** The CloudWatch namespace of the relay's own metrics. */
export const METRICS_NAMESPACE = "ToolOutputRelay";
