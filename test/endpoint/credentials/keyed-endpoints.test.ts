/**
 * The endpoint rows that authenticate with keys (docs/endpoints.md): hosted Portkey, a self-hosted Portkey gateway,
 * OpenAI or any compatible server. For each, both APIs through the real handler against the simulator playing that
 * endpoint: the calls go to the right URLs, carry exactly that row's credential headers and nothing else secret,
 * and the submission is accepted and reported.
 */
import { afterEach, describe, it } from "vitest";
import type { RelayEnvironment } from "../../../functions/submit-tool-outputs/config/environment";
import type { EndpointSimulatorOptions } from "../../../local/endpoint-simulator";
import { APIS, expectDeliveredAsPromised } from "../../helpers/endpoint-rows";
import { type Harness, startHarness, TEST_API_KEY, TEST_VIRTUAL_KEY } from "../../helpers/relay-harness";

const PROVIDER_KEY = "sk-provider-5ecret-key-1111";
const ON_V1 = { assistants: "/v1", responses: "/v1" };
const NO_QUERY = { assistants: "", responses: "" };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A harness whose simulator plays the row's endpoint, and the relay configured as the row says. */
async function row(simulator: EndpointSimulatorOptions, env: (baseUrl: string) => RelayEnvironment): Promise<Harness> {
  h = await startHarness({ simulator, endpoint: (sim) => env(sim.baseUrl) });
  return h;
}

/** The simulator as a gateway or server that takes the provider's key as a Bearer token. */
const bearerChecked = (provider: boolean): EndpointSimulatorOptions => ({
  apiKey: PROVIDER_KEY,
  apiKeyHeader: "authorization",
  // Presence of x-portkey-provider (or a virtual key) is checked when `virtualKey` is set.
  virtualKey: provider ? "any" : undefined,
});

describe("Portkey hosted", () => {
  it.each(APIS)("%s: x-portkey-api-key and x-portkey-virtual-key, no Authorization; accepted and reported", async (api) => {
    // Prepare
    const harness = await row({ apiKey: TEST_API_KEY, virtualKey: TEST_VIRTUAL_KEY }, (baseUrl) => ({
      ENDPOINT_BASE_URL: baseUrl,
      PORTKEY_API_KEY: TEST_API_KEY,
      PORTKEY_VIRTUAL_KEY: TEST_VIRTUAL_KEY,
    }));

    // Act, Assess
    await expectDeliveredAsPromised(harness, api, {
      basePath: ON_V1,
      search: NO_QUERY,
      traceHeader: "x-portkey-trace-id",
      credentials: { "x-portkey-api-key": TEST_API_KEY, "x-portkey-virtual-key": TEST_VIRTUAL_KEY },
    });
  });

  it.each(APIS)("%s with a Model Catalog provider (@slug): x-portkey-api-key and x-portkey-provider only", async (api) => {
    // Prepare
    const harness = await row({ apiKey: TEST_API_KEY, virtualKey: "any" }, (baseUrl) => ({
      ENDPOINT_BASE_URL: baseUrl,
      PORTKEY_API_KEY: TEST_API_KEY,
      PORTKEY_PROVIDER: "@openai-prod",
    }));

    // Act, Assess
    await expectDeliveredAsPromised(harness, api, {
      basePath: ON_V1,
      search: NO_QUERY,
      traceHeader: "x-portkey-trace-id",
      credentials: { "x-portkey-api-key": TEST_API_KEY, "x-portkey-provider": "@openai-prod" },
    });
  });
});

describe("Portkey self-hosted", () => {
  it.each(APIS)("%s with provider + bearer: x-portkey-provider and the provider's key as Bearer, no Portkey key", async (api) => {
    // Prepare
    const harness = await row(bearerChecked(true), (baseUrl) => ({
      ENDPOINT_BASE_URL: baseUrl,
      PORTKEY_PROVIDER: "openai",
      ENDPOINT_BEARER_TOKEN: PROVIDER_KEY,
    }));

    // Act, Assess
    await expectDeliveredAsPromised(harness, api, {
      basePath: ON_V1,
      search: NO_QUERY,
      traceHeader: "x-portkey-trace-id",
      credentials: { "x-portkey-provider": "openai", authorization: `Bearer ${PROVIDER_KEY}` },
    });
  });

  it.each(APIS)("%s with a custom host too: x-portkey-custom-host says where the gateway forwards", async (api) => {
    // Prepare
    const upstream = "http://127.0.0.1:8080/v1";
    const harness = await row(bearerChecked(true), (baseUrl) => ({
      ENDPOINT_BASE_URL: baseUrl,
      PORTKEY_PROVIDER: "openai",
      ENDPOINT_BEARER_TOKEN: PROVIDER_KEY,
      PORTKEY_CUSTOM_HOST: upstream,
    }));

    // Act, Assess
    await expectDeliveredAsPromised(harness, api, {
      basePath: ON_V1,
      search: NO_QUERY,
      traceHeader: "x-portkey-trace-id",
      credentials: { "x-portkey-provider": "openai", authorization: `Bearer ${PROVIDER_KEY}`, "x-portkey-custom-host": upstream },
    });
  });

  it.each(APIS)("%s with PORTKEY_CONFIG alone: x-portkey-config only (the key is in it), no Authorization", async (api) => {
    // Prepare
    const config = JSON.stringify({ provider: "openai", api_key: PROVIDER_KEY, custom_host: "http://127.0.0.1:8080/v1" });
    const harness = await row({ apiKey: undefined, virtualKey: undefined }, (baseUrl) => ({
      ENDPOINT_BASE_URL: baseUrl,
      PORTKEY_CONFIG: config,
    }));

    // Act, Assess
    await expectDeliveredAsPromised(harness, api, {
      basePath: ON_V1,
      search: NO_QUERY,
      traceHeader: "x-portkey-trace-id",
      credentials: { "x-portkey-config": config },
    });
  });
});

describe("OpenAI or any compatible server", () => {
  it.each(APIS)("%s: the key as Bearer and not one x-portkey-* credential", async (api) => {
    // Prepare
    const harness = await row(bearerChecked(false), (baseUrl) => ({ ENDPOINT_BASE_URL: baseUrl, ENDPOINT_BEARER_TOKEN: PROVIDER_KEY }));

    // Act, Assess
    await expectDeliveredAsPromised(harness, api, {
      basePath: ON_V1,
      search: NO_QUERY,
      traceHeader: "x-client-request-id",
      credentials: { authorization: `Bearer ${PROVIDER_KEY}` },
    });
  });

  it.each(APIS)("%s with api versions configured: each API's own api-version on every one of its calls", async (api) => {
    // Prepare
    const harness = await row(bearerChecked(false), (baseUrl) => ({
      ENDPOINT_BASE_URL: baseUrl,
      ENDPOINT_BEARER_TOKEN: PROVIDER_KEY,
      ENDPOINT_API_VERSION: "2024-05-01-preview",
      RESPONSES_API_VERSION: "2025-04-01-preview",
    }));

    // Act, Assess
    await expectDeliveredAsPromised(harness, api, {
      basePath: ON_V1,
      search: { assistants: "?api-version=2024-05-01-preview", responses: "?api-version=2025-04-01-preview" },
      traceHeader: "x-client-request-id",
      credentials: { authorization: `Bearer ${PROVIDER_KEY}` },
    });
  });
});
