import { type ExternalEndpoint, externalEndpointFrom } from "./external-endpoint";
import { type LocalStack, startLocalStack } from "./local-stack";

/**
 * `npm start -- --serve`: the local stack kept running for the operator CLI, until Ctrl-C. Against the simulator, or
 * against any endpoint the function's own variables configure (external-endpoint.ts), checked before anything starts.
 * Prints the environment the CLI (or any SDK client) needs; never the endpoint keys.
 * @throws EndpointSetupError when the endpoint's variables are wrong or incomplete (start.ts exits 2).
 * @example await serveLocalStack(process.env);
 */
export async function serveLocalStack(env: Record<string, string | undefined>): Promise<void> {
  const endpoint = externalEndpointFrom(env);
  const stack = await startLocalStack({
    endpoint: endpoint ?? "simulator",
    // A real endpoint is slower: Lambda's own rule, a visibility timeout well above the function timeout.
    ...(endpoint ? { visibilityTimeoutSeconds: 180, functionTimeoutMs: 30_000 } : {}),
    onInvocation: (r) => {
      const failed = r.result === "ok" ? `${r.retained.length} handed back` : `invocation ${r.result}: the whole batch stays on the queue`;
      console.log(
        `${new Date().toISOString()}  invocation: ${r.messageIds.length} message${r.messageIds.length === 1 ? "" : "s"}, ${r.deleted.length} done, ${failed}`,
      );
    },
  });
  printEnvironment(stack, endpoint);

  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  console.log("\nstopping: finishing the batches in flight …");
  await stack.close();
}

function printEnvironment(stack: LocalStack, endpoint: ExternalEndpoint | undefined): void {
  const { aws } = stack;
  console.log(`tool-output-relay local stack is running (Ctrl-C stops it).
The relay talks to ${endpoint ? describe(endpoint) : `the endpoint simulator on ${stack.endpointBaseUrl}`}.

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
  const waiting = stack.sim.createRun({ toolCalls: 1, afterOutputs: [{ requiresAction: 1 }, "completed"] });
  const simple = stack.sim.createRun({ toolCalls: 2 });
  const mismatched = stack.sim.createRun({ toolCalls: 1 });
  const session = stack.sim.createSession({ toolCalls: 2 });
  const [first, second] = session.callIds as [string, string];
  console.log(`Three runs and an Agents session wait for tool outputs in the simulator. Try:

npx tool-output-relay tail
npx tool-output-relay send --thread ${simple.threadId} --run ${simple.runId} ${simple.toolCallIds.map((id) => `--output ${id}='{"temp":21}'`).join(" ")}
npx tool-output-relay send --thread ${waiting.threadId} --run ${waiting.runId} --output ${waiting.toolCallIds[0]}=sunny   # asks for a second round: see tail
npx tool-output-relay send --thread ${mismatched.threadId} --run ${mismatched.runId} --output call_wrong=x   # not the call it asked for: DLQ tool_call_mismatch
npx tool-output-relay send --session ${session.sessionId} --turn ${session.turnId} --output ${first}=sunny   # Agents: session.waiting (one call still open)
npx tool-output-relay send --session ${session.sessionId} --turn ${session.turnId} --error ${second}='order service down'   # session.turn_completed
npx tool-output-relay dlq list
`);
}

/** Where each API goes and with which credential keys: no query, no user info, no value. */
function describe(endpoint: ExternalEndpoint): string {
  const where = (url: URL) => `${url.origin}${url.pathname}`;
  const byUrl = new Map<string, string[]>();
  for (const [api, url] of [
    ["Assistants", endpoint.endpointBaseUrl],
    ["Responses", endpoint.responsesBaseUrl],
    ["Agents", endpoint.agentsBaseUrl],
  ] as const)
    byUrl.set(where(url), [...(byUrl.get(where(url)) ?? []), api]);
  const named = (names: string[]) =>
    names.length === 3 ? "every API" : names.length === 2 ? `${names.join(" and ")} APIs` : `${names[0]} API`;
  const apis = [...byUrl].map(([url, names]) => `${url} (${named(names)})`).join(" and ");
  return `your endpoint: ${apis}, with ${endpoint.credentialKeys.join(", ")}`;
}
