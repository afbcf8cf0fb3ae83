/**
 * `dlq list` shows each API's ids, as the registry names them, in its lines and in `--json`: a Responses record
 * is no longer "(no readable ids)".
 */
import { describe, expect, it } from "vitest";
import { formatDeadLetters, summarize } from "../../cli/dlq-commands";
import { buildDlqRecord, dlqMessage, readDeadLetter } from "../../functions/submit-tool-outputs/out/dlq-record";
import type { MessageContext } from "../../functions/submit-tool-outputs/pipeline/message";

/** A DLQ message as the relay writes it and the CLI reads it back. */
function letterFor(context: MessageContext, reason = "tool_call_mismatch") {
  const record = buildDlqRecord({ reason, detail: "expected call_1" } as never, context, {
    body: "{}",
    messageId: "m-12345678",
    receiveCount: 1,
  });
  const { body, attributes } = dlqMessage(record);
  return readDeadLetter({ MessageId: "d-12345678", Body: body, MessageAttributes: attributes as never });
}

describe("dlq list", () => {
  it.each([
    { api: "Assistants", context: { thread_id: "thread_a", run_id: "run_b" }, shown: "thread_a / run_b" },
    { api: "Responses", context: { response_id: "resp_c" }, shown: "resp_c" },
    { api: "Responses, conversation mode", context: { conversation_id: "conv_d" }, shown: "conv_d" },
  ])("shows the ids of a $api record in its line and in --json", ({ context, shown }) => {
    // Act
    const summary = summarize(letterFor(context as MessageContext));
    const [, line] = formatDeadLetters([summary]);

    // Assess
    expect(summary.ids).toEqual(context);
    expect(JSON.parse(JSON.stringify(summary)).ids).toEqual(context);
    expect(line).toContain(` ${shown}  receives 1`);
    expect(line).not.toContain("no readable ids");
  });

  it("says so when a record has no readable ids (an invalid message)", () => {
    const [, line] = formatDeadLetters([summarize(letterFor({}, "invalid_message"))]);
    expect(line).toContain("(no readable ids)");
  });
});
