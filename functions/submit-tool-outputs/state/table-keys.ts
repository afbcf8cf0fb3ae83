/**
 * The state table's key schema (docs/contract.md, "The state table"): public contract, written once and used by the
 * relay, the CDK stack and the embedded local stack, so that all three agree on the table they talk about.
 */
export const STATE_TABLE_KEYS = {
  /** Partition key (string). */
  partitionKey: "pk",
  /** Sort key (string). */
  sortKey: "sk",
  /** DynamoDB's time to live: epoch seconds after which an item may be deleted. */
  timeToLiveAttribute: "ttl",
} as const;
