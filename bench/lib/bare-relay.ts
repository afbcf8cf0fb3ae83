/**
 * The baseline the relay's CPU is measured against: the least code that does the relay's I/O for one batch, for
 * each API — every record's requests at once, then the batch's results in one PublishBatch (per ten), the I/O the
 * relay makes when the endpoint answers at once (the simulator with processingMs 0; overhead.ts counts both sides'
 * requests and checks they match). No validation, retries, logs or metrics; the results event carries the object
 * as it came. The body's ids pick the API:
 *
 * - Assistants: POST submit_tool_outputs (the run is at rest in its answer).
 * - Responses (`previous_response_id`, background): GET the previous response (its settings), a conditional PutItem
 *   claiming the turn, POST /responses, an UpdateItem recording the new id (GET the new response until it is final,
 *   which the simulator at processingMs 0 never needs: the POST answers with it final).
 * - Agents: POST the tool results to the session's events with a content-derived Idempotency-Key, GET the session
 *   (at rest: idle), GET the turn it finished (the results event carries it).
 */
import { createHash, randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PublishBatchCommand, SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { SQSEvent } from "aws-lambda";
import { nodeTransport } from "../../functions/submit-tool-outputs/endpoint/endpoint-transport";
import { BENCH_API_KEY, BENCH_VIRTUAL_KEY } from "./loopback-servers";

/** Where the bare loop sends: the endpoint, SNS, the topic (and, for the Responses API, the state table). */
export interface BareRelayTarget {
  simBaseUrl: string;
  awsEndpoint: string;
  region: string;
  resultsTopicArn: string;
  dynamodbEndpoint?: string;
  stateTableName?: string;
  apiKey?: string;
  virtualKey?: string;
}

type Json = Record<string, unknown>;
type Entry = { Message: string; MessageAttributes: Record<string, { DataType: string; StringValue: string }> };
type Outputs = Array<{ tool_call_id: string; output?: unknown; error?: string }>;

const FINAL_RESPONSE = new Set(["completed", "failed", "incomplete", "cancelled"]);
const SETTINGS = ["model", "instructions", "tools", "tool_choice", "parallel_tool_calls", "reasoning", "text", "truncation", "metadata"];

/**
 * `http`: what the endpoint calls go on: `fetch` (the baseline the targets name), or `node`, the relay's own transport
 * (Node's http on the AWS SDK's handler, endpoint-transport.ts), to tell the relay's overhead from its HTTP client's.
 * @example const bare = bareRelay(rig.info); await bare.handle(event); bare.close();
 */
export function bareRelay(target: BareRelayTarget, { http = "fetch" }: { http?: "fetch" | "node" } = {}) {
  const credentials = { accessKeyId: "local", secretAccessKey: "local" };
  const sns = new SNSClient({ region: target.region, endpoint: target.awsEndpoint, credentials });
  const dynamodb =
    target.dynamodbEndpoint === undefined
      ? undefined
      : new DynamoDBClient({ region: target.region, endpoint: target.dynamodbEndpoint, credentials });
  const table = dynamodb && DynamoDBDocumentClient.from(dynamodb);
  const keys = { "x-portkey-api-key": target.apiKey ?? BENCH_API_KEY, "x-portkey-virtual-key": target.virtualKey ?? BENCH_VIRTUAL_KEY };
  const assistantsHeaders = { ...keys, "openai-beta": "assistants=v2", "content-type": "application/json" };
  const responsesHeaders = { ...keys, "content-type": "application/json" };
  const agentsHeaders = { ...keys, "openai-beta": "agents=v1", "content-type": "application/json" };
  const base = target.simBaseUrl;

  const transport = http === "node" ? nodeTransport() : undefined;
  const never = new AbortController().signal;
  const send = async (url: string, headers: Record<string, string>, init: { method?: "GET" | "POST"; body?: string }) =>
    transport
      ? transport({
          method: init.method ?? "GET",
          url: new URL(url),
          headers,
          ...(init.body === undefined ? {} : { body: init.body }),
          signal: never,
        })
      : fetch(url, { headers, ...init });
  const read = async (url: string, headers: Record<string, string>, init: { method?: "GET" | "POST"; body?: string } = {}) => {
    const answer = await send(url, headers, init);
    if (!answer.ok) throw new Error(`bare relay: HTTP ${answer.status} from ${init.method ?? "GET"} ${new URL(url).pathname}`);
    return answer;
  };
  const text = (value: string) => ({ DataType: "String", StringValue: value });
  // The SNS message attributes the results event's contract gives subscribers to filter on (docs/contract.md):
  // `type`, `status`, `api` and the API's id. They are the relay's I/O, so the baseline sends them too.
  const entry = (api: string, type: string, status: string, idAttribute: [string, string], event: Json): Entry => ({
    Message: JSON.stringify({ api, type, ...event }),
    MessageAttributes: { type: text(type), status: text(status), api: text(api), [idAttribute[0]]: text(idAttribute[1]) },
  });

  async function assistants(message: { thread_id: string; run_id: string; tool_outputs: unknown }, messageId: string) {
    const url = `${base}/threads/${message.thread_id}/runs/${message.run_id}/submit_tool_outputs`;
    const body = JSON.stringify({ tool_outputs: message.tool_outputs });
    const run = (await (await read(url, assistantsHeaders, { method: "POST", body })).json()) as Json;
    return entry("assistants", `run.${String(run.status)}`, String(run.status), ["thread_id", message.thread_id], {
      thread_id: message.thread_id,
      run_id: message.run_id,
      source_message_id: messageId,
      run,
    });
  }

  async function responses(message: { response_id: string; tool_outputs: Outputs }, messageId: string) {
    if (!table || !target.stateTableName) throw new Error("bare relay: the Responses API needs dynamodbEndpoint and stateTableName");
    const previous = (await (await read(`${base}/responses/${message.response_id}`, responsesHeaders)).json()) as Json;
    const callIds = message.tool_outputs.map((o) => o.tool_call_id);
    const key = { pk: `resp#${message.response_id}`, sk: `submit#${callIds.join(",")}` };
    const attempt = randomUUID();
    await table.send(
      new PutCommand({
        TableName: target.stateTableName,
        Item: { ...key, phase: "claimed", owner: messageId, attempt, lease_until: Date.now() + 30_000, call_ids: callIds },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
    const settings = Object.fromEntries(SETTINGS.flatMap((field) => (previous[field] == null ? [] : [[field, previous[field]]])));
    const body = JSON.stringify({
      ...settings,
      store: true,
      input: message.tool_outputs.map((o) => ({ type: "function_call_output", call_id: o.tool_call_id, output: o.output })),
      previous_response_id: message.response_id,
      background: true,
    });
    let response = (await (await read(`${base}/responses`, responsesHeaders, { method: "POST", body })).json()) as Json;
    await table.send(
      new UpdateCommand({
        TableName: target.stateTableName,
        Key: key,
        UpdateExpression: "SET phase = :submitted, response_id = :id",
        ConditionExpression: "attempt = :attempt",
        ExpressionAttributeValues: { ":submitted": "submitted", ":id": response.id, ":attempt": attempt },
      }),
    );
    while (!FINAL_RESPONSE.has(String(response.status))) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      response = (await (await read(`${base}/responses/${String(response.id)}`, responsesHeaders)).json()) as Json;
    }
    return entry("responses", `response.${String(response.status)}`, String(response.status), ["response_id", String(response.id)], {
      response_id: response.id,
      previous_response_id: message.response_id,
      source_message_id: messageId,
      response,
    });
  }

  async function agents(message: { session_id: string; turn_id: string; tool_outputs: Outputs }, messageId: string) {
    const sessionUrl = `${base}/agents/sessions/${message.session_id}`;
    const { body, idempotencyKey } = agentsEventsPost(message);
    await (await read(`${sessionUrl}/events`, { ...agentsHeaders, "idempotency-key": idempotencyKey }, { method: "POST", body })).text();
    const session = (await (await read(sessionUrl, agentsHeaders)).json()) as Json;
    const turn = (await (await read(`${sessionUrl}/turns/${message.turn_id}`, agentsHeaders)).json()) as Json;
    return entry("agents", `session.turn_${String(turn.status)}`, String(turn.status), ["session_id", message.session_id], {
      session_id: message.session_id,
      turn_id: message.turn_id,
      source_message_id: messageId,
      session,
      turn,
    });
  }

  const submit = (body: string, messageId: string): Promise<Entry> => {
    const message = JSON.parse(body) as Json;
    if (typeof message.session_id === "string") return agents(message as never, messageId);
    if (typeof message.response_id === "string") return responses(message as never, messageId);
    return assistants(message as never, messageId);
  };

  return {
    /** All records of the batch at once (like the relay with its default concurrency), then one PublishBatch per ten. */
    async handle(event: SQSEvent) {
      const entries = await Promise.all(event.Records.map((record) => submit(record.body, record.messageId)));
      for (let start = 0; start < entries.length; start += 10) {
        await sns.send(
          new PublishBatchCommand({
            TopicArn: target.resultsTopicArn,
            PublishBatchRequestEntries: entries.slice(start, start + 10).map((e, i) => ({ ...e, Id: String(i) })),
          }),
        );
      }
      return { batchItemFailures: [] };
    },
    close() {
      sns.destroy();
      dynamodb?.destroy();
    },
  };
}

/**
 * The Agents API's events POST for a message's tool results, as the relay sends it: the body and its content-derived
 * `Idempotency-Key` (shared by both bare loops).
 */
export function agentsEventsPost(message: { session_id: string; turn_id: string; tool_outputs: Outputs }) {
  const body = JSON.stringify({
    events: message.tool_outputs.map((o) => ({
      type: "agent.session.input.tool_result",
      turn_id: message.turn_id,
      call_id: o.tool_call_id,
      success: true,
      output: o.output,
    })),
  });
  return { body, idempotencyKey: createHash("sha256").update(`${message.session_id}\n${body}`).digest("hex") };
}
