/**
 * SigV4 for the endpoint calls, with the environment's AWS credentials (a Lambda role's session, re-read on every
 * call so that a rotation is followed). Loaded only by the sigv4 credential kind, on first use: deployments that do
 * not sign never evaluate it (bench/signing.ts measures what it adds).
 *
 * Why @smithy/signature-v4 with node:crypto (@smithy/hash-node): it is the signer the AWS SDK itself uses, kept by
 * AWS, and what the Powertools signer wraps (not yet on npm); with node:crypto hashing it adds no JavaScript SHA-256.
 * The credential provider chain of the SDK (@aws-sdk/credential-provider-node) is not used: a Lambda's role
 * credentials are in its environment, and reading three variables costs nothing per call.
 */
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import { CredentialsError } from "../../config/errors";
import type { SigV4Service } from "./bedrock-host";

/** What one call needs signed: as endpoint-http.ts will send it. */
export interface RequestToSign {
  method: string;
  url: URL;
  /** Every header the request carries (names lower-cased); all of them are signed, with `host`. */
  headers: Readonly<Record<string, string>>;
  /** The exact body; a GET is signed over the empty body. */
  body: string | undefined;
}

/** The AWS credentials of the environment, read now. */
export function environmentCredentials(env: Record<string, string | undefined>): {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
} {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    // Configuration, not an outage: the call fails unsent and the message is handed back (`unauthorized` at the end).
    throw new CredentialsError(
      "no AWS credentials to sign with: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for a role's session) " +
        "are not in the environment (Lambda sets them from the function's role; locally, export them)",
      { details: { httpStatus: 401 } },
    );
  }
  const sessionToken = env.AWS_SESSION_TOKEN;
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
}

/**
 * A signer for one service and region.
 * @example const sign = sigV4Signer({ service: "bedrock", region: "us-east-1", env: process.env });
 * const headers = await sign({ method: "GET", url, headers: { accept: "application/json" }, body: undefined });
 */
export function sigV4Signer(options: {
  service: SigV4Service;
  region: string;
  env: Record<string, string | undefined>;
}): (request: RequestToSign) => Promise<Record<string, string>> {
  const signer = new SignatureV4({
    service: options.service,
    region: options.region,
    // Called on every sign: the role's session is re-read each time (rotation), never cached here.
    credentials: async () => environmentCredentials(options.env),
    sha256: Hash.bind(null, "sha256"),
    // Non-S3 services sign the path encoded once more (what AWS computes server-side).
    uriEscapePath: true,
    // Adds x-amz-content-sha256: the body's hex SHA-256 (never UNSIGNED-PAYLOAD).
    applyChecksum: true,
  });
  return async (request) => {
    const { url } = request;
    const query: Record<string, string> = {};
    for (const [name, value] of url.searchParams) query[name] = value;
    const signed = await signer.sign({
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      // fetch sends Host as url.host; it must be the signed value.
      headers: { ...request.headers, host: url.host },
      body: request.body ?? "",
    });
    // Only what signing added: the request's own headers go out as they are.
    const added: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers)) {
      const lower = name.toLowerCase();
      if (lower === "authorization" || lower.startsWith("x-amz-")) added[lower] = value;
    }
    return added;
  };
}
