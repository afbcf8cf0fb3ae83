import { util } from "zod/v4/core";

/**
 * A schema built when it is first used (a parse, or a schema that holds it being built), not when its module loads:
 * how every schema a module defines at its top level is written. The relay defines some two hundred, most of them for
 * APIs and paths a given environment never meets; building them at load cost about 10 ms of each cold start. Not
 * `z.lazy`: constructing a lazy schema is zod work of its own (~17 µs each, ~0.5 ms for the thirty the init loads,
 * bench/README.md, "Cold start"), where this is zod's own transparent proxy (a getter and nothing else until used).
 * The result is the schema itself as far as zod and TypeScript can tell.
 * @example export const Id = lazySchema(() => z.string().check(z.minLength(1)));
 */
export const lazySchema = <Schema extends object>(build: () => Schema): Schema => util.createTransparentProxy(build);
