/**
 * Amazon Bedrock's two Responses API hosts, and what a host name says: which endpoint, its SigV4 service, its
 * region. Pure and tiny: the relay's cold start (is this a Bedrock host? which service is implied?) and the CDK
 * stack (which IAM, which region) both read it.
 */

export type BedrockEndpointKind = "runtime" | "mantle";
export type SigV4Service = "bedrock" | "bedrock-mantle";

export interface BedrockHost {
  endpoint: BedrockEndpointKind;
  /** The SigV4 signing name: `bedrock` for runtime (not `bedrock-runtime`), `bedrock-mantle` for Mantle. */
  service: SigV4Service;
  region: string;
}

/** `bedrock-runtime[-fips].<region>.amazonaws.com` (`.com.cn` in China) and `bedrock-mantle.<region>.api.aws`. */
const RUNTIME = /^bedrock-runtime(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?$/;
const MANTLE = /^bedrock-mantle\.([a-z]{2}(?:-[a-z]+)+-\d)\.api\.aws$/;

/**
 * What a Bedrock host name says, or undefined for any other host.
 * @example bedrockHost("bedrock-mantle.eu-west-1.api.aws") // { endpoint: "mantle", service: "bedrock-mantle", region: "eu-west-1" }
 */
export function bedrockHost(hostname: string): BedrockHost | undefined {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  const runtime = RUNTIME.exec(host)?.[1];
  if (runtime !== undefined) return { endpoint: "runtime", service: "bedrock", region: runtime };
  const mantle = MANTLE.exec(host)?.[1];
  if (mantle !== undefined) return { endpoint: "mantle", service: "bedrock-mantle", region: mantle };
  return undefined;
}
