import { runSimulation } from "@cloud-copilot/iam-simulate";
import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { CREDENTIAL_KEYS, parseCredentials } from "../../functions/submit-tool-outputs/endpoint/credentials/credentials";
import { importedSecretResources, PLACEHOLDER_SECRET, SECRET_DESCRIPTION, SECRET_TEMPLATES } from "../../infra/constructs/endpoint-secret";
import {
  IMPORTED_SECRET_ARN,
  identityStatements,
  onlyResource,
  relayTemplate,
  SECRET_KEY_ARN,
  statementsAllowing,
} from "../helpers/infra/relay-stack";

const CREATED = {};
const IMPORTED = { secretArn: IMPORTED_SECRET_ARN };

describe("the endpoint secret", () => {
  it.each([
    { variant: "created", context: CREATED, secrets: 1 },
    { variant: "imported", context: IMPORTED, secrets: 0 },
  ])("is $variant, and the function may only read its value", ({ context, secrets }) => {
    // Prepare
    const template = relayTemplate(context);
    const created = Object.keys(template.findResources("AWS::SecretsManager::Secret"));
    const secretArn = created.length === 1 ? { Ref: created[0] } : IMPORTED_SECRET_ARN;

    // Act
    const reads = identityStatements(template).filter((statement) =>
      statement.Action.some((action) => action.startsWith("secretsmanager:")),
    );

    // Assess
    expect(created).toHaveLength(secrets);
    // GetSecretValue only: the relay never describes the secret (CDK's grantRead would add DescribeSecret).
    expect(reads).toEqual([
      {
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue"],
        Resource: created.length === 1 ? secretArn : [IMPORTED_SECRET_ARN, `${IMPORTED_SECRET_ARN}-??????`],
      },
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

  it("is described with the keys of every endpoint row, and no value", () => {
    // Act
    const secret = onlyResource(relayTemplate(CREATED), "AWS::SecretsManager::Secret");

    // Assess
    expect(secret.Properties.Description).toBe(SECRET_DESCRIPTION);
    for (const key of CREDENTIAL_KEYS) expect(SECRET_DESCRIPTION).toContain(key);
    expect(SECRET_DESCRIPTION).toContain("docs/endpoints.md");
    expect(SECRET_DESCRIPTION).not.toContain("REPLACE_ME");
    expect(SECRET_DESCRIPTION.length).toBeLessThanOrEqual(2048);
  });

  it.each(Object.entries(SECRET_TEMPLATES))("offers a %s template the relay's credential rules accept", (_, template) => {
    expect(() => parseCredentials(template, "the template")).not.toThrow();
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

  it.each([
    {
      arn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:relay-github",
      reading: "a partial ARN of a name that ends in - and six letters",
      real: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:relay-github-Q1w2E3",
    },
    {
      arn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:relay-Q1w2E3",
      reading: "the complete ARN it looks like",
      real: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:relay-Q1w2E3",
    },
  ])("allows $arn read as $reading", async ({ arn, real }) => {
    // Prepare
    const resources = importedSecretResources(arn);

    // Act: a real IAM evaluator, on the complete ARN Secrets Manager authorizes the read against.
    const result = await runSimulation(
      {
        request: {
          principal: "arn:aws:sts::123456789012:assumed-role/relay/relay",
          action: "secretsmanager:GetSecretValue",
          resource: { resource: real, accountId: "123456789012" },
          contextVariables: {},
        },
        identityPolicies: [
          {
            name: "relay",
            policy: {
              Version: "2012-10-17",
              Statement: [{ Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: resources }],
            },
          },
        ],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      {},
    );

    // Assess
    expect(resources).toEqual([arn, `${arn}-??????`]);
    expect(result.resultType === "single" && result.overallResult).toBe("Allowed");
  });

  it("grants and points the function at a secret in another region by its own ARN", () => {
    // Prepare
    const elsewhere = "arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:portkey-AbCdEf";

    // Act
    const template = relayTemplate({ secretArn: elsewhere });

    // Assess: the relay builds its Secrets Manager client for the ARN's region (test/endpoint/credentials/secret-region.test.ts).
    expect(statementsAllowing(template, "secretsmanager:GetSecretValue").map((statement) => statement.Resource)).toEqual([
      [elsewhere, `${elsewhere}-??????`],
    ]);
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ ENDPOINT_SECRET_ARN: elsewhere }) },
    });
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
