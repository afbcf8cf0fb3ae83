/**
 * AWS list prices the cost benchmark uses: us-east-1, on-demand, no free tier, the first volume tier. Looked up on
 * 2026-12-01 in stored copies of the pages named in `source` (dated 2025-05 to 2026-06); AWS's own pricing pages
 * load their figures by script, so the figures were read from pages that quote them, and checked against each
 * other. Where no stored page confirmed a figure it says so (`unconfirmed`). Change them here, nowhere else.
 */

export interface Price {
  /** US dollars per `unit`. */
  usd: number;
  unit: string;
  source: string;
  /** Set when no stored page showed this figure: it is AWS's published figure as remembered, to be checked. */
  unconfirmed?: true;
}

export const PRICES_AS_OF = "2026-12-01 (pages dated 2025-05 … 2026-06)";
export const PRICES_REGION = "us-east-1";

export const PRICES = {
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    unit: "GB-second, Arm (first 7.5 billion GB-s a month)",
    source: "“AWS Lambda Pricing” (aws.amazon.com/lambda/pricing); cloudchipr.com “AWS Lambda Pricing Breakdown”",
  },
  lambdaRequest: { usd: 0.2 / 1e6, unit: "request", source: "“AWS Lambda Pricing”; docs.aws.amazon.com “How AWS Pricing Works: Lambda”" },
  sqsStandardRequest: {
    usd: 0.4 / 1e6,
    unit: "request (each 64 KiB chunk; a batch of 10 is one)",
    source:
      "cloudburn.io “Amazon SQS Pricing: Complete Guide (2026)”, 2026-03-14; factualminds.com “Amazon SQS Pricing: The 64 KB Rule”, 2026-06-13",
  },
  sqsFifoRequest: { usd: 0.5 / 1e6, unit: "request (each 64 KiB chunk)", source: "as for standard queues" },
  snsStandardPublish: {
    usd: 0.5 / 1e6,
    unit: "publish request (each 64 KiB chunk; a PublishBatch of up to 10 is billed as one request)",
    source:
      "factualminds.com “Amazon SNS Pricing: Why a Single Publish Can Bill as Four Charges”, 2026-06-13; AWS SNS Developer Guide “Amazon SNS message batching”; beabetterdev.com “AWS SNS Now Supports Batch Publish”",
  },
  snsStandardSqsDelivery: {
    usd: 0,
    unit: "delivery to an SQS queue (standard topic)",
    source: "“Amazon SNS pricing” (aws.amazon.com/sns/pricing): no charge for deliveries to SQS queues",
    unconfirmed: true,
  },
  snsFifoPublish: { usd: 0.3 / 1e6, unit: "publish request, FIFO topic", source: "factualminds.com (as above)" },
  snsFifoPublishPayload: { usd: 0.017, unit: "GB published, FIFO topic", source: "“Amazon SNS pricing”", unconfirmed: true },
  snsFifoSqsDelivery: { usd: 0.01 / 1e6, unit: "message delivered to SQS, FIFO topic", source: "“Amazon SNS pricing”", unconfirmed: true },
  snsFifoSqsDeliveryPayload: { usd: 0.001, unit: "GB delivered to SQS, FIFO topic", source: "“Amazon SNS pricing”", unconfirmed: true },
  dynamodbWriteUnit: {
    usd: 0.625 / 1e6,
    unit: "write request unit, on-demand (1 KB; a refused conditional write is billed too)",
    source:
      "airbyte.com “Amazon DynamoDB Pricing: On-Demand & Provisioned Plans”, 2025-07-21 (after the 2024-11-01 cut); jusdb.com, 2025-08-19",
  },
  dynamodbReadUnit: {
    usd: 0.125 / 1e6,
    unit: "read request unit, on-demand (one strongly consistent read of 4 KB)",
    source: "as for write units",
  },
  secretsManagerCall: { usd: 0.05 / 1e4, unit: "API call", source: "hivebook.wiki “AWS Secrets Manager”: $0.05 per 10 000 API calls" },
  secretsManagerSecret: { usd: 0.4, unit: "secret-month", source: "as above" },
  s3Put: { usd: 0.005 / 1e3, unit: "PUT request, S3 Standard", source: "c3x.dev “S3 request fees explained”" },
  s3Get: { usd: 0.0004 / 1e3, unit: "GET request, S3 Standard", source: "as above" },
  logsIngestion: {
    usd: 0.5,
    unit: "GB of logs ingested (Lambda logs, first tier)",
    source: "duckbillgroup.com on Lambda's tiered CloudWatch Logs pricing from 2025-05-01; hykell.com “CloudWatch Logs pricing”",
  },
  pipesRequest: {
    usd: 0.4 / 1e6,
    unit: "EventBridge Pipes request after filtering (each 64 KiB chunk)",
    source: "cloudburn.io “Amazon EventBridge Pricing: Complete Guide (2026)”, 2026-03-13",
  },
  apiDestinationCall: { usd: 0.2 / 1e6, unit: "EventBridge API destination invocation", source: "as above" },
} satisfies Record<string, Price>;

/** Lambda gives a function one vCPU at 1 769 MB and CPU in proportion to memory below that (AWS Lambda docs, memory and computing power). */
export const LAMBDA_MB_PER_VCPU = 1769;

/** Since 2025-08-01 the INIT phase of ZIP functions on managed runtimes is billed like the handler's time (AWS Compute Blog). */
export const INIT_IS_BILLED = true;
