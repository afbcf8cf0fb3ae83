/**
 * The simulator's Bedrock mode: Amazon Bedrock's Responses API in front of the same response logic, on either
 * endpoint — runtime (`/openai/v1`, service `bedrock`, synchronous only) or Mantle (`/v1` or `/openai/v1` per
 * model, service `bedrock-mantle`). Every call must carry a SigV4 signature made with credentials the simulated
 * account knows (or a Bedrock API key, when `apiKeys` lists one); the signature is recomputed here from the
 * request as received (sigv4-verifier.ts, an implementation independent of the relay's signer).
 *
 * Wording sources:
 * - AWS's front-door refusals are `{"message": …}` with the code in `x-amzn-ErrorType` (the AWS JSON protocols):
 *   "Missing Authentication Token", "The security token included in the request is invalid.", "The request
 *   signature we calculated does not match the signature you provided. …", "Signature expired: … is now earlier
 *   than …", "Credential should be scoped to a valid region. ", "Credential should be scoped to correct service:
 *   '<service>'. " (the last two are what Bedrock answers a request signed for another service or region).
 * - IAM: 403 AccessDeniedException "User: <arn> is not authorized to perform: <action> on resource: <arn> because
 *   no identity-based policy allows the <action> action".
 * - Mantle's wrong path prefix: 400 ``{"code":"validation_error","message":"model `<id>` isn't supported on this
 *   route",…}`` (openai/openai-go#812); 401 `access_denied` "Berm is not enabled for this account" (BerriAI/litellm
 *   #30657); a 404 (openai/codex#23650, body unpublished: the 400's message is reused, an assumption).
 * - Runtime's 400 on `background: true` is documented without its text: the message here is ours.
 */
import { createHash } from "node:crypto";
import type { Reply } from "./replies";
import { type AwsCredentials, type SignedRequest, verifySigV4 } from "./sigv4-verifier";
import type { BedrockModeOptions, BedrockSimulator, SimulatorCounters } from "./types";

const OPTION_KEYS = new Set([
  "endpoint",
  "region",
  "credentials",
  "apiKeys",
  "modelPrefixes",
  "wrongRouteStatus",
  "deniedActions",
  "accountId",
  "roleName",
  "publicHost",
]);
const SIGNATURE_MISMATCH =
  "The request signature we calculated does not match the signature you provided. " +
  "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/** One authorized call, as IAM would evaluate it: the action and the resource it names. */
export interface BedrockCall {
  action: string;
  resource: string;
  principal: string;
}

function awsError(status: number, code: string, message: string): Reply {
  return {
    status,
    body: { message },
    headers: { "x-amzn-errortype": `${code}:http://internal.amazon.com/coral/com.amazon.coral.service/` },
  };
}

function mantleError(status: number, code: string, type: string, message: string): Reply {
  return { status, body: { error: { code, message, param: null, type } } };
}

function amzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

function checkedOptions(options: BedrockModeOptions): BedrockModeOptions {
  const unknown = Object.keys(options).filter((key) => !OPTION_KEYS.has(key));
  if (unknown.length > 0) throw new TypeError(`endpoint simulator: unknown bedrock option(s) ${unknown.join(", ")}`);
  if (options.endpoint !== "runtime" && options.endpoint !== "mantle")
    throw new TypeError("endpoint simulator: bedrock.endpoint must be runtime or mantle");
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(options.region))
    throw new TypeError(`endpoint simulator: bedrock.region ${options.region} is not a region`);
  return options;
}

export class BedrockFrontDoor {
  readonly #options: BedrockModeOptions;
  readonly #counters: SimulatorCounters;
  readonly #now: () => number;
  readonly #service: "bedrock" | "bedrock-mantle";
  readonly #account: string;
  #known: AwsCredentials[];
  readonly calls: BedrockCall[] = [];

  constructor(options: BedrockModeOptions, now: () => number, counters: SimulatorCounters) {
    this.#options = checkedOptions(options);
    this.#now = now;
    this.#counters = counters;
    this.#service = options.endpoint === "runtime" ? "bedrock" : "bedrock-mantle";
    this.#account = options.accountId ?? "123456789012";
    this.#known = [...(options.credentials ?? [])];
  }

  /**
   * Maps a Bedrock path to the simulator's `/v1/…` route path; undefined: not a path this endpoint serves.
   * @example runtime.resolve("/openai/v1/responses") // "/v1/responses"
   */
  resolve(path: string): { path: string; prefix: "/v1" | "/openai/v1" } | undefined {
    if (path.startsWith("/openai/v1/")) return { path: path.slice("/openai".length), prefix: "/openai/v1" };
    if (this.#options.endpoint === "mantle" && path.startsWith("/v1/")) return { path, prefix: "/v1" };
    return undefined;
  }

  /** AWS's 404 for a path outside the endpoint (an unknown operation). */
  notFound(): Reply {
    return awsError(404, "UnknownOperationException", "Not Found");
  }

  /**
   * The checks Bedrock makes before a request reaches a response, in this order: authentication (SigV4 or a
   * key), IAM, the model's route (Mantle), the endpoint's own limits (runtime: no background).
   * Undefined: let the request through.
   */
  check(request: SignedRequest, prefix: "/v1" | "/openai/v1", body: unknown): Reply | undefined {
    const authorization = request.headers.authorization ?? "";
    let principal: string;
    if (authorization.startsWith("Bearer ")) {
      if (!(this.#options.apiKeys ?? []).includes(authorization.slice("Bearer ".length))) {
        this.#counters.signaturesRejected += 1;
        return awsError(403, "UnrecognizedClientException", "The security token included in the request is invalid.");
      }
      principal = `arn:aws:iam::${this.#account}:user/bedrock-api-key`;
    } else {
      // Signed for the public name (a test that redirects the relay's calls here): the Host AWS would have seen.
      const publicHost = this.#options.publicHost;
      const received = publicHost === undefined ? request : { ...request, headers: { ...request.headers, host: publicHost } };
      const verdict = verifySigV4(received, {
        service: this.#service,
        region: this.#options.region,
        known: (id) => this.#known.find((c) => c.accessKeyId === id),
        now: this.#now(),
        acceptUnsignedPayload: false,
      });
      if (!verdict.ok) {
        this.#counters.signaturesRejected += 1;
        return this.#refusal(verdict.reason, verdict.amzDate);
      }
      this.#counters.signaturesVerified += 1;
      principal = `arn:aws:sts::${this.#account}:assumed-role/${this.#options.roleName ?? "relay-function-role"}/session`;
    }

    const post = request.method === "POST";
    const model = typeof body === "object" && body !== null ? (body as { model?: unknown }).model : undefined;
    const stream = typeof body === "object" && body !== null && (body as { stream?: unknown }).stream === true;
    const calls = this.#authorize(request, post, typeof model === "string" ? model : undefined, stream, principal);
    if ("status" in calls) return calls;

    if (post && this.#options.endpoint === "mantle" && typeof model === "string") {
      const served = this.#options.modelPrefixes?.[model];
      if (served !== undefined && served !== prefix) return this.#wrongRoute(model);
    }
    if (post && this.#options.endpoint === "runtime" && typeof body === "object" && body !== null) {
      if ((body as { background?: unknown }).background === true)
        return mantleError(400, "validation_error", "invalid_request_error", "background mode is not supported on this endpoint");
    }
    this.calls.push(...calls);
    return undefined;
  }

  /**
   * What IAM would check for this call: one action on each resource it names (a runtime inference checks the
   * inference profile, the foundation model it routes to and the default project, per AWS's Responses-on-runtime
   * guide); an AccessDeniedException reply when the action is denied.
   */
  #authorize(request: SignedRequest, post: boolean, model: string | undefined, stream: boolean, principal: string): BedrockCall[] | Reply {
    const region = this.#options.region;
    let action: string;
    let resources: string[];
    if (this.#options.endpoint === "runtime") {
      const project = `arn:aws:bedrock:${region}:${this.#account}:project/default`;
      const isCreate = post && request.path.endsWith("/responses");
      action = isCreate
        ? stream
          ? "bedrock:InvokeModelWithResponseStream"
          : "bedrock:InvokeModel"
        : post
          ? "bedrock:CancelInvoke"
          : "bedrock:GetInvoke";
      resources =
        isCreate && model !== undefined
          ? [
              `arn:aws:bedrock:${region}:${this.#account}:inference-profile/${model}`,
              `arn:aws:bedrock:${region}::foundation-model/${model.replace(/^(us|eu|apac|jp|au|ca|us-gov|global)\./, "")}`,
              // The project is checked for InvokeModel only (InvokeModelWithResponseStream has no project resource).
              ...(stream ? [] : [project]),
            ]
          : [project];
    } else {
      action = post ? "bedrock-mantle:CreateInference" : "bedrock-mantle:GetInference";
      resources = [`arn:aws:bedrock-mantle:${region}:${this.#account}:project/default`];
    }
    if ((this.#options.deniedActions ?? []).includes(action)) {
      return awsError(
        403,
        "AccessDeniedException",
        `User: ${principal} is not authorized to perform: ${action} on resource: ${resources[0]} because no identity-based policy allows the ${action} action`,
      );
    }
    return resources.map((resource) => ({ action, resource, principal }));
  }

  #wrongRoute(model: string): Reply {
    const status = this.#options.wrongRouteStatus ?? 400;
    if (status === 401) return mantleError(401, "access_denied", "permission_denied_error", "Berm is not enabled for this account");
    return mantleError(
      status,
      status === 404 ? "not_found" : "validation_error",
      "invalid_request_error",
      `model \`${model}\` isn't supported on this route`,
    );
  }

  #refusal(reason: string, requestDate: string | undefined): Reply {
    switch (reason) {
      case "missing":
        return awsError(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
      case "unknown_key":
      case "bad_token":
        return awsError(403, "UnrecognizedClientException", "The security token included in the request is invalid.");
      case "wrong_service":
        return awsError(403, "InvalidSignatureException", `Credential should be scoped to correct service: '${this.#service}'. `);
      case "wrong_region":
        return awsError(403, "InvalidSignatureException", "Credential should be scoped to a valid region. ");
      case "expired": {
        const now = this.#now();
        const at = requestDate ?? "";
        const early = at < amzDate(now);
        return awsError(
          403,
          "InvalidSignatureException",
          early
            ? `Signature expired: ${at} is now earlier than ${amzDate(now - 300_000)} (${amzDate(now)} - 5 min.)`
            : `Signature not yet current: ${at} is still later than ${amzDate(now + 300_000)} (${amzDate(now)} + 5 min.)`,
        );
      }
      default:
        return awsError(403, "InvalidSignatureException", SIGNATURE_MISMATCH);
    }
  }

  /** What tests and the local stack read and do (see `EndpointSimulator.bedrock`). */
  controls(origin: string): BedrockSimulator {
    const endpoint = this.#options.endpoint;
    return {
      endpoint,
      service: this.#service,
      region: this.#options.region,
      accountId: this.#account,
      baseUrl: `${origin}/openai/v1`,
      ...(endpoint === "mantle" ? { v1BaseUrl: `${origin}/v1` } : {}),
      setCredentials: (list) => {
        this.#known = [...list];
      },
      calls: this.calls,
    };
  }
}

/** The hex SHA-256 of a body, as `x-amz-content-sha256` carries it (for tests that tamper with requests). */
export function payloadHash(body: string): string {
  return createHash("sha256").update(body).digest("hex");
}
