/**
 * The etcd requests both contract implementations send (the in-process one and the etcd v3 client speak
 * the same requests; only the transport differs), and how their answers map onto the contract.
 */
import { rangeRequest, type Compare, type KeyValuePb, type RangeRequest, type ResponseOp, type TxnRequest, type TxnResponse } from "../../etcd/pb.js";

export { rangeRequest };
import { prefixEnd, StorageConflictError, StorageKeyExistsError, StorageNotFoundError, type ListOptions, type StoredItem } from "./contract.js";

const COMPARE_EQUAL = 0;
const TARGET_MOD = 2;
const NO_RANGE_END = Buffer.alloc(0);


/** The range of a list: the prefix, from just after `options.after` when continuing, at a revision. */
export function listRequest(prefix: string, options: ListOptions): RangeRequest {
  const p = Buffer.from(prefix);
  const start = options.after === undefined ? p : Buffer.concat([Buffer.from(options.after), Buffer.from([0])]);
  return rangeRequest({ key: start, range_end: prefixEnd(p), limit: String(options.limit ?? 0), revision: String(options.revision ?? 0) });
}

/** The revision a list reflects: the one asked for, else the store's revision when it was read. */
export function listedAt(options: ListOptions, currentRevision: number): number {
  return options.revision !== undefined && options.revision > 0 ? options.revision : currentRevision;
}

/** The guard of every write: the key's mod revision is `modRevision` (0: the key does not exist). */
function modRevisionIs(key: Buffer, modRevision: number): Compare {
  return { key, target: TARGET_MOD, result: COMPARE_EQUAL, target_union: "mod_revision", mod_revision: String(modRevision), range_end: NO_RANGE_END };
}

function put(key: Buffer, value: Uint8Array): TxnRequest["success"][number] {
  return { request_put: { key, value: Buffer.from(value), lease: "0", prev_kv: false, ignore_value: false, ignore_lease: false } };
}

/** Creates `key` if it does not exist. */
export function createTxn(key: string, value: Uint8Array): TxnRequest {
  const k = Buffer.from(key);
  return { compare: [modRevisionIs(k, 0)], success: [put(k, value)], failure: [] };
}

/** Replaces `key` at `expectedRevision`; the failure branch reads the key to say why it failed. */
export function updateTxn(key: string, value: Uint8Array, expectedRevision: number): TxnRequest {
  const k = Buffer.from(key);
  return { compare: [modRevisionIs(k, expectedRevision)], success: [put(k, value)], failure: [{ request_range: rangeRequest({ key: k }) }] };
}

/** Deletes `key` (at `expectedRevision` if given), returning the deleted value. */
export function deleteTxn(key: string, expectedRevision?: number): TxnRequest {
  const k = Buffer.from(key);
  return {
    compare: expectedRevision === undefined ? [] : [modRevisionIs(k, expectedRevision)],
    success: [{ request_delete_range: { key: k, range_end: NO_RANGE_END, prev_kv: true } }],
    failure: [{ request_range: rangeRequest({ key: k }) }],
  };
}

export function storedItem(kv: KeyValuePb): StoredItem {
  return { key: kv.key.toString("utf8"), value: kv.value, revision: Number(kv.mod_revision) };
}

/** The outcome of createTxn. */
export function created(key: string, res: TxnResponse): void {
  if (!res.succeeded) throw new StorageKeyExistsError(key);
}

/** The outcome of updateTxn. */
export function updated(key: string, expectedRevision: number, res: TxnResponse): void {
  if (!res.succeeded) refusedWrite(key, expectedRevision, res.responses);
}

/** The outcome of deleteTxn: the deleted item. */
export function deleted(key: string, expectedRevision: number | undefined, res: TxnResponse): StoredItem {
  if (!res.succeeded) refusedWrite(key, expectedRevision ?? 0, res.responses);
  const prev = res.responses[0]?.response_delete_range?.prev_kvs[0];
  if (prev === undefined) throw new StorageNotFoundError(key);
  return storedItem(prev);
}

/** A guarded write failed; the failure branch read the key: it is gone (404) or at another revision (409). */
function refusedWrite(key: string, expectedRevision: number, responses: ResponseOp[]): never {
  const current = responses[0]?.response_range?.kvs[0];
  if (current === undefined) throw new StorageNotFoundError(key);
  throw new StorageConflictError(key, expectedRevision, Number(current.mod_revision));
}
