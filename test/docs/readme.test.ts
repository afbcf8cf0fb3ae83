/**
 * The README is the newcomer's manual: its tables must name every option the code reads.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CONTEXT_OPTIONS } from "../../infra/context";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const configSource = readFileSync(new URL("../../functions/submit-tool-outputs/config.ts", import.meta.url), "utf8");
const credentialSource = readFileSync(new URL("../../functions/submit-tool-outputs/credentials.ts", import.meta.url), "utf8");

describe("README", () => {
  it.each(CONTEXT_OPTIONS)("documents the context option %s", (option) => {
    expect(readme).toContain(`| \`${option}\` |`);
  });

  const variables = [...configSource.matchAll(/^\s{2}([A-Z][A-Z_]+):/gm)].map((m) => m[1]!);
  it("finds the function's variables in config.ts", () => expect(variables.length).toBeGreaterThan(10));
  it.each(variables)("documents the function's variable %s", (variable) => {
    expect(readme).toContain(`\`${variable}\``);
  });

  const credentialKeys = [...credentialSource.matchAll(/"((?:PORTKEY|ENDPOINT)_[A-Z_]+)"/g)].map((m) => m[1]!);
  it.each([...new Set(credentialKeys)])("documents the credential key %s", (key) => {
    expect(readme).toContain(`\`${key}\``);
  });

  it("gives the two commands", () => {
    expect(readme).toContain("npm install && npm start");
    expect(readme).toContain("npm test");
  });
});
