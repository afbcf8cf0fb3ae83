/**
 * The local DynamoDB (dynalite behind local/dynamodb-limits.ts) refuses what DynamoDB refuses, with its texts:
 * expressions over 4 KB, items over 400 KB, batches over 25 writes, transactions over 100 items. Through the real
 * @aws-sdk/client-dynamodb, against the same server the local stack and the tests use.
 */
import {
  BatchWriteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStateTable, type DynamodbLocal, startDynamodbLocal } from "../../local/dynamodb-local";

const TABLE = "limits-test";
let dynamodb: DynamodbLocal;
let client: DynamoDBClient;

beforeAll(async () => {
  dynamodb = await startDynamodbLocal();
  await createStateTable({ endpoint: dynamodb.endpoint, region: "us-east-1" }, TABLE);
  client = new DynamoDBClient({
    endpoint: dynamodb.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client?.destroy();
  await dynamodb?.close();
});

const key = (sk: string) => ({ pk: { S: "limits" }, sk: { S: sk } });

describe("expressions", () => {
  it("takes an update expression of 4,096 bytes and refuses one of 4,097 with DynamoDB's text", async () => {
    const at = "SET a = :v".padEnd(4_096, " ");
    await client.send(
      new UpdateItemCommand({ TableName: TABLE, Key: key("e"), UpdateExpression: at, ExpressionAttributeValues: { ":v": { S: "x" } } }),
    );
    const over = `${at} `;
    await expect(
      client.send(
        new UpdateItemCommand({ TableName: TABLE, Key: key("e"), UpdateExpression: over, ExpressionAttributeValues: { ":v": { S: "x" } } }),
      ),
    ).rejects.toMatchObject({
      name: "ValidationException",
      message: "Invalid UpdateExpression: Expression size has exceeded the maximum allowed size; expression size: 4097",
    });
  });

  it("refuses a condition expression over 4 KB (placeholders are counted as written, not substituted)", async () => {
    const checks = Array.from({ length: 128 }, (_, i) => `attribute_not_exists(#out${i})`);
    const names = Object.fromEntries(checks.map((_, i) => [`#out${i}`, `o_call_${i}`]));
    await expect(
      client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: key("c"),
          ConditionExpression: checks.join(" AND "),
          ExpressionAttributeNames: names,
        }),
      ),
    ).rejects.toMatchObject({
      name: "ValidationException",
      message: expect.stringMatching(/^Invalid ConditionExpression: Expression size has exceeded/),
    });
  });
});

describe("items, batches, transactions", () => {
  it("refuses an item over 400 KB", async () => {
    await expect(
      client.send(new PutItemCommand({ TableName: TABLE, Item: { ...key("big"), body: { S: "x".repeat(410_000) } } })),
    ).rejects.toMatchObject({ name: "ValidationException", message: "Item size has exceeded the maximum allowed size" });
  });

  it("refuses a batch of 26 writes", async () => {
    const writes = Array.from({ length: 26 }, (_, i) => ({ PutRequest: { Item: key(`b${i}`) } }));
    await expect(client.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: writes } }))).rejects.toMatchObject({
      name: "ValidationException",
      message: expect.stringContaining("Member must have length less than or equal to 25"),
    });
  });

  it("refuses a transaction of 101 items", async () => {
    const items = Array.from({ length: 101 }, (_, i) => ({ Put: { TableName: TABLE, Item: key(`t${i}`) } }));
    await expect(client.send(new TransactWriteItemsCommand({ TransactItems: items }))).rejects.toMatchObject({
      name: "ValidationException",
      message: expect.stringContaining("Member must have length less than or equal to 100"),
    });
  });
});
