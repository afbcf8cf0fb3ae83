import type { StateTable, StateTableOptions } from "./state-table";

/**
 * The state table, opened on first use: the DynamoDB client is evaluated only when a message needs the table
 * (a Responses-API message, a collected output), never in the cold start of Assistants-only traffic.
 * @example const table = lazyStateTable({ tableName }); … const t = await table();
 */
export function lazyStateTable(options: StateTableOptions): () => Promise<StateTable> {
  let table: Promise<StateTable> | undefined;
  return () => {
    table ??= import("./state-table").then(({ StateTable }) => new StateTable(options));
    return table;
  };
}

/** Seconds since the epoch, as DynamoDB's time to live reads them, `days` from now. */
export function ttlInDays(days: number, now = Date.now()): number {
  return Math.ceil(now / 1000 + days * 86_400);
}
