/** etcdserverpb.KV: Range, Put, DeleteRange, Txn, Compact — request checks as etcd's v3rpc key.go. */
import type * as grpc from "@grpc/grpc-js";
import type { Logger } from "../../env/env.js";
import { isTxnReadOnly, toKeyRange } from "../apply.js";
import { ErrDuplicateKey, ErrEmptyKey, ErrInvalidSortOption, ErrLeaseProvided, ErrTooManyOps, ErrValueProvided, type EtcdError } from "../errors.js";
import type { CompactionRequest, DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from "../pb.js";
import type { EtcdServer } from "../server.js";
import { header, requestBytes, unary } from "./common.js";
import { keyInRange, type KeyRange } from "../../storage/mvcc/tree_index.js";
import { keyToIndex } from "../../storage/mvcc/kv.js";

function checkRange(r: RangeRequest): void {
  if (r.key.length === 0) throw ErrEmptyKey();
  // etcd 3.4 ignores an unknown sort order (keys come back in key order); an unknown sort target would
  // crash it, so that one is refused.
  if (r.sort_target < 0 || r.sort_target > 4) throw ErrInvalidSortOption();
}

function checkPut(r: PutRequest): void {
  if (r.key.length === 0) throw ErrEmptyKey();
  if (r.ignore_value && r.value.length !== 0) throw ErrValueProvided();
  if (r.ignore_lease && r.lease !== "0") throw ErrLeaseProvided();
}

function checkDelete(r: DeleteRangeRequest): void {
  if (r.key.length === 0) throw ErrEmptyKey();
}

function checkTxn(r: TxnRequest, maxTxnOps: number): void {
  const opCount = Math.max(r.compare.length, r.success.length, r.failure.length);
  if (opCount > maxTxnOps) throw ErrTooManyOps();
  for (const c of r.compare) if (c.key.length === 0) throw ErrEmptyKey();
  for (const op of [...r.success, ...r.failure]) checkOp(op, maxTxnOps);
  checkIntervals(r.success);
  checkIntervals(r.failure);
}

function checkOp(op: RequestOp, maxTxnOps: number): void {
  if (op.request_range) checkRange(op.request_range);
  else if (op.request_put) checkPut(op.request_put);
  else if (op.request_delete_range) checkDelete(op.request_delete_range);
  else if (op.request_txn) checkTxn(op.request_txn, maxTxnOps);
}

/**
 * etcd forbids changing one key twice in a txn: two puts of a key, or a put inside a deleted range, in the
 * same branch (nested txns included; a nested txn's two branches may each put the same key).
 */
function checkIntervals(ops: RequestOp[]): { dels: KeyRange[]; puts: Set<string> } {
  const dels: KeyRange[] = [];
  const puts = new Set<string>();
  for (const op of ops) if (op.request_delete_range) dels.push(toKeyRange(op.request_delete_range.key, op.request_delete_range.range_end));
  for (const op of ops) {
    if (!op.request_txn) continue;
    const s = checkIntervals(op.request_txn.success);
    const f = checkIntervals(op.request_txn.failure);
    for (const branch of [s, f]) {
      for (const k of branch.puts) {
        if (puts.has(k) || dels.some((d) => keyInRange(k, d))) throw ErrDuplicateKey();
      }
      for (const d of branch.dels) for (const k of puts) if (keyInRange(k, d)) throw ErrDuplicateKey();
    }
    for (const k of new Set([...s.puts, ...f.puts])) puts.add(k);
    dels.push(...s.dels, ...f.dels);
  }
  for (const op of ops) {
    if (!op.request_put) continue;
    const k = keyToIndex(op.request_put.key);
    if (puts.has(k)) throw ErrDuplicateKey();
    puts.add(k);
  }
  for (const k of puts) if (dels.some((d) => keyInRange(k, d))) throw ErrDuplicateKey();
  return { dels, puts };
}

async function throwIfError<T>(p: Promise<{ response?: unknown; error?: EtcdError; revision: number }>): Promise<{ response: T; revision: number }> {
  const r = await p;
  if (r.error !== undefined) throw r.error;
  return { response: r.response as T, revision: r.revision };
}

export function kvService(server: EtcdServer, log: Logger): grpc.UntypedServiceImplementation {
  const l = (msg: string, f: Record<string, unknown>) => log.error(msg, f);
  return {
    Range: unary(server, "KV", "Range", async (req: RangeRequest) => {
      checkRange(req);
      const res = await server.range(req);
      return { ...res, header: header(server, Number(res.header!.revision)) };
    }, l),
    Put: unary(server, "KV", "Put", async (req: PutRequest) => {
      checkPut(req);
      const { response, revision } = await throwIfError<object>(server.propose({ op: "put", req }, requestBytes(req)));
      return { ...response, header: header(server, revision) };
    }, l),
    DeleteRange: unary(server, "KV", "DeleteRange", async (req: DeleteRangeRequest) => {
      checkDelete(req);
      const { response, revision } = await throwIfError<object>(server.propose({ op: "deleteRange", req }, requestBytes(req)));
      return { ...response, header: header(server, revision) };
    }, l),
    Txn: unary(server, "KV", "Txn", async (req: TxnRequest) => {
      checkTxn(req, server.config.maxTxnOps);
      if (isTxnReadOnly(req)) {
        const res = await server.readOnlyTxn(req);
        return { ...res, header: header(server, Number(res.header!.revision)) };
      }
      const { response, revision } = await throwIfError<object>(server.propose({ op: "txn", req }, requestBytes(req)));
      return { ...response, header: header(server, revision) };
    }, l),
    Compact: unary(server, "KV", "Compact", async (req: CompactionRequest) => {
      const { revision } = await throwIfError<object>(server.propose({ op: "compact", req }, requestBytes(req)));
      // physical: answer only once the compacted revisions are gone from the backend, as etcd does.
      if (req.physical) {
        await server.kv.compactionsDone();
        await server.flushBackend();
      }
      return { header: header(server, revision) };
    }, l),
  };
}

