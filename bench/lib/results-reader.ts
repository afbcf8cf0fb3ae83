/**
 * A results subscriber for the latency benchmark, in a child process of its own (so that neither the relay's work
 * after a publish nor the emulators delay it): it long-polls the queue subscribed to the results topic without
 * pause and tells, for each event, the instant its ReceiveMessage answered (epoch ms, sub-millisecond), keyed by
 * what the event answers (an Assistants run id, a Responses previous_response_id, an Agents session id).
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { readPublishedResult } from "../../functions/submit-tool-outputs/dialects/index";

/** Epoch ms with the fraction performance.now() has (the simulator's clock in the benchmark rig is the same). */
export const preciseNow = () => performance.timeOrigin + performance.now();

/**
 * @example const reader = await startResultsReader({ endpoint, region, queueUrl }); … const at = await reader.arrival(runId); await reader.stop();
 */
export async function startResultsReader(at: { endpoint: string; region: string; queueUrl: string }) {
  const child = fork(fileURLToPath(import.meta.url), [JSON.stringify(at)], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const arrived = new Map<string, number>();
  const waiting = new Map<string, (at: number) => void>();
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`results reader exited with ${code}`)));
    child.on("message", (m: { ready?: true; key?: string; at?: number }) => {
      if (m.ready) resolve();
      if (m.key === undefined || m.at === undefined || arrived.has(m.key)) return;
      arrived.set(m.key, m.at);
      waiting.get(m.key)?.(m.at);
      waiting.delete(m.key);
    });
  });
  return {
    /** When the first event for `key` was readable; waits for it (at most `timeoutMs`). */
    arrival(key: string, timeoutMs = 30_000): Promise<number> {
      const seen = arrived.get(key);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no results event for ${key} within ${timeoutMs} ms`)), timeoutMs);
        waiting.set(key, (when) => {
          clearTimeout(timer);
          resolve(when);
        });
      });
    },
    async stop() {
      child.removeAllListeners("exit");
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.disconnect();
      await exited;
    },
  };
}

if (process.send && process.argv[2]) {
  const at = JSON.parse(process.argv[2]) as { endpoint: string; region: string; queueUrl: string };
  const sqs = new SQSClient({ region: at.region, endpoint: at.endpoint, credentials: { accessKeyId: "l", secretAccessKey: "l" } });
  let running = true;
  process.on("disconnect", () => {
    running = false;
  });
  process.send({ ready: true });
  const keyOf = (event: Record<string, unknown>) =>
    String(event.api === "assistants" ? event.run_id : event.api === "agents" ? event.session_id : event.previous_response_id);
  while (running) {
    const answer = await sqs
      .send(new ReceiveMessageCommand({ QueueUrl: at.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }))
      .catch(() => ({ Messages: [] }));
    const when = preciseNow();
    const messages = answer.Messages ?? [];
    for (const message of messages) {
      if (running) process.send({ key: keyOf(readPublishedResult(message).event as unknown as Record<string, unknown>), at: when });
    }
    if (messages.length > 0)
      void sqs
        .send(
          new DeleteMessageBatchCommand({
            QueueUrl: at.queueUrl,
            Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        )
        .catch(() => undefined);
  }
  sqs.destroy();
  process.exit(0);
}
