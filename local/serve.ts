import { TUNING_VARIABLES } from "../functions/submit-tool-outputs/config/config";
import type { RelayEnvironment } from "../functions/submit-tool-outputs/config/environment";
import { bedrockHost } from "../functions/submit-tool-outputs/endpoint/credentials/bedrock-host";
import type { EndpointSimulator } from "./endpoint-simulator";
import { type ExternalEndpoint, externalEndpointFrom } from "./external-endpoint";
import { LOCAL_API_KEY, LOCAL_VIRTUAL_KEY, type LocalStack, startLocalStack } from "./local-stack";

/** The relay variables the local stack sets itself (from the resources it made): set in the shell, they are ignored. */
const SET_BY_THE_STACK = [
  "RESULTS_TOPIC_ARN",
  "DLQ_URL",
  "INPUT_QUEUE_URL",
  "MAX_RECEIVE_COUNT",
  "RELAY_STATE_TABLE",
  "RELAY_PAYLOAD_BUCKET",
  "ENDPOINT_SECRET_ARN",
] as const;

/**
 * The relay's tuning variables set in the shell, passed on to the relay (they win over the simulator's quick
 * defaults), and those set that the local stack sets itself, to be named as ignored.
 * @example relayVariablesFrom({ RESPONSES_UNCONFIRMED: "dead_letter", DLQ_URL: "x" }) // { passed: { RESPONSES_UNCONFIRMED: … }, ignored: ["DLQ_URL"] }
 */
export function relayVariablesFrom(env: Record<string, string | undefined>): { passed: RelayEnvironment; ignored: string[] } {
  const passed = Object.fromEntries(TUNING_VARIABLES.flatMap((name) => (env[name] !== undefined ? [[name, env[name]]] : [])));
  return { passed, ignored: SET_BY_THE_STACK.filter((name) => env[name] !== undefined) };
}

/** Something waiting in the simulator for the user to answer, and the CLI commands that do. */
export interface Seed {
  what: string;
  commands: string[];
}

/**
 * What `--serve` leaves waiting in the simulator, one entry per API (a new API adds its seed here): each with
 * ready-made CLI commands.
 */
export const SIMULATOR_SEEDS: ReadonlyArray<(sim: EndpointSimulator) => Seed> = [
  (sim) => {
    const simple = sim.createRun({ toolCalls: 2 });
    const waiting = sim.createRun({ toolCalls: 1, afterOutputs: [{ requiresAction: 1 }, "completed"] });
    const mismatched = sim.createRun({ toolCalls: 1 });
    return {
      what: "Assistants API: three runs wait for tool outputs",
      commands: [
        `npx tool-output-relay send --thread ${simple.threadId} --run ${simple.runId} ${simple.toolCallIds.map((id) => `--output ${id}='{"temp":21}'`).join(" ")}`,
        `npx tool-output-relay send --thread ${waiting.threadId} --run ${waiting.runId} --output ${waiting.toolCallIds[0]}=sunny   # asks for a second round: see tail`,
        `npx tool-output-relay send --thread ${mismatched.threadId} --run ${mismatched.runId} --output call_wrong=x   # not the call it asked for: DLQ tool_call_mismatch`,
      ],
    };
  },
  (sim) => {
    const turn = sim.createResponse({ toolCalls: 1, afterOutputs: [{ functionCalls: 1 }, "completed"] });
    return {
      what: "Responses API: a response waits for a function call's output",
      commands: [
        `npx tool-output-relay send --response ${turn.responseId} --output ${turn.callIds[0]}='{"temp":21}'   # asks for a second round: tail shows the reply to use`,
      ],
    };
  },
  (sim) => {
    const chat = sim.createResponse({ toolCalls: 2, conversation: true });
    return {
      what: "Responses API, conversation mode: a conversation's last turn waits for two outputs",
      commands: [
        `npx tool-output-relay send --conversation ${chat.conversationId} --model gpt-5-mini ${chat.callIds.map((id) => `--output ${id}=done`).join(" ")}`,
      ],
    };
  },
  (sim) => {
    const session = sim.createSession({ toolCalls: 2 });
    const [first, second] = session.callIds as [string, string];
    return {
      what: "Agents API: a session's turn waits for two function calls",
      commands: [
        `npx tool-output-relay send --session ${session.sessionId} --turn ${session.turnId} --output ${first}=sunny   # Agents: session.waiting (one call still open)`,
        `npx tool-output-relay send --session ${session.sessionId} --turn ${session.turnId} --error ${second}=service_unavailable   # session.turn_completed`,
      ],
    };
  },
];

/**
 * `npm start -- --serve`: the local stack kept running for the operator CLI, until Ctrl-C. Against the simulator, or
 * against any endpoint the function's own variables configure (external-endpoint.ts), checked before anything starts.
 * Prints the environment the CLI (or any SDK client) needs; never the endpoint keys.
 * @throws EndpointSetupError when the endpoint's variables are wrong or incomplete (start.ts exits 2).
 * @example await serveLocalStack(process.env);
 */
export async function serveLocalStack(env: Record<string, string | undefined>): Promise<void> {
  const endpoint = externalEndpointFrom(env);
  const variables = relayVariablesFrom(env);
  const stack = await startLocalStack({
    endpoint: endpoint ?? "simulator",
    env: variables.passed,
    // A real endpoint is slower: Lambda's own rule, a visibility timeout well above the function timeout.
    ...(endpoint ? { visibilityTimeoutSeconds: 180, functionTimeoutMs: 30_000 } : {}),
    onInvocation: (r) => {
      const failed = r.result === "ok" ? `${r.retained.length} handed back` : `invocation ${r.result}: the whole batch stays on the queue`;
      console.log(
        `${new Date().toISOString()}  invocation: ${r.messageIds.length} message${r.messageIds.length === 1 ? "" : "s"}, ${r.deleted.length} done, ${failed}`,
      );
    },
  });
  printEnvironment(stack, endpoint, variables);

  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  console.log("\nstopping: finishing the batches in flight …");
  await stack.close();
}

function printEnvironment(
  stack: LocalStack,
  endpoint: ExternalEndpoint | undefined,
  variables: ReturnType<typeof relayVariablesFrom>,
): void {
  const { aws } = stack;
  const passed = Object.keys(variables.passed);
  console.log(`tool-output-relay local stack is running (Ctrl-C stops it).
The relay talks to ${endpoint ? describe(endpoint) : `the endpoint simulator on ${stack.endpointBaseUrl}`}.
${passed.length > 0 ? `Relay variables from this shell: ${passed.join(", ")}.\n` : ""}${
  variables.ignored.length > 0 ? `Ignored (the local stack sets them to its own resources): ${variables.ignored.join(", ")}.\n` : ""
}
Paste into another shell to use the CLI (npx tool-output-relay …) or any AWS SDK client:

export AWS_ENDPOINT_URL=${aws.endpoint}
export AWS_REGION=${aws.region}
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export INPUT_QUEUE_URL=${aws.input.url}
export DLQ_URL=${aws.dlq.url}
export RESULTS_TOPIC_ARN=${aws.resultsTopicArn}
export RESULTS_QUEUE_URL=${aws.results.url}${stack.sim ? `\nexport ENDPOINT_SIMULATOR_URL=${stack.endpointBaseUrl}` : ""}
`);
  if (!stack.sim) return;
  const seeds = SIMULATOR_SEEDS.map((seed) => seed(stack.sim!));
  console.log(`The simulator takes Portkey's headers with local stand-in keys (not secrets), for the openai SDK or curl:
  x-portkey-api-key: ${LOCAL_API_KEY}
  x-portkey-virtual-key: ${LOCAL_VIRTUAL_KEY}

${seeds.map((seed) => `${seed.what}. Try:\n${seed.commands.join("\n")}`).join("\n\n")}

npx tool-output-relay tail
npx tool-output-relay dlq list
`);
}

/** Where each API goes and with which credential keys: no query, no user info, no value. */
function describe(endpoint: ExternalEndpoint): string {
  const where = (url: URL) => `${url.origin}${url.pathname}`;
  const { sigV4 } = endpoint;
  const byUrl = new Map<string, string[]>();
  const unconfigured: string[] = [];
  for (const [api, url] of [
    ["Assistants", endpoint.endpointBaseUrl],
    ["Responses", endpoint.responsesBaseUrl],
    ["Agents", endpoint.agentsBaseUrl],
  ] as const) {
    if (url === undefined) unconfigured.push(api);
    else byUrl.set(where(url), [...(byUrl.get(where(url)) ?? []), api]);
  }
  const named = (names: string[]) =>
    names.length === 3 ? "every API" : names.length === 2 ? `${names.join(" and ")} APIs` : `${names[0]} API`;
  const apis =
    [...byUrl].map(([url, names]) => `${url} (${named(names)})`).join(" and ") +
    (unconfigured.length > 0 ? `; ${unconfigured.join(" and ")} messages go to the DLQ as api_not_configured` : "");
  if (sigV4 !== undefined) {
    const bedrock = bedrockHost(endpoint.responsesBaseUrl.hostname);
    const name = bedrock === undefined ? "your endpoint" : `Amazon Bedrock ${bedrock.endpoint}`;
    return `${name}: ${apis}, every call signed with SigV4 (service ${sigV4.service}, region ${sigV4.region}) with this shell's AWS credentials`;
  }
  return `your endpoint: ${apis}, with ${endpoint.credentialKeys.join(", ")}`;
}
