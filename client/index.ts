/**
 * The tool-worker client: subscribe a queue to the relay's results topic, answer `*.requires_action` events with a
 * handler per tool, for the Assistants, Responses and Agents APIs (docs/tool-workers.md).
 */
export {
  type AnswerOptions,
  answersFor,
  MAX_ERROR_CHARACTERS,
  outputItemOf,
  type ToolOutput,
  type ToolOutputItem,
  type ToolResult,
} from "./answers";
export { type EventIdMemory, recentEventIds } from "./event-ids";
export {
  asksForTools,
  messageGroupOf,
  REQUIRES_ACTION_TYPES,
  type Reply,
  readWorkerEvent,
  type ToolCall,
  UnreadableEventError,
  type WorkerEvent,
} from "./events";
export { type SqsAnswerSinkOptions, type SqsEventSourceOptions, sqsAnswerSink, sqsEventSource } from "./sqs";
export { subscribeWorkerQueue, type WorkerSubscription, workerFilterPolicy } from "./subscribe";
export {
  type AnswerSink,
  type EventDelivery,
  type EventSource,
  type ParsedToolCall,
  type SentAnswer,
  startToolWorker,
  type ToolHandler,
  type ToolWorker,
  type ToolWorkerOptions,
} from "./worker";
