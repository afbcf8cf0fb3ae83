/**
 * The docs are the newcomer's manual: their tables must name every option the code reads and every reason the
 * relay writes, their links must land, the README must stay short, every row of both outcome tables must have a
 * test named after it, and every function a code column names must be declared in the file it names.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { INLINE_BODY_BYTES, MAX_ITEM_BODY_BYTES } from "../../functions/submit-tool-outputs/collect/collected-messages";
import { ENVIRONMENT, readEnvironment } from "../../functions/submit-tool-outputs/config/config";
import { METRICS } from "../../functions/submit-tool-outputs/config/names";
import { RESULTS_EVENT_TYPES } from "../../functions/submit-tool-outputs/dialects/index";
import { REQUEST_FIELDS } from "../../functions/submit-tool-outputs/dialects/responses/message-schema";
import { REPEATED_SETTINGS } from "../../functions/submit-tool-outputs/dialects/responses/response-state";
import { CREDENTIAL_KEYS } from "../../functions/submit-tool-outputs/endpoint/credentials/credentials";
import { DLQ_REASONS, HAND_BACK_REASONS } from "../../functions/submit-tool-outputs/pipeline/outcome";
import { STATE_TABLE_KEYS } from "../../functions/submit-tool-outputs/state/table-keys";
import { STATE_TABLE_ACTIONS } from "../../infra/constructs/state-table";
import { CONTEXT_OPTIONS } from "../../infra/context";

const root = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string) => readFileSync(join(root, path), "utf8");
const matches = (text: string, pattern: RegExp) => [...new Set([...text.matchAll(pattern)].map((m) => m[1]!))];
/** A page without its fenced code blocks, whose `#` lines and brackets are shell and JSON, not Markdown. */
const prose = (page: string) => read(page).replace(/```[\s\S]*?```/g, "");

const pages = ["README.md", "bench/README.md", ...readdirSync(join(root, "docs")).map((name) => `docs/${name}`)].filter((page) =>
  page.endsWith(".md"),
);
const variables = Object.keys(ENVIRONMENT);
/** Every variable's default, as the rules give it to an environment that sets only the required ones. */
const required: Record<string, string> = { RESULTS_TOPIC_ARN: "arn", DLQ_URL: "dlq", INPUT_QUEUE_URL: "input" };
const defaults: Record<string, unknown> = readEnvironment(required);
const withDefault = variables.filter((variable) => defaults[variable] !== undefined && !(variable in required));
/** The default column of docs/configuration.md's tables: `| \`A\`, \`B\` | meaning | a, b |` gives A → a, B → b. */
const documentedDefaults = new Map(
  read("docs/configuration.md")
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .flatMap((line) => {
      const cells = line
        .split("|")
        .slice(1, -1)
        .map((cell) => cell.trim());
      const names = matches(cells[0]!, /`([A-Z_]+)`/g);
      const values = cells
        .at(-1)!
        .split(",")
        .map((value) => value.trim().replace(/`/g, ""));
      return names.length === values.length ? names.map((name, i) => [name, values[i]!] as const) : [];
    }),
);
const credentialKeys = [...CREDENTIAL_KEYS];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const anchorsOf = (page: string) =>
  matches(prose(page), /^#+ (.+)$/gm).map((heading) =>
    heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, "")
      .replace(/ /g, "-"),
  );

/** Relative links outside code blocks: the page, the target as written, the file it names (from the root), the anchor. */
const links = pages.flatMap((page) =>
  matches(prose(page), /\]\(([^)\s]+)\)/g)
    .filter((target) => !/^[a-z]+:/.test(target))
    .map((target) => {
      const [file, anchor] = target.split("#");
      return { page, target, file: file ? join(dirname(page), file) : page, anchor };
    }),
);

/** A page's section: from its heading to the next one of the same level. */
const section = (page: string, heading: string) => read(page).split(`\n## ${heading}\n`)[1]!.split("\n## ")[0]!;
/** The rows of a Markdown table in a section: its cells, without the header and the rule. */
const tableRows = (text: string) =>
  text
    .split("\n")
    .filter((line) => line.startsWith("| **"))
    .map((line) =>
      line
        .split("|")
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
const boldName = (cell: string) => /^\*\*(.+?)\*\*/.exec(cell)![1]!;

/** The Assistants outcome table's row names (bold in its first column) and the test groups of the outcome tests. */
const outcomeTable = section("docs/contract.md", "What happens to each message");
const rowNames = tableRows(outcomeTable).map((cells) => boldName(cells[0]!));
const testGroups = matches(read("test/dialects/assistants/outcomes.test.ts"), /describe\("([^"]+)"/g);

/** The Responses outcome table: each row's name, the test files (under test/) its last column names, its code cell. */
const responsesRows = tableRows(section("docs/responses.md", "What happens to a Responses message")).map((cells) => ({
  row: boldName(cells[0]!),
  tests: matches(cells.at(-1)!, /`([\w/.-]+\.test\.ts)`/g),
  code: cells[2]!,
}));
/** The Agents outcome table (docs/agents.md), read the same way. */
const agentsRows = tableRows(section("docs/agents.md", "What happens to an Agents message")).map((cells) => ({
  row: boldName(cells[0]!),
  tests: matches(cells.at(-1)!, /`([\w/.-]+\.test\.ts)`/g),
  code: cells[2]!,
}));
/** The titles of a test file's groups and tests (`describe("…")`, `it("…")`). */
const titlesIn = (file: string) => matches(read(`test/${file}`), /\b(?:describe|it|test)\(\s*"((?:\\.|[^"\\])*)"/g);
/** A test title is named after a row when it is the row's name, or begins with it and goes on with ": " or " → ". */
const namedAfter = (title: string, row: string) => title === row || title.startsWith(`${row}: `) || title.startsWith(`${row} → `);

const functionSources = readdirSync(join(root, "functions/submit-tool-outputs"), { recursive: true }).map(String);
/** The one file under functions/submit-tool-outputs/ whose path ends with `file` (docs name files by their last folders). */
const underFunction = (file: string) => {
  const found = functionSources.filter((source) => source === file || source.endsWith(`/${file}`));
  return `functions/submit-tool-outputs/${found.length === 1 ? found[0] : file}`;
};
/** `file.ts` → `fn`, `fn2` pairs of a code cell; paths under functions/submit-tool-outputs/ unless they start at infra/. */
const codeRefs = (cell: string) =>
  [...cell.matchAll(/`([\w/.-]+\.ts)` → ((?:`\w+`(?:, )?)+)/g)].flatMap(([, file, names]) =>
    matches(names!, /`(\w+)`/g).map((name) => ({
      file: file!.startsWith("infra/") ? file! : underFunction(file!),
      name,
    })),
  );
const codeColumns = [
  ...tableRows(outcomeTable).map((cells) => cells[2]!),
  ...responsesRows.map((row) => row.code),
  ...agentsRows.map((row) => row.code),
];
const declares = (file: string, name: string) =>
  new RegExp(`(?:function\\*?\\s+${name}\\b|^\\s*(?:(?:export|public|private|static|async)\\s+)*${name}\\s*[(<])`, "m").test(read(file));

const dlqReasons = [...DLQ_REASONS];
const handBackReasons = [...HAND_BACK_REASONS];

describe("docs/deploy.md", () => {
  it.each(CONTEXT_OPTIONS)("documents the context option %s", (option) => {
    expect(read("docs/deploy.md")).toContain(`| \`${option}\` |`);
  });
});

describe("the construct's props table in docs/deploy.md", () => {
  const source = read("infra/constructs/tool-output-relay.ts");
  const props = matches(source.split("export interface ToolOutputRelayProps {")[1]!.split("\n}\n")[0]!, /^\s{2}readonly (\w+)\?:/gm);

  it("finds the props", () => {
    expect(props.length).toBeGreaterThan(20);
  });

  it.each(props)("documents %s with a default", (prop) => {
    const row = read("docs/deploy.md")
      .split("\n")
      .find((line) => line.startsWith(`| \`${prop}\` |`));
    expect(row, prop).toBeDefined();
    expect(row!.split("|")[3]!.trim(), `${prop}'s default`).not.toBe("");
  });
});

describe("docs/operations.md", () => {
  const alarms = matches(read("infra/constructs/relay-alarms.ts"), /new cloudwatch\.Alarm\(this, "(\w+)"/g);

  it.each(alarms)("says what the alarm %s means and what to do", (alarm) => {
    const row = read("docs/operations.md")
      .split("\n")
      .find((line) => line.startsWith(`| \`${alarm}\` |`));
    expect(row?.split("|").filter((cell) => cell.trim() !== "")).toHaveLength(3);
  });
});

describe("docs/configuration.md", () => {
  it("finds the function's variables in config.ts and the credential keys in credentials.ts", () => {
    expect(variables.length).toBeGreaterThan(10);
    expect(credentialKeys.length).toBeGreaterThanOrEqual(11);
  });
  it.each(variables)("documents the function's variable %s", (variable) => {
    expect(read("docs/configuration.md")).toContain(`\`${variable}\``);
  });
  it.each(credentialKeys)("documents the credential key %s", (key) => {
    expect(read("docs/configuration.md")).toContain(`\`${key}\``);
  });
  it("finds the variables with a default in the schema", () => {
    expect(withDefault.length).toBeGreaterThan(14);
  });
  it.each(withDefault)("states %s's default as the schema has it (written once, in config.ts)", (variable) => {
    expect(documentedDefaults.get(variable)).toBe(String(defaults[variable]));
  });
  it.each(Object.keys(required))("says %s is required, as the schema does", (variable) => {
    expect(() => readEnvironment({ ...required, [variable]: undefined })).toThrow(/is required/);
    expect(documentedDefaults.get(variable)).toBe("required");
  });
  it.each(Object.values(METRICS))("documents the metric %s (names.ts) in its table", (metric) => {
    expect(section("docs/configuration.md", "Observability")).toContain(`| \`${metric}\` |`);
  });
});

describe("README.md", () => {
  it("gives the two commands first, in the section after the pitch", () => {
    const firstSection = read("README.md").split("\n## ")[1]!;
    expect(firstSection).toContain("\nnpm install && npm start ");
    expect(firstSection).toContain("\nnpm test ");
  });
  it("stays a five-minute read: at most 15 KB", () => {
    expect(Buffer.byteLength(read("README.md"))).toBeLessThanOrEqual(15_000);
  });
  it("has a bench page of the latest figures only: at most 15 KB (earlier runs live in git)", () => {
    expect(Buffer.byteLength(read("bench/README.md"))).toBeLessThanOrEqual(15_000);
  });
});

describe("links between the pages", () => {
  it("finds links on every page", () => {
    for (const page of pages) expect(links.some((link) => link.page === page)).toBe(true);
  });
  it.each(links)("$page → $target exists", ({ file, anchor }) => {
    expect(existsSync(join(root, file))).toBe(true);
    if (anchor && file.endsWith(".md")) expect(anchorsOf(file)).toContain(anchor);
  });
});

describe("the DLQ record in docs/contract.md", () => {
  it("finds the reasons in outcome.ts", () => {
    expect(dlqReasons.length).toBeGreaterThanOrEqual(16);
    expect(handBackReasons.length).toBeGreaterThanOrEqual(14);
  });
  it.each(dlqReasons)("documents the DLQ reason %s in its table of reasons", (reason) => {
    expect(section("docs/contract.md", "DLQ record (SQS)")).toMatch(new RegExp(`^\\| (?:\`\\w+\`, )*\`${reason}\``, "m"));
  });
  it.each(handBackReasons)("documents the hand-back reason %s and what the last receive turns it into", (reason) => {
    expect(section("docs/contract.md", "DLQ record (SQS)")).toContain(`\`${reason}\``);
  });
});

describe("the results event in docs/contract.md", () => {
  const typeBullet = section("docs/contract.md", "Results event (SNS)").split("- **`type`**")[1]!.split("\n- ")[0]!;
  it("finds every API's event types in the registry", () => {
    expect(RESULTS_EVENT_TYPES.length).toBeGreaterThanOrEqual(10);
  });
  it.each(RESULTS_EVENT_TYPES)("names the event type %s (or its status after its API's prefix)", (type) => {
    const status = type.slice(type.indexOf(".") + 1);
    expect(typeBullet.includes(`\`${type}\``) || typeBullet.includes(`\`${status}\``)).toBe(true);
  });
});

describe("the pages the contract was split into", () => {
  it.each(["docs/contract.md", "docs/responses.md", "docs/collecting.md", "docs/state-table.md"])("%s stays under 25 KB", (page) => {
    expect(Buffer.byteLength(read(page))).toBeLessThanOrEqual(25_000);
  });
  it.each(REQUEST_FIELDS)("docs/responses.md lists the request field %s in the allow-list", (field) => {
    const row = read("docs/responses.md")
      .split("\n")
      .find((line) => line.startsWith("| `request` |"))!;
    expect(row).toContain(`\`${field}\``);
  });
  it("docs/responses.md lists exactly the settings a continuation repeats (response-state.ts)", () => {
    const documented = read("docs/responses.md").split("**Settings repeated from the previous response**")[1]!.split("`store`")[0]!;
    expect(matches(documented, /`(\w+)`/g).filter((name) => name !== "continuationSettings" && !name.includes("."))).toEqual([
      ...REPEATED_SETTINGS,
    ]);
  });
  it("docs/state-table.md names the table's keys", () => {
    for (const key of Object.values(STATE_TABLE_KEYS)) expect(read("docs/state-table.md")).toContain(`**\`${key}\`**`);
  });
});

describe("the code map in README.md", () => {
  const map = section("README.md", "The code: one message through the files");
  const files = matches(map, /`([\w-]+\.ts)`/g);
  const sources = readdirSync(join(root, "functions/submit-tool-outputs"), { recursive: true }).map(String);
  it("names the files of one message's path", () => {
    expect(files.length).toBeGreaterThan(30);
  });
  it.each(files)("names %s, which exists under functions/submit-tool-outputs/", (file) => {
    expect(sources.some((source) => source === file || source.endsWith(`/${file}`))).toBe(true);
  });
});

describe("the code columns of the outcome tables", () => {
  const refs = codeColumns.flatMap(codeRefs);
  it("name files and functions", () => {
    expect(refs.length).toBeGreaterThan(40);
  });
  it.each(refs)("$file declares $name", ({ file, name }) => {
    expect(declares(file, name)).toBe(true);
  });
});

describe("the Responses outcome table in docs/responses.md", () => {
  it("has named rows, each naming its test file", () => {
    expect(responsesRows.length).toBeGreaterThanOrEqual(15);
    for (const { row, tests } of responsesRows) expect(tests, row).not.toEqual([]);
  });
  it.each(responsesRows)("row $row has a test group or test named after it in $tests", ({ row, tests }) => {
    for (const file of tests)
      expect(
        titlesIn(file).filter((title) => namedAfter(title, row)),
        file,
      ).not.toEqual([]);
  });
});

describe("the Agents outcome table in docs/agents.md", () => {
  it("has named rows, each naming its test file", () => {
    expect(agentsRows.length).toBeGreaterThanOrEqual(15);
    for (const { row, tests } of agentsRows) expect(tests, row).not.toEqual([]);
  });
  it.each(agentsRows)("row $row has a test group or test named after it in $tests", ({ row, tests }) => {
    for (const file of tests)
      expect(
        titlesIn(file).filter((title) => namedAfter(title, row)),
        file,
      ).not.toEqual([]);
  });
});

describe("the outcome table in docs/contract.md", () => {
  it("has named rows", () => {
    expect(rowNames.length).toBeGreaterThanOrEqual(10);
  });
  it.each(rowNames)("row %s has a test group named after it in test/dialects/assistants/outcomes.test.ts", (row) => {
    expect(testGroups.filter((group) => group === row || group.startsWith(`${row}: `))).toHaveLength(1);
  });
});

describe("the state table's operations and the collected bodies' sizes in the docs", () => {
  const operations = STATE_TABLE_ACTIONS.map((action) => action.replace("dynamodb:", ""));
  it("docs/deploy.md grants the function exactly STATE_TABLE_ACTIONS on the state table", () => {
    const row = read("docs/deploy.md")
      .split("\n")
      .find((line) => line.trim().startsWith("| state table"))!;
    expect(matches(row, /`(dynamodb:\w+)`/g)).toEqual([...STATE_TABLE_ACTIONS]);
  });
  it("state/state-table.ts sends only those operations, and docs/state-table.md names no other", () => {
    const commands = matches(read("functions/submit-tool-outputs/state/state-table.ts"), /new (\w+)Command\(/g);
    expect(commands.map((command) => `${command}Item`)).toEqual(operations);
    const named = matches(read("docs/state-table.md"), /`((?:Get|Put|Update|Delete|BatchGet|BatchWrite)Item|Query|Scan|Transact\w+)`/g);
    expect(named.filter((operation) => !operations.includes(operation))).toEqual([]);
  });
  it("docs/collecting.md gives the body sizes collected-messages.ts uses", () => {
    const written = (bytes: number) => `${bytes.toLocaleString("en").replace(/,/g, " ")} bytes`;
    for (const bytes of [INLINE_BODY_BYTES, MAX_ITEM_BODY_BYTES]) expect(read("docs/collecting.md")).toContain(written(bytes));
  });
});
