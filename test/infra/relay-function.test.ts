import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { identityStatements, onlyResource, relayTemplate, statementsAllowing } from "../helpers/infra/relay-stack";

describe("the relay function", () => {
  it("runs nodejs24.x on ARM64 with active X-Ray tracing", () => {
    // Act
    const fn = onlyResource(relayTemplate(), "AWS::Lambda::Function");

    // Assess
    expect(fn.Properties).toMatchObject({
      Runtime: "nodejs24.x",
      Architectures: ["arm64"],
      Handler: "index.handler",
      TracingConfig: { Mode: "Active" },
    });
  });

  it("logs JSON to its own log group, kept 30 days by default", () => {
    // Prepare
    const template = relayTemplate();

    // Act
    const fn = onlyResource(template, "AWS::Lambda::Function");
    const logGroup = onlyResource(template, "AWS::Logs::LogGroup");

    // Assess
    expect(fn.Properties.LoggingConfig).toEqual({
      LogFormat: "JSON",
      LogGroup: { Ref: logGroup.id },
      ApplicationLogLevel: "INFO",
      SystemLogLevel: "WARN",
    });
    expect(logGroup.Properties.RetentionInDays).toBe(30);
  });

  it("takes timeout, memory, log retention and log level from context", () => {
    // Act
    const template = relayTemplate({
      functionTimeoutSeconds: 120,
      functionMemoryMb: 1024,
      logRetentionDays: 7,
      logLevel: "DEBUG",
    });

    // Assess
    template.hasResourceProperties("AWS::Lambda::Function", {
      Timeout: 120,
      MemorySize: 1024,
      LoggingConfig: Match.objectLike({ ApplicationLogLevel: "DEBUG" }),
    });
    template.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 7 });
  });

  it("gets the whole environment the relay reads, pointing at this stack's resources", () => {
    // Prepare
    const template = relayTemplate({ endpointBaseUrl: "https://gateway.example.com/v1" });
    const ref = (type: string) => ({ Ref: onlyResource(template, type).id });
    const queues = template.findResources("AWS::SQS::Queue");
    const inputId = Object.keys(queues).find((id) => queues[id]!.Properties.RedrivePolicy)!;
    const deadLetterId = Object.keys(queues).find((id) => id !== inputId)!;

    // Act
    const fn = onlyResource(template, "AWS::Lambda::Function");

    // Assess
    expect(fn.Properties.Environment.Variables).toEqual({
      ENDPOINT_BASE_URL: "https://gateway.example.com/v1",
      ENDPOINT_SECRET_ARN: ref("AWS::SecretsManager::Secret"),
      RESULTS_TOPIC_ARN: ref("AWS::SNS::Topic"),
      DLQ_URL: { Ref: deadLetterId },
      INPUT_QUEUE_URL: { Ref: inputId },
      MAX_RECEIVE_COUNT: "5",
      // Rule 1: the queue's retention (4 days) and visibility timeout (6 × the 60 s function timeout).
      INPUT_RETENTION_SECONDS: "345600",
      INPUT_VISIBILITY_TIMEOUT_SECONDS: "360",
      POWERTOOLS_SERVICE_NAME: "tool-output-relay",
      POWERTOOLS_METRICS_NAMESPACE: "ToolOutputRelay",
      RELAY_STATE_TABLE: ref("AWS::DynamoDB::Table"),
      RELAY_PAYLOAD_BUCKET: ref("AWS::S3::Bucket"),
    });
  });

  it("passes the endpoint options on as the relay's endpoint variables, and leaves out those not given", () => {
    // Prepare
    const project = "https://acme.services.ai.azure.com/api/projects/relay";

    // Act
    const azure = onlyResource(
      relayTemplate({ endpointBaseUrl: project, endpointApiVersion: "v1", responsesBaseUrl: `${project}/openai/v1` }),
      "AWS::Lambda::Function",
    );
    const versioned = onlyResource(relayTemplate({ responsesApiVersion: "2025-04-01-preview" }), "AWS::Lambda::Function");

    // Assess
    expect(azure.Properties.Environment.Variables).toMatchObject({
      ENDPOINT_BASE_URL: project,
      ENDPOINT_API_VERSION: "v1",
      RESPONSES_BASE_URL: `${project}/openai/v1`,
    });
    expect(azure.Properties.Environment.Variables.RESPONSES_API_VERSION).toBeUndefined();
    expect(versioned.Properties.Environment.Variables).toMatchObject({ RESPONSES_API_VERSION: "2025-04-01-preview" });
    expect(Object.keys(versioned.Properties.Environment.Variables)).not.toContain("RESPONSES_BASE_URL");
  });

  it("adds the relay's tuning variables from relayTuning", () => {
    const fn = onlyResource(relayTemplate({ relayTuning: { FOLLOW_BUDGET_MS: 30000 } }), "AWS::Lambda::Function");
    expect(fn.Properties.Environment.Variables).toMatchObject({ FOLLOW_BUDGET_MS: "30000", MAX_RECEIVE_COUNT: "5" });
  });
});

describe("the event source mapping", () => {
  it("reports batch item failures, with batch size 10, no batching window and at most 10 concurrent invocations by default", () => {
    // Act
    const mapping = onlyResource(relayTemplate(), "AWS::Lambda::EventSourceMapping");

    // Assess
    expect(mapping.Properties).toMatchObject({
      BatchSize: 10,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      ScalingConfig: { MaximumConcurrency: 10 },
    });
    expect(mapping.Properties.MaximumBatchingWindowInSeconds).toBeUndefined();
  });

  it("takes batch size, batching window and maximum concurrency from context", () => {
    // Act
    const mapping = onlyResource(
      relayTemplate({ batchSize: "100", batchingWindowSeconds: "5", maxConcurrency: "50" }),
      "AWS::Lambda::EventSourceMapping",
    );

    // Assess
    expect(mapping.Properties).toMatchObject({
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 5,
      ScalingConfig: { MaximumConcurrency: 50 },
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    });
  });
});

describe("the function's permissions", () => {
  const VARIANTS = [
    { variant: "standard, created secret", context: {} },
    {
      variant: "FIFO, imported secret with its own key, subscriptions and alarm topic",
      context: {
        fifo: true,
        secretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:portkey-AbCdEf",
        secretKmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        resultsSubscriptionQueueArn: "arn:aws:sqs:eu-west-1:123456789012:run-results.fifo",
        alarmEmail: "ops@example.com",
      },
    },
  ];

  it.each(VARIANTS)("name a resource in every statement but X-Ray's ($variant)", ({ context }) => {
    // Act
    const statements = identityStatements(relayTemplate(context));

    // Assess
    const wildcard = statements.filter((statement) => [statement.Resource].flat().some((resource) => resource === "*"));
    // X-Ray's PutTraceSegments / PutTelemetryRecords have no resource-level permissions (Service Authorization Reference).
    expect(wildcard).toEqual([{ Effect: "Allow", Action: ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], Resource: "*" }]);
    expect(statements.flatMap((statement) => statement.Action).filter((action) => action.includes("*"))).toEqual([]);
    expect(statements.every((statement) => statement.Effect === "Allow")).toBe(true);
  });

  it("allow exactly the actions the relay needs, each on its own resource", () => {
    // Prepare
    const template = relayTemplate();
    const queues = template.findResources("AWS::SQS::Queue");
    const inputId = Object.keys(queues).find((id) => queues[id]!.Properties.RedrivePolicy)!;
    const deadLetterId = Object.keys(queues).find((id) => id !== inputId)!;
    const arnOf = (id: string) => ({ "Fn::GetAtt": [id, "Arn"] });
    const logGroupId = onlyResource(template, "AWS::Logs::LogGroup").id;

    // Act
    const allowed = identityStatements(template).flatMap((statement) =>
      statement.Action.flatMap((action) => [statement.Resource].flat().map((resource) => `${action} on ${JSON.stringify(resource)}`)),
    );

    // Assess
    const on = (resource: unknown, ...actions: string[]) => actions.map((action) => `${action} on ${JSON.stringify(resource)}`);
    expect(allowed.sort()).toEqual(
      [
        ...on(
          arnOf(inputId),
          // the event source mapping, with the function's role
          "sqs:ReceiveMessage",
          "sqs:DeleteMessage",
          "sqs:GetQueueAttributes",
          // the relay: hand-back delays, watch_run follow-ups
          "sqs:ChangeMessageVisibility",
          "sqs:SendMessage",
        ),
        ...on(arnOf(deadLetterId), "sqs:SendMessage"),
        ...on({ Ref: onlyResource(template, "AWS::SNS::Topic").id }, "sns:Publish"),
        ...on(arnOf(onlyResource(template, "AWS::KMS::Key").id), "kms:GenerateDataKey", "kms:Decrypt"),
        ...on({ Ref: onlyResource(template, "AWS::SecretsManager::Secret").id }, "secretsmanager:GetSecretValue"),
        ...on(arnOf(onlyResource(template, "AWS::DynamoDB::Table").id), "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
        ...on({ "Fn::Join": ["", [arnOf(onlyResource(template, "AWS::S3::Bucket").id), "/*"]] }, "s3:PutObject", "s3:GetObject"),
        // The group's ARN ends in :* and so covers its streams, which both actions are authorized on.
        ...on(arnOf(logGroupId), "logs:CreateLogStream", "logs:PutLogEvents"),
        ...on("*", "xray:PutTraceSegments", "xray:PutTelemetryRecords"),
      ].sort(),
    );
  });

  it("attach no managed policy to the function's role", () => {
    // Act
    const role = onlyResource(relayTemplate(), "AWS::IAM::Role");

    // Assess
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" } },
    ]);
  });

  it("publish only to the results topic, even when an alarm topic exists", () => {
    // Prepare
    const template = relayTemplate({ alarmEmail: "ops@example.com" });
    const topics = template.findResources("AWS::SNS::Topic");
    const resultsTopicId = Object.keys(topics).find((id) => id.startsWith("Results"))!;

    // Act
    const publish = statementsAllowing(template, "sns:Publish");

    // Assess
    expect(publish.map((statement) => statement.Resource)).toEqual([{ Ref: resultsTopicId }]);
  });
});
