import { describe, expect, it } from "vitest";
import { CredentialsError } from "../../../functions/submit-tool-outputs/config/errors";
import { endpointDestinations } from "../../../functions/submit-tool-outputs/dialects/index";
import {
  checkCredentialDestinations,
  credentialHeaders,
  kindsOf,
  loadCredentials,
  parseCredentials,
} from "../../../functions/submit-tool-outputs/endpoint/credentials/credentials";

describe("credentials", () => {
  it.each([
    ["hosted Portkey", { PORTKEY_API_KEY: "pk", PORTKEY_VIRTUAL_KEY: "vk" }, { "x-portkey-api-key": "pk", "x-portkey-virtual-key": "vk" }],
    [
      "a self-hosted gateway",
      { PORTKEY_PROVIDER: "openai", ENDPOINT_BEARER_TOKEN: "sk" },
      { "x-portkey-provider": "openai", authorization: "Bearer sk" },
    ],
    [
      "a self-hosted gateway in front of an OpenAI-compatible server",
      { PORTKEY_PROVIDER: "openai", PORTKEY_CUSTOM_HOST: "http://127.0.0.1:8080/v1", ENDPOINT_BEARER_TOKEN: "sk" },
      { "x-portkey-provider": "openai", "x-portkey-custom-host": "http://127.0.0.1:8080/v1", authorization: "Bearer sk" },
    ],
    ["a direct server", { ENDPOINT_BEARER_TOKEN: "sk" }, { authorization: "Bearer sk" }],
    [
      "a self-hosted gateway with PORTKEY_CONFIG alone (provider, key and custom host in it)",
      { PORTKEY_CONFIG: '{"provider":"openai","api_key":"sk","custom_host":"http://127.0.0.1:8080/v1"}' },
      { "x-portkey-config": '{"provider":"openai","api_key":"sk","custom_host":"http://127.0.0.1:8080/v1"}' },
    ],
    [
      "hosted Portkey with a Model Catalog provider (the provider's key stays in Portkey)",
      { PORTKEY_API_KEY: "pk", PORTKEY_PROVIDER: "@openai-prod" },
      { "x-portkey-api-key": "pk", "x-portkey-provider": "@openai-prod" },
    ],
  ])("builds the headers for %s", (_, credentials, headers) => {
    expect(credentialHeaders(parseCredentials(credentials, "test"))).toEqual(headers);
  });

  it("reads them from the environment when no secret is configured", async () => {
    const credentials = await loadCredentials(undefined, { PORTKEY_API_KEY: "pk", PORTKEY_VIRTUAL_KEY: "vk", UNRELATED: "x" });
    expect(credentials).toEqual({ PORTKEY_API_KEY: "pk", PORTKEY_VIRTUAL_KEY: "vk" });
  });

  it.each([
    ["a value that is not a string", { PORTKEY_API_KEY: 42, PORTKEY_VIRTUAL_KEY: "vk" }, /PORTKEY_API_KEY must be a non-empty string/],
    ["an empty value", { PORTKEY_API_KEY: "", PORTKEY_VIRTUAL_KEY: "vk" }, /PORTKEY_API_KEY must be a non-empty string/],
    ["a secret that is not an object", "pk-very-secret", /expected an object of keys, got string/],
    ["a list", ["pk-very-secret"], /expected an object of keys, got an array/],
    [
      "a key of Object's prototype",
      JSON.parse('{"__proto__":"x","PORTKEY_API_KEY":"pk","PORTKEY_VIRTUAL_KEY":"vk"}'),
      /unknown key\(s\) __proto__/,
    ],
  ])("refuses %s, naming the key and never the value", (_, value, problem) => {
    const attempt = () => parseCredentials(value, "the secret");
    expect(attempt).toThrow(CredentialsError);
    expect(attempt).toThrow(problem);
    expect(attempt).not.toThrow(/very-secret/);
  });

  it("keeps only the keys it knows, as strings", () => {
    const credentials = parseCredentials({ PORTKEY_API_KEY: "pk", PORTKEY_VIRTUAL_KEY: "vk", ENDPOINT_BEARER_TOKEN: undefined }, "test");
    expect(credentials).toStrictEqual({ PORTKEY_API_KEY: "pk", PORTKEY_VIRTUAL_KEY: "vk" });
  });

  it("names keys, never values, when the credentials are wrong", () => {
    const attempt = () => parseCredentials({ PORTKEY_VIRTUAL_KEY: "vk-very-secret", PORTKEY_APIKEY: "pk-very-secret" }, "the secret");
    expect(attempt).toThrow(CredentialsError);
    expect(attempt).toThrow(/PORTKEY_APIKEY/);
    expect(attempt).toThrow(/needs PORTKEY_API_KEY/);
    expect(attempt).not.toThrow(/very-secret/);
  });
});

describe("Entra ID credentials", () => {
  const entra = { AZURE_TENANT_ID: "tenant-1", AZURE_CLIENT_ID: "app-1", AZURE_CLIENT_SECRET: "entra-very-secret" };

  it("are enough on their own, with the optional authority host and scope, and add no static header", () => {
    // Act
    const credentials = parseCredentials({ ...entra, AZURE_AUTHORITY_HOST: "https://login.microsoftonline.us" }, "test");

    // Assess
    expect(kindsOf(credentials).map((kind) => kind.name)).toEqual(["entra"]);
    expect(credentialHeaders(credentials)).toEqual({});
    expect(kindsOf(parseCredentials({ ENDPOINT_BEARER_TOKEN: "sk" }, "test")).map((kind) => kind.name)).toEqual(["bearer"]);
  });

  it("are read from the environment like the others", async () => {
    const credentials = await loadCredentials(undefined, { ...entra, AZURE_TOKEN_SCOPE: "https://ai.azure.com/.default", HOME: "/x" });
    expect(credentials).toEqual({ ...entra, AZURE_TOKEN_SCOPE: "https://ai.azure.com/.default" });
  });

  it.each([
    [
      "without the secret",
      { AZURE_TENANT_ID: "t", AZURE_CLIENT_ID: "c" },
      /AZURE_CLIENT_SECRET is required with AZURE_TENANT_ID and AZURE_CLIENT_ID/,
    ],
    ["with the tenant only", { AZURE_TENANT_ID: "t" }, /AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are required with AZURE_TENANT_ID/],
    [
      "an authority host alone",
      { PORTKEY_API_KEY: "pk", AZURE_AUTHORITY_HOST: "https://x" },
      /AZURE_AUTHORITY_HOST need\(s\) AZURE_TENANT_ID/,
    ],
    ["with a bearer token too", { ...entra, ENDPOINT_BEARER_TOKEN: "sk" }, /both set the Authorization header/],
  ])("are refused %s, naming keys only", (_, value, problem) => {
    const attempt = () => parseCredentials(value, "the secret");
    expect(attempt).toThrow(CredentialsError);
    expect(attempt).toThrow(problem);
    expect(attempt).not.toThrow(/very-secret/);
  });

  it("count as the credential a deployment needs", () => {
    expect(() => parseCredentials({}, "the environment")).toThrow(
      /, AZURE_TENANT_ID \+ AZURE_CLIENT_ID \+ AZURE_CLIENT_SECRET \(Azure AI Foundry, Entra ID\) or ENDPOINT_SIGV4_SERVICE/,
    );
    expect(() => parseCredentials({ ...entra, PORTKEY_API_KEY: "pk", PORTKEY_PROVIDER: "azure-openai" }, "test")).not.toThrow();
  });
});

describe("rules from the gateway findings", () => {
  const config = '{"provider":"openai","api_key":"sk-very-secret","custom_host":"http://127.0.0.1:8080/v1"}';

  it.each([
    [
      "PORTKEY_CONFIG with ENDPOINT_BEARER_TOKEN (the gateway would use one key on /v1/responses, the other elsewhere)",
      { PORTKEY_CONFIG: config, ENDPOINT_BEARER_TOKEN: "sk-very-secret" },
      /PORTKEY_CONFIG and ENDPOINT_BEARER_TOKEN cannot be combined/,
    ],
    [
      "PORTKEY_CONFIG with Entra ID",
      { PORTKEY_CONFIG: config, AZURE_TENANT_ID: "t", AZURE_CLIENT_ID: "c", AZURE_CLIENT_SECRET: "entra-very-secret" },
      /PORTKEY_CONFIG and Entra ID \(AZURE_\*\) cannot be combined/,
    ],
    ["PORTKEY_PROVIDER without the provider's key", { PORTKEY_PROVIDER: "openai" }, /PORTKEY_PROVIDER needs ENDPOINT_BEARER_TOKEN/],
    [
      "PORTKEY_PROVIDER with a hosted key but no provider key (not a Model Catalog @slug)",
      { PORTKEY_API_KEY: "pk-very-secret", PORTKEY_PROVIDER: "openai" },
      /PORTKEY_PROVIDER needs ENDPOINT_BEARER_TOKEN/,
    ],
    [
      "PORTKEY_VIRTUAL_KEY without PORTKEY_API_KEY",
      { PORTKEY_VIRTUAL_KEY: "vk-very-secret", ENDPOINT_BEARER_TOKEN: "sk" },
      /PORTKEY_VIRTUAL_KEY needs PORTKEY_API_KEY/,
    ],
    [
      "PORTKEY_CUSTOM_HOST without PORTKEY_PROVIDER or PORTKEY_CONFIG",
      { PORTKEY_CUSTOM_HOST: "http://127.0.0.1:8080/v1", ENDPOINT_BEARER_TOKEN: "sk-very-secret" },
      /PORTKEY_CUSTOM_HOST needs PORTKEY_PROVIDER or PORTKEY_CONFIG/,
    ],
    [
      "a PORTKEY_CONFIG that asks the gateway to retry",
      { PORTKEY_CONFIG: '{"provider":"openai","api_key":"sk-very-secret","retry":{"attempts":2}}' },
      /PORTKEY_CONFIG sets retry: .*forks into two billed responses/,
    ],
  ])("refuse %s, naming keys only", (_, credentials, problem) => {
    // Act
    const attempt = () => parseCredentials(credentials, "the secret");

    // Assess
    expect(attempt).toThrow(CredentialsError);
    expect(attempt).toThrow(problem);
    expect(attempt).not.toThrow(/very-secret/);
  });

  it("let PORTKEY_CONFIG stand alone, with no PORTKEY_API_KEY beside it", () => {
    expect(parseCredentials({ PORTKEY_CONFIG: config }, "test")).toEqual({ PORTKEY_CONFIG: config });
  });
});

describe("where the credentials may be sent", () => {
  const urls = (endpoint: string, responses = endpoint) =>
    endpointDestinations({ endpointBaseUrl: new URL(endpoint), responsesBaseUrl: new URL(responses), agentsBaseUrl: new URL(endpoint) });
  const entra = { AZURE_TENANT_ID: "t", AZURE_CLIENT_ID: "c", AZURE_CLIENT_SECRET: "entra-very-secret" };
  const azure = "https://acme.services.ai.azure.com/api/projects/p";

  it.each([
    ["Entra ID to an Azure AI Foundry project, both APIs", entra, urls(azure, `${azure}/openai/v1`)],
    ["hosted Portkey keys to hosted Portkey", { PORTKEY_API_KEY: "pk", PORTKEY_VIRTUAL_KEY: "vk" }, urls("https://api.portkey.ai/v1")],
    ["Entra ID through hosted Portkey (its API key is there)", { ...entra, PORTKEY_API_KEY: "pk" }, urls("https://api.portkey.ai/v1")],
    ["a bearer to a direct server", { ENDPOINT_BEARER_TOKEN: "sk" }, urls("https://api.openai.com/v1")],
  ])("accept %s", (_, credentials, to) => {
    expect(() => checkCredentialDestinations(parseCredentials(credentials, "test"), to)).not.toThrow();
  });

  it.each([
    [
      "a Portkey key to Azure",
      { ...entra, PORTKEY_API_KEY: "pk-very-secret" },
      urls(azure),
      /PORTKEY_API_KEY would be sent to ENDPOINT_BASE_URL \(acme\.services\.ai\.azure\.com\), an Azure endpoint/,
    ],
    [
      "a Portkey config to Azure's Responses API",
      { PORTKEY_API_KEY: "pk-very-secret", PORTKEY_CONFIG: "pc-very-secret" },
      urls("https://api.portkey.ai/v1", `${azure}/openai/v1`),
      /PORTKEY_API_KEY and PORTKEY_CONFIG would be sent to RESPONSES_BASE_URL/,
    ],
    [
      "Entra ID to hosted Portkey without its key (ENDPOINT_BASE_URL left at its default)",
      entra,
      urls("https://api.portkey.ai/v1", `${azure}/openai/v1`),
      /ENDPOINT_BASE_URL is hosted Portkey .* which needs PORTKEY_API_KEY/,
    ],
    [
      "a provider's key to hosted Portkey without its key",
      { ENDPOINT_BEARER_TOKEN: "sk-very-secret" },
      urls("https://api.portkey.ai/v1"),
      /needs PORTKEY_API_KEY/,
    ],
  ])("refuse %s, naming keys and variables only", (_, credentials, to, problem) => {
    // Act
    const attempt = () => checkCredentialDestinations(parseCredentials(credentials, "test"), to);

    // Assess
    expect(attempt).toThrow(CredentialsError);
    expect(attempt).toThrow(problem);
    expect(attempt).not.toThrow(/very-secret/);
  });
});
