/** The pieces both contract implementations build etcd transactions from (they speak the same requests). */
import type { Compare, KeyValuePb, ResponseOp } from "../../etcd/pb.js";
import { StorageConflictError, StorageNotFoundError, type StoredItem } from "./contract.js";

const COMPARE_EQUAL = 0;
const TARGET_MOD = 2;

/** The guard of every write: the key's mod revision is `modRevision` (0: the key does not exist). */
export function modRevisionIs(key: Buffer, modRevision: number): Compare {
  return { key, target: TARGET_MOD, result: COMPARE_EQUAL, target_union: "mod_revision", mod_revision: String(modRevision), range_end: Buffer.alloc(0) };
}

export function storedItem(kv: KeyValuePb): StoredItem {
  return { key: kv.key.toString("utf8"), value: kv.value, revision: Number(kv.mod_revision) };
}

/** A guarded write failed; the failure branch read the key: it is gone (404) or at another revision (409). */
export function refusedWrite(key: string, expectedRevision: number, responses: ResponseOp[]): never {
  const current = responses[0]?.response_range?.kvs[0];
  if (current === undefined) throw new StorageNotFoundError(key);
  throw new StorageConflictError(key, expectedRevision, Number(current.mod_revision));
}
