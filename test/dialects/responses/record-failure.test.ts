/**
 * DESIGN Part 3, rule 4: a claim's record is never dropped. The POST created the continuation, then the state table
 * stopped answering the write that records it (a loopback proxy in front of the local DynamoDB holds it): the
 * relay retries it until the invocation's deadline, then hands the message back (never acknowledged, never reported
 * as done) and counts it for the alarm; its next copy in the same execution environment writes the record it knows
 * first, so it follows the known continuation instead of taking the claim for an unconfirmed one. One child, no DLQ.
 */
import type { SQSBatchResponse } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { createHandler } from "../../../functions/submit-tool-outputs/create-handler";
import type { ResponsesResultsEvent } from "../../../functions/submit-tool-outputs/dialects/index";
import { startDynamodbProxy } from "../../../local/dynamodb-proxy";
import { lambdaContext } from "../../../local/lambda-shapes";
import { type Harness, responseAnswerFor, useHarness } from "../../helpers/relay-harness";
import { claimsTable, keyOf } from "../../helpers/responses/claims-table";
import { postsContinuing } from "../../helpers/responses/endpoint-requests";
import { releaseInFlight } from "../../helpers/responses/input-queue";

let h: Harness;
useHarness({ maxReceiveCount: 3 }, (started) => (h = started));

describe("the claim's record cannot be written", () => {
  it("the claim's record cannot be written: retried until the deadline, handed back; the next copy records it and reports, no second POST", async () => {
    const proxy = await startDynamodbProxy(h.aws.dynamodb.endpoint);
    const handler = createHandler({ ...h.env, AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint });
    try {
      const prev = h.sim.createResponse();
      // Prepare: the table stops answering at the write that records the submission (phase "submitted").
      proxy.stallFrom((request) => request.operation === "UpdateItem" && request.body.includes('"submitted"'));
      await h.send(responseAnswerFor(prev));
      const first = (await handler(await h.receive(1), lambdaContext(3_000))) as SQSBatchResponse;
      // Assess 1: handed back, one POST, the claim still unrecorded, nothing published or dead-lettered.
      expect(first.batchItemFailures).toHaveLength(1);
      expect(postsContinuing(h.sim, prev.responseId)).toHaveLength(1);
      expect(await claimsTable(h).get(keyOf({ responseId: prev.responseId }, prev.callIds))).toMatchObject({ phase: "claimed" });
      expect(await h.results()).toEqual([]);
      // Act: the table answers again; the message comes back to the same execution environment after its lease.
      proxy.stallFrom(() => false);
      await new Promise((resolve) => setTimeout(resolve, 600));
      await releaseInFlight(h);
      const again = (await handler(await h.receive(1), lambdaContext(10_000))) as SQSBatchResponse;
      // Assess 2: recorded and reported from the known continuation; never submitted again, never unconfirmed.
      expect(again.batchItemFailures).toEqual([]);
      expect(postsContinuing(h.sim, prev.responseId)).toHaveLength(1);
      expect(h.sim.children(prev.responseId)).toHaveLength(1);
      expect(await claimsTable(h).get(keyOf({ responseId: prev.responseId }, prev.callIds))).toMatchObject({
        phase: "submitted",
        response_id: h.sim.children(prev.responseId)[0],
      });
      expect(await h.deadLetters()).toEqual([]);
      const [event] = (await h.results<ResponsesResultsEvent>()).map((r) => r.event);
      expect(event?.previous_response_id).toBe(prev.responseId);
    } finally {
      await proxy.close();
    }
  }, 30_000);
});
