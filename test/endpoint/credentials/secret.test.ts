/**
 * Credentials from Secrets Manager: read once per cold start, through the real AWS SDK client, from a
 * loopback server that speaks Secrets Manager's JSON protocol (GetSecretValue) and counts the reads.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { answerFor, type Harness, startHarness, TEST_API_KEY, TEST_VIRTUAL_KEY } from "../../helpers/relay-harness";

const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:000000000000:secret:relay-keys-AbCdEf";
let secretsManager: Server;
const reads: Array<{ target: string; secretId: string }> = [];

beforeAll(async () => {
  secretsManager = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const { SecretId } = JSON.parse(body) as { SecretId: string };
      reads.push({ target: String(request.headers["x-amz-target"]), secretId: SecretId });
      response.setHeader("content-type", "application/x-amz-json-1.1");
      response.end(
        JSON.stringify({
          ARN: SECRET_ARN,
          Name: "relay-keys",
          SecretString: JSON.stringify({ PORTKEY_API_KEY: TEST_API_KEY, PORTKEY_VIRTUAL_KEY: TEST_VIRTUAL_KEY }),
          VersionId: "v1",
        }),
      );
    });
  });
  await new Promise<void>((resolve) => secretsManager.listen(0, "127.0.0.1", resolve));
  // The SDK's own per-service endpoint variable: Powertools' Secrets Manager client picks it up.
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = `http://127.0.0.1:${(secretsManager.address() as AddressInfo).port}`;
  process.env.AWS_REGION = "us-east-1";
});

let h: Harness;
afterAll(async () => {
  await h?.close();
  await new Promise((resolve) => secretsManager.close(resolve));
});

it("reads the keys from the secret once per cold start and uses them on every call", async () => {
  // Prepare: no keys in the environment, only the secret's ARN.
  h = await startHarness({ env: { PORTKEY_API_KEY: "", PORTKEY_VIRTUAL_KEY: "", ENDPOINT_SECRET_ARN: SECRET_ARN } });
  const runs = [h.sim.createRun(), h.sim.createRun(), h.sim.createRun()];
  // Act: three invocations.
  for (const run of runs) {
    await h.send(answerFor(run));
    const { response } = await h.deliver();
    expect(response.batchItemFailures).toEqual([]);
  }
  // Assess
  expect(reads).toEqual([{ target: "secretsmanager.GetSecretValue", secretId: SECRET_ARN }]);
  expect(h.sim.counters.accepted).toBe(3);
  const submits = h.sim.requests.filter((r) => r.method === "POST");
  expect(submits.every((r) => r.headers["x-portkey-api-key"] === TEST_API_KEY)).toBe(true);
});
