import { describe, expect, it } from "vitest";
import type { DecisionLimits } from "../../functions/submit-tool-outputs/pipeline/record-context";
import { backoffMs, redeliveryDelaySeconds } from "../../functions/submit-tool-outputs/pipeline/retry-timing";

const deps = { retryBaseDelayMs: 500, retryMaxDelayMs: 8000 } as DecisionLimits;

describe("backoff inside an invocation", () => {
  it("doubles from the base up to the cap, minus at most 25 % jitter", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, deps, undefined, () => 0))).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
    expect(backoffMs(3, deps, undefined, () => 1)).toBe(1500);
  });

  it("waits what the server asked for instead", () => {
    expect(backoffMs(1, deps, 644)).toBe(644);
  });
});

describe("redelivery delay of a handed-back message", () => {
  const limits = { baseSeconds: 10, maxSeconds: 900 };
  it("grows with each receive and stops at the cap", () => {
    const middle = () => 0.5;
    expect([1, 2, 3, 4, 8].map((n) => redeliveryDelaySeconds(n, limits, { random: middle }))).toEqual([10, 20, 40, 80, 900]);
  });

  it("spreads by ±20 %", () => {
    expect(redeliveryDelaySeconds(1, limits, { random: () => 0 })).toBe(8);
    expect(redeliveryDelaySeconds(1, limits, { random: () => 1 })).toBe(12);
  });

  it("is never shorter than the server's retry-after", () => {
    expect(redeliveryDelaySeconds(1, limits, { retryAfterMs: 60_500, random: () => 0.5 })).toBe(61);
  });
});
