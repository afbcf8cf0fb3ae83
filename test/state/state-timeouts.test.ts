/**
 * DESIGN Part 3, rule 11: every state-table call has a timeout inside the invocation's deadline. The real StateTable
 * (the real DynamoDB client) against a loopback DynamoDB that accepts connections and never answers: a call ends at
 * its own timeout, or at the record's deadline (state/call-deadline.ts) when that comes first, as a
 * StateUnavailableError (an outage: the message is handed back, never lost). Through the real handler: a collected
 * message whose table hangs is handed back within its invocation, and the next message of the same turn, in the
 * next invocation, is not held behind it.
 */
import { createServer, type Server } from "node:http";
import type { SQSBatchResponse } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StateUnavailableError } from "../../functions/submit-tool-outputs/config/errors";
import { createHandler } from "../../functions/submit-tool-outputs/create-handler";
import { withinRecord } from "../../functions/submit-tool-outputs/state/call-deadline";
import { StateTable } from "../../functions/submit-tool-outputs/state/state-table";
import { startDynamodbProxy } from "../../local/dynamodb-proxy";
import { lambdaContext } from "../../local/lambda-shapes";
import { part } from "../helpers/collect-rig";
import { answerFor, type Harness, useHarness } from "../helpers/relay-harness";

let hanging: Server;
let endpoint: string;
beforeAll(async () => {
  hanging = createServer(() => undefined); // takes the request, never answers
  await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(hanging.address() as { port: number }).port}`;
});
afterAll(async () => {
  hanging.closeAllConnections();
  await new Promise<void>((resolve) => hanging.close(() => resolve()));
});

const tableAt = (callTimeoutMs?: number) =>
  new StateTable({ tableName: "t", region: "us-east-1", endpoint, ...(callTimeoutMs ? { callTimeoutMs } : {}) });

describe("a state-table call that hangs", () => {
  it("ends at the call's own timeout as StateUnavailableError", async () => {
    const started = Date.now();
    await expect(tableAt(300).get({ pk: "a", sk: "b" })).rejects.toBeInstanceOf(StateUnavailableError);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("ends at the record's deadline when that comes first", async () => {
    const started = Date.now();
    const deadline = AbortSignal.timeout(200);
    const write = withinRecord(deadline, () => tableAt(60_000).put({ pk: "a", sk: "b" }));
    await expect(write).rejects.toBeInstanceOf(StateUnavailableError);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe("through the handler", () => {
  let h: Harness;
  useHarness({ maxReceiveCount: 5 }, (started) => (h = started));

  it("a collected message whose table call hangs is handed back in its invocation; the next one of the turn is not held", async () => {
    const proxy = await startDynamodbProxy(h.aws.dynamodb.endpoint);
    const handler = createHandler({ ...h.env, AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint });
    try {
      const run = h.sim.createRun({ toolCalls: 2 });
      const full = answerFor(run);
      // Prepare: the table stops answering (a hung connection, held forever by the proxy).
      proxy.stallFrom(() => true);
      await h.send(part(full, [run.toolCallIds[0]!]));
      const started = Date.now();
      const first = (await handler(await h.receive(1), lambdaContext(3_000))) as SQSBatchResponse;
      // Assess 1: handed back within its own invocation.
      expect(first.batchItemFailures).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(3_500);
      // Act: the table answers again; the turn's other output comes to the same execution environment.
      proxy.stallFrom(() => false);
      await h.send(part(full, [run.toolCallIds[1]!]));
      const event = await h.receive(10);
      const mine = { ...event, Records: event.Records.filter((r) => r.body.includes(run.toolCallIds[1]!)) };
      const second = (await handler(mine, lambdaContext(3_000))) as SQSBatchResponse;
      // Assess 2: stored (acknowledged), not held behind the first message's hung call.
      expect(second.batchItemFailures).toEqual([]);
    } finally {
      await proxy.close();
    }
  }, 30_000);
});
