/**
 * `npm install` on a Node older than the project's: npm's EBADENGINE blocks are hidden (.npmrc) and the project
 * says the one thing to know in one line (the prepare step). The npm part runs with the machine's own Node when it
 * is older than 22 (it is what produced the blocks), and is skipped otherwise.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
// @ts-expect-error a plain .mjs script, without declarations
import { installNote } from "../../scripts/install-note.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The machine's PATH without the project's node_modules/.bin (whose Node is 24). */
const systemPath = (process.env.PATH ?? "")
  .split(delimiter)
  .filter((entry) => !entry.includes("node_modules"))
  .join(delimiter);
const systemNode = spawnSync("node", ["--version"], { env: { ...process.env, PATH: systemPath }, encoding: "utf8" });
const systemMajor = systemNode.status === 0 ? Number(systemNode.stdout.trim().slice(1).split(".")[0]) : undefined;
const oldNode = systemMajor !== undefined && systemMajor < 22;
if (!oldNode) console.warn(`install-note.test.ts: the npm check is skipped, the machine's Node is ${systemNode.stdout.trim() || "absent"}`);

describe("npm install on an older Node", () => {
  it("prints one line below Node 24 and nothing on it", () => {
    expect(installNote("v20.20.2")).toMatch(/^tool-output-relay: installed with Node v20\.20\.2; .*Node 24.*\.$/);
    expect(installNote("v20.20.2").split("\n")).toHaveLength(1);
    expect(installNote("v24.9.0")).toBeUndefined();
  });

  it("runs the note in the prepare step, and .npmrc keeps only errors", () => {
    expect(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts.prepare).toBe("node scripts/install-note.mjs");
    expect(readFileSync(join(ROOT, ".npmrc"), "utf8")).toMatch(/^loglevel=error$/m);
  });

  it.skipIf(!oldNode)("shows no EBADENGINE block with the project's .npmrc (dry run, offline, on the machine's Node)", () => {
    // Prepare: the project's manifest, lock and .npmrc in a folder of their own (nothing is installed).
    const folder = mkdtempSync(join(tmpdir(), "npm-engines-"));
    for (const file of ["package.json", "package-lock.json", ".npmrc"]) copyFileSync(join(ROOT, file), join(folder, file));
    try {
      // Act
      const run = spawnSync("npm", ["install", "--dry-run", "--offline", "--no-audit", "--no-fund"], {
        cwd: folder,
        env: { ...process.env, PATH: systemPath },
        encoding: "utf8",
      });

      // Assess
      expect(`${run.stdout}${run.stderr}`).not.toContain("EBADENGINE");
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
