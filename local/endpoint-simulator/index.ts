/**
 * Endpoint simulator: a loopback HTTP server that behaves like an Assistants v2 endpoint, and like the
 * Responses and Conversations APIs, behind Portkey, for the relay's integration tests, the local stack
 * and the soak test.
 */

export { FAULT_KINDS, FAULT_ROUTES, seededRandom } from "./faults";
export { startEndpointSimulator } from "./server";
export { UNKNOWN_EVENT_NAME } from "./stream";
export type {
  AgentScript,
  ConversationItem,
  CreateResponseOptions,
  CreateRunOptions,
  CreateSessionOptions,
  EndpointSimulator,
  EndpointSimulatorOptions,
  Fault,
  FaultKind,
  RandomFaults,
  RecordedRequest,
  ResponseFunctionTool,
  ResponseObject,
  ResponseScript,
  RunObject,
  RunScript,
  SimulatorCounters,
} from "./types";
