import { type Message, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { turnKey } from "../functions/submit-tool-outputs/dialects/responses/submission-claims";
import { type DeadLetter, readDeadLetter } from "../functions/submit-tool-outputs/out/dlq-record";
import { UsageError } from "./cli-error";
import { deleteMessages, receiveBatch, releaseMessages as release } from "./queue-io";

/** How long the DLQ messages looked at stay hidden while the go-ahead is given (released at once after). */
const HOLD_SECONDS = 60;

export interface GoAheadOptions {
  sqs: SQSClient;
  dynamodb: DynamoDBDocumentClient;
  tableName: string;
  dlqUrl: string;
  inputQueueUrl: string;
  /** The `source_message_id` of the `submission_unconfirmed` record. */
  messageId: string;
  /** What the operator is shown before the go-ahead is marked (the response, its claim, where its children show). */
  show: (line: string) => void;
}

/**
 * The operator's go-ahead to submit the outputs of one `submission_unconfirmed` record again (DESIGN Part 3, rule 7):
 * the record is found in the DLQ, what is known of the response's children is shown (the state table's claim on
 * the turn, and where the endpoint's own logs show a child: the API lists none), the lapsed claim is marked in the
 * state table with the go-ahead for that very attempt, and only then is the record moved back. A redrive without
 * the mark (a bulk redrive, SQS's move task, a body sent by hand) is dead-lettered again as `submission_unconfirmed`.
 * @example await giveGoAhead({ sqs, dynamodb, tableName, dlqUrl, inputQueueUrl, messageId, show: console.log });
 */
export async function giveGoAhead(o: GoAheadOptions): Promise<{ sentMessageId: string }> {
  const { letter, message, others } = await findRecord(o);
  let moved = false;
  try {
    const record = letter.record;
    const responseId = record.response_id;
    const callIds = record.given_tool_call_ids ?? [];
    if (letter.reason !== "submission_unconfirmed" || !responseId || callIds.length === 0)
      throw new UsageError(
        `the DLQ record of message ${o.messageId} is ${letter.reason}${responseId ? "" : " without a response_id"}: --go-ahead is for submission_unconfirmed records of the Responses API (previous_response_id mode); redrive it with --reason.`,
      );
    const key = turnKey({ previousResponseId: responseId }, callIds);
    const claim = (await o.dynamodb.send(new GetCommand({ TableName: o.tableName, Key: key, ConsistentRead: true }))).Item;
    o.show(
      `response ${responseId}: the outputs for [${callIds.join(", ")}] may have been taken by its POST (${record.claimed_at ?? "time unknown"}).`,
    );
    o.show(
      "its children: the Responses API lists none; look in Portkey's logs for the trace id " +
        `${o.messageId}, or in the provider's dashboard for a response whose previous_response_id is ${responseId}.`,
    );
    if (!claim) throw new UsageError(`the state table holds no claim for that turn (expired?): nothing to give the go-ahead for.`);
    if (claim.phase === "submitted")
      throw new UsageError(
        `the state table shows the turn submitted${typeof claim.response_id === "string" ? ` as ${claim.response_id}` : ""}: a copy would not submit it again; delete the record instead.`,
      );
    if (claim.phase !== "claimed") throw new UsageError(`the turn's claim is ${String(claim.phase)}: a plain redrive submits it.`);
    if (Number(claim.lease_until ?? 0) > Date.now())
      throw new UsageError("another copy holds the turn's claim right now: wait for it to end, then look again.");
    o.show(`the state table: claimed by message ${String(claim.owner)} (attempt ${String(claim.attempt)}), nothing recorded.`);
    // The mark names the lapsed attempt: taking the claim over replaces it, so the go-ahead is good for one submission.
    await o.dynamodb
      .send(
        new UpdateCommand({
          TableName: o.tableName,
          Key: key,
          UpdateExpression: "SET go_ahead = :attempt, go_ahead_at = :at, go_ahead_for = :message",
          ConditionExpression: "attempt = :attempt AND phase = :claimed",
          ExpressionAttributeValues: {
            ":attempt": claim.attempt,
            ":claimed": "claimed",
            ":at": new Date().toISOString(),
            ":message": o.messageId,
          },
        }),
      )
      .catch((error: Error) => {
        if (error.name === "ConditionalCheckFailedException")
          throw new UsageError("the turn's claim changed while the go-ahead was given: look again (`dlq list`).");
        throw error;
      });
    const fifo = o.inputQueueUrl.endsWith(".fifo");
    const sent = await o.sqs.send(
      new SendMessageCommand({
        QueueUrl: o.inputQueueUrl,
        MessageBody: letter.body,
        ...(fifo
          ? {
              MessageGroupId: message.Attributes?.MessageGroupId ?? responseId,
              MessageDeduplicationId: `go-ahead-${letter.messageId}-${Date.now()}`.slice(0, 128),
            }
          : {}),
      }),
    );
    await deleteMessages(o.sqs, o.dlqUrl, [message.ReceiptHandle!]);
    moved = true;
    return { sentMessageId: sent.MessageId! };
  } finally {
    await release(o.sqs, o.dlqUrl, moved ? others : [...others, message]);
  }
}

/** Receives DLQ messages until the record of `messageId` shows; the others are released after. */
async function findRecord(o: GoAheadOptions): Promise<{ letter: DeadLetter; message: Message; others: Message[] }> {
  const others: Message[] = [];
  try {
    for (;;) {
      const page = await receiveBatch(o.sqs, o.dlqUrl, { max: 10, visibilityTimeout: HOLD_SECONDS });
      if (page.length === 0) break;
      for (const message of page) {
        const letter = readDeadLetter(message);
        if (letter.sourceMessageId === o.messageId) return { letter, message, others };
        others.push(message);
      }
    }
  } catch (error) {
    await release(o.sqs, o.dlqUrl, others);
    throw error;
  }
  await release(o.sqs, o.dlqUrl, others);
  throw new UsageError(`no DLQ record for message ${o.messageId} (see \`dlq list\`).`);
}
