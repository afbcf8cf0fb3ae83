/**
 * Conversations API state. A conversation holds the items it was created with, then the input and output
 * items of each response created on it, appended only once that response has completed (as the spec's
 * `conversation` parameter says): the list is computed from the responses' timelines at each read.
 * Items of a response that ends failed, incomplete or cancelled are never appended (what the real API
 * does then is unconfirmed; not appending is the cautious reading).
 */
import { isActiveAt, type ResponseRecord, type ResponseStore, responseStateAt, type StoredItem } from "./responses";
import { newId } from "./runs";

export interface ConversationRecord {
  readonly id: string;
  readonly createdAt: number;
  readonly metadata: Record<string, string>;
  /** The items given at creation (`POST /conversations` `items`, or a test-side first response). */
  readonly initialItems: StoredItem[];
  /** Responses created on it, oldest first. */
  readonly responseIds: string[];
}

export class ConversationStore {
  readonly #conversations = new Map<string, ConversationRecord>();

  /**
   * @example store.create({ createdAt: Date.now(), metadata: {}, items: [] }).id // "conv_…"
   */
  create(opts: { id?: string; createdAt: number; metadata: Record<string, string>; items: StoredItem[] }): ConversationRecord {
    const id = opts.id ?? newId("conv", 48);
    if (this.#conversations.has(id)) throw new Error(`conversation ${id} already exists`);
    const record: ConversationRecord = {
      id,
      createdAt: opts.createdAt,
      metadata: { ...opts.metadata },
      initialItems: opts.items,
      responseIds: [],
    };
    this.#conversations.set(id, record);
    return record;
  }

  get(id: string): ConversationRecord | undefined {
    return this.#conversations.get(id);
  }

  clear(): void {
    this.#conversations.clear();
  }
}

/**
 * The conversation's items at instant `at`, oldest first.
 * @example conversationItemsAt(conversation, responses, Date.now()).map((item) => item.type)
 */
export function conversationItemsAt(conversation: ConversationRecord, responses: ResponseStore, at: number): StoredItem[] {
  const items = [...conversation.initialItems];
  const appended = conversation.responseIds
    .map((id) => responses.get(id))
    .filter((record): record is ResponseRecord => record !== undefined && responseStateAt(record, at).status === "completed")
    .sort((a, b) => responseStateAt(a, at).since - responseStateAt(b, at).since);
  for (const record of appended) items.push(...record.input, ...record.output);
  return items;
}

/** The response currently queued or in_progress on the conversation (it holds the conversation's lock), if any. */
export function lockHolderAt(conversation: ConversationRecord, responses: ResponseStore, at: number): ResponseRecord | undefined {
  return conversation.responseIds
    .map((id) => responses.get(id))
    .find((record): record is ResponseRecord => record !== undefined && isActiveAt(record, at));
}
