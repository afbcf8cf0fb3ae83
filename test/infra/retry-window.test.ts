import { describe, expect, it } from "vitest";
import { redeliveryDelaySeconds } from "../../functions/submit-tool-outputs/pipeline/retry-timing";
import { InvalidContextError, parseContext } from "../../infra/context";
import { INPUT_RETENTION_SECONDS, longestHandBackSeconds, worstCaseRetrySeconds } from "../../infra/retry-window";

const DEFAULTS = {
  maxReceiveCount: 5,
  visibilityTimeoutSeconds: 360,
  functionTimeoutSeconds: 60,
  batchingWindowSeconds: 0,
  retryVisibilityBaseSeconds: 10,
  retryVisibilityMaxSeconds: 900,
};

describe("the longest hand-back delay", () => {
  it.each([1, 2, 5, 7, 8, 12, 30])("after receive %i is the relay's own delay at its largest jitter", (receive) => {
    // Act
    const ours = longestHandBackSeconds(receive, DEFAULTS);

    // Assess: the relay's redeliveryDelaySeconds with the random draw that jitters most (+20 %).
    expect(ours).toBe(redeliveryDelaySeconds(receive, { baseSeconds: 10, maxSeconds: 900 }, { random: () => 1 }));
  });

  it("never passes SQS's 12 h", () => {
    expect(longestHandBackSeconds(20, { retryVisibilityBaseSeconds: 43_200, retryVisibilityMaxSeconds: 43_200 })).toBe(43_200);
  });
});

describe("the worst-case retry time", () => {
  it("is the visibility timeout per receive while hand-back delays stay short, plus the last receive", () => {
    // Act
    const total = worstCaseRetrySeconds(DEFAULTS);

    // Assess: delays 12, 24, 48, 96 s never outlast the 360 s visibility timeout.
    expect(total).toBe(4 * 360 + 60);
  });

  it("counts hand-back delays from the end of the invocation once they outlast the visibility timeout", () => {
    // Act
    const total = worstCaseRetrySeconds({ ...DEFAULTS, maxReceiveCount: 8, batchingWindowSeconds: 5, visibilityTimeoutSeconds: 365 });

    // Assess: receives 1–5 are bound by the 365 s visibility; 6 and 7 by 65 s + 384 s and 65 s + 768 s.
    expect(total).toBe(5 * 365 + (65 + 384) + (65 + 768) + 65);
  });
});

describe("retry settings that outlast the input queue's retention", () => {
  it.each([
    { settings: "1000 receives with the default delays", context: { maxReceiveCount: 1000 } },
    {
      settings: "20 receives with delays up to 12 h",
      context: { maxReceiveCount: 20, relayTuning: { RETRY_VISIBILITY_MAX_SECONDS: 43_200 } },
    },
    { settings: "300 receives of a 15-minute function", context: { maxReceiveCount: 300, functionTimeoutSeconds: 900 } },
  ])("are refused at synth, naming maxReceiveCount and the delays ($settings)", ({ context }) => {
    // Act
    const act = () => parseContext(context);

    // Assess
    expect(act).toThrow(InvalidContextError);
    expect(act).toThrow('context option "maxReceiveCount" is too high for the other settings');
    expect(act).toThrow(/RETRY_VISIBILITY_BASE_SECONDS and RETRY_VISIBILITY_MAX_SECONDS/);
    expect(act).toThrow(`(${INPUT_RETENTION_SECONDS} s, less one receive to spare): it would expire before reaching the DLQ`);
  });

  it.each([
    { settings: "the defaults", context: {} },
    { settings: "100 receives", context: { maxReceiveCount: 100 } },
    {
      settings: "10 receives with delays up to 12 h",
      context: { maxReceiveCount: 10, relayTuning: { RETRY_VISIBILITY_MAX_SECONDS: 43_200 } },
    },
  ])("are accepted when they fit ($settings)", ({ context }) => {
    expect(() => parseContext(context)).not.toThrow();
  });
});
