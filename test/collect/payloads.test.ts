/**
 * Collecting outputs too large for a state-table item (a collected body over 350 KB; an item takes 400 KB with
 * its attributes, and SQS carries up to 1 MiB): the body goes to the payload bucket (RELAY_PAYLOAD_BUCKET; fauxqs's S3
 * here) and the set is submitted with it whole. Without the bucket the message is refused as `output_too_large`
 * with its body kept whole in the DLQ record. Never truncated.
 */
import { DynamoDBClient, QueryCommand } from "@aws-sdk/client-dynamodb";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { scopeOf } from "../../functions/submit-tool-outputs/collect/collector";
import { checkNow, deliverAll, part, pendingChecks } from "../helpers/collect-rig";
import { answerFor, type Harness, responseAnswerFor, startHarness } from "../helpers/relay-harness";

/** An output of `bytes` characters, not all alike, so a cut anywhere would show. */
const largeOutput = (bytes: number) =>
  Array.from({ length: Math.ceil(bytes / 10) }, (_, i) => String(i % 1_000_000_000).padStart(10, "0"))
    .join("")
    .slice(0, bytes);

describe("with the payload bucket", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ maxReceiveCount: 5 });
  });
  afterAll(async () => h.close());
  beforeEach(async () => {
    h.sim.reset();
    await h.clear();
  });

  const objectsInBucket = async () => {
    const s3 = new S3Client({ endpoint: h.aws.endpoint, region: h.aws.region, forcePathStyle: true });
    try {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: h.aws.payloadBucket }));
      return (listed.Contents ?? []).map((o) => ({ key: o.Key!, size: o.Size! }));
    } finally {
      s3.destroy();
    }
  };

  /** Collected bodies kept in items of their own for a scope. */
  const bodyItems = async (scope: string) => {
    const dynamodb = new DynamoDBClient({ endpoint: h.aws.dynamodb.endpoint, region: h.aws.region });
    try {
      const found = await dynamodb.send(
        new QueryCommand({
          TableName: h.aws.stateTableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :msg)",
          ExpressionAttributeValues: { ":pk": { S: `collect#${scope}` }, ":msg": { S: "msg#" } },
        }),
      );
      return found.Count ?? 0;
    } finally {
      dynamodb.destroy();
    }
  };

  it("an Assistants output over 350 KB is kept in the bucket and submitted whole with the rest of the set", async () => {
    // Prepare
    const run = h.sim.createRun({ toolCalls: 2 });
    const big = largeOutput(400_000);
    const full = answerFor(run, {}, (id, i) => (i === 0 ? big : `small ${id}`));
    const bigBody = JSON.stringify(part(full, [run.toolCallIds[0]!]));
    expect(Buffer.byteLength(bigBody)).toBeGreaterThan(350_000);
    // Act
    const bigId = await h.send(bigBody);
    await h.send(part(full, [run.toolCallIds[1]!]));
    await deliverAll(h);
    // Assess
    const objects = await objectsInBucket();
    expect(objects).toEqual([{ key: expect.stringMatching(new RegExp(`^collect/(.+/)?${bigId}$`)), size: Buffer.byteLength(bigBody) }]);
    const [post, ...more] = h.sim.requests.filter((r) => r.method === "POST" && r.path.includes(run.runId));
    expect(more).toEqual([]);
    expect((post!.body as { tool_outputs: unknown }).tool_outputs).toEqual(full.tool_outputs);
    expect(h.sim.counters).toMatchObject({ accepted: 1, doubleAcceptances: 0 });
    expect(await h.deadLetters()).toEqual([]);
  });

  it("a set whose bodies outgrow one table item (18 parts of 30 KB, 2 of 100 KB) is kept and submitted whole", async () => {
    // Prepare: small bodies sit inline in the collection item until it would pass 400 KB; the rest in items of their own.
    const run = h.sim.createRun({ toolCalls: 20 });
    const full = answerFor(run, {}, (id, i) => `${id}:${largeOutput(i < 2 ? 100_000 : 30_000)}`);
    // Act
    for (const id of run.toolCallIds) await h.send(part(full, [id]));
    await deliverAll(h);
    // Assess
    const posts = h.sim.requests.filter((r) => r.method === "POST" && r.path.includes(run.runId));
    expect(posts).toHaveLength(1);
    expect((posts[0]!.body as { tool_outputs: unknown }).tool_outputs).toEqual(full.tool_outputs);
    expect(await objectsInBucket()).toEqual([]);
    expect(await h.deadLetters()).toEqual([]);
    // The two 100 KB bodies, and the 30 KB ones the full item no longer took, are in items of their own.
    expect(await bodyItems(scopeOf("assistants", { thread_id: run.threadId, run_id: run.runId }))).toBeGreaterThan(2);
  });

  it("a Responses output over 350 KB goes the same way: one continuation carrying it whole", async () => {
    // Prepare
    const t = h.sim.createResponse({ toolCalls: 2 });
    const big = largeOutput(380_000);
    const full = responseAnswerFor(t, {}, (id, i) => (i === 1 ? big : `small ${id}`));
    // Act
    await h.send(part(full, [t.callIds[1]!]));
    await h.send(part(full, [t.callIds[0]!]));
    await deliverAll(h);
    // Assess
    expect(h.sim.counters).toMatchObject({ continuations: 1, forks: 0 });
    const post = h.sim.requests.find((r) => r.method === "POST" && r.path.endsWith("/responses"));
    const input = (post!.body as { input: Array<{ call_id: string; output: string }> }).input;
    expect(input.find((i) => i.call_id === t.callIds[1])!.output).toBe(big);
    expect(await h.deadLetters()).toEqual([]);
  });
});

describe("a large collected body when the set will never be complete", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ maxReceiveCount: 5 });
  });
  afterAll(async () => h.close());

  it("is read back from the bucket into its DLQ record, whole", async () => {
    // Prepare: the large part collected, then the run expires.
    const run = h.sim.createRun({ toolCalls: 2 });
    const full = answerFor(run, {}, (id, i) => (i === 0 ? largeOutput(420_000) : `small ${id}`));
    const bigBody = JSON.stringify(part(full, [run.toolCallIds[0]!]));
    const bigId = await h.send(bigBody);
    await deliverAll(h);
    h.sim.expireRun(run.threadId, run.runId);
    // Act
    await checkNow(h, pendingChecks(h)[0]!.check);
    // Assess
    const [dead, ...more] = await h.deadLetters();
    expect(more).toEqual([]);
    expect(dead).toMatchObject({ sourceMessageId: bigId, reason: "run_expired" });
    expect(dead!.original).toBe(bigBody);
  });
});

describe("without the payload bucket (RELAY_PAYLOAD_BUCKET unset)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ maxReceiveCount: 5, env: { RELAY_PAYLOAD_BUCKET: undefined } });
  });
  afterAll(async () => h.close());

  it("refuses that message as output_too_large with its body whole; the others wait for a complete set", async () => {
    // Prepare
    const run = h.sim.createRun({ toolCalls: 2 });
    const full = answerFor(run, {}, (id, i) => (i === 0 ? largeOutput(360_000) : `small ${id}`));
    const bigBody = JSON.stringify(part(full, [run.toolCallIds[0]!]));
    // Act
    const bigId = await h.send(bigBody);
    await h.send(part(full, [run.toolCallIds[1]!]));
    await deliverAll(h);
    // Assess
    const [dead, ...more] = await h.deadLetters();
    expect(more).toEqual([]);
    expect(dead).toMatchObject({ sourceMessageId: bigId, reason: "output_too_large", original: bigBody });
    expect(dead!.record.detail).toMatch(/RELAY_PAYLOAD_BUCKET/);
    expect(h.sim.counters.submits).toBe(0);
  });
});
