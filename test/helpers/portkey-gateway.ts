/**
 * The real self-hosted Portkey gateway (`@portkey-ai/gateway`, its own start script, unchanged) as a child
 * process on 127.0.0.1, for tests that put it between the relay and the endpoint simulator.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import { stripVTControlCharacters } from "node:util";
import { beforeEach, describe, expect, it } from "vitest";

export interface PortkeyGateway {
  /** `http://127.0.0.1:<port>/v1` */
  readonly baseUrl: string;
  /** How much the gateway has written so far: a mark for `output(since)`. */
  readonly outputLength: number;
  /** What the gateway wrote to stdout and stderr (from a mark on), cleaned for reading. */
  output(since?: number): string;
  /** Stops the gateway and waits until its process is gone. Safe to call twice. */
  close(): Promise<void>;
}

export interface PortkeyGatewayOptions {
  /** How long the start may take on a loaded machine. Default 30 000 ms. */
  startTimeoutMs?: number;
}

const ENTRY = createRequire(import.meta.url).resolve("@portkey-ai/gateway/build/start-server.js");
const LOOPBACK_PRELOAD = new URL("./portkey-gateway-loopback.mjs", import.meta.url).href;
/**
 * The start script prints this after it has installed its `unhandledRejection` handler, about a second after it
 * listens; a request that fails upstream before then (a body cut short) kills the whole process.
 */
const READY_BANNER = "Ready for connections!";
const GREETING = "AI Gateway says hey!";
/** Output kept for a failing test: the end of it, since the start is the banner. */
const MAX_OUTPUT_CHARS = 1024 * 1024;

/**
 * Starts the gateway, headless (no UI, no log stream that would hand request bodies to any client), with a
 * clean environment (no proxy or AWS variables of the test process leak in) that trusts 127.0.0.1 as a custom
 * host. Resolves once it listens, has printed its ready banner and answers `GET /`.
 * @example
 * const gateway = await startPortkeyGateway();
 * await fetch(`${gateway.baseUrl}/threads/t/runs/r`, { headers: { "x-portkey-provider": "openai", "x-portkey-custom-host": sim.baseUrl } });
 * await gateway.close();
 */
export async function startPortkeyGateway(options: PortkeyGatewayOptions = {}): Promise<PortkeyGateway> {
  const child = spawn(process.execPath, ["--import", LOOPBACK_PRELOAD, ENTRY, "--headless", "--port=0"], {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: { PATH: process.env.PATH ?? "", TRUSTED_CUSTOM_HOSTS: "127.0.0.1" },
  });
  let log = "";
  let dropped = 0;
  let sawBanner = false;
  let onBanner = () => {};
  const append = (chunk: Buffer) => {
    log += chunk.toString("utf8");
    if (log.length > MAX_OUTPUT_CHARS) {
      dropped += log.length - MAX_OUTPUT_CHARS;
      log = log.slice(-MAX_OUTPUT_CHARS);
    }
    if (!sawBanner && log.includes(READY_BANNER)) {
      sawBanner = true;
      onBanner();
    }
  };
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  child.on("exit", (code, signal) => {
    log += `\n[gateway process exited: ${signal ?? `code ${code}`}]\n`;
  });
  // The last resort when the test process ends without close(): the IPC channel closing also stops it (see the preload).
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const output = (since = 0) => readable(log.slice(Math.max(0, since - dropped)));
  const close = async () => {
    process.removeListener("exit", killOnExit);
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const stubborn = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(stubborn);
  };

  const timeoutMs = options.startTimeoutMs ?? 30_000;
  try {
    const port = await new Promise<number>((resolve, fail) => {
      let port: number | undefined;
      const reject = (error: Error) => {
        clearTimeout(timer);
        fail(error);
      };
      const timer = setTimeout(() => reject(new Error(`not ready within ${timeoutMs} ms`)), timeoutMs);
      const settle = () => {
        if (port === undefined || !sawBanner) return;
        clearTimeout(timer);
        resolve(port);
      };
      onBanner = settle;
      child.on("message", (message: { gatewayPort?: unknown }) => {
        if (typeof message?.gatewayPort === "number") port = message.gatewayPort;
        settle();
      });
      child.once("error", reject);
      child.once("exit", () => reject(new Error("the process ended before it was ready")));
      settle();
    });
    const greeting = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await greeting.text();
    if (text !== GREETING) throw new Error(`GET / answered ${greeting.status} ${JSON.stringify(text.slice(0, 100))}`);
    return {
      baseUrl: `http://127.0.0.1:${port}/v1`,
      get outputLength() {
        return dropped + log.length;
      },
      output,
      close,
    };
  } catch (error) {
    await close();
    throw new Error(`the Portkey gateway did not start: ${(error as Error).message}\n--- its output ---\n${output()}`, { cause: error });
  }
}

/**
 * Prints what the gateway wrote during a test when, and only when, that test failed.
 * @example let gateway: PortkeyGateway; showGatewayOutputOnFailure(() => gateway);
 */
export function showGatewayOutputOnFailure(gateway: () => PortkeyGateway | undefined): void {
  beforeEach(({ onTestFailed }) => {
    const since = gateway()?.outputLength ?? 0;
    onTestFailed(() => {
      const text = gateway()?.output(since).trim();
      if (text) console.error(`Portkey gateway output during this test:\n${text}`);
    });
  });
}

/** Known noise of the pinned gateway: its UI log hook fails on every proxied request, even headless. */
const LOG_HOOK_NOISE = /Error processing log: TypeError: Cannot read properties of undefined \(reading 'stream'\)\n(?: {4}at .*\n)*/g;
const SPINNER = /\r?[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Starting AI Gateway\.\.\.\r?/g;
/** Node's JSON errors quote the start of the text they failed on: a body, which must not reach a test log. */
const JSON_SNIPPET = /"(?:[^"\\\n]|\\.)*"(?:\.\.\.)? is not valid JSON/g;

function readable(text: string): string {
  return stripVTControlCharacters(text)
    .replace(SPINNER, "")
    .replace(LOG_HOOK_NOISE, "")
    .replace(JSON_SNIPPET, '"[body redacted]" is not valid JSON');
}

/**
 * Registers, last in the file, the check that the gateway's own output (what a failing test would print) holds
 * none of `secrets` (tool outputs, keys) after every test above.
 * @example describeGatewayOutputHoldsNoSecret(() => gateway, ["tool-output-text-", TEST_API_KEY]);
 */
export function describeGatewayOutputHoldsNoSecret(gateway: () => PortkeyGateway, secrets: string[]): void {
  describe("what the gateway writes to its own output", () => {
    it("holds no tool output and no key, as a failing test would print it, after every test above", () => {
      const output = gateway().output();
      for (const secret of secrets) expect(output).not.toContain(secret);
    });
  });
}
