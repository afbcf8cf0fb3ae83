/**
 * Bare loops for the loop-latency benchmark: the least code that does the relay's I/O for one message, in each
 * mode it follows a run or a response — the same requests in the same order, nothing else (no validation,
 * retries, logs or metrics; the results event carries the object as it came). Beside bare-relay.ts (the
 * Assistants submit + publish of the concurrency and overhead benchmarks).
 *
 * - Assistants, poll: POST submit_tool_outputs, GET the run (first after the poll interval, then as
 *   `openai-poll-after-ms` says) until it rests, one-entry PublishBatch (the relay's call).
 * - Assistants, stream: POST with `stream: true`, read the events until a resting `thread.run.*`, publish.
 * - Responses (previous_response_id mode, as the relay): GET the previous response, PutItem claiming the turn,
 *   POST /responses (background, or `stream: true`), UpdateItem recording the new id, then GET (poll) or read the
 *   events (stream) until the response is final, publish.
 * - Agents, poll: POST the tool results to the session's events (content-derived `Idempotency-Key`), GET the
 *   session at once and then every poll interval until it rests (idle: then GET the turn, which must have ended; the
 *   results event carries it), publish.
 * - Agents, stream (as the relay's follow.ts): open the session's live stream (`GET …/events`) and, while it opens,
 *   GET the session; then read the stream, and GET the session again whenever it has been quiet for a poll interval
 *   (the stream does not replay what happened before it opened); a resting session (GET or `agent.session.*`
 *   event) → the turn as the stream's turn event carried it (else GET it as above), cancel the stream, publish.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PublishBatchCommand, SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { agentsEventsPost } from "./bare-relay";
import { BENCH_API_KEY, BENCH_VIRTUAL_KEY } from "./loopback-servers";

/** Where a bare loop sends its requests. */
export interface BareTarget {
  simBaseUrl: string;
  awsEndpoint: string;
  dynamodbEndpoint: string;
  region: string;
  resultsTopicArn: string;
  stateTableName: string;
  pollIntervalMs: number;
  apiKey?: string;
  virtualKey?: string;
}

const RESTING_RUN = new Set(["requires_action", "completed", "failed", "cancelled", "expired", "incomplete"]);
const FINAL_RESPONSE = new Set(["completed", "failed", "incomplete", "cancelled"]);
const RUN_EVENT = /^thread\.run\.(?!step\.)[a-z_]+$/;
const SESSION_EVENT = /^agent\.session\.(created|in_progress|requires_action|idle|failed)$/;
const TURN_ENDINGS = new Set(["completed", "failed", "cancelled"]);
const QUIET = Symbol("quiet");
const SETTINGS = ["model", "instructions", "tools", "tool_choice", "parallel_tool_calls", "reasoning", "text", "truncation", "metadata"];

type Json = Record<string, unknown>;

/**
 * One message through a bare loop; `stream` picks the mode, the body's ids pick the API.
 * @example const bare = bareLoops(target); await bare.one(record.body); bare.close();
 */
export function bareLoops(target: BareTarget) {
  const credentials = { accessKeyId: "local", secretAccessKey: "local" };
  const sns = new SNSClient({ region: target.region, endpoint: target.awsEndpoint, credentials });
  const dynamodb = new DynamoDBClient({ region: target.region, endpoint: target.dynamodbEndpoint, credentials });
  const table = DynamoDBDocumentClient.from(dynamodb);
  const keys = { "x-portkey-api-key": target.apiKey ?? BENCH_API_KEY, "x-portkey-virtual-key": target.virtualKey ?? BENCH_VIRTUAL_KEY };
  const assistantsHeaders = { ...keys, "openai-beta": "assistants=v2", "content-type": "application/json" };
  const responsesHeaders = { ...keys, "content-type": "application/json" };
  const agentsHeaders = { ...keys, "openai-beta": "agents=v1", "content-type": "application/json" };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  const publish = async (event: Json, type: string) => {
    await sns.send(
      new PublishBatchCommand({
        TopicArn: target.resultsTopicArn,
        PublishBatchRequestEntries: [
          { Id: "0", Message: JSON.stringify(event), MessageAttributes: { type: { DataType: "String", StringValue: type } } },
        ],
      }),
    );
  };

  /** The JSON objects of an event stream, until `enough` says so; the stream is cancelled then. */
  const readEvents = async (body: ReadableStream<Uint8Array>, enough: (event: string | undefined, data: Json) => boolean) => {
    const events = body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
    const reader = events.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        if (value.data === "[DONE]") return;
        if (enough(value.event, JSON.parse(value.data) as Json)) return;
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  };

  async function assistants(message: { thread_id: string; run_id: string; tool_outputs: unknown; stream?: boolean }) {
    const runUrl = `${target.simBaseUrl}/threads/${message.thread_id}/runs/${message.run_id}`;
    const answer = await fetch(`${runUrl}/submit_tool_outputs`, {
      method: "POST",
      headers: assistantsHeaders,
      body: JSON.stringify({ tool_outputs: message.tool_outputs, ...(message.stream ? { stream: true } : {}) }),
    });
    if (!answer.ok) throw new Error(`bare assistants: HTTP ${answer.status}`);
    let run: Json | undefined;
    if (message.stream) {
      await readEvents(answer.body!, (event, data) => {
        if (event === undefined || !RUN_EVENT.test(event)) return false;
        run = data;
        return RESTING_RUN.has(String(data.status));
      });
    } else {
      run = (await answer.json()) as Json;
      let wait = target.pollIntervalMs;
      while (!RESTING_RUN.has(String(run.status))) {
        await sleep(wait);
        const seen = await fetch(runUrl, { headers: assistantsHeaders });
        wait = Number(seen.headers.get("openai-poll-after-ms") ?? target.pollIntervalMs);
        run = (await seen.json()) as Json;
      }
    }
    const type = `run.${String(run?.status)}`;
    await publish({ api: "assistants", type, thread_id: message.thread_id, run_id: message.run_id, run }, type);
  }

  async function responses(message: {
    response_id: string;
    tool_outputs: Array<{ tool_call_id: string; output: unknown }>;
    stream?: boolean;
  }) {
    const previous = (await (
      await fetch(`${target.simBaseUrl}/responses/${message.response_id}`, { headers: responsesHeaders })
    ).json()) as Json;
    const key = { pk: `resp#${message.response_id}`, sk: `submit#${message.tool_outputs.map((o) => o.tool_call_id).join(",")}` };
    await table.send(
      new PutCommand({
        TableName: target.stateTableName,
        Item: { ...key, phase: "claimed", attempt: "bare", lease_until: Date.now() + 30_000 },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
    const record = (id: unknown) =>
      table.send(
        new UpdateCommand({
          TableName: target.stateTableName,
          Key: key,
          UpdateExpression: "SET phase = :submitted, response_id = :id",
          ConditionExpression: "attempt = :attempt",
          ExpressionAttributeValues: { ":submitted": "submitted", ":id": id, ":attempt": "bare" },
        }),
      );
    const settings = Object.fromEntries(SETTINGS.flatMap((field) => (previous[field] == null ? [] : [[field, previous[field]]])));
    const body = {
      ...settings,
      store: true,
      input: message.tool_outputs.map((o) => ({ type: "function_call_output", call_id: o.tool_call_id, output: o.output })),
      previous_response_id: message.response_id,
      background: true,
      ...(message.stream ? { stream: true } : {}),
    };
    const answer = await fetch(`${target.simBaseUrl}/responses`, { method: "POST", headers: responsesHeaders, body: JSON.stringify(body) });
    if (!answer.ok) throw new Error(`bare responses: HTTP ${answer.status}`);
    let response: Json | undefined;
    if (message.stream) {
      let recorded: Promise<unknown> | undefined;
      await readEvents(answer.body!, (_event, data) => {
        const seen = data.response as Json | undefined;
        if (seen === undefined) return false;
        recorded ??= record(seen.id);
        response = seen;
        return FINAL_RESPONSE.has(String(seen.status));
      });
      await recorded;
    } else {
      response = (await answer.json()) as Json;
      await record(response.id);
      let wait = target.pollIntervalMs;
      while (!FINAL_RESPONSE.has(String(response.status))) {
        await sleep(wait);
        const seen = await fetch(`${target.simBaseUrl}/responses/${String(response.id)}`, { headers: responsesHeaders });
        wait = Number(seen.headers.get("openai-poll-after-ms") ?? target.pollIntervalMs);
        response = (await seen.json()) as Json;
      }
    }
    const type = `response.${String(response?.status)}`;
    await publish({ api: "responses", type, response_id: response?.id, previous_response_id: message.response_id, response }, type);
  }

  /** The promise's value, or QUIET when it has not settled by `until` (it goes on). */
  const within = async <T>(promise: Promise<T>, until: number): Promise<T | typeof QUIET> => {
    let timer: NodeJS.Timeout | undefined;
    const quiet = new Promise<typeof QUIET>((resolve) => {
      timer = setTimeout(() => resolve(QUIET), Math.max(0, until - Date.now()));
    });
    try {
      return await Promise.race([promise, quiet]);
    } finally {
      clearTimeout(timer);
    }
  };

  async function agents(message: {
    session_id: string;
    turn_id: string;
    tool_outputs: Array<{ tool_call_id: string; output: unknown }>;
    stream?: boolean;
  }) {
    const sessionUrl = `${target.simBaseUrl}/agents/sessions/${message.session_id}`;
    const getJson = async (url: string) => {
      const answer = await fetch(url, { headers: agentsHeaders });
      if (!answer.ok) throw new Error(`bare agents: HTTP ${answer.status}`);
      return (await answer.json()) as Json;
    };
    const ours = new Set(message.tool_outputs.map((o) => o.tool_call_id));
    /** The session and its turn when the session rests for this message (GET the turn once idle), else undefined. */
    let streamedTurn: Json | undefined;
    const resting = async (session: Json): Promise<{ session: Json; turn?: Json } | undefined> => {
      if (session.status === "failed") return { session };
      if (session.status === "idle") {
        const ended = streamedTurn !== undefined && TURN_ENDINGS.has(String(streamedTurn.status));
        const turn = ended ? streamedTurn! : await getJson(`${sessionUrl}/turns/${message.turn_id}`);
        return TURN_ENDINGS.has(String(turn.status)) ? { session, turn } : undefined;
      }
      const actions = (session.required_actions as Array<{ call_id?: string }> | undefined) ?? [];
      return session.status === "requires_action" && !actions.some((a) => ours.has(String(a.call_id))) ? { session } : undefined;
    };

    const { body, idempotencyKey: key } = agentsEventsPost(message);
    const posted = await fetch(`${sessionUrl}/events`, { method: "POST", headers: { ...agentsHeaders, "idempotency-key": key }, body });
    if (!posted.ok) throw new Error(`bare agents: HTTP ${posted.status}`);
    await posted.arrayBuffer();

    let rest: { session: Json; turn?: Json } | undefined;
    if (message.stream) {
      const done = new AbortController();
      // Opened first, so that what the session does after the GET below is on the stream.
      const opening = fetch(`${sessionUrl}/events`, { headers: agentsHeaders, signal: done.signal });
      let reader: ReadableStreamDefaultReader<{ data: string }> | undefined;
      let next: ReturnType<ReadableStreamDefaultReader<{ data: string }>["read"]> | undefined;
      try {
        while (rest === undefined) {
          rest = await resting(await getJson(sessionUrl));
          const quietUntil = Date.now() + target.pollIntervalMs;
          while (rest === undefined) {
            if (reader === undefined) {
              const opened = await within(opening, quietUntil);
              if (opened === QUIET) break;
              reader = opened.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
            }
            next ??= reader.read();
            const item = await within(next, quietUntil);
            if (item === QUIET) break;
            next = undefined;
            if (item.done) throw new Error("bare agents: the stream ended");
            const data = JSON.parse(item.value.data) as Json;
            if (data.turn_id === message.turn_id && typeof data.turn === "object") streamedTurn = data.turn as Json;
            if (SESSION_EVENT.test(String(data.type))) rest = await resting(data.session as Json);
          }
        }
      } finally {
        done.abort();
        await reader?.cancel().catch(() => undefined);
        opening.catch(() => undefined);
        next?.catch(() => undefined);
      }
    } else {
      for (let first = true; rest === undefined; first = false) {
        if (!first) await sleep(target.pollIntervalMs);
        rest = await resting(await getJson(sessionUrl));
      }
    }
    const type = rest.turn ? `session.turn_${String(rest.turn.status)}` : `session.${String(rest.session.status)}`;
    await publish({ api: "agents", type, session_id: message.session_id, turn_id: message.turn_id, ...rest }, type);
  }

  return {
    /** One message's loop, by its API. */
    one(body: string): Promise<void> {
      const message = JSON.parse(body) as Json;
      if (typeof message.session_id === "string") return agents(message as never);
      return typeof message.response_id === "string" ? responses(message as never) : assistants(message as never);
    },
    close() {
      sns.destroy();
      dynamodb.destroy();
    },
  };
}
