import { describe, expect, it } from "vitest";
import { buildDlqRecord, dlqMessage } from "../../functions/submit-tool-outputs/out/dlq-record";

const LIMIT = 1_048_576;
const recordFor = (original: string) =>
  buildDlqRecord(
    { reason: "invalid_message", detail: 'message: unknown field "x"' },
    {},
    { body: original, messageId: "m-1", receiveCount: 2 },
  );
const sizeOf = (m: ReturnType<typeof dlqMessage>) =>
  Buffer.byteLength(m.body) +
  Object.entries(m.attributes).reduce((n, [k, v]) => n + k.length + v.DataType!.length + Buffer.byteLength(v.StringValue!), 0);

describe("dlqMessage", () => {
  it("is the record as JSON with a reason attribute when it fits", () => {
    const message = dlqMessage(recordFor('{"a":1}'));
    expect(JSON.parse(message.body)).toMatchObject({ reason: "invalid_message", original: '{"a":1}' });
    expect(Object.keys(message.attributes)).toEqual(["reason"]);
  });

  it("is still the JSON record a few KiB below the limit", () => {
    const message = dlqMessage(recordFor("x".repeat(LIMIT - 4096)));
    expect(JSON.parse(message.body).reason).toBe("invalid_message");
  });

  it.each([60, 27])("near the limit (%i bytes to spare) is the original body, with what fits of the record", (spare) => {
    const original = "x".repeat(LIMIT - spare);
    const message = dlqMessage(recordFor(original));
    expect(message.body).toBe(original);
    expect(sizeOf(message)).toBeLessThanOrEqual(LIMIT);
    expect(message.attributes.reason?.StringValue).toBe("invalid_message");
  });

  it("keeps every field it can when there is room", () => {
    // Just too large for the JSON record (its fields cost more as JSON than as attributes).
    const overhead = JSON.stringify(recordFor("")).length + "reason".length + "String".length + "invalid_message".length;
    const message = dlqMessage(recordFor("x".repeat(LIMIT - overhead + 1)));
    expect(message.body.startsWith("x")).toBe(true);
    expect(Object.keys(message.attributes)).toEqual(["reason", "format", "source_message_id", "receive_count", "detail"]);
  });
});
