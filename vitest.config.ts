import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real loopback servers; two cores, so two files at a time.
    maxWorkers: 2,
    // Quiet by default; the log-safety test turns logging and metrics back on for itself.
    env: { POWERTOOLS_LOG_LEVEL: "ERROR", POWERTOOLS_METRICS_DISABLED: "true" },
  },
});
