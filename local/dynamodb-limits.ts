import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

/**
 * DynamoDB's limits that dynalite does not enforce, checked on loopback before a request reaches it, answered with
 * DynamoDB's own error texts (a ValidationException, HTTP 400), so that code that passes them fails here as it would
 * on AWS. dynalite already refuses items over 400 KB ("Item size has exceeded the maximum allowed size", "Item size
 * to update has exceeded the maximum allowed size") and batches over 25 writes / 100 gets; it does not count an
 * expression's length, nor the items of a transaction.
 * Hand-written: a request check over node:http, a few lines; no maintained emulator on npm enforces these.
 */

/** DynamoDB measures each expression on its raw bytes as sent (placeholders not substituted): 4,096 pass, 4,097 fail. */
export const MAX_EXPRESSION_BYTES = 4_096;
/** Items in one TransactWriteItems / TransactGetItems. */
export const MAX_TRANSACTION_ITEMS = 100;

const EXPRESSIONS = ["ConditionExpression", "UpdateExpression", "KeyConditionExpression", "FilterExpression", "ProjectionExpression"];

/**
 * What DynamoDB answers a request that passes one of those limits, or undefined when it passes none.
 * @example limitRefusal("UpdateItem", { UpdateExpression: "SET " + "a".repeat(5000) })
 */
export function limitRefusal(operation: string, request: Record<string, unknown>): string | undefined {
  const parts: Record<string, unknown>[] = [request];
  if (operation === "TransactWriteItems" || operation === "TransactGetItems") {
    const items = Array.isArray(request.TransactItems) ? (request.TransactItems as Record<string, unknown>[]) : [];
    if (items.length > MAX_TRANSACTION_ITEMS)
      return (
        `1 validation error detected: Value '[…${items.length} items]' at 'transactItems' failed to satisfy constraint: ` +
        `Member must have length less than or equal to ${MAX_TRANSACTION_ITEMS}`
      );
    for (const item of items)
      for (const inner of Object.values(item ?? {})) if (inner && typeof inner === "object") parts.push(inner as Record<string, unknown>);
  }
  for (const part of parts) {
    for (const name of EXPRESSIONS) {
      const expression = part[name];
      if (typeof expression !== "string") continue;
      const bytes = Buffer.byteLength(expression);
      if (bytes > MAX_EXPRESSION_BYTES)
        return `Invalid ${name}: Expression size has exceeded the maximum allowed size; expression size: ${bytes}`;
    }
  }
  return undefined;
}

export interface DynamodbLimits {
  /** What `AWS_ENDPOINT_URL_DYNAMODB` should be. */
  endpoint: string;
  close(): Promise<void>;
}

/**
 * A loopback front for a local DynamoDB that refuses what AWS refuses (limitRefusal) and forwards the rest.
 * @example const limits = await startDynamodbLimits(dynaliteEndpoint); … limits.endpoint
 */
export async function startDynamodbLimits(target: string): Promise<DynamodbLimits> {
  const to = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const operation = String(req.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
      let refusal: string | undefined;
      try {
        refusal = limitRefusal(operation, JSON.parse(body.toString("utf8") || "{}") as Record<string, unknown>);
      } catch {
        refusal = undefined; // not JSON: dynalite answers it with its own SerializationException
      }
      if (refusal) {
        const answer = JSON.stringify({ __type: "com.amazon.coral.validate#ValidationException", message: refusal });
        res.writeHead(400, { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "limits" }).end(answer);
        return;
      }
      const upstream = httpRequest(
        { hostname: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      upstream.end(body);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        setImmediate(() => {
          for (const socket of sockets) socket.destroy();
        });
      }),
  };
}
