/**
 * TypeScript shapes of the etcd v3 messages as @grpc/proto-loader hands them over (see proto.ts):
 * snake_case fields, int64 as decimal strings, bytes as Buffers, enums as numbers, oneofs with a
 * discriminator field. Only the messages the server reads or builds are typed here.
 */

export type Int64 = string;

export interface ResponseHeader {
  cluster_id: Int64;
  member_id: Int64;
  /** Built as numbers by the server (revisions and terms stay below 2^53); decoded as strings. */
  revision: Int64 | number;
  raft_term: Int64 | number;
}

export interface KeyValuePb {
  key: Buffer;
  create_revision: Int64;
  mod_revision: Int64;
  version: Int64;
  value: Buffer;
  lease: Int64;
}

export const enum SortOrder {
  None = 0,
  Ascend = 1,
  Descend = 2,
}
export const enum SortTarget {
  Key = 0,
  Version = 1,
  Create = 2,
  Mod = 3,
  Value = 4,
}

export interface RangeRequest {
  key: Buffer;
  range_end: Buffer;
  limit: Int64;
  revision: Int64;
  sort_order: number;
  sort_target: number;
  serializable: boolean;
  keys_only: boolean;
  count_only: boolean;
  min_mod_revision: Int64;
  max_mod_revision: Int64;
  min_create_revision: Int64;
  max_create_revision: Int64;
}
export interface RangeResponse {
  header: ResponseHeader | null;
  kvs: KeyValuePb[];
  more: boolean;
  count: Int64;
}

export interface PutRequest {
  key: Buffer;
  value: Buffer;
  lease: Int64;
  prev_kv: boolean;
  ignore_value: boolean;
  ignore_lease: boolean;
}
export interface PutResponse {
  header: ResponseHeader | null;
  prev_kv: KeyValuePb | null;
}

export interface DeleteRangeRequest {
  key: Buffer;
  range_end: Buffer;
  prev_kv: boolean;
}
export interface DeleteRangeResponse {
  header: ResponseHeader | null;
  deleted: Int64;
  prev_kvs: KeyValuePb[];
}

export interface RequestOp {
  request?: "request_range" | "request_put" | "request_delete_range" | "request_txn";
  request_range?: RangeRequest | null;
  request_put?: PutRequest | null;
  request_delete_range?: DeleteRangeRequest | null;
  request_txn?: TxnRequest | null;
}
export interface ResponseOp {
  response_range?: RangeResponse;
  response_put?: PutResponse;
  response_delete_range?: DeleteRangeResponse;
  response_txn?: TxnResponse;
}

export const enum CompareResult {
  Equal = 0,
  Greater = 1,
  Less = 2,
  NotEqual = 3,
}
export const enum CompareTarget {
  Version = 0,
  Create = 1,
  Mod = 2,
  Value = 3,
  Lease = 4,
}
export interface Compare {
  result: number;
  target: number;
  key: Buffer;
  target_union?: "version" | "create_revision" | "mod_revision" | "value" | "lease";
  version?: Int64;
  create_revision?: Int64;
  mod_revision?: Int64;
  value?: Buffer;
  lease?: Int64;
  range_end: Buffer;
}
export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}
export interface TxnResponse {
  header: ResponseHeader | null;
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface CompactionRequest {
  revision: Int64;
  physical: boolean;
}

export interface LeaseGrantRequest {
  TTL: Int64;
  ID: Int64;
}
export interface LeaseRevokeRequest {
  ID: Int64;
}

export const enum AlarmAction {
  Get = 0,
  Activate = 1,
  Deactivate = 2,
}
export const enum AlarmType {
  None = 0,
  NoSpace = 1,
  Corrupt = 2,
}
export interface AlarmRequest {
  action: number;
  memberID: Int64;
  alarm: number;
}
export interface AlarmMember {
  memberID: Int64;
  alarm: number;
}

export interface WatchCreateRequest {
  key: Buffer;
  range_end: Buffer;
  start_revision: Int64;
  progress_notify: boolean;
  filters: number[];
  prev_kv: boolean;
  watch_id: Int64;
  fragment: boolean;
}
export interface WatchRequest {
  request_union?: "create_request" | "cancel_request" | "progress_request";
  create_request?: WatchCreateRequest;
  cancel_request?: { watch_id: Int64 };
  progress_request?: Record<string, never>;
}
export interface EventPb {
  type: number;
  kv: KeyValuePb;
  prev_kv: KeyValuePb | null;
}
export interface WatchResponse {
  header: ResponseHeader;
  watch_id: Int64;
  created?: boolean;
  canceled?: boolean;
  compact_revision?: Int64;
  cancel_reason?: string;
  fragment?: boolean;
  events: EventPb[];
}

/** A complete RangeRequest (every field set, as a decoded request has them) from the fields that matter. */
export function rangeRequest(r: Partial<RangeRequest> & { key: Buffer }): RangeRequest {
  return {
    range_end: Buffer.alloc(0),
    limit: "0",
    revision: "0",
    sort_order: 0,
    sort_target: 0,
    serializable: false,
    keys_only: false,
    count_only: false,
    min_mod_revision: "0",
    max_mod_revision: "0",
    min_create_revision: "0",
    max_create_revision: "0",
    ...r,
  };
}
