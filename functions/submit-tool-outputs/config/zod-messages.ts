/**
 * The relay validates with `zod/mini` (≈15 KB bundled, against ≈85 KB for zod's classic API), which keeps
 * cold start short but carries no messages of its own: this loads zod's English ones, once, for the
 * issues our schemas do not word themselves. Imported for its effect by every module that validates.
 *
 * Every schema a module defines at its top level is wrapped in `lazySchema(() => …)` (lazy-schema.ts): built when it
 * is first used, not when the module loads.
 */
import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());
