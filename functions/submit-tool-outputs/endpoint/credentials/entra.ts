import { type CredentialKind, listed } from "./credential-kind";

/** The three keys an Entra ID client-credentials grant needs: all of them or none. */
export const ENTRA_KEYS = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"] as const;
/** Entra ID settings that mean nothing without the three keys. */
const ENTRA_SETTINGS = ["AZURE_AUTHORITY_HOST", "AZURE_TOKEN_SCOPE"] as const;

export type EntraKey = (typeof ENTRA_KEYS)[number] | (typeof ENTRA_SETTINGS)[number];

/**
 * Azure AI Foundry with Entra ID: AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET (optionally
 * AZURE_AUTHORITY_HOST, AZURE_TOKEN_SCOPE); a token per request from entra-token.ts, loaded only in this mode.
 * Sends the message id as `x-ms-client-request-id`, the client request id Azure's REST APIs document.
 */
export const entraKind: CredentialKind<EntraKey> = {
  name: "entra",
  keys: [...ENTRA_KEYS, ...ENTRA_SETTINGS],
  uses: (c) => ENTRA_KEYS.some((key) => c[key] !== undefined),
  suffices: (c) => ENTRA_KEYS.some((key) => c[key] !== undefined),
  needs: `${ENTRA_KEYS.join(" + ")} (Azure AI Foundry, Entra ID)`,
  authorizationLabel: "Entra ID (AZURE_*)",
  traceHeader: "x-ms-client-request-id",
  check(c, { problem }) {
    const set = ENTRA_KEYS.filter((key) => c[key] !== undefined);
    if (set.length > 0 && set.length < ENTRA_KEYS.length) {
      const missing = ENTRA_KEYS.filter((key) => c[key] === undefined);
      problem(`${listed(missing)} ${missing.length === 1 ? "is" : "are"} required with ${listed(set)} (Entra ID needs all three)`);
    }
    const orphans = ENTRA_SETTINGS.filter((key) => c[key] !== undefined);
    if (set.length === 0 && orphans.length > 0) problem(`${orphans.join(", ")} need(s) ${ENTRA_KEYS.join(", ")}`);
  },
  // Loaded here, on first use: other modes never evaluate the token code.
  async authorizer(c, { timeoutMs }) {
    const { entraAuthorizer, entraTokenSourceFromCredentials } = await import("./entra-token");
    return entraAuthorizer(entraTokenSourceFromCredentials(c, { timeoutMs }));
  },
};
