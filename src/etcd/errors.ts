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
export const ErrMemberExist = e(GrpcStatus.FAILED_PRECONDITION, "etcdserver: member ID already exist");
export const ErrPeerURLExist = e(GrpcStatus.FAILED_PRECONDITION, "etcdserver: Peer URLs already exists");
export const ErrMemberBadURLs = e(GrpcStatus.INVALID_ARGUMENT, "etcdserver: given member URLs are invalid");
export const ErrMemberNotLearner = e(GrpcStatus.FAILED_PRECONDITION, "etcdserver: can only promote a learner member");
export const ErrLearnerNotReady = e(GrpcStatus.FAILED_PRECONDITION, "etcdserver: can only promote a learner member which is in sync with leader");
export const ErrTooManyLearners = e(GrpcStatus.FAILED_PRECONDITION, "etcdserver: too many learner members in cluster");
export const ErrMemberNotEnoughStarted = e(GrpcStatus.FAILED_PRECONDITION, "etcdserver: re-configuration failed due to not enough started members");
export const ErrIDRemoved = e(GrpcStatus.FAILED_PRECONDITION, "etcdserver: ID removed");
export const ErrNoLeader = e(GrpcStatus.UNAVAILABLE, "etcdserver: no leader");
export const ErrNotLeader = e(GrpcStatus.FAILED_PRECONDITION, "etcdserver: not leader");
export const ErrLeaderChanged = e(GrpcStatus.UNAVAILABLE, "etcdserver: leader changed");
export const ErrTimeoutDueToLeaderFail = e(GrpcStatus.UNAVAILABLE, "etcdserver: request timed out, possibly due to previous leader failure");
export const ErrUnhealthy = e(GrpcStatus.UNAVAILABLE, "etcdserver: unhealthy cluster");
export const ErrAuthNotEnabled = e(GrpcStatus.FAILED_PRECONDITION, "etcdserver: authentication is not enabled");
export const ErrAuthUnsupported = e(GrpcStatus.UNIMPLEMENTED, "etcdserver: authentication is not supported by the tk8s datastore yet");
