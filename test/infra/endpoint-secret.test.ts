import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { PLACEHOLDER_SECRET } from "../../infra/constructs/endpoint-secret";
import { IMPORTED_SECRET_ARN, onlyResource, relayTemplate, SECRET_KEY_ARN, statementsAllowing } from "./helpers/relay-stack";

const CREATED = {};
const IMPORTED = { secretArn: IMPORTED_SECRET_ARN };

describe("the endpoint secret (issue 3, point 6)", () => {
  it.each([
    { variant: "created", context: CREATED, secrets: 1 },
    { variant: "imported", context: IMPORTED, secrets: 0 },
  ])("is $variant, and the function reads only it", ({ context, secrets }) => {
    // Prepare
    const template = relayTemplate(context);
    const created = Object.keys(template.findResources("AWS::SecretsManager::Secret"));
    const secretArn = created.length === 1 ? { Ref: created[0] } : IMPORTED_SECRET_ARN;

    // Act
    const reads = statementsAllowing(template, "secretsmanager:GetSecretValue");

    // Assess
    expect(created).toHaveLength(secrets);
    expect(reads).toEqual([
      { Effect: "Allow", Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], Resource: secretArn },
    ]);
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ ENDPOINT_SECRET_ARN: secretArn }) },
    });
    template.hasOutput("EndpointSecretArn", { Value: secretArn });
  });

  it("is created with the credentials' JSON shape and placeholders, never real values", () => {
    // Act
    const secret = onlyResource(relayTemplate(CREATED), "AWS::SecretsManager::Secret");

    // Assess
    expect(JSON.parse(secret.Properties.SecretString)).toEqual(PLACEHOLDER_SECRET);
    expect(Object.values(PLACEHOLDER_SECRET)).toEqual(["REPLACE_ME", "REPLACE_ME"]);
  });

  it("is imported by a partial ARN too, matching only the names Secrets Manager completes it to", () => {
    // Act
    const reads = statementsAllowing(
      relayTemplate({ secretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:portkey" }),
      "secretsmanager:GetSecretValue",
    );

    // Assess
    expect(reads.map((statement) => statement.Resource)).toEqual(["arn:aws:secretsmanager:eu-west-1:123456789012:secret:portkey-??????"]);
  });

  it("may be encrypted by a customer managed key, which the function may use only through Secrets Manager", () => {
    // Act
    const decrypts = statementsAllowing(relayTemplate({ ...IMPORTED, secretKmsKeyArn: SECRET_KEY_ARN }), "kms:Decrypt");

    // Assess
    expect(decrypts).toContainEqual({
      Effect: "Allow",
      Action: ["kms:Decrypt"],
      Resource: SECRET_KEY_ARN,
      Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } },
    });
  });
});
