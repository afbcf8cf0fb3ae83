import type * as z from "zod/mini";

/** An endpoint's object: the fields the relay reads, checked, and every other field as the endpoint sent it. */
export type EndpointObject<Fields> = Fields & Record<string, unknown>;

/**
 * A reader of an endpoint's object (a Run, a Response) that checks only the fields the relay reads and keeps the
 * object whole. `fields` is a plain `z.object` of those fields: zod compiles its check and copies nothing else, where
 * a `looseObject` copies every field the endpoint sends on every read (bench/README.md, CPU per message); the object
 * itself, its other fields untouched, is what the reader gives (the results event carries some of them).
 * @example const parseRun = readFields(RunFields); const run = parseRun(await response.json());
 */
export function readFields<Fields extends object>(fields: z.ZodMiniType<Fields>) {
  return (value: unknown): { success: true; data: EndpointObject<Fields> } | { success: false } =>
    // The check succeeded: `value` has every field of `Fields` as it types them (nothing is transformed or defaulted).
    fields.safeParse(value).success ? { success: true, data: value as EndpointObject<Fields> } : { success: false };
}
