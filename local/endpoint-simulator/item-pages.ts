/**
 * The item lists of the Responses and Conversations APIs (`ResponseItemList`, `ConversationItemList`):
 * `order` (asc|desc, default desc), `limit` (1–100, default 20), `after` (an item id), and
 * `has_more` / `first_id` / `last_id`, as `GET /responses/{id}/input_items` and
 * `GET /conversations/{id}/items` page.
 */
import { type Reply, replies } from "./replies";

const ORDERS = new Set(["asc", "desc"]);

/**
 * One page of `items` (oldest first) as the query asks. An `after` id that is not in the list starts
 * from the beginning, as the run steps list does. `first_id` / `last_id` are null on an empty page.
 * @example pageItems(items, new URLSearchParams("order=asc&limit=2")).body.has_more
 */
export function pageItems<T extends { id: string }>(items: readonly T[], query: URLSearchParams): Reply {
  const order = query.get("order") ?? "desc";
  if (!ORDERS.has(order)) return replies.invalidValue("order", order, ["asc", "desc"]);
  const limit = Number(query.get("limit") ?? "20");
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) return replies.invalidValue("limit", query.get("limit") ?? "", ["1 to 100"]);
  let ordered = order === "desc" ? [...items].reverse() : [...items];
  const after = query.get("after");
  if (after !== null) ordered = ordered.slice(ordered.findIndex((item) => item.id === after) + 1);
  const page = structuredClone(ordered.slice(0, limit));
  return {
    status: 200,
    body: { object: "list", data: page, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null, has_more: ordered.length > limit },
  };
}
