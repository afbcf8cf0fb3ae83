import { ENDPOINT_VARIABLES, loadEndpointConfig } from "../functions/submit-tool-outputs/config/config";
import type { RelayEnvironment } from "../functions/submit-tool-outputs/config/environment";
import { ConfigurationError, CredentialsError } from "../functions/submit-tool-outputs/config/errors";
import { endpointDestinations } from "../functions/submit-tool-outputs/dialects/index";
import {
  CREDENTIAL_KEYS,
  checkCredentialDestinations,
  parseCredentials,
} from "../functions/submit-tool-outputs/endpoint/credentials/credentials";

/**
 * A real endpoint for the local stack, described by the function's own variables (docs/endpoints.md): hosted or
 * self-hosted Portkey, OpenAI or a compatible server, Azure AI Foundry with Entra ID. Any mode the function runs in.
 */
export interface ExternalEndpoint {
  /** The endpoint's variables as set (ENDPOINT_VARIABLES and the credential keys); they hold secrets: never print them. */
  env: RelayEnvironment;
  /** Where each API goes, for the operator (origins and paths only, no credential). */
  endpointBaseUrl: URL;
  responsesBaseUrl: URL;
  /** Which credentials are in use, by key name (never a value). */
  credentialKeys: string[];
}

/** The endpoint's variables are set but wrong or incomplete: the message names what to set, never a value. */
export class EndpointSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EndpointSetupError";
  }
}

const ENDPOINT_KEYS: readonly string[] = [...ENDPOINT_VARIABLES, ...CREDENTIAL_KEYS];

/**
 * The real endpoint the environment configures, checked by the function's own rules (config.ts, credentials.ts),
 * or undefined when none of its variables is set (the local stack then starts the simulator).
 * @throws EndpointSetupError naming the variable or key that is wrong or missing.
 * @example const endpoint = externalEndpointFrom(process.env); // { endpointBaseUrl, responsesBaseUrl, credentialKeys, env }
 */
export function externalEndpointFrom(env: Record<string, string | undefined>): ExternalEndpoint | undefined {
  const set = Object.fromEntries(ENDPOINT_KEYS.flatMap((key) => (env[key] ? [[key, env[key]]] : []))) as RelayEnvironment;
  if (Object.keys(set).length === 0) return undefined;
  try {
    const urls = loadEndpointConfig(set);
    const credentialsSet = Object.fromEntries(CREDENTIAL_KEYS.flatMap((key) => (set[key] ? [[key, set[key]]] : [])));
    const credentials = parseCredentials(credentialsSet, "the environment");
    checkCredentialDestinations(credentials, endpointDestinations(urls));
    return { env: set, ...urls, credentialKeys: Object.keys(credentials) };
  } catch (error) {
    if (error instanceof ConfigurationError || error instanceof CredentialsError) throw new EndpointSetupError(error.message);
    throw error;
  }
}

/**
 * True when the environment names a real endpoint: `npm start` (the demo, which needs the simulator) refuses then.
 * @example if (namesExternalEndpoint(process.env)) process.exit(2);
 */
export function namesExternalEndpoint(env: Record<string, string | undefined>): boolean {
  return ENDPOINT_KEYS.some((key) => Boolean(env[key]));
}
