/**
 * etcd's client-visible errors (its rpctypes): the gRPC code and the exact message, which clients such as
 * etcdctl and client-go match on. The gRPC layer turns these, and MVCC's errors, into statuses in one place.
 */
import { status as GrpcStatus } from "@grpc/grpc-js";

export class EtcdError extends Error {
  override readonly name = "EtcdError";
  constructor(readonly code: GrpcStatus, message: string) {
    super(message);
  }
}

const e = (code: GrpcStatus, message: string) => () => new EtcdError(code, message);

export const ErrEmptyKey = e(GrpcStatus.INVALID_ARGUMENT, "etcdserver: key is not provided");
export const ErrKeyNotFound = e(GrpcStatus.INVALID_ARGUMENT, "etcdserver: key not found");
export const ErrValueProvided = e(GrpcStatus.INVALID_ARGUMENT, "etcdserver: value is provided");
export const ErrLeaseProvided = e(GrpcStatus.INVALID_ARGUMENT, "etcdserver: lease is provided");
export const ErrTooManyOps = e(GrpcStatus.INVALID_ARGUMENT, "etcdserver: too many operations in txn request");
export const ErrDuplicateKey = e(GrpcStatus.INVALID_ARGUMENT, "etcdserver: duplicate key given in txn request");
export const ErrInvalidSortOption = e(GrpcStatus.INVALID_ARGUMENT, "etcdserver: invalid sort option");
export const ErrCompacted = e(GrpcStatus.OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted");
export const ErrFutureRev = e(GrpcStatus.OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision");
export const ErrNoSpace = e(GrpcStatus.RESOURCE_EXHAUSTED, "etcdserver: mvcc: database space exceeded");
export const ErrLeaseNotFound = e(GrpcStatus.NOT_FOUND, "etcdserver: requested lease not found");
export const ErrLeaseExist = e(GrpcStatus.FAILED_PRECONDITION, "etcdserver: lease already exists");
export const ErrLeaseTTLTooLarge = e(GrpcStatus.OUT_OF_RANGE, "etcdserver: too large lease TTL");
export const ErrRequestTooLarge = e(GrpcStatus.INVALID_ARGUMENT, "etcdserver: request is too large");
export const ErrTooManyRequests = e(GrpcStatus.RESOURCE_EXHAUSTED, "etcdserver: too many requests");
export const ErrStopped = e(GrpcStatus.UNAVAILABLE, "etcdserver: server stopped");
export const ErrTimeout = e(GrpcStatus.UNAVAILABLE, "etcdserver: request timed out");
export const ErrMemberNotFound = e(GrpcStatus.NOT_FOUND, "etcdserver: member not found");
export const ErrBadLeaderTransferee = e(GrpcStatus.FAILED_PRECONDITION, "etcdserver: bad leader transferee");
export const ErrWatchCanceled = e(GrpcStatus.CANCELLED, "etcdserver: watch canceled");
export const ErrNotCapable = e(GrpcStatus.UNAVAILABLE, "etcdserver: not capable");
export const ErrMembershipUnsupported = e(
  GrpcStatus.FAILED_PRECONDITION,
  "etcdserver: membership changes need a replicated datastore (not supported by this single-member tk8s datastore yet)",
);
export const ErrAuthNotEnabled = e(GrpcStatus.FAILED_PRECONDITION, "etcdserver: authentication is not enabled");
export const ErrAuthUnsupported = e(GrpcStatus.UNIMPLEMENTED, "etcdserver: authentication is not supported by the tk8s datastore yet");
