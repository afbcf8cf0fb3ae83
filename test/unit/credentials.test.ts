import { describe, expect, it } from "vitest";
import { credentialHeaders, loadCredentials, parseCredentials, usesEntraId } from "../../functions/submit-tool-outputs/credentials";
import { CredentialsError } from "../../functions/submit-tool-outputs/errors";

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
  ])("builds the headers for %s", (_, credentials, headers) => {
    expect(credentialHeaders(parseCredentials(credentials, "test"))).toEqual(headers);
  });

  it("reads them from the environment when no secret is configured", async () => {
    const credentials = await loadCredentials(undefined, { PORTKEY_API_KEY: "pk", PORTKEY_VIRTUAL_KEY: "vk", UNRELATED: "x" });
    expect(credentials).toEqual({ PORTKEY_API_KEY: "pk", PORTKEY_VIRTUAL_KEY: "vk" });
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
    expect(usesEntraId(credentials)).toBe(true);
    expect(credentialHeaders(credentials)).toEqual({});
    expect(usesEntraId(parseCredentials({ ENDPOINT_BEARER_TOKEN: "sk" }, "test"))).toBe(false);
  });

  it("are read from the environment like the others", async () => {
    const credentials = await loadCredentials(undefined, { ...entra, AZURE_TOKEN_SCOPE: "https://ai.azure.com/.default", HOME: "/x" });
    expect(credentials).toEqual({ ...entra, AZURE_TOKEN_SCOPE: "https://ai.azure.com/.default" });
  });

  it.each([
    ["without the secret", { AZURE_TENANT_ID: "t", AZURE_CLIENT_ID: "c" }, /Entra ID needs all of .* \(missing AZURE_CLIENT_SECRET\)/],
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
    expect(() => parseCredentials({}, "the environment")).toThrow(/or AZURE_TENANT_ID \+ AZURE_CLIENT_ID \+ AZURE_CLIENT_SECRET/);
    expect(() => parseCredentials({ ...entra, PORTKEY_API_KEY: "pk", PORTKEY_PROVIDER: "azure-openai" }, "test")).not.toThrow();
  });
});
