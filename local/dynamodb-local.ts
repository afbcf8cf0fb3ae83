import type { Server } from "node:http";
import { createRequire } from "node:module";
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { STATE_TABLE_KEYS } from "../functions/submit-tool-outputs/state/table-keys";
import { startDynamodbLimits } from "./dynamodb-limits";

/** dynalite ships no types; this is the one call used. */
const dynalite = createRequire(import.meta.url)("dynalite") as (options: { createTableMs?: number; deleteTableMs?: number }) => Server;

export interface DynamodbLocal {
  /** What `AWS_ENDPOINT_URL_DYNAMODB` should be. */
  endpoint: string;
  /** The `X-Amz-Target` of every request received so far, oldest first (tests assert which calls were made, or none). */
  readonly targets: readonly string[];
  close(): Promise<void>;
}

/**
 * A real DynamoDB-compatible server on loopback (dynalite: DynamoDB's own validation, conditional writes), in
 * memory, for the local stack and the tests, behind DynamoDB's limits that dynalite does not enforce
 * (dynamodb-limits.ts: 4 KB expressions, 100 items a transaction), so that code passing them fails here as on AWS.
 * @example const dynamodb = await startDynamodbLocal(); … await dynamodb.close();
 */
export async function startDynamodbLocal(): Promise<DynamodbLocal> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0 });
  const targets: string[] = [];
  server.prependListener("request", (req: { headers: Record<string, string | string[] | undefined> }) => {
    targets.push(String(req.headers["x-amz-target"] ?? "(none)"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const limits = await startDynamodbLimits(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
  return {
    endpoint: limits.endpoint,
    targets,
    close: async () => {
      await limits.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Creates the relay's state table as the CDK stack defines it (infra/constructs/state-table.ts): the same keys
 * and time-to-live attribute (STATE_TABLE_KEYS), on demand.
 * @example await createStateTable({ endpoint, region: "us-east-1" }, "tool-output-relay-state");
 */
export async function createStateTable(at: { endpoint: string; region: string }, tableName: string): Promise<void> {
  const client = new DynamoDBClient({ ...at, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  try {
    const { partitionKey, sortKey, timeToLiveAttribute } = STATE_TABLE_KEYS;
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [
          { AttributeName: partitionKey, KeyType: "HASH" },
          { AttributeName: sortKey, KeyType: "RANGE" },
        ],
        AttributeDefinitions: [
          { AttributeName: partitionKey, AttributeType: "S" },
          { AttributeName: sortKey, AttributeType: "S" },
        ],
      }),
    );
    // dynalite keeps no time to live (nothing expires in a local run); the setting is made as on AWS where it is taken.
    await client
      .send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: timeToLiveAttribute, Enabled: true },
        }),
      )
      .catch(() => undefined);
  } finally {
    client.destroy();
  }
}
