/**
 * Endpoint simulator: a loopback HTTP server that behaves like an Assistants v2 endpoint behind
 * Portkey, for the relay's integration tests, the local stack and the soak test.
 */

export { FAULT_KINDS, seededRandom } from "./faults";
export { startEndpointSimulator } from "./server";
export { UNKNOWN_EVENT_NAME } from "./stream";
export type {
  CreateRunOptions,
  EndpointSimulator,
  EndpointSimulatorOptions,
  Fault,
  FaultKind,
  RandomFaults,
  RecordedRequest,
  RunObject,
  RunScript,
  SimulatorCounters,
} from "./types";
