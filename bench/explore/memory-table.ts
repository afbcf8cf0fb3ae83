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
 * over and over with other names (call ids) and values. While a MemoryTable request runs (never for dynalite itself,
 * which may share this process in a test), each parse is memoized. What a parse depends on: the expression; of the
 * attribute names, which are defined and which resolve to the same name (paths are compared piece by piece), unless
 * a resolved name is also written plainly in the expression (then the names themselves are the key); of the values, only
 * which are defined and their type (the checks read `getType`), except for BETWEEN (compares the bounds) and
 * attribute_type (reads the type name's text), which are always parsed. The cached tree holds placeholders where the
 * parse put a value or a resolved name; a hit copies it with the request's own in, and marks the same names and
 * values used. A parse that answers an error (its text names paths and names) is never cached.
 */
const memo = new Map<string, { tree: unknown; names: string[]; values: string[] }>();
const VALUE = Symbol("expression attribute value");
let memoizing = false;
const VALUE_TYPES = ["S", "N", "B", "NULL", "BOOL", "SS", "NS", "BS", "L", "M"];
/** Wraps a resolved name's placeholder: a control character no attribute name in an expression can hold unnoticed. */
const MARK = "\u0001";

function memoized(kind: string, parser: Parser): void {
  const parse = parser.parse.bind(parser);
  parser.parse = (input, options) => {
    const context = options.context;
    if (!memoizing || /between|attribute_type/i.test(input)) return parse(input, options);
    const values = context.attrVals ?? {};
    const attrNames = context.attrNames ?? {};
    const distinct = [...new Set(Object.values(attrNames))];
    const identifiers = new Set(input.match(/(?<![#:\w])[A-Za-z_][A-Za-z0-9_]*/g));
    // An empty name is refused as undefined (dynalite tests the name's truth): never a placeholder.
    const literal = distinct.some((name) => name === "" || identifiers.has(name) || name.includes(MARK));
    const namesKey = literal
      ? JSON.stringify(attrNames)
      : Object.entries(attrNames)
          .map(([k, v]) => `${k}=${distinct.indexOf(v)}`)
          .join(",");
    const valuesKey = Object.entries(values)
      .map(([k, v]) => `${k}:${VALUE_TYPES.find((t) => v?.[t] != null) ?? ""}`)
      .join(",");
    const key = `${kind}\u0000${input}\u0000${literal}\u0000${namesKey}\u0000${valuesKey}`;
    const hit = memo.get(key);
    if (hit) {
      for (const name of hit.names) delete context.unusedAttrNames[name];
      for (const name of hit.values) delete context.unusedAttrVals[name];
      return fill(hit.tree, values, distinct);
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
    // Resolved names as placeholders (one per distinct name), so that the tree serves every turn's call ids.
    const placeholders = literal
      ? context.attrNames
      : Object.fromEntries(Object.entries(attrNames).map(([k, v]) => [k, `${MARK}${distinct.indexOf(v)}${MARK}`]));
    const tree = parse(input, {
      context: {
        ...context,
        attrNames: placeholders,
        unusedAttrNames: recording(context.unusedAttrNames, names),
        unusedAttrVals: recording(context.unusedAttrVals, used),
      },
    });
    if (typeof tree === "string") return literal ? tree : parse(input, options);
    const byValue = new Map(Object.entries(values).map(([k, v]) => [v as unknown, k]));
    const template = withPlaceholders(tree, byValue);
    // A placeholder that ended inside a longer string could not be put back: such a parse is not cached.
    if (!literal && JSON.stringify(fill(template, {}, [])).includes("\\u0001")) return parse(input, options);
    // Keys hold per-turn attribute names only when a name is literal: bounded, so a long run does not grow it.
    if (memo.size >= 20_000) memo.clear();
    memo.set(key, { tree: template, names, values: used });
    return fill(template, values, distinct);
  };
}

/** A copy of an object with its prototype (dynalite's trees hold null-prototype maps keyed by attribute names). */
function copyOf(node: object, entries: Array<[string, unknown]>): object {
  const out = Object.getPrototypeOf(node) === null ? Object.create(null) : {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

function withPlaceholders(node: unknown, byValue: Map<unknown, string>): unknown {
  const name = byValue.get(node);
  if (name !== undefined) return { [VALUE]: name };
  if (Array.isArray(node)) return node.map((n) => withPlaceholders(n, byValue));
  if (node === null || typeof node !== "object") return node;
  return copyOf(
    node,
    Object.entries(node).map(([k, v]) => [k, withPlaceholders(v, byValue)]),
  );
}

function fill(node: unknown, values: Record<string, unknown>, names: string[]): unknown {
  if (typeof node === "string") {
    const placeholder = node.length > 2 && node.startsWith(MARK) && node.endsWith(MARK) ? Number(node.slice(1, -1)) : Number.NaN;
    return Number.isInteger(placeholder) ? names[placeholder] : node;
  }
  if (Array.isArray(node)) return node.map((n) => fill(n, values, names));
  if (node === null || typeof node !== "object") return node;
  const name = (node as { [VALUE]?: string })[VALUE];
  if (name !== undefined) return values[name];
  return copyOf(
    node,
    Object.entries(node).map(([k, v]) => [fill(k, values, names) as string, fill(v, values, names)]),
  );
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
