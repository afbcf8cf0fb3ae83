/**
 * The Amazon Bedrock selections of the stack: `responsesBaseUrl` at a Bedrock host picks runtime or Mantle and the
 * region, `bedrockModels` names the models; the role gets exactly the actions each endpoint checks on exactly the
 * resources, a Bedrock-only deployment stores no secret, and the function's environment says where to sign.
 * (cdk-nag and the refusals run for these variants in synth-matrix.test.ts; the bundle's calls are evaluated
 * against the role in iam-evaluation.test.ts.)
 */
import { describe, expect, it } from "vitest";
import { bedrockSelection } from "../../infra/bedrock-hosts";
import { isBedrockOnly, parseContext } from "../../infra/context";
import { identityStatements, onlyResource, relayTemplate } from "../helpers/infra/relay-stack";

const RUNTIME = {
  responsesBaseUrl: "https://bedrock-runtime.us-east-1.amazonaws.com/openai/v1",
  bedrockModels: "us.openai.gpt-5.6-sol,global.openai.gpt-5.6-terra",
};
const MANTLE = { responsesBaseUrl: "https://bedrock-mantle.eu-west-1.api.aws/v1", bedrockModels: "openai.gpt-oss-120b" };

/** `{"Fn::Join": ["", [...]]}` → a string with `<AWS::Partition>`-style placeholders, for readable expectations. */
function flat(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(flat);
  if (typeof value !== "object" || value === null) return value;
  const v = value as Record<string, any>;
  if (v["Fn::Join"]) return (v["Fn::Join"][1] as unknown[]).map((part) => flat(part)).join(v["Fn::Join"][0]);
  if (v.Ref) return `<${v.Ref}>`;
  return Object.fromEntries(Object.entries(v).map(([key, inner]) => [key, flat(inner)]));
}

const bedrockStatements = (context: Record<string, unknown>) =>
  identityStatements(relayTemplate(context))
    .filter((statement) => statement.Action.some((action) => action.startsWith("bedrock")))
    .map((statement) => {
      const resource = flat(statement.Resource);
      // Sorted: the template's order follows CDK's policy minimization, not ours.
      return { Action: statement.Action, Resource: Array.isArray(resource) ? [...resource].sort() : resource };
    });

describe("which Bedrock endpoint a responsesBaseUrl selects", () => {
  it.each([
    ["https://bedrock-runtime.us-east-1.amazonaws.com/openai/v1", { endpoint: "runtime", service: "bedrock", region: "us-east-1" }],
    ["https://bedrock-mantle.eu-west-1.api.aws/v1", { endpoint: "mantle", service: "bedrock-mantle", region: "eu-west-1" }],
    ["https://bedrock-mantle.us-east-2.api.aws/openai/v1", { endpoint: "mantle", service: "bedrock-mantle", region: "us-east-2" }],
    [
      "https://bedrock-runtime-fips.us-gov-west-1.amazonaws.com/openai/v1",
      { endpoint: "runtime", service: "bedrock", region: "us-gov-west-1" },
    ],
  ])("%s", (url, expected) => {
    expect(bedrockSelection(url)).toEqual(expected);
  });

  it.each([
    "https://api.portkey.ai/v1",
    "https://bedrock.us-east-1.amazonaws.com/v1",
    "https://bedrock-mantle.eu-west-1.api.aws.example.com/v1",
    "https://acme.services.ai.azure.com/api/projects/relay/openai/v1",
  ])("%s is not Bedrock", (url) => {
    expect(bedrockSelection(url)).toBeUndefined();
  });

  it("leaves endpointBaseUrl unset only when Bedrock is selected and nothing else is said", () => {
    expect(parseContext(RUNTIME).endpointBaseUrl).toBeUndefined();
    expect(isBedrockOnly(parseContext(RUNTIME))).toBe(true);
    expect(parseContext({}).endpointBaseUrl).toBe("https://api.portkey.ai/v1");
    expect(isBedrockOnly(parseContext({ ...MANTLE, endpointBaseUrl: "https://api.portkey.ai/v1" }))).toBe(false);
    expect(parseContext({ ...MANTLE, bedrockModels: ["openai.gpt-oss-120b", " openai.gpt-5.5 "] }).bedrockModels).toEqual([
      "openai.gpt-oss-120b",
      "openai.gpt-5.5",
    ]);
  });
});

describe("the role at Bedrock runtime", () => {
  it("may invoke exactly the named inference profiles, their foundation models and the default project, and read the project", () => {
    expect(bedrockStatements(RUNTIME)).toEqual([
      {
        Action: ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
        Resource: [
          "arn:<AWS::Partition>:bedrock:*::foundation-model/openai.gpt-5.6-sol",
          "arn:<AWS::Partition>:bedrock:*::foundation-model/openai.gpt-5.6-terra",
          "arn:<AWS::Partition>:bedrock:us-east-1:<AWS::AccountId>:inference-profile/global.openai.gpt-5.6-terra",
          "arn:<AWS::Partition>:bedrock:us-east-1:<AWS::AccountId>:inference-profile/us.openai.gpt-5.6-sol",
        ],
      },
      {
        Action: ["bedrock:GetInvoke", "bedrock:InvokeModel"],
        Resource: "arn:<AWS::Partition>:bedrock:us-east-1:<AWS::AccountId>:project/default",
      },
    ]);
  });

  it("stores no secret: no secret resource, no ENDPOINT_SECRET_ARN, no ENDPOINT_BASE_URL, no Secrets Manager grant", () => {
    const template = relayTemplate(RUNTIME);
    expect(template.findResources("AWS::SecretsManager::Secret")).toEqual({});
    const variables = onlyResource(template, "AWS::Lambda::Function").Properties.Environment.Variables;
    expect(variables.RESPONSES_BASE_URL).toBe(RUNTIME.responsesBaseUrl);
    expect(variables).not.toHaveProperty("ENDPOINT_SECRET_ARN");
    expect(variables).not.toHaveProperty("ENDPOINT_BASE_URL");
    expect(identityStatements(template).flatMap((statement) => statement.Action)).not.toContain("secretsmanager:GetSecretValue");
    expect(Object.keys(template.toJSON().Outputs)).not.toContain("EndpointSecretArn");
  });
});

describe("the role at Bedrock Mantle", () => {
  it("may create and read inferences in the endpoint's region's projects, nothing else of Bedrock", () => {
    expect(bedrockStatements(MANTLE)).toEqual([
      {
        Action: ["bedrock-mantle:CreateInference", "bedrock-mantle:Get*"],
        Resource: "arn:<AWS::Partition>:bedrock-mantle:eu-west-1:<AWS::AccountId>:project/*",
      },
    ]);
  });

  it("reads an imported secret (a Bedrock API key) and still creates none", () => {
    const secretArn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bedrock-api-key-AbCdEf";
    const template = relayTemplate({ ...MANTLE, secretArn });
    expect(template.findResources("AWS::SecretsManager::Secret")).toEqual({});
    expect(onlyResource(template, "AWS::Lambda::Function").Properties.Environment.Variables.ENDPOINT_SECRET_ARN).toBe(secretArn);
  });
});

describe("deployments without Bedrock", () => {
  it("grant nothing of Bedrock", () => {
    expect(bedrockStatements({})).toEqual([]);
  });
});
