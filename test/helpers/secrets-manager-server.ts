/**
 * A loopback server that speaks Secrets Manager's JSON protocol (`X-Amz-Target: secretsmanager.GetSecretValue`)
 * for the secrets it is given, and records every request with the region it was signed for (SigV4 credential
 * scope): enough for the real `@aws-sdk/client-secrets-manager` (through Powertools) to read a secret.
 * No library emulates Secrets Manager on Node; the protocol needed here is one call.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface StoredSecret {
  /** The complete ARN, as Secrets Manager answers it. */
  arn: string;
  value: string;
}

export interface SecretsManagerRequest {
  target: string;
  secretId: string;
  /** The region in the request's SigV4 credential scope: where a real client would have sent it. */
  signedRegion: string | undefined;
}

export interface SecretsManagerServer {
  /** `http://127.0.0.1:<port>`, for AWS_ENDPOINT_URL_SECRETS_MANAGER. */
  endpoint: string;
  requests: SecretsManagerRequest[];
  close(): Promise<void>;
}

/** The region of a SigV4-signed request: `Credential=<key>/<date>/<region>/<service>/aws4_request`. */
export function signedRegionOf(request: IncomingMessage): string | undefined {
  return /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(String(request.headers.authorization ?? ""))?.[1];
}

/**
 * Serves the given secrets; a SecretId that is neither a stored ARN nor its name (or a partial ARN of it) gets
 * Secrets Manager's ResourceNotFoundException.
 * @example const sm = await startSecretsManagerServer([{ arn, value: JSON.stringify({ PORTKEY_API_KEY: "k" }) }]);
 */
export async function startSecretsManagerServer(secrets: StoredSecret[]): Promise<SecretsManagerServer> {
  const requests: SecretsManagerRequest[] = [];
  const find = (id: string) =>
    secrets.find((secret) => {
      const name = secret.arn.split(":secret:")[1]!.replace(/-[A-Za-z0-9]{6}$/, "");
      return id === secret.arn || id === name || id === secret.arn.replace(/-[A-Za-z0-9]{6}$/, "");
    });
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const target = String(request.headers["x-amz-target"] ?? "");
      const { SecretId = "" } = JSON.parse(body || "{}") as { SecretId?: string };
      requests.push({ target, secretId: SecretId, signedRegion: signedRegionOf(request) });
      response.setHeader("content-type", "application/x-amz-json-1.1");
      const secret = find(SecretId);
      if (target !== "secretsmanager.GetSecretValue" || !secret) {
        response.statusCode = 400;
        response.end(JSON.stringify({ __type: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." }));
        return;
      }
      const name = secret.arn.split(":secret:")[1]!.replace(/-[A-Za-z0-9]{6}$/, "");
      response.end(
        JSON.stringify({ ARN: secret.arn, Name: name, SecretString: secret.value, VersionId: "v1", VersionStages: ["AWSCURRENT"] }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
