/**
 * The operator CLI, in-process through runCli (the launcher only adds tsx and Ctrl-C) and once through
 * the launcher itself: flag parsing and validation without any AWS, then send / tail / dlq against the
 * local stack.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetQueueAttributesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../cli/main";
import { receiveBatch } from "../../cli/queue-io";
import { buildMessageBody } from "../../cli/send-command";
import type { ResponsesResultsEvent } from "../../functions/submit-tool-outputs/dialects/index";
import { type EmbeddedAws, startEmbeddedAws } from "../../local/embedded-aws";
import { type LocalStack, startLocalStack } from "../../local/local-stack";
import { answerFor, ended } from "../helpers/local/helpers";

/** Runs a command; `err` fills while it runs (progress, notes). */
function start(argv: string[], env: Record<string, string | undefined> = {}, signal?: AbortSignal) {
  const out: string[] = [];
  const err: string[] = [];
  const done = runCli(argv, { env, out: (l) => out.push(l), err: (l) => err.push(l), signal }).then((code) => ({
    code,
    out: out.join("\n"),
    err: err.join("\n"),
  }));
  return { done, err };
}
const cli = (argv: string[], env: Record<string, string | undefined> = {}) => start(argv, env).done;

describe("flags and validation (no AWS needed)", () => {
  it("says the = is missing in --output call_1, and says a name is missing in --output =x", async () => {
    // Act
    const missingEquals = await cli(["send", "--thread", "thread_1", "--run", "run_1", "--output", "call_1"]);
    const missingName = await cli(["send", "--thread", "thread_1", "--run", "run_1", "--output", "=x"]);

    // Assess
    expect(missingEquals).toMatchObject({
      code: 2,
      err: expect.stringContaining('--output takes <tool_call_id>=<output>: the "=" is missing'),
    });
    expect(missingEquals.err).not.toContain("without a name");
    expect(missingName).toMatchObject({ code: 2, err: expect.stringContaining('without a name before "="') });
  });

  it("refuses tail --type with no such event type, naming the known ones, before anything is subscribed", async () => {
    // Act: no AWS anywhere, so only the type check can answer.
    const typo = await cli(["tail", "--type", "requires_actoin"]);
    const mixed = await cli(["tail", "--type", "run.completed,respose.completed"]);

    // Assess
    expect(typo).toMatchObject({ code: 2, err: expect.stringContaining('--type "requires_actoin" is no event type') });
    expect(typo.err).toContain("run.requires_action");
    expect(mixed.err).toContain('"respose.completed"');
  });

  it("refuses a message that breaks the contract, listing every problem, without quoting outputs or sending", async () => {
    const { code, err } = await cli([
      "send",
      "--thread",
      "thread/../x",
      "--run",
      "run_1",
      "--output",
      "call_1=very-secret-output",
      "--output",
      "call_1=again",
    ]);
    expect(code).toBe(2);
    expect(err).toContain("nothing was sent");
    expect(err).toContain("thread_id");
    expect(err).toContain("duplicate tool_call_id call_1");
    expect(err).not.toContain("very-secret-output");
  });

  it("refuses a Responses message that breaks the contract, listing every problem, without sending", async () => {
    const { code, err } = await cli([
      "send",
      "--response",
      "resp/../x",
      "--conversation",
      "conv_1",
      "--output",
      "call_1=very-secret-output",
      "--output",
      "call_1=again",
    ]);
    expect(code).toBe(2);
    expect(err).toContain("nothing was sent");
    expect(err).toContain("  - response_id: must be 1–128 characters");
    expect(err).toContain("  - tool_outputs.1.tool_call_id: duplicate tool_call_id call_1");
    expect(err).toContain("  - response_id: send exactly one of response_id and conversation_id");
    expect(err).not.toContain("very-secret-output");
  });

  it.each([
    [["send", "--thread", "thread_a", "--run", "run_a", "--response", "resp_a", "--output", "c=1"], "has ids of more than one API"],
    [["send", "--thread", "thread_a", "--run", "run_a", "--model", "gpt-5-mini", "--output", "c=1"], 'unknown field "request"'],
    [["send", "--conversation", "conv_a", "--run", "run_a", "--output", "c=1"], "(run_id, conversation_id)"],
  ])("%j mixes the APIs: the relay's own parser says how (exit 2, nothing sent)", async (argv, problem) => {
    const { code, err } = await cli(argv);
    expect(code).toBe(2);
    expect(err).toContain("nothing was sent");
    expect(err).toContain(problem);
  });

  it.each([
    [["send", "--output", "call_1=x"], "--response <response_id> or --conversation <conversation_id>"],
    [["send", "--response", "resp_a"], "at least one --output"],
    [["send", "--file", "msg.json", "--response", "resp_a"], "drop --response"],
    [["send", "--thread", "t", "--run", "r"], "at least one --output"],
    [["send", "--thread", "t", "--run", "r", "--output", "no-equals-sign"], "--output takes <tool_call_id>=<output>"],
    [["send", "--thred", "t"], "--help"],
    [["send", "--file", "msg.json", "--thread", "t"], "drop --thread"],
    [["dlq", "purge"], "dlq takes list or redrive"],
    [["dlq", "redrive", "--method", "teleport"], "--method is auto, copy or move-task"],
    [["tail", "--max", "0"], "--max must be a whole number"],
    [["launch"], "unknown command launch"],
  ])("%j is a usage error (exit 2) that says what to do", async (argv, advice) => {
    const { code, err } = await cli(argv);
    expect(code).toBe(2);
    expect(err).toContain(advice);
  });

  it("send --session --turn builds an Agents message: --output for a result, --error for a tool's failure", async () => {
    // Act
    const body = await buildMessageBody({ session: "sess_a", turn: "turn_a", output: ["call_1=21"], error: ["call_2=timed out"] });
    const refused = await cli(["send", "--session", "sess_a", "--turn", "turn_a", "--error", "call_1="]);

    // Assess
    expect(JSON.parse(body)).toEqual({
      session_id: "sess_a",
      turn_id: "turn_a",
      tool_outputs: [
        { tool_call_id: "call_1", output: "21" },
        { tool_call_id: "call_2", error: "timed out" },
      ],
    });
    expect(refused.code).toBe(2);
    expect(refused.err).toContain("  - tool_outputs.0.error: must be a non-empty string");
  });

  it("a valid message with no queue anywhere says where the queue can come from", async () => {
    const { code, err } = await cli(["send", "--thread", "thread_a", "--run", "run_a", "--output", "call_a=1"]);
    expect(code).toBe(2);
    expect(err).toMatch(/--input-queue.*INPUT_QUEUE_URL.*--stack/s);
  });

  it("checks a --file message the same way (a body that is not JSON)", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "relay-cli-")), "msg.json");
    writeFileSync(file, "{ not json");
    const { code, err } = await cli(["send", "--file", file]);
    expect(code).toBe(2);
    expect(err).toContain("body is not JSON");
  });

  it("the launcher runs through Node with tsx: --help exits 0, a bad message exits 2", () => {
    const launcher = join(process.cwd(), "bin", "tool-output-relay.mjs");
    const help = spawnSync(process.execPath, [launcher, "--help"], { encoding: "utf8", timeout: 60_000 });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("dlq redrive");
    const bad = spawnSync(process.execPath, [launcher, "send", "--thread", "t", "--run", "r", "--output", "c=1", "--metadata", "=x"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--metadata takes <key>=<value>");
  });
});

describe("against the local stack", () => {
  let stack: LocalStack;
  let env: Record<string, string>;
  beforeAll(async () => {
    stack = await startLocalStack({ maxReceiveCount: 3, poller: { pollers: 2 } });
    env = {
      AWS_ENDPOINT_URL: stack.aws.endpoint,
      AWS_REGION: stack.aws.region,
      INPUT_QUEUE_URL: stack.aws.input.url,
      DLQ_URL: stack.aws.dlq.url,
      RESULTS_TOPIC_ARN: stack.aws.resultsTopicArn,
    };
  });
  afterAll(async () => stack.close());

  const dlqDepth = async () =>
    Number(
      (
        await stack.aws.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: stack.aws.dlq.url, AttributeNames: ["ApproximateNumberOfMessages"] }),
        )
      ).Attributes!.ApproximateNumberOfMessages,
    );
  const until = async (condition: () => Promise<boolean>) => {
    const deadline = Date.now() + 30_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error("condition not met in time");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it("send puts a checked message on the input queue; tail shows its result", async () => {
    // Prepare
    const run = stack.sim!.createRun({ toolCalls: ["call_w"] });
    const tail = start(["tail", "--type", "completed", "--max", "1"], env);
    await until(async () => tail.err.some((line) => line.startsWith("subscribed to")));
    // Act
    const sent = await cli(
      ["send", "--thread", run.threadId, "--run", run.runId, "--output", "call_w=sunny-secret", "--metadata", "tenant=acme"],
      env,
    );
    const messageId = /sent (\S+)/.exec(sent.out)![1]!;
    const accounting = await stack.settle([messageId], { timeoutMs: 30_000 });
    const tailed = await Promise.race([
      tail.done,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("tail printed nothing")), 20_000)),
    ]);
    // Assess
    expect(sent.code).toBe(0);
    expect(sent.out).not.toContain("sunny-secret");
    expect(ended(accounting)).toEqual({ accepted: 1, deadLettered: [], lost: 0 });
    expect(tailed.code).toBe(0);
    expect(tailed.out).toMatch(new RegExp(`run\\.completed\\s+${run.threadId} / ${run.runId}.*from ${messageId}.*tenant=acme`));
  });

  it("send --response answers a response; tail shows response.requires_action, and --response with its id answers the next round", async () => {
    // Prepare
    const first = stack.sim!.createResponse({ toolCalls: ["call_r1"], afterOutputs: [{ functionCalls: ["call_r2"] }, "completed"] });
    const tail = start(["tail", "--type", "requires_action", "--type", "response.completed", "--max", "2"], env);
    await until(async () => tail.err.some((line) => line.startsWith("subscribed to")));
    // Act: the first round; the second round names the response the requires_action event reports.
    const sent = await cli(["send", "--response", first.responseId, "--output", "call_r1=sunny-secret", "--metadata", "tenant=acme"], env);
    const askedFor = () =>
      stack.ledger.results
        .map((r) => r.event)
        .find((e): e is ResponsesResultsEvent => e.api === "responses" && e.previous_response_id === first.responseId);
    await until(async () => {
      await stack.readResults();
      return askedFor() !== undefined;
    });
    const asked = askedFor()!;
    const next = await cli(["send", "--response", asked.response_id!, "--output", "call_r2=cloudy"], env);
    const ids = [sent, next].map((s) => /sent (\S+)/.exec(s.out)![1]!);
    const accounting = await stack.settle(ids, { timeoutMs: 30_000 });
    const tailed = await Promise.race([
      tail.done,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("tail printed too little")), 20_000)),
    ]);
    // Assess
    expect(asked.type).toBe("response.requires_action");
    expect(sent.out).toContain(`(${first.responseId}, 1 tool output,`);
    expect(ended(accounting)).toEqual({ accepted: 2, deadLettered: [], lost: 0 });
    const [line1, line2] = tailed.out.split("\n");
    expect(line1).toMatch(
      new RegExp(`response\\.requires_action\\s+${asked.response_id}  asks for call_r2 \\(\\w+\\)  from ${ids[0]}.*tenant=acme`),
    );
    expect(line2).toMatch(new RegExp(`response\\.completed\\s+resp_\\w+  from ${ids[1]}`));
    expect(tailed.out).not.toContain("sunny-secret");
    expect(stack.sim!.counters.forks).toBe(0);
  });

  it("send --conversation --model answers the calls waiting at a conversation's tail", async () => {
    // Prepare
    const chat = stack.sim!.createResponse({ toolCalls: ["call_c1", "call_c2"], conversation: true });
    // Act
    const sent = await cli(
      ["send", "--conversation", chat.conversationId!, "--model", "gpt-5-mini", "--output", "call_c1=1", "--output", "call_c2=2"],
      env,
    );
    const messageId = /sent (\S+)/.exec(sent.out)![1]!;
    const accounting = await stack.settle([messageId], { timeoutMs: 30_000 });
    // Assess
    expect(sent.out).toContain(`(conversation ${chat.conversationId}, 2 tool outputs,`);
    expect(ended(accounting)).toEqual({ accepted: 1, deadLettered: [], lost: 0 });
    const [event] = stack.ledger.resultsOf(messageId).map((r) => r.event);
    expect(event).toMatchObject({ api: "responses", type: "response.completed", conversation_id: chat.conversationId });
    expect(stack.sim!.conversationItems(chat.conversationId!)!.filter((i) => i.type === "function_call_output")).toHaveLength(2);
  });

  it("dlq list shows reasons without taking anything out or printing outputs; dlq redrive --reason moves only those", async () => {
    // Prepare: a relay record (expired run), and a raw message as SQS's redrive would leave it, for a live run.
    const expired = stack.sim!.createRun();
    stack.sim!.expireRun(expired.threadId, expired.runId);
    await stack.send(answerFor(expired));
    const live = stack.sim!.createRun();
    await stack.aws.sqs.send(new SendMessageCommand({ QueueUrl: stack.aws.dlq.url, MessageBody: JSON.stringify(answerFor(live)) }));
    await until(async () => (await dlqDepth()) === 2);

    // Act: list twice (a peek leaves everything there)
    const listed = await cli(["dlq", "list"], env);
    const again = await cli(["dlq", "list", "--json"], env);
    // Assess
    expect(listed.code).toBe(0);
    expect(listed.out).toContain("2 messages: ");
    expect(listed.out).toContain("run_expired");
    expect(listed.out).toContain("redriven_by_sqs");
    expect(listed.out).toContain(`${expired.threadId} / ${expired.runId}`);
    expect(listed.out + again.out).not.toContain("tool-output-text");
    expect(
      again.out
        .split("\n")
        .map((l) => JSON.parse(l).reason)
        .sort(),
    ).toEqual(["redriven_by_sqs", "run_expired"]);
    expect(await dlqDepth()).toBe(2);

    // Act: redrive only the raw one
    const redrive = await cli(["dlq", "redrive", "--reason", "redriven_by_sqs"], env);
    // Assess
    expect(redrive.code).toBe(0);
    expect(redrive.err).toContain("copying each original body back");
    expect(redrive.out).toBe("moved 1 message back to tool-outputs; 1 left in the DLQ (other reasons)");
    await stack.settle([], { timeoutMs: 30_000 });
    expect(
      stack.ledger.results.some((r) => r.event.api === "assistants" && r.event.run_id === live.runId && r.event.type === "run.completed"),
    ).toBe(true);
    expect(stack.ledger.deadLetters.filter((d) => d.reason === "run_expired")).toHaveLength(1);
  });

  it("refuses SQS's move task on the emulator, and says what to use instead", async () => {
    const { code, err } = await cli(["dlq", "redrive", "--method", "move-task"], env);
    expect(code).toBe(2);
    expect(err).toContain("--method copy");
  });

  it("says the local stack is not running when nothing answers at AWS_ENDPOINT_URL", async () => {
    const { code, err } = await cli(["dlq", "list"], {
      ...env,
      AWS_ENDPOINT_URL: "http://127.0.0.1:9",
      DLQ_URL: "http://127.0.0.1:9/000000000000/tool-outputs-dlq",
    });
    expect(code).toBe(1);
    expect(err).toContain("npm start -- --serve");
  });
});

describe("FIFO message groups", () => {
  let aws: EmbeddedAws;
  beforeAll(async () => {
    aws = await startEmbeddedAws({ fifo: true });
  });
  afterAll(async () => aws.close());

  it("default to the thread, else the conversation, else the response; --group-id wins", async () => {
    // Prepare
    const env = { AWS_ENDPOINT_URL: aws.endpoint, AWS_REGION: aws.region, INPUT_QUEUE_URL: aws.input.url };
    const sends = [
      ["--thread", "thread_g", "--run", "run_g"],
      ["--conversation", "conv_g"],
      ["--response", "resp_g"],
      ["--response", "resp_h", "--group-id", "tenant-7"],
    ];
    // Act
    for (const ids of sends) expect((await cli(["send", ...ids, "--output", "call_g=1"], env)).code).toBe(0);
    const messages = await receiveBatch(aws.sqs, aws.input.url, { max: 10, waitSeconds: 1 });
    // Assess
    expect(messages.map((m) => m.Attributes?.MessageGroupId).sort()).toEqual(["conv_g", "resp_g", "tenant-7", "thread_g"]);
  });
});
