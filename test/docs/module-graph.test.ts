/**
 * The layout's rules, checked on the import graph (type-only imports included): what ships never depends on
 * the local stack or the tests, the bench never on the tests, and no module imports itself round a cycle.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const FOLDERS = ["functions", "infra", "cli", "local", "fixtures", "bench", "scripts", "test", "client", "lib", "examples"];

function sourceFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) return name === "node_modules" ? [] : sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** Each file's relative imports (also `import type` and `export … from`), resolved to files of the repository. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of FOLDERS.flatMap((folder) => sourceFiles(join(ROOT, folder)))) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    const targets = importedFiles
      .map((imported) => imported.fileName)
      .filter((name) => name.startsWith("."))
      .map((name) => resolveImport(dirname(file), name))
      .filter((target): target is string => target !== undefined);
    graph.set(
      relative(ROOT, file),
      targets.map((target) => relative(ROOT, target)),
    );
  }
  return graph;
}

function resolveImport(from: string, name: string): string | undefined {
  const base = resolve(from, name);
  for (const candidate of [base, `${base}.ts`, join(base, "index.ts")]) {
    try {
      if (statSync(candidate).isFile() && candidate.endsWith(".ts")) return candidate;
    } catch {
      // not this candidate
    }
  }
  return undefined;
}

/** Every cycle, each once, as the files round it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

const graph = importGraph();
const edges = [...graph].flatMap(([from, targets]) => targets.map((to) => ({ from, to })));
const folderOf = (file: string) => file.split("/")[0]!;

describe("the layout", () => {
  it("finds the repository's modules", () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(edges.length).toBeGreaterThan(200);
  });

  it.each([
    ["functions", ["local", "test", "cli", "infra", "bench"]],
    ["cli", ["local", "test", "bench"]],
    ["infra", ["local", "test", "cli", "bench"]],
    ["bench", ["test"]],
    ["fixtures", ["local", "test", "bench"]],
    // The tool-worker client stands on the contract alone: it ships without the relay.
    ["client", ["functions", "infra", "local", "test", "cli", "bench", "lib"]],
    ["lib", ["local", "test", "cli", "bench", "examples"]],
  ])("nothing in %s/ imports from %j", (folder, forbidden) => {
    const offending = edges.filter(({ from, to }) => folderOf(from) === folder && forbidden.includes(folderOf(to)));
    expect(offending).toEqual([]);
  });

  it("has no import cycles, type-only imports included", () => {
    expect(cycles(graph)).toEqual([]);
  });
});

describe("the repository's text", () => {
  it("holds no merge conflict markers", () => {
    const tracked = execFileSync("git", ["ls-files", "*.ts", "*.md", "*.json", "*.mjs"], { cwd: ROOT, encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
    const marked = tracked.filter((file) => /^(<{7}|>{7}) /m.test(readFileSync(join(ROOT, file), "utf8")));
    expect(marked).toEqual([]);
  });
});
