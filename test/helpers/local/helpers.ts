export { answerFor, responseAnswerFor } from "../../../fixtures/messages";

import type { SqsHandler } from "../../../local/event-source-poller";
import type { Accounting } from "../../../local/local-stack";

/** A handler wrapper that dies (throws) on any batch holding a body with `marker`, as a crash the relay cannot catch. */
export function crashingOn(marker: string) {
  return (handler: SqsHandler): SqsHandler =>
    async (event, context) => {
      if (event.Records.some((r) => r.body.includes(marker))) throw new Error("simulated crash inside the function");
      return handler(event, context);
    };
}

/** Every message ended accepted or in the DLQ: the count each end-to-end test makes. */
export function ended(accounting: Accounting) {
  return {
    accepted: accounting.accepted.length,
    deadLettered: accounting.deadLettered.map((d) => d.reason).sort(),
    lost: accounting.pending.length,
  };
}
