/**
 * The test's hand on the input queue between receives: what a handed-back message waits for, and making it
 * visible at once, as time passing would.
 */
import { ChangeMessageVisibilityCommand } from "@aws-sdk/client-sqs";
import type { Harness } from "../relay-harness";

/** Every message the relay handed back (or left in flight) becomes visible now; returns their remaining delays in seconds. */
export async function releaseInFlight(h: Harness): Promise<number[]> {
  const inflight = h.aws.server.inspectQueue(h.aws.input.name)?.messages.inflight ?? [];
  const delays = inflight.map((m) => (m.visibilityDeadline - Date.now()) / 1000);
  for (const { receiptHandle } of inflight) {
    await h.aws.sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: h.aws.input.url, ReceiptHandle: receiptHandle, VisibilityTimeout: 0 }),
    );
  }
  return delays;
}

/** The follow-ups (and other messages) waiting on the input queue, read without taking them. */
export async function waitingBodies(h: Harness): Promise<unknown[]> {
  const queue = h.aws.server.inspectQueue(h.aws.input.name);
  return [...(queue?.messages.ready ?? []), ...(queue?.messages.delayed ?? [])].map((m) => JSON.parse(m.body));
}
