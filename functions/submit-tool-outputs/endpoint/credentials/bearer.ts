import type { CredentialKind } from "./credential-kind";

/**
 * A bearer token, `Authorization: Bearer …`: a direct OpenAI-compatible server (alone), or the provider's key behind
 * a self-hosted Portkey gateway (with PORTKEY_PROVIDER). Sends the message id as `X-Client-Request-Id`, the header
 * OpenAI's API reference ("Debugging requests") takes for a caller's own request id.
 */
export const bearerKind: CredentialKind<"ENDPOINT_BEARER_TOKEN"> = {
  name: "bearer",
  keys: ["ENDPOINT_BEARER_TOKEN"],
  uses: (c) => c.ENDPOINT_BEARER_TOKEN !== undefined,
  suffices: (c) => c.ENDPOINT_BEARER_TOKEN !== undefined,
  needs: "ENDPOINT_BEARER_TOKEN (a direct server)",
  authorizationLabel: "ENDPOINT_BEARER_TOKEN",
  traceHeader: "x-client-request-id",
  headers: (c): Record<string, string> => (c.ENDPOINT_BEARER_TOKEN ? { authorization: `Bearer ${c.ENDPOINT_BEARER_TOKEN}` } : {}),
};
