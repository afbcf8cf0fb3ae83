import { ConditionalCheckFailedException, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { errorName, StateUnavailableError } from "../config/errors";
import { stateCallLimit } from "./call-deadline";

/**
 * The relay's state table (docs/contract.md, "The state table"), over the AWS SDK's document client. This
 * module is the only one that loads the DynamoDB client, and it is loaded on first use (lazy-state-table.ts),
 * so a cold start that serves only the Assistants API never evaluates it.
 */

/** An item: its keys and any attributes (plain JavaScript values; the document client marshals them). */
export type StateItem = { pk: string; sk: string; ttl?: number } & Record<string, unknown>;
export type ItemKey = { pk: string; sk: string };

/** An item as the document client answers it (its keys are always there), or undefined for none. */
function stateItem(item: Record<string, unknown> | undefined): StateItem | undefined {
  return item !== undefined && isStateItem(item) ? item : undefined;
}

function isStateItem(item: Record<string, unknown>): item is StateItem {
  return typeof item.pk === "string" && typeof item.sk === "string";
}

/** A conditional write's expression, with its placeholders. */
export interface Condition {
  expression: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

export interface StateTableOptions {
  tableName: string;
  region?: string;
  /** `AWS_ENDPOINT_URL_DYNAMODB` or `AWS_ENDPOINT_URL` (a local emulator). */
  endpoint?: string;
  /** Told of every request (for the DynamoDB request count of the bench and the log line). */
  onRequest?: (operation: string) => void;
  /**
   * The longest one call may take, retries included (rule 11); it also ends at the record's deadline
   * (call-deadline.ts). Default 5 s: a DynamoDB call answers in milliseconds, a hung one must not hold a scope.
   */
  callTimeoutMs?: number;
}

const DEFAULT_CALL_TIMEOUT_MS = 5_000;

/**
 * Reads and conditional writes on the state table; every read is strongly consistent (a claim must see
 * the write that beat it).
 * @example const table = new StateTable({ tableName: "relay-state" }); await table.get({ pk, sk });
 */
export class StateTable {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly onRequest: (operation: string) => void;
  private readonly callTimeoutMs: number;

  constructor(options: StateTableOptions) {
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const client = new DynamoDBClient({
      ...(options.region ? { region: options.region } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    });
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.tableName = options.tableName;
    this.onRequest = options.onRequest ?? (() => undefined);
  }

  async get(key: ItemKey, signal?: AbortSignal): Promise<StateItem | undefined> {
    this.onRequest("GetItem");
    const answer = await this.limited(signal, (abortSignal) =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }), { abortSignal }),
    ).catch((error) => Promise.reject(unavailable("GetItem", error)));
    return stateItem(answer.Item);
  }

  /** Puts an item; false when `condition` failed (nothing was written). */
  async put(item: StateItem, condition?: Condition, signal?: AbortSignal): Promise<boolean> {
    this.onRequest("PutItem");
    return this.conditional(() =>
      this.limited(signal, (abortSignal) =>
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: item,
            ...(condition ? conditionParams(condition) : {}),
          }),
          { abortSignal },
        ),
      ),
    );
  }

  /**
   * Updates an item with an update expression; returns the item as it is after the update, or undefined
   * when `condition` failed (nothing was written).
   */
  async update(
    key: ItemKey,
    update: { expression: string; names?: Record<string, string>; values?: Record<string, unknown> },
    condition?: Condition,
    signal?: AbortSignal,
  ): Promise<StateItem | undefined> {
    this.onRequest("UpdateItem");
    let attributes: StateItem | undefined;
    const ok = await this.conditional(async () => {
      const answer = await this.limited(signal, (abortSignal) =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: update.expression,
            ConditionExpression: condition?.expression,
            ExpressionAttributeNames: nonEmpty({ ...update.names, ...condition?.names }),
            ExpressionAttributeValues: nonEmpty({ ...update.values, ...condition?.values }),
            ReturnValues: "ALL_NEW",
          }),
          { abortSignal },
        ),
      );
      attributes = stateItem(answer.Attributes);
    });
    return ok ? attributes : undefined;
  }

  /** One call within its limit (call-deadline.ts), the limit's timer and links gone when it ends. */
  private async limited<T>(signal: AbortSignal | undefined, call: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const limit = stateCallLimit(this.callTimeoutMs, signal);
    try {
      return await call(limit.signal);
    } finally {
      limit.dispose();
    }
  }

  /** A write whose condition may fail (false); any other failure is StateUnavailableError. */
  private async conditional(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || errorName(error) === "ConditionalCheckFailedException") return false;
      throw unavailable("write", error);
    }
  }
}

function conditionParams(condition: Condition) {
  return {
    ConditionExpression: condition.expression,
    ExpressionAttributeNames: nonEmpty(condition.names ?? {}),
    ExpressionAttributeValues: nonEmpty(condition.values ?? {}),
  };
}

function nonEmpty<T extends Record<string, unknown>>(value: T): T | undefined {
  return Object.keys(value).length > 0 ? value : undefined;
}

function unavailable(operation: string, error: unknown): StateUnavailableError {
  return new StateUnavailableError(operation, { cause: error });
}
