/**
 * What the relay refuses in a `PORTKEY_CONFIG`, at cold start, and why.
 *
 * A Portkey gateway (hosted or self-hosted, 1.15.2 in test/gateway/gateway-failures.test.ts) acts on its config
 * for every request, POSTs included, without knowing what a POST does:
 * - `retry` sends the POST again after a 5xx or 429, also one that came after the endpoint applied it;
 * - `strategy.mode: "fallback"` sends it again to the next target after a failure;
 * - `request_timeout` answers 408 at the timeout while the endpoint goes on and applies the POST.
 * For the Assistants API a second submission is refused by the run, but the Responses API has no such guard: the
 * same outputs sent twice on one previous response fork into two billed responses, and a gateway's 408 reads
 * as "not taken". The relay retries by itself, and looks first whether the earlier attempt was taken; a gateway
 * that retries blindly in front of it defeats that. So a config that asks for any of the three is refused, naming
 * the keys and where they are (never a value: the config holds the provider's `api_key`).
 *
 * A saved config's id (`pc-…`, hosted Portkey) cannot be read here: docs/endpoints.md says to keep these keys out.
 */

/** Keys, at any depth of `targets`, that make the gateway resend a POST or give up on one still being applied. */
const RESENDING_KEYS = ["retry", "request_timeout", "requestTimeout"] as const;

type ConfigNode = Record<string, unknown>;

const isNode = (value: unknown): value is ConfigNode => typeof value === "object" && value !== null && !Array.isArray(value);

/** Where the node's resending keys are, as `targets[1].retry`-like paths. */
function resendingKeys(node: ConfigNode, at: string): string[] {
  const found: string[] = [];
  for (const key of RESENDING_KEYS) {
    if (!(key in node)) continue;
    // `retry: { attempts: 0 }` asks for nothing; any other retry counts.
    const retry = node[key];
    if (key === "retry" && isNode(retry) && retry.attempts === 0) continue;
    found.push(`${at}${key}`);
  }
  const strategy = node.strategy;
  if (isNode(strategy) && strategy.mode === "fallback") found.push(`${at}strategy.mode "fallback"`);
  const targets = Array.isArray(node.targets) ? node.targets : [];
  targets.forEach((target, i) => {
    if (isNode(target)) found.push(...resendingKeys(target, `${at}targets[${i}].`));
  });
  return found;
}

/**
 * Why a `PORTKEY_CONFIG` value cannot be used, or undefined when it can (or is a saved config's id, unreadable here).
 * @example portkeyConfigProblem('{"provider":"openai","api_key":"…","retry":{"attempts":2}}') // "PORTKEY_CONFIG sets retry: …"
 */
export function portkeyConfigProblem(value: string): string | undefined {
  const text = value.trim();
  if (!text.startsWith("{")) return undefined;
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    return "PORTKEY_CONFIG starts like JSON but is not valid JSON (a saved config is given by its id, such as pc-abc123)";
  }
  if (!isNode(config)) return "PORTKEY_CONFIG must be a JSON object or a saved config's id";
  const found = resendingKeys(config, "");
  if (found.length === 0) return undefined;
  return (
    `PORTKEY_CONFIG sets ${found.join(", ")}: the gateway would send a POST again, or answer 408 while the endpoint still ` +
    "applies it, and a Responses-API submission sent twice forks into two billed responses. The relay retries by itself " +
    "after looking whether the first attempt was taken: remove these keys from the config"
  );
}
