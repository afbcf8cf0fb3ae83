/**
 * A results topic that never answers must not cost the whole batch: the handler answers before
 * Lambda's timeout (and before Middy's early timeout), acknowledging what was done and handing back
 * the rest. The relay reaches SQS and SNS through a loopback proxy in front of the emulator that
 * passes everything on but holds SNS Publish calls without ever answering them.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { answerFor, type Harness, startHarness } from "../helpers/relay-harness";

let h: Harness;
let proxy: Server;
let emulator = "";
let held = 0;

beforeAll(async () => {
  proxy = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      const body = Buffer.concat(chunks);
      if (body.toString().includes("Action=Publish")) return void held++;
      const headers = Object.fromEntries(
        Object.entries(request.headers).filter(([name]) => name !== "host" && name !== "content-length"),
      ) as Record<string, string>;
      const answer = await fetch(`${emulator}${request.url}`, {
        method: request.method,
        headers,
        body: body.length > 0 ? body : undefined,
      });
      response.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" });
      response.end(Buffer.from(await answer.arrayBuffer()));
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const port = (proxy.address() as AddressInfo).port;
  h = await startHarness({ env: { DEADLINE_RESERVE_MS: "800", AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` } });
  emulator = h.aws.endpoint;
});

afterAll(async () => {
  proxy.closeAllConnections();
  await new Promise((resolve) => proxy.close(resolve));
  await h.close();
});

it("answers in time with the finished records acknowledged and the stuck one handed back", async () => {
  // Prepare: one valid message (its publish will hang) and one invalid one (its DLQ write goes through).
  const run = h.sim.createRun();
  const valid = await h.send(answerFor(run));
  await h.send("{not json");
  const event = await h.receive();
  expect(event.Records).toHaveLength(2);
  // Act
  const started = Date.now();
  const response = await h.invoke(event, 2000);
  const elapsed = Date.now() - started;
  // Assess
  expect(held).toBeGreaterThan(0);
  expect(elapsed).toBeLessThan(2000);
  expect(response.batchItemFailures).toEqual([{ itemIdentifier: valid }]);
  expect((await h.deadLetters()).map((d) => d.record.reason)).toEqual(["invalid_message"]);
});
