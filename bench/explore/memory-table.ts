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

type Parser = { parse(input: string, options: { context: ParseContext }): unknown };
interface ParseContext {
  attrNames?: Record<string, string>;
  attrVals?: Record<string, Record<string, unknown>>;
  unusedAttrNames: Record<string, true>;
  unusedAttrVals: Record<string, true>;
}

/**
 * dynalite's expression parsers (PEG) are most of a table request's time, and the relay sends the same few expressions
 * over and over with other values. While a MemoryTable request runs (never for dynalite itself, which may share this
 * process in a test), each parse is memoized. What a parse depends on: the expression, the attribute names, and of
 * the values only their presence and type (the checks read `getType`), except for BETWEEN (compares the bounds) and
 * attribute_type (reads the type name's text), which are always parsed. The cached tree holds a placeholder where
 * the parse put a value; a hit copies the tree with the request's own values in, and marks the same names and values
 * used. A parse that fails is never cached.
 */
const memo = new Map<string, { tree: unknown; names: string[]; values: string[] }>();
const VALUE = Symbol("expression attribute value");
let memoizing = false;
const VALUE_TYPES = ["S", "N", "B", "NULL", "BOOL", "SS", "NS", "BS", "L", "M"];

function memoized(kind: string, parser: Parser): void {
  const parse = parser.parse.bind(parser);
  parser.parse = (input, options) => {
    const context = options.context;
    if (!memoizing || /between|attribute_type/i.test(input)) return parse(input, options);
    const values = context.attrVals ?? {};
    const key = `${kind}\u0000${input}\u0000${JSON.stringify(context.attrNames ?? null)}\u0000${Object.entries(values)
      .map(([k, v]) => `${k}:${VALUE_TYPES.find((t) => v?.[t] != null) ?? ""}`)
      .join(",")}`;
    const hit = memo.get(key);
    if (hit) {
      for (const name of hit.names) delete context.unusedAttrNames[name];
      for (const name of hit.values) delete context.unusedAttrVals[name];
      return withValues(hit.tree, values);
    }
    const names: string[] = [];
    const used: string[] = [];
    const recording = (target: Record<string, true>, into: string[]) =>
      new Proxy(target, {
        deleteProperty: (t, name) => {
          into.push(String(name));
          return Reflect.deleteProperty(t, name);
        },
      });
    const tree = parse(input, {
      context: {
        ...context,
        unusedAttrNames: recording(context.unusedAttrNames, names),
        unusedAttrVals: recording(context.unusedAttrVals, used),
      },
    });
    const byValue = new Map(Object.entries(values).map(([k, v]) => [v as unknown, k]));
    // Keys hold per-turn attribute names (call ids): bounded, so that a long run does not grow it without end.
    if (memo.size >= 20_000) memo.clear();
    memo.set(key, { tree: withPlaceholders(tree, byValue), names, values: used });
    return tree;
  };
}

function withPlaceholders(node: unknown, byValue: Map<unknown, string>): unknown {
  const name = byValue.get(node);
  if (name !== undefined) return { [VALUE]: name };
  if (Array.isArray(node)) return node.map((n) => withPlaceholders(n, byValue));
  if (node === null || typeof node !== "object") return node;
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, withPlaceholders(v, byValue)]));
}

function withValues(node: unknown, values: Record<string, unknown>): unknown {
  if (Array.isArray(node)) return node.map((n) => withValues(n, values));
  if (node === null || typeof node !== "object") return node;
  const name = (node as { [VALUE]?: string })[VALUE];
  if (name !== undefined) return values[name];
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, withValues(v, values)]));
}

memoized("condition", require("dynalite/db/conditionParser") as Parser);
memoized("update", require("dynalite/db/updateParser") as Parser);
memoized("projection", require("dynalite/db/projectionParser") as Parser);

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
    memoizing = true;
    try {
      data = validations.checkTypes(clone(input), check.types);
      validations.checkValidations(data, check.types, check.custom, this.store);
    } catch (error) {
      throw asTableError(error);
    } finally {
      memoizing = false;
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
