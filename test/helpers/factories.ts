/**
 * Factories for the shapes unit tests hand the relay's pieces: SQS records as Lambda's event source mapping
 * builds them (local/lambda-shapes.ts), and a record's decision context.
 */
import type { Message } from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import type { RecordContext } from "../../functions/submit-tool-outputs/pipeline/record-context";
import { toSqsRecord } from "../../local/lambda-shapes";

const QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:tool-outputs";

/**
 * An SQS record with this body, as Lambda delivers it.
 * @example sqsRecord("{}", { receiveCount: 3 })
 */
export function sqsRecord(body: string, o: { messageId?: string; receiveCount?: number; groupId?: string } = {}): SQSRecord {
  const message: Message = {
    MessageId: o.messageId ?? "m-1",
    ReceiptHandle: `receipt-${o.messageId ?? "m-1"}`,
    Body: body,
    Attributes: {
      ApproximateReceiveCount: String(o.receiveCount ?? 1),
      ...(o.groupId ? { MessageGroupId: o.groupId } : {}),
    },
  };
  return toSqsRecord(message, QUEUE_ARN, "us-east-1");
}

/**
 * A record's decision context with ten seconds to go.
 * @example recordContext({ receiveCount: 2 })
 */
export function recordContext(overrides: Partial<RecordContext> = {}): RecordContext {
  const now = Date.now();
  return {
    messageId: "m-1",
    receiveCount: 1,
    signal: new AbortController().signal,
    deadline: now + 10_000,
    leaseUntil: now + 13_000,
    stats: { endpointCalls: 0, retries: 0, unconfirmedResubmits: 0 },
    ...overrides,
  };
}
