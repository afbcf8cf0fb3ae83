import { RemovalPolicy } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { STATE_TABLE_KEYS } from "../../functions/submit-tool-outputs/state/table-keys";

/** What the relay does with the state table: read, claim (conditional put), record (update), list a collection. */
export const STATE_TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"] as const;

/**
 * The relay's state (exactly-once claims for the Responses API, collected outputs): one DynamoDB table with the
 * key schema of `STATE_TABLE_KEYS`, on demand, point-in-time recovery, items expiring by their `ttl`.
 * Encrypted with the AWS managed key (`aws/dynamodb`): KMS-encrypted as Control Tower's CT.DYNAMODB.PR.2 asks, key use
 * visible in CloudTrail, and no key policy or grant to keep (the managed key admits this account's principals
 * through DynamoDB). Kept when the stack is deleted, and protected from deletion: it guards against submitting twice.
 */
export class StateTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.Table(this, "Table", {
      partitionKey: { name: STATE_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: STATE_TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: STATE_TABLE_KEYS.timeToLiveAttribute,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * Exactly `STATE_TABLE_ACTIONS` on the table itself: no index, no scan, no delete (items leave by TTL).
   * Written out because `Table.grant` also names the indexes.
   */
  grantStateAccess(grantee: iam.IGrantable): void {
    grantStateAccess(this.table, grantee);
  }
}

/**
 * `STATE_TABLE_ACTIONS` on `table` (one the relay created, or one brought to `ToolOutputRelay`), nothing on its indexes.
 * @example grantStateAccess(dynamodb.Table.fromTableName(this, "State", "relay-state"), relay.role);
 */
export function grantStateAccess(table: dynamodb.ITable, grantee: iam.IGrantable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...STATE_TABLE_ACTIONS], resources: [table.tableArn] }));
}
