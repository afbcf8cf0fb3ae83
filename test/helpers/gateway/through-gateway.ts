/**
 * How the gateway tests talk to an upstream through the real gateway: the relay's own credential headers
 * (credentials.ts) plus the fixed headers its endpoint client sends, and a thin call wrapper.
 */
import { afterAll, beforeAll, beforeEach, expect } from "vitest";
import { CredentialsError } from "../../../functions/submit-tool-outputs/config/errors";
import {
  credentialHeaders,
  type EndpointCredentials,
  parseCredentials,
} from "../../../functions/submit-tool-outputs/endpoint/credentials/credentials";
import { type EndpointSimulator, type EndpointSimulatorOptions, startEndpointSimulator } from "../../../local/endpoint-simulator";
import { type PortkeyGateway, showGatewayOutputOnFailure, startPortkeyGateway } from "../portkey-gateway";
import { type Harness, type HarnessOptions, startHarness, TEST_API_KEY } from "../relay-harness";

/** The provider's key, as the simulator behind the gateway expects it in `Authorization: Bearer …`. */
export const PROVIDER_KEY = "sk-provider-5ecret-key-0000";

/** Headers of the self-hosted mode: PORTKEY_PROVIDER + ENDPOINT_BEARER_TOKEN + PORTKEY_CUSTOM_HOST, built by the relay's code. */
export function providerHeaders(customHost: string, extra: Record<string, string> = {}): Record<string, string> {
  return relayHeaders({ PORTKEY_PROVIDER: "openai", ENDPOINT_BEARER_TOKEN: PROVIDER_KEY, PORTKEY_CUSTOM_HOST: customHost }, extra);
}

/** What the relay's endpoint clients add to every call (endpoint-http.ts, assistants/client.ts). */
const CALL_HEADERS = { "openai-beta": "assistants=v2", accept: "application/json", "x-portkey-trace-id": "trace-gateway-test" };

/** The relay's headers for credentials it accepts, with what its endpoint clients add to every call. */
export function relayHeaders(credentials: EndpointCredentials, extra: Record<string, string> = {}): Record<string, string> {
  return { ...credentialHeaders(parseCredentials(credentials, "a gateway test")), ...CALL_HEADERS, ...extra };
}

/**
 * The headers credentials the relay refuses at cold start (credentials.ts) would give, to show what the gateway does
 * with them: the reason for the refusal. Fails the test if the relay would accept them after all.
 */
export function refusedCredentialHeaders(credentials: EndpointCredentials, extra: Record<string, string> = {}): Record<string, string> {
  expect(() => parseCredentials(credentials, "a gateway test")).toThrow(CredentialsError);
  return { ...credentialHeaders(credentials), ...CALL_HEADERS, ...extra };
}

/** `PORTKEY_CONFIG` for a self-hosted gateway: the provider, its key and (optionally) the upstream in one JSON. */
export function portkeyConfig(customHost?: string, apiKey = PROVIDER_KEY): string {
  return JSON.stringify({ provider: "openai", api_key: apiKey, ...(customHost ? { custom_host: customHost } : {}) });
}

export interface Call {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the text when it is not JSON. */
  body: any;
}

/** One request; a JSON body gets its content-type. */
export async function call(url: string, headers: Record<string, string>, init: { method?: string; body?: unknown } = {}): Promise<Call> {
  const body = init.body === undefined ? undefined : JSON.stringify(init.body);
  const response = await fetch(url, {
    method: init.method ?? (body === undefined ? "GET" : "POST"),
    headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: keep the text (the gateway's own network failures are text/plain).
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/**
 * Starts the real gateway and, behind it, the endpoint simulator expecting PROVIDER_KEY, once for the file (vitest
 * hooks); resets the simulator before each test, prints the gateway's output when a test fails, closes both after.
 * @example let gateway: PortkeyGateway; let sim: EndpointSimulator; useGatewayBeforeSimulator((s) => ({ gateway, sim } = s));
 */
export function useGatewayBeforeSimulator(onStart: (started: { gateway: PortkeyGateway; sim: EndpointSimulator }) => void): void {
  let started: { gateway: PortkeyGateway; sim: EndpointSimulator } | undefined;
  beforeAll(async () => {
    const [gateway, sim] = await Promise.all([
      startPortkeyGateway(),
      startEndpointSimulator({ apiKey: PROVIDER_KEY, apiKeyHeader: "authorization" }),
    ]);
    started = { gateway, sim };
    onStart(started);
  }, 60_000);
  afterAll(async () => {
    await started?.gateway.close();
    await started?.sim.close();
  });
  beforeEach(() => started?.sim.reset());
  showGatewayOutputOnFailure(() => started?.gateway);
}

/** Behind the gateway the simulator checks the provider key as Bearer; the gateway forwards no x-portkey-* header. */
const BEHIND_GATEWAY: EndpointSimulatorOptions = { apiKeyHeader: "authorization", virtualKey: undefined };

/**
 * The relay's self-hosted mode as a harness environment: the gateway as ENDPOINT_BASE_URL (and so the Responses
 * API's base URL), the harness's simulator as PORTKEY_CUSTOM_HOST, `credentials` over them.
 */
export const selfHostedThrough =
  (gateway: PortkeyGateway, credentials: Record<string, string> = {}) =>
  (sim: EndpointSimulator): Record<string, string> => ({
    ENDPOINT_BASE_URL: gateway.baseUrl,
    PORTKEY_PROVIDER: "openai",
    ENDPOINT_BEARER_TOKEN: TEST_API_KEY,
    PORTKEY_CUSTOM_HOST: sim.baseUrl,
    ...credentials,
  });

/** A relay harness whose simulator sits behind the gateway, for an environment of its own; closed by the caller. */
export const harnessThroughGateway = (endpoint: HarnessOptions["endpoint"], options: HarnessOptions = {}): Promise<Harness> =>
  startHarness({ ...options, simulator: BEHIND_GATEWAY, endpoint });

/**
 * Starts the real gateway and a relay harness in the self-hosted mode behind it, once for the file (vitest hooks);
 * clears the harness and resets its simulator before each test, prints the gateway's output when a test fails,
 * closes both after.
 * @example let gateway: PortkeyGateway; let h: Harness; useRelayThroughGateway({}, (s) => ({ gateway, h } = s));
 */
export function useRelayThroughGateway(options: HarnessOptions, onStart: (started: { gateway: PortkeyGateway; h: Harness }) => void): void {
  let started: { gateway: PortkeyGateway; h: Harness } | undefined;
  beforeAll(async () => {
    const gateway = await startPortkeyGateway();
    started = { gateway, h: await harnessThroughGateway(selfHostedThrough(gateway), options) };
    onStart(started);
  }, 60_000);
  afterAll(async () => {
    await started?.h.close();
    await started?.gateway.close();
  });
  beforeEach(async () => {
    started?.h.sim.reset();
    await started?.h.clear();
  });
  showGatewayOutputOnFailure(() => started?.gateway);
}
