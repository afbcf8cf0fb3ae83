/**
 * The simulator's Azure mode: Azure AI Foundry in front of the same run logic. Paths live under a project
 * endpoint, every call needs an Entra ID token minted by the loopback authority (entra-authority.ts), the
 * classic-agents routes need `api-version`, and a principal without the data-plane role is refused.
 *
 * Wording sources (shapes from Azure/azure-rest-api-specs, Azure.AI.Agents `stable/v1`, where it has them):
 * - missing api-version: `400 BadRequest: Missing required query parameter: api-version` (microsoft/agent-framework#5680);
 * - wrong one: `Unsupported api version '…'. The supported versions are '…'`, code UnsupportedApiVersionValue
 *   (Azure/azure-sdk-for-net#50120); an api-version on `/openai/v1`: `api-version query parameter is not allowed when
 *   using /v1 path`, code BadRequest (pydantic/pydantic-ai#5066);
 * - bad or expired token: `{statusCode: 401, message: "Unauthorized. Access token is missing, invalid, audience is
 *   incorrect (…), or have expired."}`, the Cognitive Services gateway's shape (not `{error: …}`), quoted in many issue
 *   threads for Azure OpenAI; the audience named here is Foundry's, assumed;
 * - missing role: 401 `{error: {code: "PermissionDenied", message: "The principal `…` lacks the required data action
 *   `Microsoft.CognitiveServices/accounts/AIServices/agents/read` to perform `GET /api/projects/{projectName}/…`
 *   operation. …"}}` (davrous/AzureAgentToM365#3, microsoft/microsoft-foundry-for-vscode#205).
 */
import { EntraAuthority, type EntraCounters } from "./entra-authority";
import type { Reply } from "./replies";
import type { AzureModeOptions, AzureSimulator, RunScript, SimulatorCounters } from "./types";

/** Which of Foundry's two surfaces a path belongs to. */
export type AzureApi = "agents" | "openai-v1";

const OPTION_KEYS = new Set([
  "tenantId",
  "clientId",
  "clientSecret",
  "apiVersion",
  "tokenLifetimeSeconds",
  "deniedClientIds",
  "projectName",
]);
/** Collections whose next path segment is an id, for the operation template PermissionDenied names. */
const ID_NAMES: Record<string, string> = {
  threads: "threadId",
  runs: "runId",
  steps: "stepId",
  messages: "messageId",
  responses: "responseId",
  conversations: "conversationId",
  items: "itemId",
};

function checkedOptions(options: AzureModeOptions): Required<AzureModeOptions> {
  const unknown = Object.keys(options).filter((key) => !OPTION_KEYS.has(key));
  if (unknown.length > 0) throw new TypeError(`endpoint simulator: unknown azure option(s) ${unknown.join(", ")}`);
  for (const key of ["tenantId", "clientId", "clientSecret"] as const) {
    if (typeof options[key] !== "string" || options[key] === "") throw new TypeError(`endpoint simulator: azure.${key} is required`);
  }
  const lifetime = options.tokenLifetimeSeconds ?? 3600;
  if (!(lifetime > 0)) throw new TypeError("endpoint simulator: azure.tokenLifetimeSeconds must be positive");
  const projectName = options.projectName ?? "sim-project";
  if (!/^[A-Za-z0-9_-]+$/.test(projectName)) throw new TypeError("endpoint simulator: azure.projectName must be [A-Za-z0-9_-]");
  return { apiVersion: "v1", deniedClientIds: [], ...options, tokenLifetimeSeconds: lifetime, projectName };
}

/** `/threads/thread_1/runs/run_2` → `/threads/{threadId}/runs/{runId}`, as Azure names operations. */
function operationTemplate(rest: string): string {
  const parts = rest.split("/");
  return parts
    .map((part, i) => (i > 0 && ID_NAMES[parts[i - 1]!] && !(part in ID_NAMES) ? `{${ID_NAMES[parts[i - 1]!]}}` : part))
    .join("/");
}

/** Azure's ThreadRun has no `incomplete` status: a script that asks for one is refused, not silently changed. */
export function azureScriptProblem(script: readonly RunScript[] | undefined): string | undefined {
  return script?.includes("incomplete") ? "Azure's RunStatus has no incomplete (script failed instead): refused in azure mode" : undefined;
}

export class AzureFrontDoor {
  readonly #options: Required<AzureModeOptions>;
  readonly #authority: EntraAuthority;
  readonly #counters: SimulatorCounters;
  readonly #prefix: string;

  constructor(options: AzureModeOptions, now: () => number, counters: SimulatorCounters & EntraCounters) {
    this.#options = checkedOptions(options);
    this.#counters = counters;
    this.#prefix = `/api/projects/${this.#options.projectName}`;
    const { tenantId, clientId, clientSecret, tokenLifetimeSeconds } = this.#options;
    this.#authority = new EntraAuthority({ tenantId, clientId, clientSecret, lifetimeSeconds: tokenLifetimeSeconds, now }, counters);
  }

  /** Entra's own routes at the server root (token, OpenID configuration); undefined for any other path. */
  identity(method: string, path: string, body: string, origin: string): Reply | undefined {
    return this.#authority.handle(method, path, body, origin);
  }

  /**
   * Maps a Foundry path to the simulator's route path: `{project}/threads/…` (classic agents) and
   * `{project}/openai/v1/…` (everything else, e.g. Responses) become `/v1/…`. Undefined: not a Foundry path.
   * @example frontDoor.resolve("/api/projects/sim-project/threads/t/runs/r") // { path: "/v1/threads/t/runs/r", api: "agents" }
   */
  resolve(path: string): { path: string; api: AzureApi } | undefined {
    const openai = `${this.#prefix}/openai/v1/`;
    if (path.startsWith(openai) && !path.startsWith(`${openai}threads`))
      return { path: `/v1/${path.slice(openai.length)}`, api: "openai-v1" };
    if (path.startsWith(`${this.#prefix}/threads`)) return { path: `/v1${path.slice(this.#prefix.length)}`, api: "agents" };
    return undefined;
  }

  /**
   * The checks Foundry makes before a request reaches a run, in this order: a valid token (401), the
   * api-version rule of the surface (400), the principal's data-plane role (401 PermissionDenied).
   * Any route calls it with the path as the client sent it. Undefined: let the request through.
   */
  check(method: string, path: string, api: AzureApi, query: URLSearchParams, headers: Record<string, string>): Reply | undefined {
    const token = this.#authority.check(headers.authorization);
    if (!token.valid) {
      this.#counters.tokensRejected += 1;
      return {
        status: 401,
        body: {
          statusCode: 401,
          message: "Unauthorized. Access token is missing, invalid, audience is incorrect (https://ai.azure.com), or have expired.",
        },
        headers: { "www-authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"' },
      };
    }
    const version = query.get("api-version");
    if (api === "agents" && version === null) return azureError(400, "BadRequest", "Missing required query parameter: api-version");
    if (api === "agents" && version !== this.#options.apiVersion) {
      return azureError(
        400,
        "UnsupportedApiVersionValue",
        `Unsupported api version '${version}'. The supported versions are '${this.#options.apiVersion}'`,
      );
    }
    if (api === "openai-v1" && version !== null) {
      return azureError(400, "BadRequest", "api-version query parameter is not allowed when using /v1 path");
    }
    if (this.#options.deniedClientIds.includes(token.clientId)) {
      this.#counters.permissionDenied += 1;
      const action = method === "GET" || method === "HEAD" ? "read" : "write";
      const operation = `${method} /api/projects/{projectName}${operationTemplate(path.slice(this.#prefix.length))}`;
      return azureError(
        401,
        "PermissionDenied",
        `The principal \`${token.clientId}\` lacks the required data action ` +
          `\`Microsoft.CognitiveServices/accounts/AIServices/agents/${action}\` to perform \`${operation}\` operation. ` +
          "For instructions on granting the necessary permissions, see https://aka.ms/FoundryPermissions.",
      );
    }
    return undefined;
  }

  /** Foundry's 404 for a path outside the project's surfaces. */
  notFound(): Reply {
    return azureError(404, "404", "Resource not found");
  }

  /**
   * Azure's error body (`AgentV1Error`) has every inner field nullable and not required: the route's
   * OpenAI-shaped errors lose their null fields, so clients meet `{error: {message, type}}` and the like.
   */
  shape(reply: Reply): Reply {
    const error = (reply.body as { error?: unknown } | undefined)?.error;
    if (reply.status < 400 || typeof error !== "object" || error === null) return reply;
    return { ...reply, body: { error: Object.fromEntries(Object.entries(error).filter(([, value]) => value !== null)) } };
  }

  /** What tests and the local stack read and do (see `EndpointSimulator.azure`). */
  controls(origin: string): AzureSimulator {
    return {
      authorityHost: origin,
      tenantId: this.#options.tenantId,
      projectEndpoint: `${origin}${this.#prefix}`,
      openaiBaseUrl: `${origin}${this.#prefix}/openai/v1`,
      apiVersion: this.#options.apiVersion,
      expireAllTokens: () => this.#authority.expireAll(),
    };
  }
}

function azureError(status: number, code: string, message: string): Reply {
  return { status, body: { error: { code, message } } };
}
