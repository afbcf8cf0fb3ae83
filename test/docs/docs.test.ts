/**
 * The docs are the newcomer's manual: their tables must name every option the code reads, their links must
 * land, the README must stay short, and every row of the outcome table must have a test named after it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CONTEXT_OPTIONS } from "../../infra/context";

const root = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string) => readFileSync(join(root, path), "utf8");
const matches = (text: string, pattern: RegExp) => [...new Set([...text.matchAll(pattern)].map((m) => m[1]!))];
/** A page without its fenced code blocks, whose `#` lines and brackets are shell and JSON, not Markdown. */
const prose = (page: string) => read(page).replace(/```[\s\S]*?```/g, "");

const pages = ["README.md", "bench/README.md", ...readdirSync(join(root, "docs")).map((name) => `docs/${name}`)].filter((page) =>
  page.endsWith(".md"),
);
const variables = matches(read("functions/submit-tool-outputs/config.ts"), /^\s{2}([A-Z][A-Z_]+):/gm);
const credentialKeys = matches(read("functions/submit-tool-outputs/credentials.ts"), /"((?:PORTKEY|ENDPOINT|AZURE)_[A-Z_]+)"/g);

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

/** The outcome table's row names (bold in its first column) and the test groups of the outcome tests. */
const outcomeTable = read("docs/contract.md").split("## What happens to each message")[1]!.split("\n## ")[0]!;
const rowNames = matches(outcomeTable, /^\| \*\*(.+?)\*\*/gm);
const testGroups = matches(read("test/relay/outcomes.test.ts"), /describe\("([^"]+)"/g);

describe("docs/deploy.md", () => {
  it.each(CONTEXT_OPTIONS)("documents the context option %s", (option) => {
    expect(read("docs/deploy.md")).toContain(`| \`${option}\` |`);
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

describe("the outcome table in docs/contract.md", () => {
  it("has named rows", () => {
    expect(rowNames.length).toBeGreaterThanOrEqual(10);
  });
  it.each(rowNames)("row %s has a test group named after it in test/relay/outcomes.test.ts", (row) => {
    expect(testGroups.filter((group) => group === row || group.startsWith(`${row}: `))).toHaveLength(1);
  });
});
