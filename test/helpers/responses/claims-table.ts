/**
 * The test's own hand on the relay's state table (dynalite, through the real DynamoDB document client): read
 * the claim a submission left, and write the claims a crashed owner would have left behind.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { type TurnKey, turnKey } from "../../../functions/submit-tool-outputs/dialects/responses/submission-claims";
import type { Harness } from "../relay-harness";

export type ClaimItem = TurnKey & Record<string, unknown>;

export interface ClaimsTable {
  /** The claim item of a turn, as the relay wrote it. */
  get(key: TurnKey): Promise<ClaimItem | undefined>;
  put(item: ClaimItem): Promise<void>;
  delete(key: TurnKey): Promise<void>;
}

/** The key of the turn that answers `callIds` of a response (or of a conversation). */
export function keyOf(turn: { responseId?: string; conversationId?: string }, callIds: readonly string[]): TurnKey {
  return turnKey({ previousResponseId: turn.responseId, conversationId: turn.conversationId }, callIds);
}

/** @example const claims = claimsTable(h); const item = await claims.get(keyOf({ responseId }, callIds)); */
export function claimsTable(h: Harness): ClaimsTable {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: h.aws.region, endpoint: h.aws.dynamodb.endpoint }));
  const TableName = h.aws.stateTableName;
  return {
    async get(key) {
      return (await doc.send(new GetCommand({ TableName, Key: key, ConsistentRead: true }))).Item as ClaimItem | undefined;
    },
    async put(item) {
      await doc.send(new PutCommand({ TableName, Item: item }));
    },
    async delete(key) {
      await doc.send(new DeleteCommand({ TableName, Key: key }));
    },
  };
}

/** A claim as an owner leaves it when it crashed after claiming and before recording: its lease long past. */
export function lapsedClaim(key: TurnKey, callIds: string[], o: { owner?: string; claimedAt?: Date; previousResponseId?: string } = {}) {
  const claimedAt = o.claimedAt ?? new Date(Date.now() - 60 * 60_000);
  return {
    ...key,
    phase: "claimed",
    owner: o.owner ?? "message-that-crashed",
    attempt: "attempt-of-the-crashed-owner",
    lease_until: claimedAt.getTime() + 15 * 60_000,
    claimed_at: claimedAt.toISOString(),
    call_ids: callIds,
    ...(o.previousResponseId ? { previous_response_id: o.previousResponseId } : {}),
    ttl: Math.ceil(Date.now() / 1000) + 86_400,
  } satisfies ClaimItem;
}
