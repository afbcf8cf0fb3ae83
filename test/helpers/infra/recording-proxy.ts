/**
 * An HTTP proxy in front of the loopback AWS emulators that records every AWS call passing through it as the
 * IAM action and resource it would be authorized as: the service from the SigV4 credential scope, the action
 * from `X-Amz-Target` (JSON protocols), `Action=` (query protocol) or the method and path (S3's REST protocol),
 * the resource from QueueUrl / TopicArn / SecretId / TableName / the bucket and key. Each service is forwarded
 * to the emulator that serves it.
 */
import { createServer, request as httpRequest, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedCall {
  /** As IAM names it, e.g. `sqs:SendMessage`. */
  action: string;
  /** The ARN IAM evaluates the call against (`*` for actions without resource-level permissions). */
  resource: string;
  /** The region the client signed the request for: where a real client would have sent it. */
  region: string;
  /** The emulator's answer. */
  status: number;
  /** A JSON-protocol error's `__type` (e.g. `ConditionalCheckFailedException`), when the answer is one. */
  errorType?: string;
}

/** What the proxy forwards where, by SigV4 service name (`sqs`, `sns`, `s3`, `dynamodb`, `secretsmanager`). */
export type Upstreams = Partial<Record<string, string>>;

export interface RecordingProxy {
  /** `http://127.0.0.1:<port>`: the value of every `AWS_ENDPOINT_URL_<SERVICE>` the function gets. */
  endpoint: string;
  calls: RecordedCall[];
  close(): Promise<void>;
}

interface Described {
  action: string;
  resources: string[];
}

/** The calls of one request: most name one action on one resource; DynamoDB batch calls name several tables. */
/**
 * IAM authorizes a batch call by its single action: PublishBatch needs sns:Publish, SendMessageBatch
 * sqs:SendMessage, DeleteMessageBatch sqs:DeleteMessage, ChangeMessageVisibilityBatch sqs:ChangeMessageVisibility.
 */
function iamActionOf(operation: string): string {
  return operation.endsWith("Batch") && operation !== "BatchGetItem" ? operation.slice(0, -"Batch".length) : operation;
}

function describe(service: string, request: IncomingMessage, body: string, region: string, account: string, answer: string): Described[] {
  const target = String(request.headers["x-amz-target"] ?? "");
  const json = () => JSON.parse(body || "{}") as Record<string, any>;
  const form = () => new URLSearchParams(body);
  const operation = target ? target.slice(target.lastIndexOf(".") + 1) : (form().get("Action") ?? "");
  const arnOf = (kind: string, resource: string) => `arn:aws:${kind}:${region}:${account}:${resource}`;
  switch (service) {
    case "sqs": {
      const queueUrl = target ? json().QueueUrl : form().get("QueueUrl");
      const queueName = target ? json().QueueName : form().get("QueueName");
      const name = queueUrl ? new URL(queueUrl).pathname.split("/").pop() : queueName;
      const owner = queueUrl ? new URL(queueUrl).pathname.split("/")[1]! : account;
      return [{ action: `sqs:${iamActionOf(operation)}`, resources: [name ? `arn:aws:sqs:${region}:${owner}:${name}` : "*"] }];
    }
    case "sns": {
      const input = target ? json() : Object.fromEntries(form());
      return [{ action: `sns:${iamActionOf(operation)}`, resources: [input.TopicArn ?? input.TargetArn ?? "*"] }];
    }
    case "secretsmanager": {
      // IAM authorizes against the secret's complete ARN, whatever id the request used: take it from the answer.
      const complete = (() => {
        try {
          return JSON.parse(answer).ARN as string | undefined;
        } catch {
          return undefined;
        }
      })();
      const id = String(json().SecretId ?? "*");
      return [
        {
          action: `secretsmanager:${operation}`,
          resources: [complete ?? (id.startsWith("arn:") ? id : arnOf("secretsmanager", `secret:${id}`))],
        },
      ];
    }
    case "dynamodb": {
      const input = json();
      const table = (name: string, index?: string) => arnOf("dynamodb", `table/${name}${index ? `/index/${index}` : ""}`);
      if (operation === "BatchGetItem" || operation === "BatchWriteItem") {
        return [{ action: `dynamodb:${operation}`, resources: Object.keys(input.RequestItems ?? {}).map((name) => table(name)) }];
      }
      if (operation === "TransactWriteItems" || operation === "TransactGetItems") {
        // IAM authorizes each item of a transaction as its own action.
        const actions: Record<string, string> = {
          Put: "PutItem",
          Update: "UpdateItem",
          Delete: "DeleteItem",
          ConditionCheck: "ConditionCheckItem",
          Get: "GetItem",
        };
        return (input.TransactItems as Array<Record<string, { TableName: string }>>).map((item) => {
          const [kind, detail] = Object.entries(item)[0]!;
          return { action: `dynamodb:${actions[kind]}`, resources: [table(detail.TableName)] };
        });
      }
      return [{ action: `dynamodb:${operation}`, resources: [input.TableName ? table(input.TableName, input.IndexName) : "*"] }];
    }
    case "s3": {
      const url = new URL(request.url ?? "/", "http://local");
      const [bucket, ...key] = url.pathname.slice(1).split("/");
      const object = key.join("/");
      const method = request.method ?? "GET";
      if (!object) return [{ action: method === "GET" ? "s3:ListBucket" : `s3:${method}Bucket`, resources: [`arn:aws:s3:::${bucket}`] }];
      const actions: Record<string, string> = {
        PUT: "s3:PutObject",
        POST: "s3:PutObject",
        GET: "s3:GetObject",
        HEAD: "s3:GetObject",
        DELETE: "s3:DeleteObject",
      };
      return [{ action: actions[method] ?? `s3:${method}`, resources: [`arn:aws:s3:::${bucket}/${decodeURIComponent(object)}`] }];
    }
    default:
      return [{ action: `${service}:${operation || request.method}`, resources: ["*"] }];
  }
}

/**
 * Starts the proxy. `account` is the simulated account, for ARNs the request itself does not carry.
 * @example const proxy = await startRecordingProxy({ sqs: fauxqs, sns: fauxqs, secretsmanager: sm.endpoint }, "000000000000");
 */
export async function startRecordingProxy(upstreams: Upstreams, account: string): Promise<RecordingProxy> {
  const calls: RecordedCall[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\//.exec(String(request.headers.authorization ?? ""));
      const [region, service] = [scope?.[1] ?? "unsigned", scope?.[2] ?? "unsigned"];
      const upstream = upstreams[service];
      if (!upstream) {
        calls.push({ action: `${service}:unrouted`, resource: "*", region, status: 599 });
        response.statusCode = 502;
        response.end(`no emulator for ${service}`);
        return;
      }
      const target = new URL(request.url ?? "/", upstream);
      const forwarded = httpRequest(target, { method: request.method, headers: { ...request.headers, host: target.host } }, (answer) => {
        const answerChunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => answerChunks.push(chunk));
        answer.on("end", () => {
          const answerBody = Buffer.concat(answerChunks);
          const errorType = (answer.statusCode ?? 0) >= 400 ? jsonErrorType(answerBody.toString("utf8")) : undefined;
          for (const call of describe(service, request, body.toString("utf8"), region, account, answerBody.toString("utf8"))) {
            for (const resource of call.resources) {
              calls.push({ action: call.action, resource, region, status: answer.statusCode ?? 0, ...(errorType ? { errorType } : {}) });
            }
          }
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          response.end(answerBody);
        });
      });
      forwarded.on("error", (error) => {
        response.statusCode = 502;
        response.end(String(error));
      });
      forwarded.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException` → `ConditionalCheckFailedException`. */
function jsonErrorType(body: string): string | undefined {
  try {
    const type = (JSON.parse(body) as { __type?: string }).__type;
    return type?.split("#").pop();
  } catch {
    return undefined;
  }
}
