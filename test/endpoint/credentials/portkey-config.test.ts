import { describe, expect, it } from "vitest";
import { portkeyConfigProblem } from "../../../functions/submit-tool-outputs/endpoint/credentials/portkey-config";

const base = { provider: "openai", api_key: "sk-very-secret", custom_host: "http://127.0.0.1:8080/v1" };

describe("a PORTKEY_CONFIG the relay can use", () => {
  it.each([
    ["provider, key and custom host", base],
    ["a retry of no attempts", { ...base, retry: { attempts: 0 } }],
    ["a load-balancing strategy", { strategy: { mode: "loadbalance" }, targets: [base, base] }],
    ["a cache", { ...base, cache: { mode: "simple" } }],
  ])("holds %s", (_, config) => {
    expect(portkeyConfigProblem(JSON.stringify(config))).toBeUndefined();
  });

  it("is a saved config's id, which cannot be read here", () => {
    expect(portkeyConfigProblem("pc-abc123")).toBeUndefined();
  });
});

describe("a PORTKEY_CONFIG the relay refuses", () => {
  it.each([
    ["retry", { ...base, retry: { attempts: 2, on_status_codes: [500] } }, "sets retry:"],
    ["request_timeout", { ...base, request_timeout: 5000 }, "sets request_timeout:"],
    ["a fallback strategy", { strategy: { mode: "fallback" }, targets: [base, base] }, 'sets strategy.mode "fallback":'],
    [
      "retry and request_timeout inside its targets",
      { strategy: { mode: "loadbalance" }, targets: [base, { ...base, retry: { attempts: 1 } }, { ...base, request_timeout: 1 }] },
      "sets targets[1].retry, targets[2].request_timeout:",
    ],
  ])("asks for %s: named with where it is, never a value", (_, config, named) => {
    // Act
    const problem = portkeyConfigProblem(JSON.stringify(config));

    // Assess
    expect(problem).toContain(`PORTKEY_CONFIG ${named}`);
    expect(problem).toContain("forks into two billed responses");
    expect(problem).not.toContain("very-secret");
  });

  it("starts like JSON and is not: refused without repeating it", () => {
    // Act
    const problem = portkeyConfigProblem('{"provider":"openai","api_key":"sk-very-secret"');

    // Assess
    expect(problem).toMatch(/PORTKEY_CONFIG starts like JSON but is not valid JSON/);
    expect(problem).not.toContain("very-secret");
  });
});
