import { Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";

/** What the relay does with the payload bucket: store a large output, read it back to submit it. */
export const PAYLOAD_BUCKET_ACTIONS = ["s3:PutObject", "s3:GetObject"] as const;

export interface PayloadBucketProps {
  /**
   * Days after which S3 deletes an object. Longer than any collection waits (COLLECT_TIMEOUT_SECONDS, 1 h by
   * default), short because the objects are tool outputs.
   * @default 7
   */
  readonly expiryDays?: number;
}

/**
 * Where the relay keeps tool outputs too large for the state table while a collection completes. Private
 * (Block Public Access, bucket-owner-enforced ownership, TLS-only), SSE-KMS with the AWS managed key
 * (`aws/s3`, with an S3 bucket key: no key policy or grant to keep), objects expiring after `expiryDays`.
 * Retained, not auto-deleted, when the stack is deleted: the retained state table may point at payloads of
 * collections still in flight, auto-deletion would need a custom-resource Lambda, and the lifecycle rule empties
 * the bucket within `expiryDays` anyway (an empty bucket costs nothing).
 */
export class PayloadBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: PayloadBucketProps = {}) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, "Bucket", {
      encryption: s3.BucketEncryption.KMS_MANAGED,
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { id: "ExpirePayloads", expiration: Duration.days(props.expiryDays ?? 7), abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge({
      id: "AwsSolutions-S1",
      reason:
        "No server access log bucket: only the relay's role reads and writes (public access blocked, TLS required), objects expire within days, and CloudTrail data events record object access where the account enables them.",
    });
  }

  /** Exactly `PAYLOAD_BUCKET_ACTIONS` on the bucket's objects (`bucket/*`): no listing, no delete (objects expire). */
  grantPayloadAccess(role: iam.Role): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: [...PAYLOAD_BUCKET_ACTIONS], resources: [this.bucket.arnForObjects("*")] }),
    );
    const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
      reason:
        "The relay names its payload objects at run time (one per collected output), so it needs the bucket's objects; only PutObject and GetObject, on this bucket alone.",
    });
  }
}
