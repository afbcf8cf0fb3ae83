/**
 * The explorer's DynamoDB table, in memory. The semantics are dynalite's own (its request validation, expression
 * parsers, condition checks and update application, called as functions over a synchronous in-memory store) plus
 * the limits dynalite lacks (local/dynamodb-limits.ts), so the table answers as the tests' DynamoDB does, without
 * HTTP, LevelDB or any real I/O: one request runs to completion before the scheduler lets anything else happen.
 * test/explore/conformance.test.ts holds it to dynalite over the real SDK.
 */
import { createRequire } from "node:module";
import { limitRefusal } from "../../local/dynamodb-limits";

const require = createRequire(import.meta.url);
type Callback = (error: unknown, value?: unknown) => void;
type Action = (store: unknown, data: Record<string, unknown>, cb: Callback) => void;
const validations = require("dynalite/validations") as {
  checkTypes(data: unknown, types: unknown): Record<string, unknown>;
  checkValidations(data: unknown, types: unknown, custom: unknown, store: unknown): void;
};
const OPERATIONS = ["GetItem", "PutItem", "UpdateItem", "DeleteItem"] as const;
export type TableOperation = (typeof OPERATIONS)[number];
const actions = Object.fromEntries(
  OPERATIONS.map((op) => {
    const name = op[0]!.toLowerCase() + op.slice(1);
    return [op, { run: require(`dynalite/actions/${name}`) as Action, check: require(`dynalite/validations/${name}`) }];
  }),
) as Record<TableOperation, { run: Action; check: { types: unknown; custom: unknown } }>;

/** An error as the SDK would surface it from DynamoDB's answer: `name` is the exception's type. */
export class TableError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

/** A table keyed `pk` (hash) and `sk` (range), both strings: the relay's state table. */
export class MemoryTable {
  readonly items = new Map<string, Record<string, unknown>>();
  private readonly description = {
    TableName: "",
    TableStatus: "ACTIVE",
    KeySchema: [
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ],
    AttributeDefinitions: [
      { AttributeName: "pk", AttributeType: "S" },
      { AttributeName: "sk", AttributeType: "S" },
    ],
  };
  private readonly store = {
    options: { maxItemSize: 409_600 },
    getTable: (name: string, checkStatus: unknown, cb?: Callback) => {
      const done = (typeof checkStatus === "function" ? checkStatus : cb) as Callback;
      if (name !== this.tableName) {
        const error = new TableError("ResourceNotFoundException", "Requested resource not found");
        return done(Object.assign(error, { statusCode: 400, body: { __type: `x#${error.type}`, message: error.message } }));
      }
      done(null, { ...this.description, TableName: name });
    },
    getItemDb: () => ({
      lock: (_key: string, fn: (release: (cb: Callback) => Callback) => void) => fn((cb) => cb),
      get: (key: string, cb: Callback) => {
        const item = this.items.get(key);
        if (item === undefined) return cb(Object.assign(new Error("not found"), { name: "NotFoundError" }));
        cb(null, clone(item));
      },
      put: (key: string, item: Record<string, unknown>, cb: Callback) => {
        this.items.set(key, clone(item));
        cb(null);
      },
      del: (key: string, cb: Callback) => {
        this.items.delete(key);
        cb(null);
      },
    }),
  };

  constructor(readonly tableName: string) {}

  /**
   * One request in DynamoDB's JSON wire shape (AttributeValues), answered in the same shape; a refusal throws a
   * TableError named as DynamoDB names it (ConditionalCheckFailedException, ValidationException, …).
   */
  request(operation: TableOperation, input: Record<string, unknown>): Record<string, unknown> {
    const refused = limitRefusal(operation, input);
    if (refused !== undefined) throw new TableError("ValidationException", refused);
    const { run, check } = actions[operation];
    let data: Record<string, unknown>;
    try {
      data = validations.checkTypes(clone(input), check.types);
      validations.checkValidations(data, check.types, check.custom, this.store);
    } catch (error) {
      throw asTableError(error);
    }
    let answer: { error?: unknown; value?: unknown } | undefined;
    run(this.store, data, (error, value) => {
      answer = { error, value };
    });
    if (answer === undefined) throw new Error(`memory table: ${operation} did not answer synchronously`);
    if (answer.error) throw asTableError(answer.error);
    const { ConsumedCapacity: _, ...rest } = (answer.value ?? {}) as Record<string, unknown>;
    return clone(rest);
  }
}

function asTableError(error: unknown): unknown {
  const body = (error as { body?: { __type?: string; message?: string; Message?: string } }).body;
  if (!body?.__type) return error;
  const type = body.__type.split("#").pop()!;
  return new TableError(type, body.message ?? body.Message ?? type);
}

/** Wire-shaped values are JSON (strings, booleans, lists, maps): a JSON round trip copies them faster than structuredClone. */
function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
