import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { closedInBackground, serverSentEvents } from "../../functions/submit-tool-outputs/endpoint/server-sent-events";

/** A body that comes in these chunks, as a Node stream does. */
const body = (...chunks: Array<string | Uint8Array>) =>
  Readable.from(chunks.map((chunk) => (typeof chunk === "string" ? Buffer.from(chunk) : chunk)));

async function all(source: AsyncIterable<Uint8Array>) {
  const events = [];
  for await (const event of serverSentEvents(source)) events.push({ event: event.event, data: event.data });
  return events;
}

describe("server-sent events read chunk by chunk", () => {
  it("frames events split anywhere, a character's bytes included, with CRLF, comments and multi-line data", async () => {
    // Prepare: "é" is two bytes in UTF-8, cut between chunks.
    const text = Buffer.from(
      ': hello\r\nevent: thread.run.created\r\ndata: {"status":"qu\r\n\r\nevent: done\ndata: "caf\u00e9"\ndata: two\n\n',
    );
    const cut = text.indexOf(0xc3) + 1;

    // Act
    const events = await all(body(text.subarray(0, 20), text.subarray(20, cut), text.subarray(cut)));

    // Assess
    expect(events).toEqual([
      { event: "thread.run.created", data: '{"status":"qu' },
      { event: "done", data: '"caf\u00e9"\ntwo' },
    ]);
  });

  it("drops an event cut off by the end of the stream", async () => {
    expect(await all(body("event: a\ndata: 1\n\nevent: b\ndata: 2\n"))).toEqual([{ event: "a", data: "1" }]);
  });

  it("ends with the parser's error when one event outgrows 4 MiB, rather than buffer it", async () => {
    const chunk = `data: ${"x".repeat(1024 * 1024)}`;
    await expect(all(body("event: big\n", chunk, chunk, chunk, chunk, chunk))).rejects.toMatchObject({ type: "max-buffer-size-exceeded" });
  });

  it("stops reading, and destroys the body, when the reader stops early", async () => {
    // Prepare
    const source = body("data: 1\n\n", "data: 2\n\n", "data: 3\n\n");

    // Act
    for await (const event of serverSentEvents(source)) if (event.data === "1") break;

    // Assess
    expect(source.destroyed).toBe(true);
  });
});

describe("a stream read until done is closed in the background", () => {
  /** Items 1, 2, 3; its close (the finally an early return runs) waits for `release` before it ends. */
  function slowToClose() {
    const log: string[] = [];
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* items() {
      try {
        yield* [1, 2, 3];
      } finally {
        log.push("closing");
        await released;
        log.push("closed");
      }
    }
    return { stream: items(), log, release };
  }

  it("hands on what it found before the stream closes, and closes it on the next turn of the event loop", async () => {
    // Prepare
    const { stream, log, release } = slowToClose();

    // Act: read until the second item, as a follower reads until a resting state.
    let found: number | undefined;
    for await (const item of closedInBackground(stream)) {
      if (item === 2) {
        found = item;
        break;
      }
    }

    // Assess: the loop ended before the close began (a plain for await would still be waiting for "closed").
    expect(found).toBe(2);
    expect(log).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(["closing"]);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(["closing", "closed"]);
  });

  it("passes a broken stream's error to the reader", async () => {
    // Prepare
    async function* broken() {
      yield 1;
      throw new Error("socket reset");
    }

    // Act
    const read = async () => {
      for await (const _ of closedInBackground(broken())) {
        // reads on
      }
    };

    // Assess
    await expect(read()).rejects.toThrow("socket reset");
  });
});
