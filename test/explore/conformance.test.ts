/**
 * The explorer's in-memory world held to its real counterparts: the same operations run against the in-memory
 * table and dynalite (behind DynamoDB's limits, through the real SDK), the in-memory queues and fauxqs, the
 * in-memory endpoint and the loopback endpoint simulator; the answers must agree. Real time here (the in-memory
 * parts read Date.now); the explorer's simulated runtime is never installed in a test process.
 */
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type PutItemCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from "@aws-sdk/client-dynamodb";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryEndpoint } from "../../bench/explore/memory-endpoint";
import { MemoryQueue } from "../../bench/explore/memory-queues";
import { MemoryTable } from "../../bench/explore/memory-table";
import { type EmbeddedAws, startEmbeddedAws } from "../../local/embedded-aws";
import { type EndpointSimulator, startEndpointSimulator } from "../../local/endpoint-simulator";

let aws: EmbeddedAws;
let sim: EndpointSimulator;
beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  aws = await startEmbeddedAws({ maxReceiveCount: 2 });
  sim = await startEndpointSimulator({ pollAfterMs: 20, processingMs: 0 });
});
afterAll(async () => {
  await sim?.close();
  await aws?.close();
});

type Outcome = { ok: true; answer: unknown } | { ok: false; name: string; message: string };

describe("the in-memory table answers as dynalite (with DynamoDB's limits) does", () => {
  const key = (pk: string) => ({ pk: { S: pk }, sk: { S: "collection" } });
  const operations = (table: string): Array<["GetItem" | "PutItem" | "UpdateItem", Record<string, unknown>]> => [
    [
      "PutItem",
      {
        TableName: table,
        Item: { ...key("a"), round: { N: "1" }, status: { S: "open" } },
        ConditionExpression: "attribute_not_exists(pk)",
      },
    ],
    ["PutItem", { TableName: table, Item: { ...key("a"), round: { N: "9" } }, ConditionExpression: "attribute_not_exists(pk)" }],
    [
      "UpdateItem",
      {
        TableName: table,
        Key: key("a"),
        UpdateExpression: "SET #o.#c = :v, #mi = if_not_exists(#mi, :two) - :one ADD seen :s",
        ConditionExpression: "#r = :r AND #st = :open",
        ExpressionAttributeNames: { "#o": "outputs", "#c": "call_1", "#r": "round", "#st": "status", "#mi": "missing" },
        ExpressionAttributeValues: {
          ":v": { S: "out" },
          ":two": { N: "2" },
          ":one": { N: "1" },
          ":s": { SS: ["m1"] },
          ":r": { N: "1" },
          ":open": { S: "open" },
        },
        ReturnValues: "ALL_NEW",
      },
    ],
    [
      "UpdateItem",
      {
        TableName: table,
        Key: key("a"),
        UpdateExpression: "SET outputs = :m, #mi = :two ADD seen :s",
        ConditionExpression: "#r = :r",
        ExpressionAttributeNames: { "#r": "round", "#mi": "missing" },
        ExpressionAttributeValues: { ":m": { M: { call_1: { S: "out" } } }, ":two": { N: "2" }, ":s": { SS: ["m1"] }, ":r": { N: "1" } },
        ReturnValues: "ALL_NEW",
      },
    ],
    [
      "UpdateItem",
      {
        TableName: table,
        Key: key("a"),
        UpdateExpression: "SET #o.#c = :v ADD seen :s, #mi :minus",
        ConditionExpression: "#r = :r AND NOT contains(seen, :id)",
        ExpressionAttributeNames: { "#o": "outputs", "#c": "call_2", "#r": "round", "#mi": "missing" },
        ExpressionAttributeValues: {
          ":v": { S: "two" },
          ":s": { SS: ["m2"] },
          ":minus": { N: "-1" },
          ":r": { N: "1" },
          ":id": { S: "m2" },
        },
        ReturnValues: "ALL_NEW",
      },
    ],
    [
      "UpdateItem",
      {
        TableName: table,
        Key: key("a"),
        UpdateExpression: "SET #st = :s",
        ConditionExpression: "#mi > :z",
        ExpressionAttributeNames: { "#st": "status", "#mi": "missing" },
        ExpressionAttributeValues: { ":s": { S: "closed" }, ":z": { N: "5" } },
        ReturnValues: "ALL_NEW",
      },
    ],
    ["GetItem", { TableName: table, Key: key("a"), ConsistentRead: true }],
    ["GetItem", { TableName: table, Key: key("none"), ConsistentRead: true }],
    // Past DynamoDB's 4 KB expression limit: refused with DynamoDB's own text.
    [
      "UpdateItem",
      {
        TableName: table,
        Key: key("a"),
        UpdateExpression: `SET ${Array.from({ length: 700 }, (_, i) => `a${i} = :v`).join(", ")}`,
        ExpressionAttributeValues: { ":v": { S: "x" } },
      },
    ],
    // An item past 400 KB.
    ["PutItem", { TableName: table, Item: { ...key("big"), blob: { S: "x".repeat(410_000) } } }],
    [
      "UpdateItem",
      {
        TableName: table,
        Key: key("a"),
        UpdateExpression: "SET x = :v",
        ExpressionAttributeValues: { ":v": { S: "1" }, ":unused": { S: "2" } },
      },
    ],
  ];

  it("gives the same answers and refusals for the relay's kinds of request", async () => {
    const client = new DynamoDBClient({ region: aws.region, endpoint: aws.dynamodb.endpoint, maxAttempts: 1 });
    const real: Outcome[] = [];
    for (const [op, input] of operations(aws.stateTableName)) {
      const command =
        op === "GetItem"
          ? new GetItemCommand(input as never)
          : op === "PutItem"
            ? new PutItemCommand(input as unknown as PutItemCommandInput)
            : new UpdateItemCommand(input as unknown as UpdateItemCommandInput);
      try {
        const {
          $metadata: _,
          ConsumedCapacity: __,
          ...answer
        } = (await client.send(command as never)) as unknown as Record<string, unknown>;
        real.push({ ok: true, answer });
      } catch (error) {
        real.push({ ok: false, name: (error as Error).name, message: (error as Error).message });
      }
    }
    const memory = new MemoryTable(aws.stateTableName);
    const simulated: Outcome[] = operations(aws.stateTableName).map(([op, input]) => {
      try {
        return { ok: true, answer: memory.request(op, input) };
      } catch (error) {
        return { ok: false, name: (error as Error).name, message: (error as Error).message };
      }
    });
    // The SDK parses numbers and sets the same way whichever table answered: compare the wire shapes sorted.
    expect(normalise(simulated)).toEqual(normalise(real));
    expect(real.filter((o) => !o.ok).map((o) => (o as { name: string }).name)).toEqual([
      "ConditionalCheckFailedException", // the item exists
      "ValidationException", // a path into a map that is not there
      "ConditionalCheckFailedException", // missing is 1, not above 5
      "ValidationException", // past 4 KB
      "ValidationException", // past 400 KB
      "ValidationException", // an unused value
    ]);
    expect(real[4]).toMatchObject({ ok: true, answer: { Attributes: { missing: { N: "1" }, seen: { SS: ["m1", "m2"] } } } });
  });

  // The in-memory table memoizes dynalite's parses by expression, the names' pattern and the values' types: the same
  // expressions again, with other names (call ids) and values, answer as a fresh parse does (dynalite's own).
  const repeated = (table: string): Array<["GetItem" | "PutItem" | "UpdateItem", Record<string, unknown>]> => {
    const set = "SET #o.#c = :v, #mi = #mi - :one";
    const condition = "#st = :open AND attribute_not_exists(#o.#c)";
    const update = (call: string, values: Record<string, unknown>, names: Record<string, string> = {}) =>
      [
        "UpdateItem",
        {
          TableName: table,
          Key: key("memo"),
          UpdateExpression: set,
          ConditionExpression: condition,
          ExpressionAttributeNames: { "#o": "outputs", "#c": call, "#mi": "missing", "#st": "status", ...names },
          ExpressionAttributeValues: { ":v": { S: `out:${call}` }, ":one": { N: "1" }, ":open": { S: "open" }, ...values },
          ReturnValues: "ALL_NEW",
        },
      ] as ["UpdateItem", Record<string, unknown>];
    const pair = (a: string, b: string) =>
      [
        "UpdateItem",
        {
          TableName: table,
          Key: key("memo"),
          UpdateExpression: "SET #a = :v, #b = :w",
          ExpressionAttributeNames: { "#a": a, "#b": b },
          ExpressionAttributeValues: { ":v": { S: "1" }, ":w": { S: "2" } },
        },
      ] as ["UpdateItem", Record<string, unknown>];
    return [
      ["PutItem", { TableName: table, Item: { ...key("memo"), status: { S: "open" }, missing: { N: "3" }, outputs: { M: {} } } }],
      update("call_1", {}),
      update("call_2", { ":v": { S: "two" } }), // the same parse, other names and values
      update("call_2", {}), // already there: the condition fails
      update("call_3", { ":one": { S: "1" } }), // a string where a number must be
      update("call_3", {}, { "#c": "" }), // an empty attribute name
      update("call_3", { ":extra": { S: "x" } }), // a value no expression uses
      update("missing", {}), // two names resolving alike (outputs.missing and missing: no overlap)
      update("call_3", { ":one": { N: "2" } }),
      pair("x", "x"), // two paths overlap
      pair("x", "y"),
      pair("y", "x"),
      ["GetItem", { TableName: table, Key: key("memo"), ConsistentRead: true }],
    ];
  };

  it("answers the same expressions again, with other names and values, as a fresh parse does", async () => {
    const client = new DynamoDBClient({ region: aws.region, endpoint: aws.dynamodb.endpoint, maxAttempts: 1 });
    const real: Outcome[] = [];
    for (const [op, input] of repeated(aws.stateTableName)) {
      const command =
        op === "GetItem"
          ? new GetItemCommand(input as never)
          : op === "PutItem"
            ? new PutItemCommand(input as unknown as PutItemCommandInput)
            : new UpdateItemCommand(input as unknown as UpdateItemCommandInput);
      try {
        const {
          $metadata: _,
          ConsumedCapacity: __,
          ...answer
        } = (await client.send(command as never)) as unknown as Record<string, unknown>;
        real.push({ ok: true, answer });
      } catch (error) {
        real.push({ ok: false, name: (error as Error).name, message: (error as Error).message });
      }
    }
    const memory = new MemoryTable(aws.stateTableName);
    const simulated: Outcome[] = repeated(aws.stateTableName).map(([op, input]) => {
      try {
        return { ok: true, answer: memory.request(op, input) };
      } catch (error) {
        return { ok: false, name: (error as Error).name, message: (error as Error).message };
      }
    });
    expect(normalise(simulated)).toEqual(normalise(real));
    expect(real.map((o) => (o.ok ? "ok" : (o as { name: string }).name))).toEqual([
      "ok",
      "ok",
      "ok",
      "ConditionalCheckFailedException",
      "ValidationException",
      "ValidationException",
      "ValidationException",
      "ok",
      "ok",
      "ValidationException",
      "ok",
      "ok",
      "ok",
    ]);
  });
});

describe("the in-memory queues behave as fauxqs does", () => {
  it("receive counts, visibility, deletes by the latest handle, delays and the redrive at maxReceiveCount", async () => {
    const { sqs } = aws;
    const created = await sqs.send(new CreateQueueCommand({ QueueName: `conformance-${Date.now()}` }));
    const url = created.QueueUrl!.replace(/^http:\/\/[^/]+/, aws.endpoint);
    await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }), // exists
    );
    const real = new FauxqsDriver(sqs, aws.input.url, aws.dlq.url);
    let ids = 0;
    const dlq = new MemoryQueue({
      name: "dlq",
      visibilityTimeoutSeconds: 30,
      retentionSeconds: 345_600,
      now: Date.now,
      newId: () => `d${++ids}`,
    });
    const memory = new MemoryQueue({
      name: "input",
      visibilityTimeoutSeconds: 30,
      retentionSeconds: 345_600,
      redrive: { deadLetter: dlq, maxReceiveCount: 2 },
      now: Date.now,
      newId: () => `m${++ids}`,
    });
    const script = async (q: QueueDriver) => {
      const log: unknown[] = [];
      await q.send("first");
      await q.send("delayed", 1);
      const one = await q.receive();
      log.push(one.map((m) => [m.body, m.count]));
      log.push((await q.receive()).length); // in flight, the delayed one not yet visible
      await q.changeVisibility(one[0]!.handle, 0);
      const two = await q.receive();
      log.push(two.map((m) => [m.body, m.count]));
      log.push(
        await q.changeVisibility(one[0]!.handle, 0).then(
          () => "changed",
          (e: Error) => (e.name === "MessageNotInflight" || e.name === "ReceiptHandleIsInvalid" ? "refused" : e.name),
        ),
      );
      await q.changeVisibility(two[0]!.handle, 0);
      // A third receive passes maxReceiveCount 2: the message moves to the DLQ, with its id and body.
      log.push((await q.receive()).map((m) => m.body));
      const dead = await q.receiveDlq();
      log.push(dead.map((m) => [m.body, m.sameId]));
      await new Promise((r) => setTimeout(r, 1100));
      const late = await q.receive();
      log.push(late.map((m) => [m.body, m.count]));
      await q.delete(late[0]!.handle);
      await q.changeVisibility(late[0]!.handle, 0).catch(() => undefined);
      log.push((await q.receive()).length);
      return log;
    };
    const memoryLog = await script(new MemoryDriver(memory, dlq));
    const realLog = await script(real);
    expect(memoryLog).toEqual(realLog);
    expect(realLog).toEqual([[["first", 1]], 0, [["first", 2]], "refused", [], [["first", true]], [["delayed", 1]], 0]);
  });
});

describe("the in-memory endpoint answers as the loopback simulator does", () => {
  it("runs: a wrong id set, an accepted submission, a second one refused, the run and its steps", async () => {
    const ids = ["call_conf_a", "call_conf_b"];
    const at = (origin: string) => ({
      run: { threadId: "thread_conformance", runId: "run_conformance", toolCalls: ids },
      path: (...p: string[]) => new URL(`${origin}/v1/threads/thread_conformance/runs/run_conformance${p.join("")}`),
    });
    const memory = new MemoryEndpoint(Date.now);
    memory.createRun(at("").run);
    sim.createRun(at("").run);
    const headers = { "content-type": "application/json", "openai-beta": "assistants=v2" };
    const requests: Array<[string, string, unknown?]> = [
      ["GET", ""],
      ["POST", "/submit_tool_outputs", { tool_outputs: [{ tool_call_id: ids[0], output: "x" }] }],
      ["POST", "/submit_tool_outputs", { tool_outputs: ids.map((id) => ({ tool_call_id: id, output: `out ${id}` })) }],
      ["POST", "/submit_tool_outputs", { tool_outputs: ids.map((id) => ({ tool_call_id: id, output: "again" })) }],
      ["GET", "/steps"],
      ["GET", ""],
      ["POST", "/submit_tool_outputs", { tool_output: [] }],
    ];
    const origin = sim.baseUrl.replace(/\/v1$/, "");
    for (const [method, suffix, body] of requests) {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const real = await fetch(at(origin).path(suffix), { method, headers, body: text });
      const mine = memory.answer(method, at("http://127.0.0.1:9").path(suffix), text, headers);
      expect({ status: mine.status, body: shape(await mine.json()) }, `${method} ${suffix}`).toEqual({
        status: real.status,
        body: shape(await real.json()),
      });
    }
  });

  it("responses: a continuation answering the calls, a second one (a fork, counted), retrieve", async () => {
    const opts = { responseId: "resp_conformance0000000000000000", toolCalls: ["call_r1"] };
    const memory = new MemoryEndpoint(Date.now);
    memory.createResponse(opts);
    sim.createResponse(opts);
    const origin = sim.baseUrl.replace(/\/v1$/, "");
    const continuation = {
      model: "gpt-5-mini",
      previous_response_id: opts.responseId,
      background: true,
      input: [{ type: "function_call_output", call_id: "call_r1", output: "42" }],
    };
    const requests: Array<[string, string, unknown?]> = [
      ["GET", `/v1/responses/${opts.responseId}`],
      ["POST", "/v1/responses", continuation],
      ["POST", "/v1/responses", continuation],
      ["POST", "/v1/responses", { ...continuation, previous_response_id: "resp_unknown" }],
    ];
    for (const [method, path, body] of requests) {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const headers = { "content-type": "application/json" };
      const real = await fetch(new URL(`${origin}${path}`), { method, headers, body: text });
      const mine = memory.answer(method, new URL(`http://127.0.0.1:9${path}`), text, headers);
      expect({ status: mine.status, body: shape(await mine.json()) }, `${method} ${path}`).toEqual({
        status: real.status,
        body: shape(await real.json()),
      });
    }
    expect(memory.counters.forks).toBe(sim.counters.forks);
    expect(memory.counters.forks).toBe(1);
  });
});

/** The fields that must agree, with generated ids and times masked (each side makes its own). */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (/_at$|^created$/.test(k) && (typeof v === "number" || v === null)) out[k] = v === null ? null : "<time>";
    else if (
      typeof v === "string" &&
      /^(resp|msg|step|call|fc|rs|req|run|thread|conv)_[A-Za-z0-9]{16,}$/.test(v) &&
      !v.includes("conformance")
    )
      out[k] = `<${v.split("_")[0]}>`;
    else out[k] = shape(v);
  }
  return out;
}

function normalise(outcomes: Outcome[]): unknown {
  return JSON.parse(JSON.stringify(outcomes), (_k, v) => (Array.isArray(v) ? [...v].sort() : v));
}

interface QueueMessage {
  body: string;
  count: number;
  handle: string;
  id: string;
  sameId?: boolean;
}
interface QueueDriver {
  send(body: string, delaySeconds?: number): Promise<void>;
  receive(): Promise<QueueMessage[]>;
  receiveDlq(): Promise<QueueMessage[]>;
  changeVisibility(handle: string, seconds: number): Promise<void>;
  delete(handle: string): Promise<void>;
}

class MemoryDriver implements QueueDriver {
  private readonly firstIds = new Set<string>();
  constructor(
    private readonly q: MemoryQueue,
    private readonly dlq: MemoryQueue,
  ) {}
  async send(body: string, delaySeconds?: number) {
    this.firstIds.add(this.q.send(body, { delaySeconds }));
  }
  async receive() {
    return this.q
      .receive(10)
      .map((m) => ({ body: m.Body, count: Number(m.Attributes.ApproximateReceiveCount), handle: m.ReceiptHandle, id: m.MessageId }));
  }
  async receiveDlq() {
    return this.dlq
      .receive(10)
      .map((m) => ({ body: m.Body, count: 1, handle: m.ReceiptHandle, id: m.MessageId, sameId: this.firstIds.has(m.MessageId) }));
  }
  async changeVisibility(handle: string, seconds: number) {
    this.q.changeVisibility(handle, seconds);
  }
  async delete(handle: string) {
    this.q.delete(handle);
  }
}

class FauxqsDriver implements QueueDriver {
  constructor(
    private readonly sqs: EmbeddedAws["sqs"],
    private readonly url: string,
    private readonly dlqUrl: string,
  ) {}
  private readonly sent = new Set<string>();
  async send(body: string, delaySeconds?: number) {
    const sent = await this.sqs.send(new SendMessageCommand({ QueueUrl: this.url, MessageBody: body, DelaySeconds: delaySeconds }));
    this.sent.add(sent.MessageId!);
  }
  private async from(url: string): Promise<QueueMessage[]> {
    const got = await this.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ["All"] }),
    );
    return (got.Messages ?? []).map((m) => ({
      body: m.Body!,
      count: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
      handle: m.ReceiptHandle!,
      id: m.MessageId!,
      sameId: this.sent.has(m.MessageId!),
    }));
  }
  async receive() {
    return (await this.from(this.url)).map(({ sameId: _, ...m }) => m);
  }
  async receiveDlq() {
    return (await this.from(this.dlqUrl)).map((m) => ({ ...m, count: 1 }));
  }
  async changeVisibility(handle: string, seconds: number) {
    await this.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.url, ReceiptHandle: handle, VisibilityTimeout: seconds }));
  }
  async delete(handle: string) {
    await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.url, ReceiptHandle: handle }));
  }
}
