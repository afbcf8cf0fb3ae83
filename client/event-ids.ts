/** Remembers the `event_id`s a worker answered (a shared store lets replicas drop each other's duplicates). */
export interface EventIdMemory {
  has(eventId: string): boolean | Promise<boolean>;
  add(eventId: string): void | Promise<void>;
}

/**
 * The last `capacity` event ids of this process, oldest forgotten first. Duplicates from at-least-once delivery
 * arrive within minutes, so a bounded memory is enough for one replica.
 * @example const answered = recentEventIds(50_000);
 */
export function recentEventIds(capacity = 10_000): EventIdMemory {
  const ids = new Set<string>();
  return {
    has: (eventId) => ids.has(eventId),
    add(eventId) {
      ids.delete(eventId);
      ids.add(eventId);
      // A Set iterates in insertion order: the first one is the oldest.
      while (ids.size > capacity) ids.delete(ids.values().next().value as string);
    },
  };
}
