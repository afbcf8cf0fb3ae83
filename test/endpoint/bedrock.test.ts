/**
 * Amazon Bedrock's two Responses API endpoints (docs/endpoints.md), through the real handler, against the simulator in
 * Bedrock mode, which recomputes every call's SigV4 signature with its own verifier and refuses what AWS refuses:
 * runtime (service `bedrock`, synchronous only) and Mantle (service `bedrock-mantle`, background mode, a path prefix
 * per model). Every call — the POST and the GETs before and after it — is signed with the function's AWS credentials
 * (re-read on each call: a rotated session signs the next one), and carries no other credential.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ConfigurationError } from "../../functions/submit-tool-outputs/config/errors";
import { createHandler } from "../../functions/submit-tool-outputs/create-handler";
import type { ResponsesResultsEvent } from "../../functions/submit-tool-outputs/dialects/index";
import type { BedrockModeOptions, RecordedRequest } from "../../local/endpoint-simulator/types";
import { relayHeadersOf, urlsOf } from "../helpers/endpoint-rows";
import { answerFor, type Harness, type HarnessOptions, responseAnswerFor, startHarness } from "../helpers/relay-harness";
import { claimsTable, keyOf } from "../helpers/responses/claims-table";

const REGION = "us-east-1";
const ROLE = { AWS_ACCESS_KEY_ID: "ASIARELAYROLE0001", AWS_SECRET_ACCESS_KEY: "role-5ecret-0001", AWS_SESSION_TOKEN: "role-session-0001" };
const ROTATED = {
  AWS_ACCESS_KEY_ID: "ASIARELAYROLE0002",
  AWS_SECRET_ACCESS_KEY: "role-5ecret-0002",
  AWS_SESSION_TOKEN: "role-session-0002",
};
const credentialsOf = (role: typeof ROLE) => ({
  accessKeyId: role.AWS_ACCESS_KEY_ID,
  secretAccessKey: role.AWS_SECRET_ACCESS_KEY,
  sessionToken: role.AWS_SESSION_TOKEN,
});
const RUNTIME_MODEL = "us.openai.gpt-5.6-sol";
const MANTLE_MODEL = "openai.gpt-5.5";

/** The Bedrock simulator and the relay's variables for it: its loopback URL, so the service and region are explicit. */
function bedrockRig(
  endpoint: "runtime" | "mantle",
  {
    bedrock = {},
    env = {},
    prefix = "/openai/v1",
  }: { bedrock?: Partial<BedrockModeOptions>; env?: Record<string, string>; prefix?: string } = {},
): HarnessOptions {
  return {
    simulator: {
      apiKey: undefined,
      virtualKey: undefined,
      bedrock: { endpoint, region: REGION, credentials: [credentialsOf(ROLE)], ...bedrock },
    },
    endpoint: (sim) => {
      const origin = new URL(sim.baseUrl).origin;
      return {
        // Both variables at the simulator: a loopback URL names no Bedrock host, so the Assistants default would be Portkey.
        ENDPOINT_BASE_URL: `${origin}/v1`,
        RESPONSES_BASE_URL: `${origin}${prefix}`,
        ENDPOINT_SIGV4_SERVICE: endpoint === "runtime" ? "bedrock" : "bedrock-mantle",
        ENDPOINT_SIGV4_REGION: REGION,
        ...ROLE,
        ...env,
      };
    },
  };
}

const sha256 = (body: unknown) =>
  createHash("sha256")
    .update(body === undefined ? "" : JSON.stringify(body))
    .digest("hex");

/** Exactly the headers a signed call carries: the call's own and SigV4's, no other credential, no trace header. */
function expectSignedOnly(call: RecordedRequest, role = ROLE): void {
  expect(relayHeadersOf(call)).toEqual({
    accept: (call.body as { stream?: boolean } | undefined)?.stream === true ? "text/event-stream" : "application/json",
    ...(call.method === "POST" ? { "content-type": "application/json" } : {}),
    authorization: expect.stringMatching(
      new RegExp(`^AWS4-HMAC-SHA256 Credential=${role.AWS_ACCESS_KEY_ID}/\\d{8}/${REGION}/bedrock(-mantle)?/aws4_request, SignedHeaders=`),
    ),
    "x-amz-date": expect.stringMatching(/^\d{8}T\d{6}Z$/),
    "x-amz-security-token": role.AWS_SESSION_TOKEN,
    "x-amz-content-sha256": sha256(call.body),
  });
}

async function seeded(h: Harness, model: string) {
  const response = h.sim.createResponse({ model, toolCalls: 2 });
  const messageId = await h.send(responseAnswerFor(response));
  return { ...response, messageId };
}

describe("Bedrock runtime", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(bedrockRig("runtime"));
  });
  afterAll(async () => h?.close());
  beforeEach(async () => {
    h.sim.reset();
    await h.clear();
  });

  it("reads the previous response and continues it, every call signed for bedrock over its body; synchronous, with model", async () => {
    const { responseId, messageId } = await seeded(h, RUNTIME_MODEL);

    const { response } = await h.deliver();

    expect(response.batchItemFailures).toEqual([]);
    const [published] = await h.results<ResponsesResultsEvent>();
    expect(published!.event).toMatchObject({ api: "responses", status: "completed", previous_response_id: responseId });
    expect(await h.deadLetters()).toEqual([]);
    const calls = h.sim.requests;
    const [child] = h.sim.children(responseId);
    expect(urlsOf(calls).slice(0, 2)).toEqual([`GET /openai/v1/responses/${responseId}`, "POST /openai/v1/responses"]);
    expect(urlsOf(calls).slice(2)).toEqual(calls.slice(2).map(() => `GET /openai/v1/responses/${child}`));
    for (const call of calls) expectSignedOnly(call);
    expect(h.sim.counters).toMatchObject({ signaturesVerified: calls.length, signaturesRejected: 0, continuations: 1, forks: 0 });
    const post = calls[1]!.body as Record<string, unknown>;
    expect(post).toMatchObject({ model: RUNTIME_MODEL, background: false, previous_response_id: responseId });
    expect(JSON.stringify(calls)).not.toContain(messageId); // no trace header: AWS keeps its own request id
    expect(h.sim.bedrock!.calls.map((c) => c.action)).toEqual([
      "bedrock:GetInvoke",
      // One inference names three resources: the inference profile, its foundation model, the default project.
      ...Array(3).fill("bedrock:InvokeModel"),
      ...calls.slice(2).map(() => "bedrock:GetInvoke"),
    ]);
  });

  it("follows a rotation of the role's session between invocations: the next call is signed with the new one", async () => {
    await seeded(h, RUNTIME_MODEL);
    await h.deliver();
    h.sim.bedrock!.setCredentials([credentialsOf(ROTATED)]); // the old session stops working
    Object.assign(h.env, ROTATED); // as Lambda's environment changes for the next invocation
    const before = h.sim.requests.length;
    await seeded(h, RUNTIME_MODEL);

    const { response } = await h.deliver();

    expect(response.batchItemFailures).toEqual([]);
    const after = h.sim.requests.slice(before);
    expect(after.length).toBeGreaterThanOrEqual(2);
    for (const call of after) expectSignedOnly(call, ROTATED);
    expect(h.sim.counters.signaturesRejected).toBe(0);
    Object.assign(h.env, ROLE);
    h.sim.bedrock!.setCredentials([credentialsOf(ROLE)]);
  });

  it("dead-letters an Assistants message at once as api_not_configured when the deployment has no Assistants endpoint", async () => {
    // A Bedrock-only deployment: RESPONSES_BASE_URL at a Bedrock host and no ENDPOINT_BASE_URL. Nothing is called.
    const only = await startHarness({
      ...bedrockRig("runtime"),
      endpoint: () => ({ RESPONSES_BASE_URL: `https://bedrock-runtime.${REGION}.amazonaws.com/openai/v1`, ...ROLE }),
    });
    try {
      const messageId = await only.send(answerFor({ threadId: "thread_1", runId: "run_1", toolCallIds: ["call_1"] }));
      const { response } = await only.deliver();
      expect(response.batchItemFailures).toEqual([]);
      const [dead] = await only.deadLetters();
      expect(dead).toMatchObject({ sourceMessageId: messageId, reason: "api_not_configured" });
      expect(dead!.record.detail).toBe(
        "the assistants API is not configured in this deployment: set ENDPOINT_BASE_URL (context option endpointBaseUrl)",
      );
      expect(only.sim.requests).toEqual([]);
    } finally {
      await only.close();
    }
  });
});

describe("Bedrock Mantle", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(bedrockRig("mantle", { bedrock: { modelPrefixes: { [MANTLE_MODEL]: "/openai/v1" } } }));
  });
  afterAll(async () => h?.close());
  beforeEach(async () => {
    h.sim.reset();
    await h.clear();
  });

  it("continues in the background and follows with GETs, every call signed for bedrock-mantle", async () => {
    const { responseId } = await seeded(h, MANTLE_MODEL);

    const { response } = await h.deliver();

    expect(response.batchItemFailures).toEqual([]);
    const [published] = await h.results<ResponsesResultsEvent>();
    expect(published!.event).toMatchObject({ status: "completed", previous_response_id: responseId });
    const calls = h.sim.requests;
    const [child] = h.sim.children(responseId);
    expect(urlsOf(calls)).toEqual([
      `GET /openai/v1/responses/${responseId}`,
      "POST /openai/v1/responses",
      ...calls.slice(2).map(() => `GET /openai/v1/responses/${child}`),
    ]);
    expect(calls.length).toBeGreaterThanOrEqual(3); // background: the response is followed by GET
    expect(calls[1]!.body).toMatchObject({ model: MANTLE_MODEL, background: true });
    for (const call of calls) expectSignedOnly(call);
    expect(calls[0]!.headers.authorization).toContain(`/${REGION}/bedrock-mantle/aws4_request`);
    expect(h.sim.counters).toMatchObject({ signaturesVerified: calls.length, signaturesRejected: 0 });
  });
});

describe("Bedrock Mantle, after a failure", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(bedrockRig("mantle"));
  });
  afterAll(async () => h?.close());
  beforeEach(async () => {
    h.sim.reset();
    await h.clear();
  });

  it("signs the POST again for its retry after a 429 (each attempt its own signature over the same body)", async () => {
    h.sim.inject({ on: "response_create", kind: "rate_limit", retryAfterMs: 10 });
    await seeded(h, MANTLE_MODEL);

    const { response } = await h.deliver();

    expect(response.batchItemFailures).toEqual([]);
    const posts = h.sim.requests.filter((call) => call.method === "POST");
    expect(posts).toHaveLength(2);
    for (const call of posts) expectSignedOnly(call);
    expect(posts[0]!.headers["x-amz-content-sha256"]).toBe(posts[1]!.headers["x-amz-content-sha256"]);
    expect(h.sim.counters).toMatchObject({ signaturesRejected: 0, continuations: 1, forks: 0 });
  });

  it("follows a stream cut after response.created with signed GETs, never a second POST", async () => {
    h.sim.inject({ on: "response_create", kind: "stream_cut_after_created" });
    const previous = h.sim.createResponse({ model: MANTLE_MODEL, toolCalls: 1 });
    await h.send(responseAnswerFor(previous, { stream: true }));

    const { response } = await h.deliver();

    expect(response.batchItemFailures).toEqual([]);
    const [published] = await h.results<ResponsesResultsEvent>();
    expect(published!.event).toMatchObject({ status: "completed", previous_response_id: previous.responseId });
    const [child] = h.sim.children(previous.responseId);
    const calls = h.sim.requests;
    expect(calls.filter((call) => call.method === "POST")).toHaveLength(1);
    expect(urlsOf(calls)).toContain(`GET /openai/v1/responses/${child}`);
    for (const call of calls) expectSignedOnly(call);
    expect(h.sim.counters).toMatchObject({ signaturesRejected: 0, forks: 0 });
  });
});

describe("Bedrock's refusals", () => {
  /**
   * One message delivered once, on its last receive, by a harness of its own: what the DLQ says, what was created, and
   * the phase its claim on the turn was left in (a definite refusal releases it: a later copy may claim the turn).
   */
  async function lastReceive(rig: HarnessOptions, model: string) {
    const h = await startHarness({ ...rig, maxReceiveCount: 1 });
    try {
      const { responseId, callIds } = await seeded(h, model);
      const { response } = await h.deliver();
      const [dead] = await h.deadLetters();
      const claim = await claimsTable(h).get(keyOf({ responseId }, callIds));
      return { response, dead, created: h.sim.children(responseId).length, counters: { ...h.sim.counters }, claim };
    } finally {
      await h.close();
    }
  }

  it("a signature for another service is the deployment's setup: endpoint_misconfigured, nothing created", async () => {
    const { dead, created, counters } = await lastReceive(
      bedrockRig("runtime", { env: { ENDPOINT_SIGV4_SERVICE: "bedrock-mantle" } }),
      RUNTIME_MODEL,
    );
    expect(dead!.reason).toBe("endpoint_misconfigured");
    expect(dead!.record).toMatchObject({
      http_status: 403,
      endpoint_error: { message: "Credential should be scoped to correct service: 'bedrock'. ", code: "InvalidSignatureException" },
    });
    expect(created).toBe(0);
    expect(counters.signaturesRejected).toBeGreaterThan(0);
  });

  it("a Mantle model under the wrong path prefix is the deployment's setup too", async () => {
    const rig = bedrockRig("mantle", { bedrock: { modelPrefixes: { [MANTLE_MODEL]: "/openai/v1" } }, prefix: "/v1" });
    const { dead, created, claim } = await lastReceive(rig, MANTLE_MODEL);
    expect(dead!.reason).toBe("endpoint_misconfigured");
    expect(claim).toMatchObject({ phase: "released" });
    expect(dead!.record).toMatchObject({
      http_status: 400,
      endpoint_error: { message: `model \`${MANTLE_MODEL}\` isn't supported on this route` },
    });
    expect(created).toBe(0);
  });

  it("an IAM denial is unauthorized, with AWS's words", async () => {
    const rig = bedrockRig("runtime", { bedrock: { deniedActions: ["bedrock:InvokeModel"] } });
    const { dead, created } = await lastReceive(rig, RUNTIME_MODEL);
    expect(dead!.reason).toBe("unauthorized");
    expect(dead!.record).toMatchObject({ http_status: 403, endpoint_error: { code: "AccessDeniedException" } });
    expect(String(dead!.record.endpoint_error?.message)).toContain("is not authorized to perform: bedrock:InvokeModel");
    expect(created).toBe(0);
  });

  it("a session that stopped working (not rotated in the environment) is unauthorized, and handed back before the last receive", async () => {
    const h = await startHarness({ ...bedrockRig("runtime"), maxReceiveCount: 3 });
    try {
      h.sim.bedrock!.setCredentials([credentialsOf(ROTATED)]);
      await seeded(h, RUNTIME_MODEL);
      const { response, event } = await h.deliver();
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
      expect(await h.deadLetters()).toEqual([]);
    } finally {
      await h.close();
    }
  });
});

describe("cold-start refusals", () => {
  const base = {
    RESULTS_TOPIC_ARN: "arn:aws:sns:us-east-1:000000000000:r",
    DLQ_URL: "http://127.0.0.1:1/d",
    INPUT_QUEUE_URL: "http://127.0.0.1:1/i",
  };

  it("refuses RESPONSES_BACKGROUND=true at Bedrock runtime, naming the variable", () => {
    const act = () =>
      createHandler({
        ...base,
        RESPONSES_BASE_URL: `https://bedrock-runtime.${REGION}.amazonaws.com/openai/v1`,
        RESPONSES_BACKGROUND: "true",
      });
    expect(act).toThrow(ConfigurationError);
    expect(act).toThrow(/^RESPONSES_BACKGROUND: must not be true at Amazon Bedrock runtime/);
  });

  it("refuses an explicit service with a bearer token on the first invocation, naming both, and sends nothing", async () => {
    const h = await startHarness(bedrockRig("runtime", { env: { ENDPOINT_BEARER_TOKEN: "bedrock-api-key-x" } }));
    try {
      await seeded(h, RUNTIME_MODEL);
      await expect(h.deliver()).rejects.toThrow("ENDPOINT_SIGV4_SERVICE and ENDPOINT_BEARER_TOKEN cannot be combined");
      expect(h.sim.requests).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
