import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { STATE_TABLE_KEYS } from "../../functions/submit-tool-outputs/state/table-keys";
import { identityStatements, onlyResource, relayTemplate } from "../helpers/infra/relay-stack";

describe("the state table", () => {
  it("has the key schema of STATE_TABLE_KEYS, on demand, with TTL on its ttl attribute", () => {
    // Act
    const table = onlyResource(relayTemplate(), "AWS::DynamoDB::Table");

    // Assess
    expect(table.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: STATE_TABLE_KEYS.partitionKey, KeyType: "HASH" },
        { AttributeName: STATE_TABLE_KEYS.sortKey, KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
      ],
      BillingMode: "PAY_PER_REQUEST",
      TimeToLiveSpecification: { AttributeName: "ttl", Enabled: true },
    });
    expect(table.Properties.GlobalSecondaryIndexes).toBeUndefined();
    expect(table.Properties.LocalSecondaryIndexes).toBeUndefined();
  });

  it("is KMS-encrypted with the AWS managed key, recoverable to a point in time, and kept when the stack goes", () => {
    // Prepare
    const template = relayTemplate();

    // Act
    const [table] = Object.values(template.findResources("AWS::DynamoDB::Table"));

    // Assess: SSEEnabled without a key id is the AWS managed aws/dynamodb key, which needs no grant.
    expect(table!.Properties.SSESpecification).toEqual({ SSEEnabled: true });
    expect(table!.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table!.Properties.DeletionProtectionEnabled).toBe(true);
    expect(table!.DeletionPolicy).toBe("Retain");
    expect(table!.UpdateReplacePolicy).toBe("Retain");
  });

  it("may be read, claimed, updated and queried by the function, and nothing else", () => {
    // Prepare
    const template = relayTemplate();
    const tableArn = { "Fn::GetAtt": [onlyResource(template, "AWS::DynamoDB::Table").id, "Arn"] };

    // Act
    const statements = identityStatements(template).filter((statement) =>
      statement.Action.some((action) => action.startsWith("dynamodb:")),
    );

    // Assess
    expect(statements).toEqual([
      { Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], Resource: tableArn },
    ]);
    // No key grant: the only key the function may use is the results topic's (AWS managed keys admit it through the service).
    const keyStatements = identityStatements(template).filter((statement) => statement.Action.some((action) => action.startsWith("kms:")));
    expect(keyStatements.map((statement) => statement.Resource)).toEqual([
      { "Fn::GetAtt": [onlyResource(template, "AWS::KMS::Key").id, "Arn"] },
    ]);
  });
});

describe("the payload bucket", () => {
  it("is private: public access blocked, ACLs off, TLS 1.2 or later required", () => {
    // Prepare
    const template = relayTemplate();
    const bucket = onlyResource(template, "AWS::S3::Bucket");

    // Act
    const policy = onlyResource(template, "AWS::S3::BucketPolicy");

    // Assess
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] });
    expect(policy.Properties.Bucket).toEqual({ Ref: bucket.id });
    expect(policy.Properties.PolicyDocument.Statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        expect.objectContaining({ Effect: "Deny", Condition: { NumericLessThan: { "s3:TlsVersion": 1.2 } } }),
      ]),
    );
  });

  it("is SSE-KMS encrypted with the AWS managed key and a bucket key, and kept when the stack goes", () => {
    // Act
    const [bucket] = Object.values(relayTemplate().findResources("AWS::S3::Bucket"));

    // Assess
    expect(bucket!.Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms" }, BucketKeyEnabled: true }],
    });
    expect(bucket!.DeletionPolicy).toBe("Retain");
  });

  it.each([
    { context: {}, days: 7 },
    { context: { payloadExpiryDays: "2" }, days: 2 },
  ])("expires objects after $days days and abandons unfinished uploads after one ($context)", ({ context, days }) => {
    // Act
    const bucket = onlyResource(relayTemplate(context), "AWS::S3::Bucket");

    // Assess
    expect(bucket.Properties.LifecycleConfiguration).toEqual({
      Rules: [
        { Id: "ExpirePayloads", Status: "Enabled", ExpirationInDays: days, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
      ],
    });
  });

  it("may have objects put and got by the function, and nothing else", () => {
    // Prepare
    const template = relayTemplate();
    const objects = { "Fn::Join": ["", [{ "Fn::GetAtt": [onlyResource(template, "AWS::S3::Bucket").id, "Arn"] }, "/*"]] };

    // Act
    const statements = identityStatements(template).filter((statement) => statement.Action.some((action) => action.startsWith("s3:")));

    // Assess
    expect(statements).toEqual([{ Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: objects }]);
  });
});

describe("the function's view of the state table and payload bucket", () => {
  it("gets their names as RELAY_STATE_TABLE and RELAY_PAYLOAD_BUCKET", () => {
    // Prepare
    const template = relayTemplate();

    // Assess
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: {
        Variables: Match.objectLike({
          RELAY_STATE_TABLE: { Ref: onlyResource(template, "AWS::DynamoDB::Table").id },
          RELAY_PAYLOAD_BUCKET: { Ref: onlyResource(template, "AWS::S3::Bucket").id },
        }),
      },
    });
  });
});
