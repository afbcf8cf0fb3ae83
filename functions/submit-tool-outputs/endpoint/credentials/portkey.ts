import { type CredentialKind, listed } from "./credential-kind";
import { portkeyConfigProblem } from "./portkey-config";

type PortkeyKey = "PORTKEY_API_KEY" | "PORTKEY_VIRTUAL_KEY" | "PORTKEY_PROVIDER" | "PORTKEY_CONFIG" | "PORTKEY_CUSTOM_HOST";

/** Keys sent as `x-portkey-*` headers that are secrets (or hold one): they must never reach Azure. */
const PORTKEY_SECRETS = ["PORTKEY_API_KEY", "PORTKEY_VIRTUAL_KEY", "PORTKEY_CONFIG"] as const;

/** Azure's public and sovereign clouds: Azure AI Foundry, Azure OpenAI and Cognitive Services hosts end so. */
const AZURE_HOST = /\.azure\.(com|us|cn)$/i;
const HOSTED_PORTKEY = "api.portkey.ai";

/** Each key, and the header it is sent as. */
const HEADER_OF = [
  ["PORTKEY_API_KEY", "x-portkey-api-key"],
  ["PORTKEY_VIRTUAL_KEY", "x-portkey-virtual-key"],
  ["PORTKEY_PROVIDER", "x-portkey-provider"],
  ["PORTKEY_CONFIG", "x-portkey-config"],
  ["PORTKEY_CUSTOM_HOST", "x-portkey-custom-host"],
] as const;

/**
 * Portkey, hosted (PORTKEY_API_KEY + PORTKEY_VIRTUAL_KEY, or a Model Catalog PORTKEY_PROVIDER `@slug`, or PORTKEY_CONFIG)
 * or a self-hosted gateway (PORTKEY_PROVIDER with the provider's key in `Authorization`, PORTKEY_CUSTOM_HOST when the
 * provider is an OpenAI-compatible server at its own URL; or PORTKEY_CONFIG alone). Sends the message id as
 * `x-portkey-trace-id`, so a submission can be found in Portkey's logs.
 */
export const portkeyKind: CredentialKind<PortkeyKey> = {
  name: "portkey",
  keys: ["PORTKEY_API_KEY", "PORTKEY_VIRTUAL_KEY", "PORTKEY_PROVIDER", "PORTKEY_CONFIG", "PORTKEY_CUSTOM_HOST"],
  uses: (c) => HEADER_OF.some(([key]) => c[key] !== undefined),
  suffices: (c) => c.PORTKEY_API_KEY !== undefined || c.PORTKEY_CONFIG !== undefined,
  needs: "PORTKEY_API_KEY (hosted Portkey), PORTKEY_CONFIG or PORTKEY_PROVIDER + ENDPOINT_BEARER_TOKEN (a self-hosted gateway)",
  traceHeader: "x-portkey-trace-id",
  check(c, { authorization, problem }) {
    // A gateway takes the key from the config's api_key on its explicit routes (POST /v1/responses) and from
    // Authorization on the routes it proxies (threads, conversations): with both, two keys would be in use.
    if (c.PORTKEY_CONFIG !== undefined && authorization !== undefined) {
      problem(
        `PORTKEY_CONFIG and ${authorization} cannot be combined: a Portkey gateway takes the provider's key from the config's ` +
          "api_key on POST /v1/responses but from the Authorization header on the routes it proxies; keep one",
      );
    }
    // Hosted Portkey's Model Catalog providers (`@slug`) keep the provider's key in Portkey; any other provider needs it here.
    const catalogProvider = c.PORTKEY_PROVIDER?.startsWith("@") === true && c.PORTKEY_API_KEY !== undefined;
    if (c.PORTKEY_PROVIDER !== undefined && authorization === undefined && !catalogProvider) {
      problem(
        "PORTKEY_PROVIDER needs ENDPOINT_BEARER_TOKEN (the provider's key, sent as Authorization), unless it names a " +
          "hosted Portkey Model Catalog provider (@slug) with PORTKEY_API_KEY",
      );
    }
    if (c.PORTKEY_VIRTUAL_KEY !== undefined && c.PORTKEY_API_KEY === undefined) {
      problem("PORTKEY_VIRTUAL_KEY needs PORTKEY_API_KEY (virtual keys live in hosted Portkey)");
    }
    if (c.PORTKEY_CUSTOM_HOST !== undefined && c.PORTKEY_PROVIDER === undefined && c.PORTKEY_CONFIG === undefined) {
      problem("PORTKEY_CUSTOM_HOST needs PORTKEY_PROVIDER or PORTKEY_CONFIG (it says where the gateway sends the provider's calls)");
    }
    const config = c.PORTKEY_CONFIG === undefined ? undefined : portkeyConfigProblem(c.PORTKEY_CONFIG);
    if (config !== undefined) problem(config);
  },
  // Portkey keys to an Azure host (Azure AI Foundry takes Entra ID only, and would be sent the keys), and any
  // credentials without PORTKEY_API_KEY to hosted Portkey, which needs it: that is a base URL left at its default,
  // and the provider's key or the Entra ID token would be sent to Portkey.
  destinationProblem(c, variable, url) {
    const secrets = PORTKEY_SECRETS.filter((key) => c[key] !== undefined);
    if (AZURE_HOST.test(url.hostname) && secrets.length > 0) {
      return (
        `${listed(secrets)} would be sent to ${variable} (${url.host}), an Azure endpoint that takes Entra ID ` +
        `(AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET) only: remove the Portkey keys, or point ${variable} at your Portkey gateway`
      );
    }
    if (url.hostname === HOSTED_PORTKEY && c.PORTKEY_API_KEY === undefined) {
      return (
        `${variable} is hosted Portkey (${url.host}; ENDPOINT_BASE_URL defaults to it), which needs PORTKEY_API_KEY: set it, or point ` +
        `${variable} at your endpoint (a self-hosted gateway, a direct server, an Azure AI Foundry project)`
      );
    }
    return undefined;
  },
  headers(c) {
    const headers: Record<string, string> = {};
    for (const [key, header] of HEADER_OF) {
      const value = c[key];
      if (value) headers[header] = value;
    }
    return headers;
  },
};
