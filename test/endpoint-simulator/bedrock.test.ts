/**
 * The simulator's Bedrock mode, checked with a SigV4 signer no one here wrote: the official `openai` package's
 * Bedrock provider (`openai/providers/bedrock/aws`, static credentials = SigV4 mode). What it signs must be
 * accepted; a wrong service, region, secret, body or date must be refused with AWS's 403 shapes. Then Bedrock's
 * own differences: runtime's 400 on `background`, a missing `model`, Mantle's wrong-prefix refusals, IAM denials.
 */
import OpenAI from "openai";
import { bedrock } from "openai/providers/bedrock/aws";
import { describe, expect, it } from "vitest";
import type { EndpointSimulator } from "../../local/endpoint-simulator";
import type { BedrockModeOptions } from "../../local/endpoint-simulator/types";
import { simulator } from "../helpers/endpoint-simulator/helpers";

const KEYS = { accessKeyId: "AKIASIMULATED0001", secretAccessKey: "sim-secret-key-0001", sessionToken: "sim-session-token-1" };
const REGION = "us-east-1";

async function bedrockSim(endpoint: "runtime" | "mantle", extra: Partial<BedrockModeOptions> = {}, now?: () => number) {
  return simulator({ bedrock: { endpoint, region: REGION, credentials: [KEYS], ...extra }, processingMs: 5, ...(now ? { now } : {}) });
}

/** The official client, signing with the openai package's own SigV4 code. */
function officialClient(
  sim: EndpointSimulator,
  opts: { endpoint?: "runtime" | "mantle"; region?: string; secret?: string; baseURL?: string; fetch?: typeof fetch } = {},
): OpenAI {
  return new OpenAI({
    provider: bedrock({
      endpoint: opts.endpoint ?? sim.bedrock!.endpoint,
      region: opts.region ?? REGION,
      baseURL: opts.baseURL ?? sim.bedrock!.baseUrl,
      accessKeyId: KEYS.accessKeyId,
      secretAccessKey: opts.secret ?? KEYS.secretAccessKey,
      sessionToken: KEYS.sessionToken,
    }),
    maxRetries: 0,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
}

const continuation = (responseId: string, callId: string, model = "us.openai.gpt-5.6-sol") => ({
  model,
  previous_response_id: responseId,
  input: [{ type: "function_call_output" as const, call_id: callId, output: "21C" }],
});

async function refusal(promise: Promise<unknown>): Promise<{ status: number; message: string; code: string | null }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OpenAI.APIError);
  const apiError = error as InstanceType<typeof OpenAI.APIError>;
  const body = apiError.error as { message?: string } | undefined;
  return {
    status: apiError.status ?? 0,
    message: body?.message ?? apiError.message,
    code: apiError.headers?.get("x-amzn-errortype")?.split(":")[0] ?? null,
  };
}

describe("bedrock mode: SigV4 verified against the openai package's signer", () => {
  it("accepts what the official provider signs, on runtime (POST and GET), with the body's hex hash signed", async () => {
    const sim = await bedrockSim("runtime");
    const { responseId, callIds } = sim.createResponse({ model: "us.openai.gpt-5.6-sol" });
    const client = officialClient(sim);
    const created = await client.responses.create(continuation(responseId, callIds[0]!));
    expect(created.status).toBe("completed");
    const read = await client.responses.retrieve(created.id);
    expect(read.id).toBe(created.id);
    expect(sim.counters.signaturesVerified).toBe(2);
    expect(sim.counters.signaturesRejected).toBe(0);
    const post = sim.requests.find((r) => r.method === "POST")!;
    expect(post.path).toBe("/openai/v1/responses");
    expect(post.headers["x-amz-content-sha256"]).toMatch(/^[0-9a-f]{64}$/);
    expect(post.headers.authorization).toContain(`/${REGION}/bedrock/aws4_request`);
    expect(sim.bedrock!.calls.map((c) => `${c.action} ${c.resource}`)).toEqual([
      "bedrock:InvokeModel arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.openai.gpt-5.6-sol",
      "bedrock:InvokeModel arn:aws:bedrock:us-east-1::foundation-model/openai.gpt-5.6-sol",
      "bedrock:InvokeModel arn:aws:bedrock:us-east-1:123456789012:project/default",
      "bedrock:GetInvoke arn:aws:bedrock:us-east-1:123456789012:project/default",
    ]);
  });

  it("accepts it on Mantle under both prefixes, signed for bedrock-mantle", async () => {
    const sim = await bedrockSim("mantle");
    const { responseId, callIds } = sim.createResponse({ model: "openai.gpt-oss-120b", toolCalls: 1, afterOutputs: ["completed"] });
    const created = await officialClient(sim, { baseURL: sim.bedrock!.v1BaseUrl! }).responses.create(
      continuation(responseId, callIds[0]!, "openai.gpt-oss-120b"),
    );
    expect(created.status).toBe("completed");
    await officialClient(sim).responses.retrieve(created.id);
    expect(sim.counters.signaturesVerified).toBe(2);
    expect(sim.bedrock!.calls.map((c) => c.action)).toEqual(["bedrock-mantle:CreateInference", "bedrock-mantle:GetInference"]);
  });

  it("refuses a signature for another service or region: 403 Credential should be scoped to …", async () => {
    const sim = await bedrockSim("runtime");
    const { responseId, callIds } = sim.createResponse();
    const wrongService = await refusal(officialClient(sim, { endpoint: "mantle" }).responses.create(continuation(responseId, callIds[0]!)));
    expect(wrongService).toEqual({
      status: 403,
      message: "Credential should be scoped to correct service: 'bedrock'. ",
      code: "InvalidSignatureException",
    });
    const wrongRegion = await refusal(officialClient(sim, { region: "eu-west-1" }).responses.create(continuation(responseId, callIds[0]!)));
    expect(wrongRegion).toEqual({
      status: 403,
      message: "Credential should be scoped to a valid region. ",
      code: "InvalidSignatureException",
    });
    expect(sim.counters.responsesCreated).toBe(0); // nothing reached the API
  });

  it("refuses a wrong secret, and a body changed after signing", async () => {
    const sim = await bedrockSim("runtime");
    const { responseId, callIds } = sim.createResponse();
    const badSecret = await refusal(
      officialClient(sim, { secret: "not-the-secret" }).responses.create(continuation(responseId, callIds[0]!)),
    );
    expect(badSecret.status).toBe(403);
    expect(badSecret.message).toMatch(/^The request signature we calculated does not match the signature you provided/);
    const tampering: typeof fetch = (input, init) =>
      fetch(input, { ...init, body: typeof init?.body === "string" ? init.body.replace("21C", "99C") : init?.body });
    const badBody = await refusal(officialClient(sim, { fetch: tampering }).responses.create(continuation(responseId, callIds[0]!)));
    expect(badBody).toMatchObject({ status: 403, code: "InvalidSignatureException" });
    expect(sim.counters.signaturesRejected).toBe(2);
    expect(sim.counters.responsesCreated).toBe(0);
  });

  it("refuses a signature dated more than five minutes off the server's clock", async () => {
    const sim = await bedrockSim("runtime", {}, () => Date.now() + 10 * 60_000);
    const { responseId, callIds } = sim.createResponse();
    const stale = await refusal(officialClient(sim).responses.create(continuation(responseId, callIds[0]!)));
    expect(stale.status).toBe(403);
    expect(stale.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z/);
  });

  it("refuses unsigned calls and unknown or rotated credentials", async () => {
    const sim = await bedrockSim("runtime");
    const unsigned = await fetch(`${sim.baseUrl}/responses/resp_x`);
    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toEqual({ message: "Missing Authentication Token" });
    sim.bedrock!.setCredentials([{ ...KEYS, accessKeyId: "AKIAROTATED", sessionToken: "new-token" }]);
    const rotated = await refusal(officialClient(sim).responses.retrieve("resp_x"));
    expect(rotated).toEqual({
      status: 403,
      message: "The security token included in the request is invalid.",
      code: "UnrecognizedClientException",
    });
  });
});

describe("bedrock mode: the endpoints' differences", () => {
  it("runtime refuses background: true (400) and a missing model", async () => {
    const sim = await bedrockSim("runtime");
    const { responseId, callIds } = sim.createResponse();
    const client = officialClient(sim);
    const background = await refusal(client.responses.create({ ...continuation(responseId, callIds[0]!), background: true }));
    expect(background.status).toBe(400);
    const { model: _model, ...noModel } = continuation(responseId, callIds[0]!);
    const missing = await refusal(client.responses.create(noModel as never));
    expect(missing).toMatchObject({ status: 400, message: "Missing required parameter: 'model'." });
  });

  it.each([
    [400, "model `openai.gpt-5.5` isn't supported on this route"],
    [401, "Berm is not enabled for this account"],
    [404, "model `openai.gpt-5.5` isn't supported on this route"],
  ] as const)("Mantle refuses a model under the wrong prefix (%i variant)", async (status, message) => {
    const sim = await bedrockSim("mantle", { modelPrefixes: { "openai.gpt-5.5": "/openai/v1" }, wrongRouteStatus: status });
    const { responseId, callIds } = sim.createResponse({ model: "openai.gpt-5.5" });
    const onV1 = officialClient(sim, { baseURL: sim.bedrock!.v1BaseUrl! });
    expect(await refusal(onV1.responses.create(continuation(responseId, callIds[0]!, "openai.gpt-5.5")))).toMatchObject({
      status,
      message,
    });
    const right = await officialClient(sim).responses.create(continuation(responseId, callIds[0]!, "openai.gpt-5.5"));
    expect(right.status).toBe("completed");
  });

  it("answers an IAM denial with AccessDeniedException naming the action and resource", async () => {
    const sim = await bedrockSim("runtime", { deniedActions: ["bedrock:GetInvoke"] });
    const denied = await refusal(officialClient(sim).responses.retrieve("resp_x"));
    expect(denied.status).toBe(403);
    expect(denied.code).toBe("AccessDeniedException");
    expect(denied.message).toBe(
      "User: arn:aws:sts::123456789012:assumed-role/relay-function-role/session is not authorized to perform: bedrock:GetInvoke " +
        "on resource: arn:aws:bedrock:us-east-1:123456789012:project/default because no identity-based policy allows the bedrock:GetInvoke action",
    );
  });
});
