/**
 * The package's entry for CDK apps: the relay as one construct (`new ToolOutputRelay(this, "Relay", { … })`), its
 * parts for those who compose their own, and the names a consumer of its events and DLQ records needs.
 * Built to dist/lib by `npm run build:lib` (an ESM bundle plus declarations; aws-cdk-lib and constructs are the app's).
 */
export type { RelayEnvironment } from "../functions/submit-tool-outputs/config/environment";
export { METRICS_NAMESPACE, SERVICE_NAME } from "../functions/submit-tool-outputs/config/names";
export { EndpointSecret, type EndpointSecretProps, SECRET_TEMPLATES } from "../infra/constructs/endpoint-secret";
export { RelayDashboard, type RelayDashboardProps } from "../infra/constructs/relay-dashboard";
export { grantStateAccess, STATE_TABLE_ACTIONS } from "../infra/constructs/state-table";
export { type RelayTuningVariable, ToolOutputRelay, type ToolOutputRelayProps } from "../infra/constructs/tool-output-relay";
