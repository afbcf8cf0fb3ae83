/**
 * A SigV4 verifier written from AWS's published algorithm (Signature Version 4, "Create a signed AWS API
 * request"), on node:crypto only. It is deliberately NOT @smithy/signature-v4, the library the relay signs
 * with: a verifier built from the same code would accept the same mistakes. It is itself checked against a
 * signer no one here wrote (the openai package's Bedrock provider), see test/endpoint-simulator/bedrock.test.ts.
 *
 * Scope: what Bedrock's Responses routes receive — header-signed requests (no presigned query), a body
 * hashed into `x-amz-content-sha256`. Wording of each refusal: see bedrock.ts.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignedRequest {
  method: string;
  /** The path as received on the wire (still percent-encoded), without the query. */
  path: string;
  query: URLSearchParams;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: Buffer;
}

export type Verdict =
  | { ok: true; credentials: AwsCredentials; signedHeaders: string[]; payloadHash: string }
  | {
      ok: false;
      reason:
        | "missing"
        | "malformed"
        | "unknown_key"
        | "bad_token"
        | "wrong_service"
        | "wrong_region"
        | "expired"
        | "body_hash"
        | "unsigned_payload"
        | "signature";
      /** For `expired`: the request's x-amz-date. */
      amzDate?: string;
    };

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 5 * 60 * 1000;

const sha256Hex = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string): Buffer => createHmac("sha256", key).update(data, "utf8").digest();

/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Non-S3 services encode the (already encoded) path once more, segment by segment. */
function canonicalPath(path: string): string {
  return path
    .split("/")
    .map((segment) => rfc3986(segment))
    .join("/");
}

function canonicalQuery(query: URLSearchParams): string {
  return [...query]
    .map(([key, value]) => [rfc3986(key), rfc3986(value)] as const)
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
}

/** `20260101T000000Z` → epoch ms (NaN when malformed). */
function amzDateMs(amzDate: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  return m === null ? Number.NaN : Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

export interface VerifyOptions {
  service: string;
  region: string;
  /** The credentials the simulated account knows, looked up by access key id. */
  known: (accessKeyId: string) => AwsCredentials | undefined;
  now: number;
  acceptUnsignedPayload: boolean;
}

/**
 * Recomputes the request's signature and compares it with the one sent.
 * @example verifySigV4(request, { service: "bedrock", region: "us-east-1", known, now: Date.now(), acceptUnsignedPayload: false })
 */
export function verifySigV4(request: SignedRequest, opts: VerifyOptions): Verdict {
  const authorization = request.headers.authorization;
  if (authorization === undefined || !authorization.startsWith("AWS4-HMAC-SHA256 ")) return { ok: false, reason: "missing" };
  const m = AUTH.exec(authorization);
  const amzDate = request.headers["x-amz-date"];
  if (m === null || amzDate === undefined) return { ok: false, reason: "malformed" };
  const [, accessKeyId, scopeDate, region, service, signedHeaderList, signature] = m as unknown as string[];
  const credentials = opts.known(accessKeyId!);
  if (credentials === undefined) return { ok: false, reason: "unknown_key" };
  if (credentials.sessionToken !== request.headers["x-amz-security-token"]) return { ok: false, reason: "bad_token" };
  if (service !== opts.service) return { ok: false, reason: "wrong_service" };
  if (region !== opts.region) return { ok: false, reason: "wrong_region" };
  const at = amzDateMs(amzDate);
  if (!(Math.abs(at - opts.now) <= MAX_SKEW_MS) || !amzDate.startsWith(scopeDate!)) return { ok: false, reason: "expired", amzDate };

  const signedHeaders = signedHeaderList!.split(";");
  const payloadHash = request.headers["x-amz-content-sha256"] ?? sha256Hex(request.body);
  if (payloadHash === "UNSIGNED-PAYLOAD") {
    if (!opts.acceptUnsignedPayload) return { ok: false, reason: "unsigned_payload" };
  } else if (payloadHash !== sha256Hex(request.body)) return { ok: false, reason: "body_hash" };
  // host, and every x-amz-* header sent, must be signed (AWS refuses a request that leaves them out).
  const mustSign = ["host", ...Object.keys(request.headers).filter((name) => name.startsWith("x-amz-"))];
  if (mustSign.some((name) => !signedHeaders.includes(name))) return { ok: false, reason: "signature" };

  const canonicalHeaders = signedHeaders.map((name) => `${name}:${(request.headers[name] ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
  const canonicalRequest = [
    request.method,
    canonicalPath(request.path),
    canonicalQuery(request.query),
    canonicalHeaders,
    signedHeaderList,
    payloadHash,
  ].join("\n");
  const scope = `${scopeDate}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, scopeDate!), region!), service!), "aws4_request");
  const expected = createHmac("sha256", key).update(stringToSign, "utf8").digest();
  if (!timingSafeEqual(expected, Buffer.from(signature!, "hex"))) return { ok: false, reason: "signature" };
  return { ok: true, credentials, signedHeaders, payloadHash };
}
