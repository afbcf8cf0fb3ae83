/**
 * How a failed Entra ID token request is reported: the variable to look at, the HTTP status and the AADSTS
 * code, never a value (not the secret, not the token, not Entra's error_description, which names the app).
 */
import * as z from "zod/mini";
import { CredentialsError } from "../../config/errors";
import { lazySchema } from "../../config/lazy-schema";

/**
 * No token could be had. A CredentialsError, so the relay treats it as configuration (the batch goes back
 * to SQS, the relay alarms). Names the variable, the HTTP status and the AADSTS code; never a value.
 */
export class EntraTokenError extends CredentialsError {
  constructor(
    message: string,
    /** The variable to look at, e.g. `AZURE_CLIENT_SECRET`. */
    readonly variable: string,
    override readonly details: {
      httpStatus?: number;
      /** e.g. `AADSTS7000215` (invalid client secret). */
      aadCode?: string;
      /** True for an outage of the token endpoint (5xx, 429, network, timeout) rather than wrong settings. */
      transient?: boolean;
    } = {},
  ) {
    super(message, { details });
  }
}

/** AADSTS codes that point at one variable (from Entra's error-code reference); others name all three. */
const VARIABLE_BY_AAD_CODE: Record<number, string> = {
  7000215: "AZURE_CLIENT_SECRET", // invalid client secret
  7000222: "AZURE_CLIENT_SECRET", // expired client secret
  7000216: "AZURE_CLIENT_SECRET", // client_secret missing
  7000218: "AZURE_CLIENT_SECRET",
  700016: "AZURE_CLIENT_ID", // application not found in the directory
  90002: "AZURE_TENANT_ID", // tenant not found
  900023: "AZURE_TENANT_ID", // tenant identifier malformed
  90013: "AZURE_TENANT_ID",
  70011: "AZURE_TOKEN_SCOPE", // scope not valid
  1002012: "AZURE_TOKEN_SCOPE", // client credentials need `/.default`
  500011: "AZURE_TOKEN_SCOPE", // resource principal not found in the tenant
};
export const ALL_ENTRA_KEYS = "AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET";

/** The fields of Entra's error body the relay reads; another shape, or a field of another type, reads as absent. */
const EntraErrorBody = lazySchema(() =>
  z.catch(
    z.object({ error: z.catch(z.optional(z.unknown()), undefined), error_codes: z.catch(z.optional(z.array(z.unknown())), undefined) }),
    {},
  ),
);

/**
 * The failure of a token request that Entra answered with an error body.
 * @example refusal(401, { error: "invalid_client", error_codes: [7000215] }).variable // "AZURE_CLIENT_SECRET"
 */
export function refusal(status: number, body: unknown): EntraTokenError {
  const fields = EntraErrorBody.parse(body);
  const first = fields.error_codes?.[0];
  const firstCode = typeof first === "number" && Number.isInteger(first) ? first : undefined;
  // Only OAuth's fixed vocabulary (invalid_client, …) is repeated; error_description may name the app and is left out.
  const oauthError = typeof fields.error === "string" && /^[a-z_]{1,40}$/.test(fields.error) ? ` ${fields.error}` : "";
  const aadCode = firstCode === undefined ? undefined : `AADSTS${firstCode}`;
  const transient = status >= 500 || status === 429;
  const variable =
    firstCode !== undefined && VARIABLE_BY_AAD_CODE[firstCode] !== undefined
      ? VARIABLE_BY_AAD_CODE[firstCode]
      : transient || status === 404
        ? "AZURE_AUTHORITY_HOST"
        : ALL_ENTRA_KEYS;
  const what = transient ? "the token endpoint failed" : `check ${variable}`;
  return new EntraTokenError(
    `Entra ID token request refused: HTTP ${status}${oauthError}${aadCode ? ` (${aadCode})` : ""}; ${what}`,
    variable,
    { httpStatus: status, aadCode, transient },
  );
}
