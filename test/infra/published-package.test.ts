/**
 * The package as an app installs it: package.json names only what `files` ships, and the construct bundle
 * (built as `npm run build:lib` builds it) synthesizes in an app without the repository's sources, from the prebuilt
 * relay bundle, without esbuild being loaded.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const work = mkdtempSync(join(tmpdir(), "relay-package-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every file path an `exports` entry points at. */
const exportTargets = (value: unknown): string[] =>
  typeof value === "string" ? [value] : Object.values(value as Record<string, unknown>).flatMap(exportTargets);

describe("package.json", () => {
  it("is publishable: not private, ESM entry points with types, aws-cdk-lib and constructs left to the app", () => {
    expect(pkg.private).toBeUndefined();
    expect(pkg.exports["."]).toEqual({ types: "./dist/types/lib/index.d.ts", import: "./dist/lib/index.js" });
    expect(pkg.exports["./client"]).toEqual({ types: "./dist/types/client/index.d.ts", import: "./dist/lib/client.js" });
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(["aws-cdk-lib", "constructs"]);
  });

  it("ships every file its exports name", () => {
    for (const target of exportTargets(pkg.exports)) {
      const path = target.replace(/^\.\//, "");
      expect(pkg.files.some((shipped: string) => path === shipped || path.startsWith(`${shipped}/`)) || path === "package.json", path).toBe(
        true,
      );
    }
  });
});

describe("the construct as installed", () => {
  it("synthesizes in an app without the repository's sources, with the prebuilt relay bundle as the function's code", async () => {
    // Prepare: the package's layout (dist/lib, dist/submit-tool-outputs) in a folder of its own, and an app using it.
    const installed = join(work, "node_modules", "tool-output-relay");
    mkdirSync(join(installed, "dist", "submit-tool-outputs"), { recursive: true });
    await build({
      entryPoints: { index: join(ROOT, "lib/index.ts") },
      outdir: join(installed, "dist", "lib"),
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      packages: "external",
      logLevel: "error",
    });
    writeFileSync(
      join(installed, "dist", "submit-tool-outputs", "index.mjs"),
      "export const handler = async () => ({ batchItemFailures: [] });\n",
    );
    cpSync(join(ROOT, "package.json"), join(installed, "package.json"));
    for (const dependency of ["aws-cdk-lib", "constructs", "zod", "esbuild"]) {
      symlinkSync(join(ROOT, "node_modules", dependency), join(work, "node_modules", dependency));
    }
    writeFileSync(
      join(work, "app.mjs"),
      `import { App, Stack } from "aws-cdk-lib";
import { createRequire } from "node:module";
import { ToolOutputRelay } from "tool-output-relay";
const app = new App({ outdir: ${JSON.stringify(join(work, "cdk.out"))} });
const stack = new Stack(app, "Team");
new ToolOutputRelay(stack, "Relay");
const template = app.synth().getStackByName("Team").template;
const fn = Object.values(template.Resources).find((r) => r.Type === "AWS::Lambda::Function");
const esbuildLoaded = Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes("/esbuild/"));
console.log(JSON.stringify({ handler: fn.Properties.Handler, code: Object.keys(fn.Properties.Code), esbuildLoaded }));
`,
    );

    // Act
    const output = execFileSync(process.execPath, [join(work, "app.mjs")], { cwd: work, encoding: "utf8" });

    // Assess
    expect(JSON.parse(output.trim().split("\n").at(-1)!)).toEqual({
      handler: "index.handler",
      code: ["S3Bucket", "S3Key"],
      esbuildLoaded: false,
    });
  });
});
