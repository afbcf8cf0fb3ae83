/**
 * `npm start -- --serve` against any endpoint the function's own variables configure, spawned as a user runs it:
 * Azure AI Foundry with Entra ID (the simulator in Azure mode) and a self-hosted Portkey gateway (the real one, in
 * front of the simulator). A message sent to the printed queue is relayed and its result published; wrong or missing
 * endpoint variables stop it before anything starts, with a message naming them, and exit code 2.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { runCli } from "../../cli/main";
import { drainQueue } from "../../cli/queue-io";
import { responseAnswerFor } from "../../fixtures/messages";
import { ENDPOINT_VARIABLES } from "../../functions/submit-tool-outputs/config/config";
import { readPublishedResult } from "../../functions/submit-tool-outputs/dialects/index";
import { CREDENTIAL_KEYS } from "../../functions/submit-tool-outputs/endpoint/credentials/credentials";
import { type EndpointSimulator, startEndpointSimulator } from "../../local/endpoint-simulator";
import { LOCAL_API_KEY, LOCAL_VIRTUAL_KEY } from "../../local/local-stack";
import { relayVariablesFrom } from "../../local/serve";
import { azureVariables } from "../helpers/endpoint-rows";
import { answerFor } from "../helpers/local/helpers";
import { type PortkeyGateway, startPortkeyGateway } from "../helpers/portkey-gateway";

const tsx = join(process.cwd(), "node_modules", "tsx", "dist", "cli.mjs");
const PROVIDER_KEY = "sk-provider-5ecret-key-2222";
const AZURE_APP = { tenantId: "tenant-contoso", clientId: "app-relay-1", clientSecret: "entra-5ecret-value-2222" };

/** The test process's environment without any endpoint variable, plus `endpoint`. */
function environment(endpoint: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !([...ENDPOINT_VARIABLES, ...CREDENTIAL_KEYS] as string[]).includes(key)),
  );
  return { ...clean, ...endpoint };
}

interface Served {
  child: ChildProcess;
  stdout: () => string;
  /** The `export NAME=value` lines it printed. */
  exported: Record<string, string>;
}

const serving: ChildProcess[] = [];
afterEach(async () => {
  for (const child of serving.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  }
});

/** Spawns `npm start -- --serve` and waits for the env lines it prints once the stack runs. */
async function serve(endpoint: Record<string, string>): Promise<Served> {
  const child = spawn(process.execPath, [tsx, "local/start.ts", "--serve"], {
    env: environment(endpoint),
    stdio: ["ignore", "pipe", "pipe"],
  });
  serving.push(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")));
  await vi.waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}: ${err}`);
      expect(out).toContain("export RESULTS_QUEUE_URL=");
    },
    { timeout: 60_000, interval: 100 },
  );
  const exported = Object.fromEntries([...out.matchAll(/^export ([A-Z_]+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  return { child, stdout: () => out, exported };
}

/**
 * Sends the outputs of a fresh run (and, with `responses`, of a fresh response) to the served stack's queue; resolves
 * to the published `api status` of each, in the order sent.
 */
async function relayThrough(served: Served, sim: EndpointSimulator, responses = false): Promise<string[]> {
  const sqs = new SQSClient({
    endpoint: served.exported.AWS_ENDPOINT_URL,
    region: served.exported.AWS_REGION,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  try {
    const messages = [answerFor(sim.createRun({ toolCalls: 1 })), ...(responses ? [responseAnswerFor(sim.createResponse())] : [])];
    for (const message of messages) {
      await sqs.send(new SendMessageCommand({ QueueUrl: served.exported.INPUT_QUEUE_URL, MessageBody: JSON.stringify(message) }));
    }
    const seen: string[] = [];
    await vi.waitFor(
      async () => {
        seen.push(
          ...(await drainQueue(sqs, served.exported.RESULTS_QUEUE_URL!))
            .map((m) => readPublishedResult(m).event)
            .map((e) => `${e.api} ${e.status}`),
        );
        expect(seen).toHaveLength(messages.length);
      },
      { timeout: 30_000, interval: 200 },
    );
    return seen.sort();
  } finally {
    sqs.destroy();
  }
}

/** Ctrl-C, as a user stops it; resolves to the exit code. */
async function stop(served: Served): Promise<number | null> {
  const exited = once(served.child, "exit");
  served.child.kill("SIGINT");
  const [code] = (await exited) as [number | null];
  return code;
}

/** The `npx tool-output-relay …` commands a served stack printed, as argv (comments dropped, quotes removed). */
function printedCommands(stdout: string): string[][] {
  return [...stdout.matchAll(/^npx tool-output-relay (send .+)$/gm)].map((m) =>
    m[1]!
      .split("   #")[0]!
      .trim()
      .split(/\s+/)
      .map((token) => token.replace(/'/g, "")),
  );
}

describe("npm start -- --serve with the simulator", () => {
  it("seeds every API, prints the simulator's keys and commands that work as printed, and passes on the shell's relay variables", async () => {
    // Prepare
    const served = await serve({ RESPONSES_UNCONFIRMED: "dead_letter", DLQ_URL: "http://127.0.0.1:1/elsewhere" });
    await vi.waitFor(() => expect(served.stdout()).toContain("npx tool-output-relay dlq list"), { timeout: 30_000 });
    const env: Record<string, string> = { ...served.exported, AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local" };
    const commands = printedCommands(served.stdout());

    // Act: each printed send command, run as printed.
    const codes: number[] = [];
    const errors: string[] = [];
    // The CLI's AWS SDK reads credentials from the process's environment, as a user's shell gives them.
    vi.stubEnv("AWS_ACCESS_KEY_ID", "local");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "local");
    for (const argv of commands) codes.push(await runCli(argv, { env, out: () => undefined, err: (line) => errors.push(line) }));
    expect(errors).toEqual([]);
    const sqs = new SQSClient({
      endpoint: env.AWS_ENDPOINT_URL,
      region: env.AWS_REGION,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    const types: string[] = [];
    const reasons: string[] = [];
    try {
      await vi.waitFor(
        async () => {
          types.push(...(await drainQueue(sqs, env.RESULTS_QUEUE_URL!)).map((m) => readPublishedResult(m).event.type));
          reasons.push(...(await drainQueue(sqs, env.DLQ_URL!)).map((m) => JSON.parse(m.Body!).reason as string));
          expect(types).toHaveLength(6);
          expect(reasons).toHaveLength(1);
        },
        { timeout: 30_000, interval: 200 },
      );
    } finally {
      sqs.destroy();
    }
    vi.unstubAllEnvs();
    const code = await stop(served);

    // Assess: Assistants, a Responses turn, a conversation turn and an Agents turn, each answered by its printed commands.
    expect(commands.map((argv) => argv[1])).toEqual([
      "--thread",
      "--thread",
      "--thread",
      "--response",
      "--conversation",
      "--session",
      "--session",
    ]);
    expect(codes).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(types.filter((type) => !type.startsWith("session.")).sort()).toEqual([
      "response.completed",
      "response.requires_action",
      "run.completed",
      "run.requires_action",
    ]);
    // The Agents turn's two calls are answered back to back: the first message's event is session.waiting if it rests
    // before the second answer lands, else session.turn_completed too; the turn completes either way.
    const sessionTypes = types.filter((type) => type.startsWith("session."));
    expect(sessionTypes).toHaveLength(2);
    expect(sessionTypes).toContain("session.turn_completed");
    for (const type of sessionTypes) expect(["session.waiting", "session.turn_completed"]).toContain(type);
    expect(reasons).toEqual(["tool_call_mismatch"]);
    expect(served.stdout()).toContain(`x-portkey-api-key: ${LOCAL_API_KEY}`);
    expect(served.stdout()).toContain(`x-portkey-virtual-key: ${LOCAL_VIRTUAL_KEY}`);
    expect(served.stdout()).toContain("Relay variables from this shell: RESPONSES_UNCONFIRMED.");
    expect(served.stdout()).toContain("Ignored (the local stack sets them to its own resources): DLQ_URL.");
    expect(env.DLQ_URL).not.toBe("http://127.0.0.1:1/elsewhere");
    expect(code).toBe(0);
  }, 120_000);
});

describe("the relay variables --serve takes from the shell", () => {
  it("passes every tuning variable on and names those the local stack sets itself", () => {
    expect(
      relayVariablesFrom({ RESPONSES_UNCONFIRMED: "dead_letter", FOLLOW_BUDGET_MS: "5000", INPUT_QUEUE_URL: "x", HOME: "/root" }),
    ).toEqual({
      passed: { RESPONSES_UNCONFIRMED: "dead_letter", FOLLOW_BUDGET_MS: "5000" },
      ignored: ["INPUT_QUEUE_URL"],
    });
  });
});

describe("npm start -- --serve against Azure AI Foundry with Entra ID", () => {
  let sim: EndpointSimulator;
  beforeAll(async () => {
    sim = await startEndpointSimulator({ azure: AZURE_APP, processingMs: 30, pollAfterMs: 20 });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("reads the function's variables, relays a message of each API with an Entra ID token, and names no secret", async () => {
    // Prepare
    const served = await serve(azureVariables(sim, AZURE_APP));

    // Act
    const relayed = await relayThrough(served, sim, true);
    const code = await stop(served);

    // Assess
    expect(relayed).toEqual(["assistants completed", "responses completed"]);
    expect(code).toBe(0);
    expect(served.stdout()).toContain(
      `The relay talks to your endpoint: ${sim.azure!.projectEndpoint} (Assistants and Agents APIs) and ${sim.azure!.openaiBaseUrl} (Responses API), ` +
        "with AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST",
    );
    expect(served.stdout()).not.toContain(AZURE_APP.clientSecret);
    const submit = sim.requests.find((r) => r.path.endsWith("/submit_tool_outputs"))!;
    expect(submit.search).toBe("?api-version=v1");
    expect(submit.headers.authorization).toMatch(/^Bearer simtok_/);
    const post = sim.requests.find((r) => r.method === "POST" && r.path.endsWith("/openai/v1/responses"))!;
    expect(post.search).toBe("");
    expect(sim.counters).toMatchObject({ tokenRequests: 1, accepted: 1, continuations: 1, forks: 0 });
  }, 120_000);
});

describe("npm start -- --serve against a self-hosted Portkey gateway", () => {
  let sim: EndpointSimulator;
  let gateway: PortkeyGateway;
  beforeAll(async () => {
    [gateway, sim] = await Promise.all([
      startPortkeyGateway(),
      startEndpointSimulator({ apiKey: PROVIDER_KEY, apiKeyHeader: "authorization", processingMs: 30, pollAfterMs: 20 }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await gateway?.close();
    await sim?.close();
  });

  it("relays a message through the gateway with the provider and its key, and names no secret", async () => {
    // Prepare
    const served = await serve({
      ENDPOINT_BASE_URL: gateway.baseUrl,
      PORTKEY_PROVIDER: "openai",
      ENDPOINT_BEARER_TOKEN: PROVIDER_KEY,
      PORTKEY_CUSTOM_HOST: sim.baseUrl,
    });

    // Act
    const relayed = await relayThrough(served, sim);
    const code = await stop(served);

    // Assess
    expect(relayed).toEqual(["assistants completed"]);
    expect(code).toBe(0);
    expect(served.stdout()).toContain(
      `The relay talks to your endpoint: ${gateway.baseUrl} (every API), with PORTKEY_PROVIDER, PORTKEY_CUSTOM_HOST, ENDPOINT_BEARER_TOKEN`,
    );
    expect(served.stdout()).not.toContain(PROVIDER_KEY);
    expect(sim.counters).toMatchObject({ accepted: 1, doubleAcceptances: 0 });
    expect(sim.requests.every((r) => r.headers.authorization === `Bearer ${PROVIDER_KEY}`)).toBe(true);
  }, 120_000);
});

describe("npm start -- --serve against Amazon Bedrock, signing with this shell's AWS credentials", () => {
  const ROLE = {
    AWS_ACCESS_KEY_ID: "ASIASHELLUSER0001",
    AWS_SECRET_ACCESS_KEY: "shell-5ecret-0001",
    AWS_SESSION_TOKEN: "shell-session-0001",
  };
  let sim: EndpointSimulator;
  beforeAll(async () => {
    const credentials = [
      { accessKeyId: ROLE.AWS_ACCESS_KEY_ID, secretAccessKey: ROLE.AWS_SECRET_ACCESS_KEY, sessionToken: ROLE.AWS_SESSION_TOKEN },
    ];
    sim = await startEndpointSimulator({
      bedrock: { endpoint: "mantle", region: "us-east-1", credentials },
      processingMs: 30,
      pollAfterMs: 20,
    });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("names the endpoint, the service and the region, and relays a Responses message with every call signed", async () => {
    // Prepare: the simulator's loopback URL names no Bedrock host, so the service and region are given.
    const served = await serve({
      ENDPOINT_BASE_URL: `${new URL(sim.baseUrl).origin}/v1`,
      RESPONSES_BASE_URL: sim.bedrock!.baseUrl,
      ENDPOINT_SIGV4_SERVICE: "bedrock-mantle",
      ENDPOINT_SIGV4_REGION: "us-east-1",
      ...ROLE,
    });
    const sqs = new SQSClient({
      endpoint: served.exported.AWS_ENDPOINT_URL,
      region: served.exported.AWS_REGION,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });

    // Act
    try {
      const message = responseAnswerFor(sim.createResponse({ model: "openai.gpt-oss-120b" }));
      await sqs.send(new SendMessageCommand({ QueueUrl: served.exported.INPUT_QUEUE_URL, MessageBody: JSON.stringify(message) }));
      await vi.waitFor(
        async () =>
          expect((await drainQueue(sqs, served.exported.RESULTS_QUEUE_URL!)).map((m) => readPublishedResult(m).event.status)).toEqual([
            "completed",
          ]),
        { timeout: 30_000, interval: 200 },
      );
    } finally {
      sqs.destroy();
    }
    const code = await stop(served);

    // Assess
    expect(code).toBe(0);
    expect(served.stdout()).toContain(
      "every call signed with SigV4 (service bedrock-mantle, region us-east-1) with this shell's AWS credentials",
    );
    expect(served.stdout()).not.toContain(ROLE.AWS_SECRET_ACCESS_KEY);
    expect(sim.counters).toMatchObject({ signaturesRejected: 0, continuations: 1 });
    expect(sim.counters.signaturesVerified).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it("at a Bedrock host, says which endpoint and region it signs for, Responses only", async () => {
    const served = await serve({ RESPONSES_BASE_URL: "https://bedrock-runtime.eu-west-1.amazonaws.com/openai/v1", ...ROLE });
    const code = await stop(served);
    expect(code).toBe(0);
    expect(served.stdout()).toContain(
      "The relay talks to Amazon Bedrock runtime: https://bedrock-runtime.eu-west-1.amazonaws.com/openai/v1 (Responses API); " +
        "Assistants and Agents messages go to the DLQ as api_not_configured, every call signed with SigV4 (service bedrock, region eu-west-1)",
    );
  }, 120_000);
});

describe("endpoint variables that cannot work", () => {
  it.each([
    [
      "Entra ID without its secret",
      { ENDPOINT_BASE_URL: "https://acme.services.ai.azure.com/api/projects/p", AZURE_TENANT_ID: "t-1", AZURE_CLIENT_ID: "c-1" },
      "AZURE_CLIENT_SECRET is required with AZURE_TENANT_ID and AZURE_CLIENT_ID",
    ],
    [
      "a plain-http endpoint off this machine",
      { ENDPOINT_BASE_URL: "http://gateway.example/v1", ENDPOINT_BEARER_TOKEN: PROVIDER_KEY },
      "ENDPOINT_BASE_URL: must use https",
    ],
    [
      "a Portkey key aimed at Azure",
      { ENDPOINT_BASE_URL: "https://acme.services.ai.azure.com/api/projects/p", PORTKEY_API_KEY: PROVIDER_KEY },
      "PORTKEY_API_KEY would be sent to ENDPOINT_BASE_URL (acme.services.ai.azure.com), an Azure endpoint",
    ],
    [
      "Amazon Bedrock without AWS credentials in the shell",
      {
        RESPONSES_BASE_URL: "https://bedrock-mantle.us-east-1.api.aws/v1",
        AWS_ACCESS_KEY_ID: "",
        AWS_SECRET_ACCESS_KEY: "",
        AWS_PROFILE: "",
      },
      "no AWS credentials found to sign the calls to bedrock-mantle.us-east-1.api.aws (SigV4, service bedrock-mantle): export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    ],
  ])("%s: stops before starting anything, names what to fix, exits 2", (_, endpoint, problem) => {
    // Act
    const run = spawnSync(process.execPath, [tsx, "local/start.ts", "--serve"], {
      encoding: "utf8",
      timeout: 60_000,
      env: environment(endpoint),
    });

    // Assess
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(problem);
    expect(run.stdout).not.toContain("local stack is running");
    expect(`${run.stdout}${run.stderr}`).not.toContain(PROVIDER_KEY);
  });

  it("without --serve, any endpoint variable (here Entra ID's) sends the user to --serve, exit 2", () => {
    // Act
    const env = environment({ AZURE_TENANT_ID: "t-1", AZURE_CLIENT_ID: "c-1", AZURE_CLIENT_SECRET: "entra-not-shown-3333" });
    const run = spawnSync(process.execPath, [tsx, "local/start.ts"], { encoding: "utf8", timeout: 60_000, env });

    // Assess
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("npm start -- --serve");
    expect(run.stderr).not.toContain("entra-not-shown-3333");
  });
});
