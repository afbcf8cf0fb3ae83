/**
 * What the stack needs to know about Amazon Bedrock's Responses API endpoints: which host (runtime or Mantle, and
 * its region) a `responsesBaseUrl` names, the regions that have a Mantle endpoint, and the model ids each endpoint
 * takes. The host parsing itself is the relay's (it implies the SigV4 service at cold start from the same rule).
 */
import { type BedrockHost, bedrockHost } from "../functions/submit-tool-outputs/endpoint/credentials/bedrock-host";

export type { BedrockHost } from "../functions/submit-tool-outputs/endpoint/credentials/bedrock-host";

/**
 * The regions with a bedrock-mantle endpoint, as AWS's endpoint list gave them in 2026-09 (docs/endpoints.md says
 * where to check). A Mantle URL in another region cannot be reached: synth refuses it rather than deploy a relay
 * whose every call fails to resolve.
 */
export const MANTLE_REGIONS = [
  "us-east-1",
  "us-east-2",
  "us-west-2",
  "ap-southeast-2",
  "ap-southeast-3",
  "ap-south-1",
  "ap-northeast-1",
  "eu-central-1",
  "eu-west-1",
  "eu-west-2",
  "eu-south-1",
  "eu-north-1",
  "sa-east-1",
  "us-gov-west-1",
] as const;

/**
 * Cross-region inference-profile ids start with a geography (`us.openai.gpt-5.6-sol`); runtime's Responses API
 * takes only those, Mantle takes bare model ids (`openai.gpt-oss-120b`).
 */
const PROFILE_ID = /^(us|eu|apac|jp|au|ca|us-gov|global)\.([a-z0-9-]+\.[A-Za-z0-9._:-]+)$/;
const MODEL_ID = /^[a-z0-9-]+\.[A-Za-z0-9._:-]+$/;

/**
 * The Bedrock endpoint `responsesBaseUrl` names, or undefined when it is not a Bedrock host.
 * @example bedrockSelection("https://bedrock-runtime.us-east-1.amazonaws.com/openai/v1") // { endpoint: "runtime", service: "bedrock", region: "us-east-1" }
 */
export function bedrockSelection(responsesBaseUrl: string | undefined): BedrockHost | undefined {
  if (responsesBaseUrl === undefined) return undefined;
  try {
    return bedrockHost(new URL(responsesBaseUrl).hostname);
  } catch {
    return undefined;
  }
}

/**
 * Why `models` cannot be used at `host`, or undefined.
 * @example bedrockModelsProblem(runtime, ["openai.gpt-5.6-sol"]) // "…runtime takes inference-profile ids…"
 */
export function bedrockModelsProblem(host: BedrockHost, models: readonly string[]): string | undefined {
  if (models.length === 0)
    return `must name the model ids the relay may use at Bedrock ${host.endpoint} (the role is granted exactly those)`;
  if (host.endpoint === "runtime") {
    const bare = models.filter((id) => !PROFILE_ID.test(id));
    if (bare.length > 0)
      return (
        `must be inference-profile ids at Bedrock runtime (such as us.openai.gpt-5.6-sol or global.openai.gpt-5.6-sol), ` +
        `which routes only those; not ${bare.join(", ")}`
      );
    return undefined;
  }
  const bad = models.filter((id) => !MODEL_ID.test(id));
  return bad.length > 0 ? `must be Bedrock model ids such as openai.gpt-oss-120b; not ${bad.join(", ")}` : undefined;
}

/**
 * The foundation model an inference profile routes to: `us.openai.gpt-5.6-sol` → `openai.gpt-5.6-sol`.
 * @example foundationModelOf("global.openai.gpt-5.6-sol") // "openai.gpt-5.6-sol"
 */
export function foundationModelOf(profileId: string): string {
  return PROFILE_ID.exec(profileId)?.[2] ?? profileId;
}
