import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { RELAY_HANDLER_ENTRY } from "../../infra/constructs/relay-function";
import { CDK_JSON, onlyResource, relayApp } from "../helpers/infra/relay-stack";

describe("the app", () => {
  it("runs through tsx from cdk.json, with no compile step", () => {
    // Act
    const packageJson = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));

    // Assess
    expect(CDK_JSON.app).toBe("npx tsx infra/app.ts");
    expect(packageJson.scripts.synth).toBe("cdk synth --quiet");
  });
});

// The one test that synthesizes like `cdk synth`: real bundling and CDK's CloudFormation schema check.
describe("the relay function's bundle", () => {
  it("is minified ESM for Node 24 with the AWS SDK inside, a require shim and a source map, split so that mode-only clients load on first use, and loads", () => {
    // Prepare
    const { app, stack } = relayApp({}, { asCliSynth: true });

    // Act
    const assembly = app.synth();

    // Assess
    const validationReport = JSON.parse(readFileSync(join(assembly.directory, "validation-report.json"), "utf8"));
    expect(validationReport.pluginReports).toEqual([]); // neither cdk-nag nor the schema check found anything
    const template = Template.fromJSON(assembly.getStackByName(stack.stackName).template);
    const code = onlyResource(template, "AWS::Lambda::Function").Properties.Code;
    const assetDir = join(assembly.directory, `asset.${String(code.S3Key).replace(/\.zip$/, "")}`);
    const bundle = readFileSync(join(assetDir, "index.mjs"), "utf8");
    expect(existsSync(RELAY_HANDLER_ENTRY)).toBe(true);
    expect(bundle.startsWith("import { createRequire } from 'module'; const require = createRequire(import.meta.url);")).toBe(true);
    // Everything is inside, the AWS SDK included: the bundle imports nothing but Node's built-ins and its own chunks.
    const importedModules = new Set([...bundle.matchAll(/\bfrom\s*["']([^"']+)["']/g)].map((match) => match[1]!));
    expect([...importedModules].filter((name) => name !== "module" && !name.startsWith("node:") && !name.startsWith("./chunks/"))).toEqual(
      [],
    );
    // What the cold start loads (the entry and its static imports) holds the SQS client; the DynamoDB and S3
    // clients sit in chunks loaded on first use.
    const initial = staticClosure(assetDir, "index.mjs");
    const initialCode = [...initial].map((file) => readFileSync(join(assetDir, file), "utf8")).join("\n");
    const allCode = readdirSync(join(assetDir, "chunks"))
      .filter((f) => f.endsWith(".mjs"))
      .map((f) => readFileSync(join(assetDir, "chunks", f), "utf8"))
      .join("\n");
    expect(initialCode).toContain("AmazonSQS"); // the SQS client's protocol target prefix
    expect(initialCode).not.toContain("DynamoDB_20120810");
    expect(allCode).toContain("DynamoDB_20120810");
    expect(initialCode).not.toContain("AmazonS3");
    // The SigV4 signing of Amazon Bedrock is its own chunk, loaded only by a deployment that signs.
    const signer = readdirSync(join(assetDir, "chunks")).find((f) => /^sigv4-signer-[^/]+\.mjs$/.test(f));
    expect(signer).toBeDefined();
    expect([...initial].map((file) => normalize(file))).not.toContain(normalize(join("chunks", signer!)));
    // Each API's decisions (client, decide, follow) and the collector are chunks built on first use: the init
    // compiles none of them, and a deployment compiles only the APIs its messages use.
    const chunks = readdirSync(join(assetDir, "chunks"));
    const onFirstUse = chunks.filter((f) => /^(decisions|collector|collect-state)-[^/]+\.mjs$/.test(f));
    expect(onFirstUse.filter((f) => f.startsWith("decisions-"))).toHaveLength(3); // assistants, responses, agents
    expect(onFirstUse.some((f) => f.startsWith("collector-"))).toBe(true);
    for (const chunk of onFirstUse) expect([...initial].map((file) => normalize(file))).not.toContain(normalize(join("chunks", chunk)));
    expect(bundle).toMatch(/export\s*\{[^}]*\bas handler\b[^}]*\}/);
    // The init loads two files, not one per set of lazy modules sharing code: the entry's facade and one chunk.
    expect(initial.size).toBe(2);
    expect(initialCode.length / initialCode.split("\n").length).toBeGreaterThan(500); // minified: few, long lines
    expect(bundle.trimEnd().endsWith("//# sourceMappingURL=index.mjs.map")).toBe(true);
    expect(existsSync(join(assetDir, "index.mjs.map"))).toBe(true);

    const loaded = execFileSync(
      process.execPath,
      [
        "--enable-source-maps",
        "--input-type=module",
        "-e",
        `const m = await import(${JSON.stringify(join(assetDir, "index.mjs"))}); console.log(typeof m.handler);`,
      ],
      {
        encoding: "utf8",
        env: {
          PATH: process.env.PATH,
          AWS_REGION: "eu-west-1",
          RESULTS_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:results",
          DLQ_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq",
          INPUT_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/input",
        },
      },
    );
    expect(loaded.trim()).toBe("function");
    expect(process.versions.node.split(".")[0]).toBe("24");
  });
});

/** A file and every file it imports statically (`import … from "./…"`), transitively, relative to `dir`. */
function staticClosure(dir: string, file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const code = readFileSync(join(dir, file), "utf8");
  for (const match of code.matchAll(/\bfrom\s*["'](\.[^"']+)["']/g)) staticClosure(dir, normalize(join(dirname(file), match[1]!)), seen);
  return seen;
}
