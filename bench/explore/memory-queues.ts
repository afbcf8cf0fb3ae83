/**
 * The explorer's SQS queues and SNS topic, in memory, with the behaviour the promise depends on: a visibility
 * timeout per receive, receive counts, a redrive to the dead-letter queue when a receive would pass
 * maxReceiveCount, per-message delays, retention (a message older than it is deleted, with no record: counted as
 * expired) and receipt handles that change with every receive (only the latest one deletes or changes visibility).
 * Time is the simulated clock (Date.now here). test/explore/conformance.test.ts holds it to fauxqs.
 */
import { createHash } from "node:crypto";

export interface StoredMessage {
  messageId: string;
  body: string;
  attributes: Record<string, { DataType: string; StringValue?: string }>;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  receiptHandle?: string;
  /**
   * Set on a message SQS itself moved here past maxReceiveCount: the source queue's ARN (SQS's own
   * `DeadLetterQueueSourceArn`). Whatever the body is (a redriven DLQ record looks like the relay's own), this says
   * who put it in the DLQ.
   */
  deadLetterQueueSourceArn?: string;
}

/** A message as ReceiveMessage answers it (AttributeNames and MessageAttributeNames "All"). */
export interface ReceivedMessage {
  MessageId: string;
  ReceiptHandle: string;
  Body: string;
  MD5OfBody: string;
  Attributes: Record<string, string>;
  MessageAttributes?: Record<string, { DataType: string; StringValue?: string }>;
}

export class QueueError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

export interface QueueOptions {
  name: string;
  visibilityTimeoutSeconds: number;
  retentionSeconds: number;
  /** Where a message goes when a receive would pass maxReceiveCount. */
  redrive?: { deadLetter: MemoryQueue; maxReceiveCount: number };
  now: () => number;
  newId: () => string;
}

export class MemoryQueue {
  readonly messages: StoredMessage[] = [];
  /** Messages deleted by retention, never received to the end. */
  readonly expired: StoredMessage[] = [];
  readonly url: string;
  readonly arn: string;

  constructor(readonly options: QueueOptions) {
    this.url = `https://sqs.us-east-1.amazonaws.com/000000000000/${options.name}`;
    this.arn = `arn:aws:sqs:us-east-1:000000000000:${options.name}`;
  }

  send(body: string, o: { delaySeconds?: number; attributes?: StoredMessage["attributes"]; messageId?: string } = {}): string {
    if (body.length === 0) throw new QueueError("MissingParameter", "The request must contain the parameter MessageBody.");
    const delay = o.delaySeconds ?? 0;
    if (!Number.isInteger(delay) || delay < 0 || delay > 900)
      throw new QueueError(
        "InvalidParameterValue",
        `Value ${delay} for parameter DelaySeconds is invalid. Reason: must be between 0 and 900.`,
      );
    const now = this.options.now();
    const messageId = o.messageId ?? this.options.newId();
    this.messages.push({ messageId, body, attributes: o.attributes ?? {}, sentAt: now, visibleAt: now + delay * 1000, receiveCount: 0 });
    return messageId;
  }

  /** Up to `max` visible messages, oldest first; each now in flight for the visibility timeout. */
  receive(max: number, o: { visibilityTimeoutSeconds?: number; keepVisible?: boolean } = {}): ReceivedMessage[] {
    this.expire();
    const now = this.options.now();
    const out: ReceivedMessage[] = [];
    for (const message of [...this.messages]) {
      if (out.length >= max) break;
      if (message.visibleAt > now) continue;
      const redrive = this.options.redrive;
      if (redrive && message.receiveCount >= redrive.maxReceiveCount) {
        this.remove(message);
        // SQS keeps the message's id, body, attributes and first sent time when it moves it.
        redrive.deadLetter.messages.push({
          ...message,
          visibleAt: now,
          receiveCount: 0,
          receiptHandle: undefined,
          firstReceivedAt: undefined,
          deadLetterQueueSourceArn: this.arn,
        });
        continue;
      }
      message.receiveCount += 1;
      message.firstReceivedAt ??= now;
      message.receiptHandle = `${message.messageId}#${message.receiveCount}#${this.options.newId()}`;
      if (!o.keepVisible) message.visibleAt = now + (o.visibilityTimeoutSeconds ?? this.options.visibilityTimeoutSeconds) * 1000;
      out.push({
        MessageId: message.messageId,
        ReceiptHandle: message.receiptHandle,
        Body: message.body,
        MD5OfBody: createHash("md5").update(message.body).digest("hex"),
        Attributes: {
          ApproximateReceiveCount: String(message.receiveCount),
          SentTimestamp: String(message.sentAt),
          ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt),
          SenderId: "000000000000",
        },
        ...(Object.keys(message.attributes).length > 0 ? { MessageAttributes: structuredClone(message.attributes) } : {}),
      });
    }
    return out;
  }

  /** Deletes by the latest receipt handle; a stale handle deletes nothing (SQS: "might not be deleted"). */
  delete(receiptHandle: string): void {
    const message = this.byHandle(receiptHandle);
    if (message) this.remove(message);
  }

  changeVisibility(receiptHandle: string, seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 43_200)
      throw new QueueError(
        "InvalidParameterValue",
        `Value ${seconds} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.`,
      );
    const message = this.byHandle(receiptHandle);
    const now = this.options.now();
    if (!message || message.visibleAt <= now)
      throw new QueueError(
        "MessageNotInflight",
        "Value for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.",
      );
    message.visibleAt = now + seconds * 1000;
  }

  hasVisible(): boolean {
    this.expire();
    const now = this.options.now();
    return this.messages.some((m) => m.visibleAt <= now);
  }

  /** When the next message becomes visible or expires (after now), if any. */
  nextChange(): number | undefined {
    const now = this.options.now();
    let next: number | undefined;
    for (const m of this.messages) {
      for (const at of [m.visibleAt, m.sentAt + this.options.retentionSeconds * 1000 + 1])
        if (at > now && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  private byHandle(receiptHandle: string): StoredMessage | undefined {
    return this.messages.find((m) => m.receiptHandle === receiptHandle);
  }

  private remove(message: StoredMessage): void {
    const i = this.messages.indexOf(message);
    if (i >= 0) this.messages.splice(i, 1);
  }

  private expire(): void {
    const cutoff = this.options.now() - this.options.retentionSeconds * 1000;
    for (const m of [...this.messages])
      if (m.sentAt < cutoff) {
        this.remove(m);
        this.expired.push(m);
      }
  }
}

/** The results topic: what was published, in order. */
export class MemoryTopic {
  readonly published: Array<{ message: string; attributes: Record<string, unknown> }> = [];
  readonly arn = "arn:aws:sns:us-east-1:000000000000:relay-results";

  publish(message: string, attributes: Record<string, unknown> = {}): void {
    if (Buffer.byteLength(message) > 262_144) throw new QueueError("InvalidParameter", "Invalid parameter: Message too long");
    this.published.push({ message, attributes });
  }
}
