/**
 * Applies committed requests to the MVCC store and the lessor (etcd's applierV3). Deterministic: the same
 * log applied to the same state gives the same state and the same responses, on every member and on
 * every replay. Responses carry everything but the header's IDs, which the gRPC layer adds.
 */
import { CompactedError, FutureRevisionError } from "../storage/mvcc/errors.js";
import { keyToIndex, type KeyValue } from "../storage/mvcc/kv.js";
import type { KVStore, WriteTxn, RangeResult } from "../storage/mvcc/kvstore.js";
import type { KeyRange } from "../storage/mvcc/tree_index.js";
import {
  EtcdError,
  ErrCompacted,
  ErrFutureRev,
  ErrKeyNotFound,
  ErrLeaseExist,
  ErrLeaseNotFound,
  ErrLeaseTTLTooLarge,
} from "./errors.js";
import { LEASE_TTL_SECONDS_MAX, type Lessor } from "./lessor.js";
import {
  CompareResult,
  CompareTarget,
  SortOrder,
  SortTarget,
  type Compare,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type KeyValuePb,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type ResponseHeader,
  type RequestOp,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from "./pb.js";
import type { InternalRequest } from "./request.js";
import type { MvccEvent } from "../storage/mvcc/kv.js";

export function kvToPb(kv: KeyValue, keysOnly = false): KeyValuePb {
  return {
    key: kv.key,
    create_revision: String(kv.createRevision),
    mod_revision: String(kv.modRevision),
    version: String(kv.version),
    value: keysOnly ? Buffer.alloc(0) : kv.value,
    lease: String(kv.lease),
  };
}

/** etcd's key/range_end pair as a KeyRange: empty end = one key, "\0" = from key on. */
export function toKeyRange(key: Buffer, rangeEnd: Buffer | undefined): KeyRange {
  const end = rangeEnd === undefined || rangeEnd.length === 0 ? null : keyToIndex(rangeEnd);
  return { key: keyToIndex(key), end };
}

export function mapMvccError(err: unknown): unknown {
  if (err instanceof CompactedError) return ErrCompacted();
  if (err instanceof FutureRevisionError) return ErrFutureRev();
  return err;
}

/** What one applied entry produced. */
export interface ApplyResult {
  readonly response?: unknown;
  readonly error?: EtcdError;
  /** Revision of the store after this entry (the response header's revision). */
  readonly revision: number;
  readonly events: MvccEvent[];
}

type Reader = Pick<WriteTxn, "range">;

/** Responses nested in a txn carry a header with only the revision set, as etcd's applier leaves them. */
function revisionHeader(revision: number): ResponseHeader {
  return { cluster_id: "0", member_id: "0", revision: String(revision), raft_term: "0" };
}

export function applyRange(r: Reader, req: RangeRequest): RangeResponse {
  const limitReq = Number(req.limit);
  // An order outside the enum sorts nothing (etcd 3.4 enters its sort switch and matches no case).
  const sortOrderReq = req.sort_order as SortOrder;
  const filtering = Number(req.min_mod_revision) !== 0 || Number(req.max_mod_revision) !== 0 || Number(req.min_create_revision) !== 0 || Number(req.max_create_revision) !== 0;
  // Sorting and filtering need the whole range first; otherwise fetch one extra to learn "more".
  let limit = limitReq;
  if (sortOrderReq !== SortOrder.None || filtering) limit = 0;
  if (limit > 0) limit++;
  let rr: RangeResult;
  try {
    rr = r.range(toKeyRange(req.key, req.range_end), { rev: Number(req.revision), limit, countOnly: req.count_only });
  } catch (err) {
    throw mapMvccError(err);
  }
  let kvs = rr.kvs;
  const maxMod = Number(req.max_mod_revision);
  const minMod = Number(req.min_mod_revision);
  const maxCreate = Number(req.max_create_revision);
  const minCreate = Number(req.min_create_revision);
  if (maxMod !== 0) kvs = kvs.filter((kv) => kv.modRevision <= maxMod);
  if (minMod !== 0) kvs = kvs.filter((kv) => kv.modRevision >= minMod);
  if (maxCreate !== 0) kvs = kvs.filter((kv) => kv.createRevision <= maxCreate);
  if (minCreate !== 0) kvs = kvs.filter((kv) => kv.createRevision >= minCreate);
  let sortOrder = sortOrderReq;
  // The index already yields keys in ascending order; another target with no order means ascending.
  if (req.sort_target !== SortTarget.Key && sortOrder === SortOrder.None) sortOrder = SortOrder.Ascend;
  if (sortOrder === SortOrder.Ascend || sortOrder === SortOrder.Descend) {
    const cmp = comparatorFor(req.sort_target as SortTarget);
    kvs = [...kvs].sort(sortOrder === SortOrder.Descend ? (a, b) => cmp(b, a) : cmp);
  }
  let more = false;
  if (limitReq > 0 && kvs.length > limitReq) {
    kvs = kvs.slice(0, limitReq);
    more = true;
  }
  return {
    header: revisionHeader(rr.rev),
    kvs: kvs.map((kv) => kvToPb(kv, req.keys_only)),
    more,
    count: String(rr.count),
  };
}

function comparatorFor(target: SortTarget): (a: KeyValue, b: KeyValue) => number {
  switch (target) {
    case SortTarget.Key:
      return (a, b) => Buffer.compare(a.key, b.key);
    case SortTarget.Version:
      return (a, b) => a.version - b.version;
    case SortTarget.Create:
      return (a, b) => a.createRevision - b.createRevision;
    case SortTarget.Mod:
      return (a, b) => a.modRevision - b.modRevision;
    case SortTarget.Value:
      return (a, b) => Buffer.compare(a.value, b.value);
  }
}

function currentKv(txn: Reader, key: Buffer): KeyValue | null {
  return txn.range({ key: keyToIndex(key), end: null }).kvs[0] ?? null;
}

function checkPut(txn: Reader, lessor: Lessor, req: PutRequest): void {
  const lease = BigInt(req.lease);
  if (req.ignore_value || req.ignore_lease) {
    if (currentKv(txn, req.key) === null) throw ErrKeyNotFound();
  }
  if (lease !== 0n && lessor.get(lease) === undefined) throw ErrLeaseNotFound();
}

function applyPut(txn: WriteTxn, req: PutRequest): PutResponse {
  const prev = req.prev_kv || req.ignore_value || req.ignore_lease ? currentKv(txn, req.key) : null;
  const value = req.ignore_value && prev !== null ? prev.value : req.value;
  const lease = req.ignore_lease && prev !== null ? prev.lease : BigInt(req.lease);
  txn.put(req.key, value, lease);
  return { header: revisionHeader(txn.revision), prev_kv: req.prev_kv && prev !== null ? kvToPb(prev) : null };
}

function applyDelete(txn: WriteTxn, req: DeleteRangeRequest): DeleteRangeResponse {
  const prevs = txn.deleteRange(toKeyRange(req.key, req.range_end));
  return { header: revisionHeader(txn.revision), deleted: String(prevs.length), prev_kvs: req.prev_kv ? prevs.map((kv) => kvToPb(kv)) : [] };
}

function compareInt(a: number | bigint, b: number | bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareOne(c: Compare, kv: KeyValue): boolean {
  let r: number;
  switch (c.target as CompareTarget) {
    case CompareTarget.Value:
      r = Buffer.compare(kv.value, c.value ?? Buffer.alloc(0));
      break;
    case CompareTarget.Version:
      r = compareInt(kv.version, Number(c.version ?? "0"));
      break;
    case CompareTarget.Create:
      r = compareInt(kv.createRevision, Number(c.create_revision ?? "0"));
      break;
    case CompareTarget.Mod:
      r = compareInt(kv.modRevision, Number(c.mod_revision ?? "0"));
      break;
    case CompareTarget.Lease:
      r = compareInt(kv.lease, BigInt(c.lease ?? "0"));
      break;
    default:
      return false;
  }
  switch (c.result as CompareResult) {
    case CompareResult.Equal:
      return r === 0;
    case CompareResult.NotEqual:
      return r !== 0;
    case CompareResult.Greater:
      return r > 0;
    case CompareResult.Less:
      return r < 0;
    default:
      return false;
  }
}

const ABSENT: KeyValue = { key: Buffer.alloc(0), createRevision: 0, modRevision: 0, version: 0, value: Buffer.alloc(0), lease: 0n };

function applyCompare(txn: Reader, c: Compare): boolean {
  const { kvs } = txn.range(toKeyRange(c.key, c.range_end));
  if (kvs.length === 0) {
    // A missing key compares as all-zero, except that nothing equals a missing value.
    if ((c.target as CompareTarget) === CompareTarget.Value) return false;
    return compareOne(c, ABSENT);
  }
  return kvs.every((kv) => compareOne(c, kv));
}

/** The branch each (nested) txn takes, decided before anything in it is applied. */
interface TxnPath {
  readonly succeeded: boolean;
  readonly nested: TxnPath[];
}

function decidePath(txn: Reader, req: TxnRequest): TxnPath {
  const succeeded = req.compare.every((c) => applyCompare(txn, c));
  const ops = succeeded ? req.success : req.failure;
  const nested: TxnPath[] = [];
  for (const op of ops) if (op.request_txn) nested.push(decidePath(txn, op.request_txn));
  return { succeeded, nested };
}

function checkPath(txn: Reader, lessor: Lessor, req: TxnRequest, path: TxnPath): void {
  const ops = path.succeeded ? req.success : req.failure;
  let n = 0;
  for (const op of ops) {
    if (op.request_put) checkPut(txn, lessor, op.request_put);
    else if (op.request_range) {
      const rev = Number(op.request_range.revision);
      try {
        if (rev > 0) txn.range({ key: "", end: null }, { rev, countOnly: true });
      } catch (err) {
        throw mapMvccError(err);
      }
    } else if (op.request_txn) checkPath(txn, lessor, op.request_txn, path.nested[n++]!);
  }
}

function runPath(txn: WriteTxn, req: TxnRequest, path: TxnPath): TxnResponse {
  const ops = path.succeeded ? req.success : req.failure;
  const responses: ResponseOp[] = [];
  let n = 0;
  for (const op of ops) responses.push(runOp(txn, op, path.nested, () => n++));
  return { header: revisionHeader(txn.revision), succeeded: path.succeeded, responses };
}

function runOp(txn: WriteTxn, op: RequestOp, nested: TxnPath[], nextNested: () => number): ResponseOp {
  if (op.request_range) return { response_range: applyRange(txn, op.request_range) };
  if (op.request_put) return { response_put: applyPut(txn, op.request_put) };
  if (op.request_delete_range) return { response_delete_range: applyDelete(txn, op.request_delete_range) };
  if (op.request_txn) return { response_txn: runPath(txn, op.request_txn, nested[nextNested()]!) };
  return {};
}

/** True when no branch of the txn can write. */
export function isTxnReadOnly(req: TxnRequest): boolean {
  const opsReadOnly = (ops: RequestOp[]): boolean =>
    ops.every((op) => op.request_range || (op.request_txn && isTxnReadOnly(op.request_txn)));
  return opsReadOnly(req.success) && opsReadOnly(req.failure);
}

/** A txn that writes nothing, served without the log. */
export function applyReadOnlyTxn(store: KVStore, req: TxnRequest): TxnResponse {
  const reader: Reader = { range: (r, o) => store.range(r, o) };
  return runReadOnlyPath(reader, req, decidePath(reader, req), store.currentRevision);
}

function runReadOnlyPath(reader: Reader, req: TxnRequest, path: TxnPath, revision: number): TxnResponse {
  const ops = path.succeeded ? req.success : req.failure;
  let n = 0;
  return {
    header: revisionHeader(revision),
    succeeded: path.succeeded,
    responses: ops.map((op) => {
      if (op.request_range) return { response_range: applyRange(reader, op.request_range) };
      if (op.request_txn) return { response_txn: runReadOnlyPath(reader, op.request_txn, path.nested[n++]!, revision) };
      return {};
    }),
  };
}

export interface Alarms {
  /** Returns the alarm raised (etcd answers an activation with it). */
  activate(memberID: string, alarm: number): { memberID: string; alarm: number }[];
  /** Returns the alarms cleared (etcd answers a deactivation with them). */
  deactivate(memberID: string, alarm: number): { memberID: string; alarm: number }[];
  list(): { memberID: string; alarm: number }[];
}

/** Applies one committed request. Never throws for client errors: they come back in `error`. */
export function applyRequest(store: KVStore, lessor: Lessor, alarms: Alarms, r: InternalRequest): ApplyResult {
  switch (r.op) {
    case "memberAttr":
      // Membership is the member's (membership.ts), not the key-value store's: it never reaches here.
      throw new Error("applyRequest: memberAttr is applied by the member, not the store");
    case "put": {
      const txn = store.beginWrite();
      try {
        checkPut(txn, lessor, r.req);
        const response = applyPut(txn, r.req);
        const events = txn.end();
        return { response, revision: store.currentRevision, events };
      } catch (err) {
        txn.end();
        return failed(store, err);
      }
    }
    case "deleteRange": {
      const txn = store.beginWrite();
      const response = applyDelete(txn, r.req);
      const events = txn.end();
      return { response, revision: store.currentRevision, events };
    }
    case "txn": {
      const txn = store.beginWrite();
      try {
        const path = decidePath(txn, r.req);
        checkPath(txn, lessor, r.req, path);
        const response = runPath(txn, r.req, path);
        const events = txn.end();
        return { response, revision: store.currentRevision, events };
      } catch (err) {
        // Checks run before any change, so an error here leaves the store untouched.
        txn.end();
        return failed(store, err);
      }
    }
    case "compact": {
      try {
        store.compact(Number(r.req.revision));
        return { response: {}, revision: store.currentRevision, events: [] };
      } catch (err) {
        return failed(store, err);
      }
    }
    case "leaseGrant": {
      const id = BigInt(r.req.ID);
      const ttl = Number(r.req.TTL);
      if (ttl > LEASE_TTL_SECONDS_MAX) return failed(store, ErrLeaseTTLTooLarge());
      if (lessor.get(id) !== undefined) return failed(store, ErrLeaseExist());
      const lease = lessor.grant(id, ttl);
      return { response: { ID: String(id), TTL: String(lease.ttlSeconds), error: "" }, revision: store.currentRevision, events: [] };
    }
    case "leaseRevoke": {
      const id = BigInt(r.req.ID);
      const lease = lessor.get(id);
      if (lease === undefined) return failed(store, ErrLeaseNotFound());
      const txn = store.beginWrite();
      for (const key of [...lease.keys].sort()) txn.deleteRange({ key, end: null });
      const events = txn.end();
      lessor.remove(id);
      return { response: {}, revision: store.currentRevision, events };
    }
    case "alarm": {
      const memberID = r.req.memberID;
      const changed = r.req.action === 1 ? alarms.activate(memberID, r.req.alarm) : r.req.action === 2 ? alarms.deactivate(memberID, r.req.alarm) : alarms.list();
      return { response: { alarms: changed }, revision: store.currentRevision, events: [] };
    }
  }
}

function failed(store: KVStore, err: unknown): ApplyResult {
  const mapped = mapMvccError(err);
  if (mapped instanceof EtcdError) return { error: mapped, revision: store.currentRevision, events: [] };
  throw mapped;
}

