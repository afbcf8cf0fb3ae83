import type { RelaySinks } from "../out/aws-sinks";
import type { StateTable } from "../state/state-table";
import { CollectionStore } from "./collection-store";
import type { PayloadStore } from "./payload-store";

export interface CollectStateOptions {
  /** The state table, opened on first use (state/lazy-state-table.ts). */
  table: () => Promise<StateTable>;
  /** COLLECT_TIMEOUT_SECONDS: every collection item outlives it (collection-store.ts). */
  collectTimeoutSeconds: number;
  /** RELAY_PAYLOAD_BUCKET and how to reach it; none when it is unset. */
  payloadBucket?: { bucket: string; region?: string; endpoint?: string };
}

/**
 * What collecting keeps, each part opened once, on first use: the state table's collections, and the payload bucket
 * for bodies too large for an item (its S3 client loaded only when such a body comes, so it stays out of every other
 * path). One object handed through collect/, in place of a thunk per part.
 * @example const state = new CollectState({ table, collectTimeoutSeconds: 3_600 }); const store = await state.collections();
 */
export class CollectState {
  #collections: Promise<CollectionStore> | undefined;
  #payloads: Promise<PayloadStore> | undefined;

  constructor(private readonly options: CollectStateOptions) {}

  collections(): Promise<CollectionStore> {
    this.#collections ??= this.options.table().then((table) => new CollectionStore(table, this.options.collectTimeoutSeconds));
    return this.#collections;
  }

  /** Whether RELAY_PAYLOAD_BUCKET is set: without it, a body too large for an item is refused (`output_too_large`). */
  get hasPayloads(): boolean {
    return this.options.payloadBucket !== undefined;
  }

  payloads(): Promise<PayloadStore> {
    const at = this.options.payloadBucket;
    if (!at) return Promise.reject(new Error("RELAY_PAYLOAD_BUCKET is not set"));
    this.#payloads ??= import("./payload-store").then(({ PayloadStore }) => new PayloadStore(at.bucket, at));
    return this.#payloads;
  }
}

/** What collecting needs: its state, where its effects go, and its limits. */
export interface CollectorParts {
  /** The state table's collections and the payload bucket, each opened on first use. */
  state: CollectState;
  sinks: RelaySinks;
  maxReceiveCount: number;
  collectTimeoutSeconds: number;
  /** See CollectionChecksParts. */
  submitterWindowMs?: number;
}
