import { describe, expect, it } from "vitest";
import { type RunStreamItem, runStreamItems } from "../../../functions/submit-tool-outputs/dialects/assistants/event-stream";

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}
async function collect(stream: ReadableStream<Uint8Array>): Promise<RunStreamItem[]> {
  const items: RunStreamItem[] = [];
  for await (const item of runStreamItems(stream)) items.push(item);
  return items;
}
const run = (status: string) => JSON.stringify({ id: "run_1", object: "thread.run", status });

describe("runStreamItems", () => {
  it("yields run states, skips steps, messages and unknown events, and stops at done", async () => {
    const items = await collect(
      streamOf(
        `event: thread.run.step.completed\ndata: {"id":"step_1","object":"thread.run.step","status":"completed"}\n\n`,
        `event: thread.run.queued\ndata: ${run("queued")}\n\n`,
        `event: thread.message.delta\ndata: {"id":"msg_1","delta":{}}\n\n`,
        `event: thread.run.some_future_event\ndata: {"not":"a run"}\n\n`,
        `event: brand.new.event\ndata: {}\n\n`,
        `event: thread.run.completed\r\ndata: ${run("completed")}\r\n\r\n`,
        `event: done\ndata: [DONE]\n\n`,
        `event: thread.run.failed\ndata: ${run("failed")}\n\n`,
      ),
    );
    expect(items.map((i) => (i.kind === "run" ? i.run.status : i.kind))).toEqual(["queued", "completed", "done"]);
  });

  it("handles events split across chunks", async () => {
    const text = `event: thread.run.requires_action\ndata: ${run("requires_action")}\n\nevent: done\ndata: [DONE]\n\n`;
    const items = await collect(streamOf(...text.match(/.{1,7}/gs)!));
    expect(items.map((i) => i.kind)).toEqual(["run", "done"]);
  });

  it("ends with the error of an `event: error`", async () => {
    const items = await collect(
      streamOf(
        `event: error\ndata: {"message":"boom","type":"server_error","code":null,"param":null}\n\n`,
        `event: done\ndata: [DONE]\n\n`,
      ),
    );
    expect(items).toEqual([{ kind: "error", error: { message: "boom", type: "server_error", code: null, param: null } }]);
  });
});
