/**
 * Every case of the bad-input corpus goes through the real handler over real SQS (fauxqs), inside a
 * batch of 10 where valid messages of both APIs (runs and responses, alternating) sit on both sides of it: the
 * bad one ends in the DLQ with its specific reason and its body byte for byte; its valid neighbours are
 * submitted and published as if it were not there.
 */
import type { SQSBatchResponse, SQSRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BAD_INPUT_CORPUS, type BadInputCase } from "../../fixtures/bad-input-corpus";
import { deleteSucceeded } from "../../local/lambda-invocation";
import { answerFor, type DeadLetter, type Harness, type PublishedResult, responseAnswerFor, startHarness } from "../helpers/relay-harness";

/** Batch layout: V B V B V B V B V V — every bad message has a valid one before and after it. */
const BAD_PER_BATCH = 4;
const BATCH_SIZE = 10;

interface SentBatch {
  bad: Array<{ case: BadInputCase; messageId: string }>;
  /** A valid neighbour answers a run (`runId`) or a response (`responseId`). */
  valid: Array<{ runId?: string; responseId?: string; messageId: string }>;
  response: SQSBatchResponse;
}

let h: Harness;
const batches: SentBatch[] = [];
let deadLetters: DeadLetter[] = [];
let results: PublishedResult[] = [];
let validSent = 0;

beforeAll(async () => {
  // A handed-back message stays invisible for the rest of the file, so batches never mix.
  h = await startHarness({ maxReceiveCount: 3, env: { RETRY_VISIBILITY_BASE_SECONDS: "60" } });
  for (let start = 0; start < BAD_INPUT_CORPUS.length; start += BAD_PER_BATCH) {
    batches.push(await sendBatch(BAD_INPUT_CORPUS.slice(start, start + BAD_PER_BATCH)));
  }
  deadLetters = await h.deadLetters();
  results = await h.results();
}, 120_000);
afterAll(async () => h?.close());

async function sendBatch(cases: readonly BadInputCase[]): Promise<SentBatch> {
  const batch: SentBatch = { bad: [], valid: [], response: { batchItemFailures: [] } };
  const sendValid = async () => {
    if (validSent++ % 2 === 0) {
      const run = h.sim.createRun();
      batch.valid.push({ runId: run.runId, messageId: await h.send(answerFor(run)) });
    } else {
      const response = h.sim.createResponse();
      batch.valid.push({ responseId: response.responseId, messageId: await h.send(responseAnswerFor(response)) });
    }
  };
  for (const badCase of cases) {
    await sendValid();
    batch.bad.push({ case: badCase, messageId: await h.send(badCase.body) });
  }
  while (batch.valid.length + batch.bad.length < BATCH_SIZE) await sendValid();

  const expected = new Set([...batch.valid, ...batch.bad].map((m) => m.messageId));
  const records: SQSRecord[] = [];
  for (let tries = 0; records.length < expected.size && tries < 20; tries++) {
    for (const record of (await h.receive(BATCH_SIZE - records.length)).Records) {
      if (!expected.has(record.messageId)) throw new Error(`a message from another batch came back: ${record.messageId}`);
      records.push(record);
    }
  }
  if (records.length !== expected.size) throw new Error(`received ${records.length} of ${expected.size} messages`);

  batch.response = await h.invoke({ Records: records });
  const failed = new Set(batch.response.batchItemFailures.map((f) => f.itemIdentifier));
  const done = records.filter((r) => !failed.has(r.messageId)).map((r) => r.messageId);
  await deleteSucceeded(h.aws.sqs, h.aws.input, { Records: records }, done);
  return batch;
}

/** A DLQ entry's source message id: in the record, or in the attributes when the record was too big for SQS. */
const sourceOf = (entry: DeadLetter) => entry.record.source_message_id ?? entry.attributes.source_message_id;
const detailOf = (entry: DeadLetter) => entry.record.detail ?? entry.attributes.detail;
/** `format: original` means the DLQ body is the original itself (a record around it would not fit in SQS). */
const originalOf = (entry: DeadLetter) => (entry.attributes.format === "original" ? entry.body : entry.record.original);
const sentCases = () => batches.flatMap((b) => b.bad);

describe("the bad-input corpus", () => {
  it("holds at least 50 uniquely named cases", () => {
    expect(BAD_INPUT_CORPUS.length).toBeGreaterThanOrEqual(50);
    expect(new Set(BAD_INPUT_CORPUS.map((c) => c.name)).size).toBe(BAD_INPUT_CORPUS.length);
  });

  it.each(BAD_INPUT_CORPUS.map((c) => [c.name, c] as const))(
    "%s: DLQ with its reason and problem, body byte for byte",
    (_name, badCase) => {
      // Prepare
      const sent = sentCases().find((s) => s.case === badCase)!;
      const batch = batches.find((b) => b.bad.includes(sent))!;

      // Act: already done in beforeAll (one handler invocation per batch of 10).
      const entries = deadLetters.filter((entry) => sourceOf(entry) === sent.messageId);

      // Assess
      expect(batch.response.batchItemFailures.map((f) => f.itemIdentifier)).not.toContain(sent.messageId);
      expect(entries).toHaveLength(1);
      const [entry] = entries;
      expect(entry!.attributes.reason).toBe(badCase.reason);
      if (entry!.attributes.format !== "original") expect(entry!.record.reason).toBe(badCase.reason);
      else expect(entry!.attributes.source_message_id).toBe(sent.messageId);
      expect(detailOf(entry!)).toMatch(badCase.problem);
      expect(originalOf(entry!) === badCase.body).toBe(true); // not toBe(body): a 1 MiB diff helps no one
    },
  );
});

describe("the valid messages around them", () => {
  it("are all acknowledged: no batch hands anything back", () => {
    for (const batch of batches) expect(batch.response.batchItemFailures).toEqual([]);
  });

  it("are each submitted once and their run's or response's resting state published", () => {
    const valid = batches.flatMap((b) => b.valid);
    const runs = valid.filter((v) => v.runId !== undefined);
    const responses = valid.filter((v) => v.responseId !== undefined);
    for (const { runId, messageId } of runs) {
      const published = results.filter((r) => r.event.api === "assistants" && r.event.run_id === runId);
      expect(published.map((r) => [r.event.status, r.event.source_message_id])).toEqual([["completed", messageId]]);
    }
    for (const { responseId, messageId } of responses) {
      const published = results.filter((r) => r.event.api === "responses" && r.event.previous_response_id === responseId);
      expect(published.map((r) => [r.event.type, r.event.source_message_id])).toEqual([["response.completed", messageId]]);
    }
    expect(runs.length).toBeGreaterThan(0);
    expect(responses.length).toBeGreaterThan(0);
    expect(h.sim.counters.accepted).toBe(runs.length);
    expect(h.sim.counters.doubleAcceptances).toBe(0);
    expect(h.sim.counters.continuations).toBe(responses.length);
    expect(h.sim.counters.forks).toBe(0);
  });

  it("never land in the DLQ, and the DLQ holds exactly one record per bad message", () => {
    const validIds = new Set(batches.flatMap((b) => b.valid.map((v) => v.messageId)));
    expect(deadLetters.filter((entry) => validIds.has(sourceOf(entry)))).toEqual([]);
    expect(deadLetters).toHaveLength(BAD_INPUT_CORPUS.length);
  });

  it("bad messages never reach the endpoint", () => {
    const valid = batches.flatMap((b) => b.valid);
    const validRuns = new Set(valid.flatMap((v) => (v.runId ? [v.runId] : [])));
    // A valid response, and the continuation the relay created for it and then followed.
    const validResponses = new Set(valid.flatMap((v) => (v.responseId ? [v.responseId, ...h.sim.children(v.responseId)] : [])));
    const about = (r: (typeof h.sim.requests)[number]) =>
      [...validRuns].some((runId) => r.path.includes(`/runs/${runId}`)) ||
      [...validResponses].some((id) => r.path.endsWith(`/responses/${id}`)) ||
      (r.path.endsWith("/responses") && validResponses.has((r.body as { previous_response_id?: string }).previous_response_id ?? ""));
    const strays = h.sim.requests.filter((r) => !about(r));
    expect(strays.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });
});

describe("a body within a few hundred bytes of SQS's 1 MiB limit", () => {
  // Too large to wrap in a JSON record: the DLQ gets the body itself with the record's fields as
  // attributes, as many as fit (SQS counts them against the same 1 MiB), `reason` first.
  it("still ends in the DLQ with reason invalid_message and its body byte for byte", async () => {
    // Prepare
    const body = "x".repeat(1_048_576 - 128);
    const messageId = await h.send(body);

    // Act
    const { response } = await h.deliver();

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [entry] = (await h.deadLetters()).filter((e) => sourceOf(e) === messageId);
    expect(entry?.attributes.reason).toBe("invalid_message");
    expect(originalOf(entry!) === body).toBe(true);
  });
});
