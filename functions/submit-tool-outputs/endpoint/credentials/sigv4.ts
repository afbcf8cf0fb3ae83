import { isLoopbackHost } from "../../config/config";
import { CredentialsError } from "../../config/errors";
import { bedrockHost } from "./bedrock-host";
import type { CredentialKind, RequestAuthorizer } from "./credential-kind";

type SigV4Key = "ENDPOINT_SIGV4_SERVICE" | "ENDPOINT_SIGV4_REGION";

const SERVICES = ["bedrock", "bedrock-mantle"] as const;
type Service = (typeof SERVICES)[number];
const isService = (name: string | undefined): name is Service => SERVICES.some((service) => service === name);
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
/** AWS's own hosts (and their PrivateLink names): where a signature made with the role's session may go. */
const AWS_HOST = /\.(amazonaws\.com(\.cn)?|api\.aws)$/;

/**
 * Amazon Bedrock with the environment's AWS credentials (the Lambda role's session): every call signed with SigV4
 * over its exact body, no key stored. ENDPOINT_SIGV4_SERVICE (`bedrock` for bedrock-runtime, `bedrock-mantle`) is
 * implied by a Bedrock host when no other credential is configured; ENDPOINT_SIGV4_REGION defaults to the called
 * host's region, else AWS_REGION. Both are read from the environment even when a secret holds the other keys.
 * The signer (@smithy/signature-v4) is loaded on first use only: deployments that do not sign never evaluate it.
 * No trace header: AWS logs its own request id.
 */
export const sigV4Kind: CredentialKind<SigV4Key> = {
  name: "sigv4",
  keys: ["ENDPOINT_SIGV4_SERVICE", "ENDPOINT_SIGV4_REGION"],
  environmentKeys: ["ENDPOINT_SIGV4_SERVICE", "ENDPOINT_SIGV4_REGION"],
  uses: (c) => c.ENDPOINT_SIGV4_SERVICE !== undefined,
  suffices: (c) => c.ENDPOINT_SIGV4_SERVICE !== undefined,
  needs: "ENDPOINT_SIGV4_SERVICE (Amazon Bedrock, signed with the function's AWS credentials; implied by a Bedrock host)",
  check(c, { authorization, problem }) {
    const service = c.ENDPOINT_SIGV4_SERVICE;
    if (service !== undefined && !isService(service))
      problem(`ENDPOINT_SIGV4_SERVICE must be ${SERVICES.join(" or ")} (the signing names of bedrock-runtime and bedrock-mantle)`);
    if (c.ENDPOINT_SIGV4_REGION !== undefined && !REGION.test(c.ENDPOINT_SIGV4_REGION))
      problem("ENDPOINT_SIGV4_REGION must be an AWS region such as us-east-1");
    if (service === undefined) {
      if (c.ENDPOINT_SIGV4_REGION !== undefined) problem("ENDPOINT_SIGV4_REGION needs ENDPOINT_SIGV4_SERVICE");
      return;
    }
    // Every call is signed, so any other credential would go along with the signature, or replace it.
    const others = [
      ...(authorization === undefined ? [] : [authorization]),
      ...Object.entries(c).flatMap(([key, value]) => (key.startsWith("PORTKEY_") && value !== undefined ? [key] : [])),
    ];
    if (others.length > 0)
      problem(
        `ENDPOINT_SIGV4_SERVICE and ${others.join(", ")} cannot be combined: with SigV4 every endpoint call is signed with the ` +
          "function's AWS credentials and carries no other credential; keep one (a Bedrock API key is ENDPOINT_BEARER_TOKEN without ENDPOINT_SIGV4_SERVICE)",
      );
  },
  implied(destinations) {
    const host = destinations.map(([, url]) => bedrockHost(url.hostname)).find((found) => found !== undefined);
    return host ? { ENDPOINT_SIGV4_SERVICE: host.service } : undefined;
  },
  // A signature made with the role's session (its token travels with it) goes to AWS only, and to the service it names.
  destinationProblem(c, variable, url) {
    const service = c.ENDPOINT_SIGV4_SERVICE;
    const host = bedrockHost(url.hostname);
    if (service === undefined) {
      // Bedrock takes SigV4 or its own API key (a bearer token): other keys would be sent to AWS for nothing.
      const others = Object.entries(c).flatMap(([key, value]) => (/^(PORTKEY|AZURE)_/.test(key) && value !== undefined ? [key] : []));
      if (host === undefined || others.length === 0) return undefined;
      return (
        `${others.join(", ")} would be sent to ${variable} (${url.host}), Amazon Bedrock, which takes the function's role ` +
        "(SigV4, no key) or a Bedrock API key (ENDPOINT_BEARER_TOKEN): remove them, or serve the other API from its own deployment"
      );
    }
    if (isLoopbackHost(url.hostname)) return undefined;
    if (host !== undefined && host.service !== service)
      return `ENDPOINT_SIGV4_SERVICE is ${service} but ${variable} (${url.host}) is Bedrock ${host.endpoint}, whose signing name is ${host.service}: fix one`;
    if (host === undefined && !AWS_HOST.test(url.hostname))
      return `ENDPOINT_SIGV4_SERVICE signs every call with the function's AWS credentials, and ${variable} (${url.host}) is not an AWS endpoint`;
    return undefined;
  },
  async authorizer(c, { env = process.env }) {
    const { sigV4Signer } = await import("./sigv4-signer");
    const service = c.ENDPOINT_SIGV4_SERVICE;
    // check() refused any other name when the credentials were read.
    if (!isService(service)) throw new CredentialsError(`ENDPOINT_SIGV4_SERVICE must be ${SERVICES.join(" or ")}`);
    const signers = new Map<string, ReturnType<typeof sigV4Signer>>();
    const authorizer: RequestAuthorizer = {
      async authorize(request) {
        // Explicit wins; else the called host's region (a Bedrock host names it); else the function's own.
        const region = c.ENDPOINT_SIGV4_REGION ?? bedrockHost(request.url.hostname)?.region ?? env.AWS_REGION;
        if (region === undefined)
          throw new CredentialsError(`no region to sign for ${request.url.host}: set ENDPOINT_SIGV4_REGION (or AWS_REGION)`, {
            details: { httpStatus: 401 },
          });
        let sign = signers.get(region);
        if (sign === undefined) {
          sign = sigV4Signer({ service, region, env });
          signers.set(region, sign);
        }
        return sign(request);
      },
    };
    return authorizer;
  },
};
