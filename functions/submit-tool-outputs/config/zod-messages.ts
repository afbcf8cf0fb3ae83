/**
 * The relay validates with `zod/mini` (≈15 KB bundled, against ≈85 KB for zod's classic API), which keeps
 * cold start short but carries no messages of its own: this loads zod's English ones, once, for the
 * issues our schemas do not word themselves. Imported for its effect by every module that validates.
 *
 * Every schema a module defines at its top level is wrapped in `z.lazy(() => …)`: built when it first parses, not
 * when the module loads. Building the relay's two hundred or so zod schemas at load cost about 10 ms of each cold
 * start (bench/README.md, "Cold start"), most of them for APIs and paths a given environment never meets.
 */
import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());
