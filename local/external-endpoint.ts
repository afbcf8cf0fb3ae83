import { ENDPOINT_VARIABLES, loadEndpointConfig } from "../functions/submit-tool-outputs/config/config";
import type { RelayEnvironment } from "../functions/submit-tool-outputs/config/environment";
import { ConfigurationError, CredentialsError } from "../functions/submit-tool-outputs/config/errors";
import { endpointDestinations } from "../functions/submit-tool-outputs/dialects/index";
import { bedrockHost } from "../functions/submit-tool-outputs/endpoint/credentials/bedrock-host";
import {
  CREDENTIAL_KEYS,
  checkCredentialDestinations,
  parseCredentials,
  withImplied,
} from "../functions/submit-tool-outputs/endpoint/credentials/credentials";

/**
 * A real endpoint for the local stack, described by the function's own variables (docs/endpoints.md): hosted or
 * self-hosted Portkey, OpenAI or a compatible server, Azure AI Foundry with Entra ID. Any mode the function runs in.
 */
export interface ExternalEndpoint {
  /** The endpoint's variables as set (ENDPOINT_VARIABLES and the credential keys); they hold secrets: never print them. */
  env: RelayEnvironment;
  /** Where each API goes, for the operator (origins and paths only, no credential); no Assistants endpoint at Bedrock only. */
  endpointBaseUrl: URL | undefined;
  responsesBaseUrl: URL;
  /** When every call is signed with SigV4 (Amazon Bedrock): the service and region, for the operator. */
  sigV4?: { service: string; region: string };
  agentsBaseUrl: URL | undefined;
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
    const destinations = endpointDestinations(urls);
    const credentials = parseCredentials(withImplied(credentialsSet, destinations), "the environment");
    checkCredentialDestinations(credentials, destinations);
    const service = credentials.ENDPOINT_SIGV4_SERVICE;
    if (service === undefined) return { env: set, ...urls, credentialKeys: Object.keys(credentials) };
    const region = credentials.ENDPOINT_SIGV4_REGION ?? bedrockHost(urls.responsesBaseUrl.hostname)?.region ?? env.AWS_REGION;
    if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) {
      throw new EndpointSetupError(
        `no AWS credentials found to sign the calls to ${urls.responsesBaseUrl.host} (SigV4, service ${service}): export ` +
          "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), for example with " +
          'eval "$(aws configure export-credentials --format env)"',
      );
    }
    if (region === undefined)
      throw new EndpointSetupError(`no region to sign for ${urls.responsesBaseUrl.host}: set ENDPOINT_SIGV4_REGION`);
    // The relay reads the credentials from its environment on every call, as in Lambda: pass this shell's along.
    const aws = {
      AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
      AWS_SESSION_TOKEN: env.AWS_SESSION_TOKEN,
    };
    return { env: { ...set, ...aws }, ...urls, credentialKeys: Object.keys(credentials), sigV4: { service, region } };
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
