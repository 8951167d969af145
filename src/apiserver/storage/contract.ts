/**
 * What the API server needs from a datastore (kine-style): keyed values with a revision, optimistic
 * concurrency on that revision, ordered lists with a continue point, and watches from a revision.
 * Implementations: an etcd v3 endpoint (tk8s's own datastore or real etcd), and — with the API server
 * issue — the embedded datastore in-process. One shared test suite runs against every implementation.
 */

export interface StoredItem {
  readonly key: string;
  readonly value: Uint8Array;
  /** The datastore's mod revision of this key: the object's resourceVersion. */
  readonly revision: number;
}

export interface ListOptions {
  /** 0: no limit. */
  readonly limit?: number;
  /** List keys strictly after this one (a continue token's position). */
  readonly after?: string;
  /** Read at this revision (0: current). */
  readonly revision?: number;
}

export interface ListResult {
  readonly items: StoredItem[];
  /** The revision the list was read at. */
  readonly revision: number;
  /** More items remain after the last one returned. */
  readonly more: boolean;
  /** How many keys the whole range holds from its start (returned or not), as etcd's Range count. */
  readonly count: number;
}

export type StorageEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StorageEvent {
  readonly type: StorageEventType;
  readonly key: string;
  /** For DELETED: the value before the deletion. */
  readonly value: Uint8Array;
  readonly revision: number;
  /** The value before this change, when the source knows it (the watch cache does). */
  readonly prevValue?: Uint8Array;
}

export interface WatchHandle {
  stop(): void;
}

export interface Storage {
  get(key: string): Promise<StoredItem | null>;
  list(prefix: string, options?: ListOptions): Promise<ListResult>;
  /** Creates the key; StorageKeyExistsError if it exists. Returns the new revision. */
  create(key: string, value: Uint8Array): Promise<number>;
  /** Replaces the value if the key's revision is `expectedRevision`; StorageConflictError otherwise. */
  update(key: string, value: Uint8Array, expectedRevision: number): Promise<number>;
  /** Deletes the key (if `expectedRevision` is given, only at that revision). Returns the deleted item. */
  delete(key: string, expectedRevision?: number): Promise<StoredItem>;
  /**
   * Streams every change under `prefix` after `fromRevision` (0: from now), in revision order, exactly
   * once. `onError` gets StorageCompactedError when `fromRevision` is older than the compaction point.
   */
  watch(prefix: string, fromRevision: number, onEvent: (e: StorageEvent) => void, onError: (err: Error) => void): WatchHandle;
  compact(revision: number): Promise<void>;
  currentRevision(): Promise<number>;
  close(): void;
}

/** A create found the key there already (the API server's 409 AlreadyExists). */
export class StorageKeyExistsError extends Error {
  override readonly name = "StorageKeyExistsError";
  constructor(readonly key: string) {
    super(`Cannot create ${key}: the key exists`);
  }
}

/** An update or delete found another revision than expected (the API server's 409 Conflict). */
export class StorageConflictError extends Error {
  override readonly name = "StorageConflictError";
  constructor(readonly key: string, readonly expectedRevision: number, readonly actualRevision: number) {
    super(`Cannot write ${key}: expected revision ${expectedRevision}, found ${actualRevision}`);
  }
}

/** The key does not exist (the API server's 404). */
export class StorageNotFoundError extends Error {
  override readonly name = "StorageNotFoundError";
  constructor(readonly key: string) {
    super(`Cannot find ${key}`);
  }
}

/** The revision asked for has been compacted (the API server's 410 Expired). */
export class StorageCompactedError extends Error {
  override readonly name = "StorageCompactedError";
  constructor(readonly compactRevision: number) {
    super(`Cannot read at a compacted revision: the datastore is compacted up to ${compactRevision}`);
  }
}

/** The end of the key range holding every key that starts with `prefix`, in byte order. */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  // All 0xff: no upper bound ("\0" means every key from `prefix` on).
  return Buffer.from([0]);
}
