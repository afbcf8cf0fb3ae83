/**
 * docs/endpoints.md is what a user copies from: one section per row of the endpoints table, each secret JSON on it
 * accepted by the relay's own credential rules, and every context option it names a real one.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseCredentials } from "../../functions/submit-tool-outputs/endpoint/credentials/credentials";
import { CONTEXT_OPTIONS } from "../../infra/context";

const page = readFileSync(new URL("../../docs/endpoints.md", import.meta.url), "utf8");
const sections = page.split("\n## ").slice(1);
const sectionOf = (title: string) => sections.find((section) => section.startsWith(title)) ?? "";
const jsonBlocks = (text: string) => [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);

const ROWS = [
  "Portkey hosted",
  "Portkey self-hosted gateway",
  "OpenAI or any compatible server",
  "Azure AI Foundry classic agents",
  "Azure AI Foundry agents (Responses",
  "Amazon Bedrock (Responses API",
];

describe("docs/endpoints.md", () => {
  it.each(ROWS)("has a section for %s, with its secret, context options, what is sent and how to verify", (row) => {
    // Act
    const section = sectionOf(row);

    // Assess
    expect(section).not.toBe("");
    expect(section).toContain("**Context options**");
    expect(section).toContain("**What the relay sends**");
    expect(section).toContain("**Verify**");
  });

  it.each(ROWS.filter((row) => !row.includes("(Responses")))("gives %s's secret as JSON the relay accepts", (row) => {
    // Act
    const blocks = jsonBlocks(sectionOf(row));

    // Assess
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) expect(() => parseCredentials(JSON.parse(block), "docs/endpoints.md")).not.toThrow();
  });

  it("gives the Bedrock API key's secret as JSON the relay accepts, and the IAM each Bedrock endpoint gets", () => {
    const section = sectionOf("Amazon Bedrock (Responses API");
    for (const block of jsonBlocks(section)) expect(() => parseCredentials(JSON.parse(block), "docs/endpoints.md")).not.toThrow();
    for (const action of ["bedrock:InvokeModel", "bedrock:GetInvoke", "bedrock-mantle:CreateInference", "bedrock-mantle:Get*"])
      expect(section).toContain(action);
  });

  it("names the Azure role, under both its names", () => {
    expect(sectionOf("Azure AI Foundry classic agents")).toMatch(/Azure AI User.*being renamed.*Foundry User/s);
  });

  it("names only context options that exist", () => {
    const named = [...page.matchAll(/-c ([a-zA-Z]+)=/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(3);
    for (const option of named) expect(CONTEXT_OPTIONS).toContain(option);
  });
});
