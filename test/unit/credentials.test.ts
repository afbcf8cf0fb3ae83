import { describe, expect, it } from "vitest";
import { credentialHeaders, loadCredentials, parseCredentials } from "../../functions/submit-tool-outputs/credentials";
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
