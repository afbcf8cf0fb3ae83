/**
 * How the relay is bundled, shared by the CDK stack (NodejsFunction) and `npm run build`, so the
 * benchmarks measure what Lambda runs.
 */
export const RELAY_BUNDLE = {
  target: "node24",
  /** Prefer ES modules: esbuild can then drop what the relay does not use. */
  mainFields: ["module", "main"],
  /** esbuild's ESM output has no `require`; some bundled CommonJS dependencies still call it. */
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
} as const;
