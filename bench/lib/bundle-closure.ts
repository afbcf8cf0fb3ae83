/** What a split bundle loads: a file's static closure, and what a dynamic import of a chunk adds to it (esbuild's metafile). */
import { statSync } from "node:fs";
import type { Metafile } from "esbuild";

/** The code files a dynamic import of `chunk` adds to what is loaded already (its static closure, less `initial`). */
export function addedBy(metafile: Metafile, chunk: string, initial: ReadonlySet<string>): string[] {
  const added = new Set<string>();
  const visit = (file: string) => {
    if (initial.has(file) || added.has(file)) return;
    added.add(file);
    for (const imported of metafile.outputs[file]?.imports ?? [])
      if (imported.kind === "import-statement" && !imported.external) visit(imported.path);
  };
  visit(chunk);
  return [...added];
}

/** A file and everything it imports statically. */
export function staticClosure(metafile: Metafile, entry: string): Set<string> {
  return new Set(addedBy(metafile, entry, new Set()));
}

export const bytesOf = (files: Iterable<string>) => [...files].reduce((sum, file) => sum + statSync(file).size, 0);

/** A fresh-process script (runInFreshNode) that prints every file the bundle's import loads, by Node's module hooks. */
export const LOADED_FILES_SCRIPT = `
import { registerHooks } from "node:module";
const loaded = [];
registerHooks({ load(url, context, nextLoad) { if (url.startsWith("file:")) loaded.push(url); return nextLoad(url, context); } });
await import(process.argv[1]);
await new Promise((resolve) => setTimeout(resolve, 200));
console.log(JSON.stringify(loaded));
`;
