/**
 * The test rig itself (test/helpers/portkey-gateway.ts): where the gateway listens, when it counts as ready,
 * and that closing it leaves nothing behind.
 */
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { type ScriptedUpstream, startScriptedUpstream } from "../helpers/gateway/scripted-upstream";
import { providerHeaders } from "../helpers/gateway/through-gateway";
import { type PortkeyGateway, startPortkeyGateway } from "../helpers/portkey-gateway";

const started: Array<PortkeyGateway | ScriptedUpstream> = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((part) => part.close()));
});

async function gateway(): Promise<PortkeyGateway> {
  const gateway = await startPortkeyGateway();
  started.push(gateway);
  return gateway;
}

/** Whether a TCP connection to host:port opens. */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.setTimeout(2000, () => done(false));
  });
}

describe("the gateway process the rig starts", () => {
  it("listens on 127.0.0.1 only, not on the machine's other addresses (its start script would listen on all)", async () => {
    // Prepare
    const port = Number(new URL((await gateway()).baseUrl).port);
    const others = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).filter((a) => !a.internal).map((a) => a.address));

    // Act
    const loopback = await reachable("127.0.0.1", port);
    const elsewhere = await Promise.all(["::1", ...others].map(async (host) => [host, await reachable(host, port)] as const));

    // Assess
    expect(loopback).toBe(true);
    expect(elsewhere.filter(([, open]) => open)).toEqual([]);
  });

  it("is ready only once an upstream failing on the very first request no longer brings it down", async () => {
    // Prepare: a body cut short is an unhandled rejection in the gateway; before its handler is installed, it exits.
    const upstream = await startScriptedUpstream((_request, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "500" });
      res.write('{"id":"run_cut"');
      setTimeout(() => res.destroy(), 10);
    });
    started.push(upstream);
    const ready = await gateway();

    // Act
    await fetch(`${ready.baseUrl}/threads/thread_cut/runs/run_cut`, {
      headers: providerHeaders(upstream.baseUrl),
      signal: AbortSignal.timeout(1000),
    }).catch(() => undefined);
    const greeting = await fetch(new URL("/", ready.baseUrl));

    // Assess
    expect(await greeting.text()).toBe("AI Gateway says hey!");
    expect(ready.output()).not.toContain("gateway process exited");
  });

  it("fails a start that does not get ready in time with the gateway's output, and stops the process", async () => {
    // Act: the start script alone waits a second before its banner.
    const attempt = startPortkeyGateway({ startTimeoutMs: 50 });

    // Assess
    await expect(attempt).rejects.toThrow(
      /did not start: not ready within 50 ms\n--- its output ---\n[\s\S]*gateway process exited: SIGTERM/,
    );
  });

  it("is gone after close(): its port refuses connections, and a second close() is harmless", async () => {
    // Prepare
    const closing = await gateway();
    const port = Number(new URL(closing.baseUrl).port);

    // Act
    await closing.close();
    await closing.close();

    // Assess
    expect(await reachable("127.0.0.1", port)).toBe(false);
    expect(closing.output()).toContain("[gateway process exited: SIGTERM]");
  });
});
