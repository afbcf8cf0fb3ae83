/**
 * Secrets Manager serves a secret only in its own region, whatever region its ARN names: a function reading a
 * secret of another region must send its request there. The real Secrets Manager client (through Powertools),
 * against a loopback Secrets Manager; the region is read from the request's signature scope.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCredentials } from "../../../functions/submit-tool-outputs/endpoint/credentials/credentials";
import { type SecretsManagerServer, startSecretsManagerServer } from "../../helpers/secrets-manager-server";

const ELSEWHERE = "arn:aws:secretsmanager:ap-southeast-2:000000000000:secret:relay-keys-AbCdEf";
const HERE = "arn:aws:secretsmanager:eu-west-1:000000000000:secret:local-keys-XyZ123";
const VALUE = JSON.stringify({ PORTKEY_API_KEY: "pk-region-test", PORTKEY_VIRTUAL_KEY: "vk-region-test" });

let secretsManager: SecretsManagerServer;
const saved = { ...process.env };

beforeAll(async () => {
  secretsManager = await startSecretsManagerServer([
    { arn: ELSEWHERE, value: VALUE },
    { arn: HERE, value: VALUE },
  ]);
  // The function runs in eu-west-1; the SDK's own per-service endpoint variable points it at the loopback server.
  process.env.AWS_REGION = "eu-west-1";
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secretsManager.endpoint;
  process.env.AWS_ACCESS_KEY_ID = "local";
  process.env.AWS_SECRET_ACCESS_KEY = "local";
});

afterAll(async () => {
  for (const name of ["AWS_REGION", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  await secretsManager.close();
});

describe("the endpoint secret's region", () => {
  it.each([
    { where: "another region than the function", arn: ELSEWHERE, region: "ap-southeast-2" },
    { where: "the function's region", arn: HERE, region: "eu-west-1" },
  ])("is where the secret is read from, for a secret in $where", async ({ arn, region }) => {
    // Prepare
    const before = secretsManager.requests.length;

    // Act
    const credentials = await loadCredentials(arn, {});

    // Assess
    expect(credentials).toEqual({ PORTKEY_API_KEY: "pk-region-test", PORTKEY_VIRTUAL_KEY: "vk-region-test" });
    expect(secretsManager.requests.slice(before)).toEqual([
      { target: "secretsmanager.GetSecretValue", secretId: arn, signedRegion: region },
    ]);
  });
});
