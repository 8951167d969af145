/**
 * gRPC status → the typed CRI errors of ../errors.ts, in one place, so the kubelet reads `kubeletReason` and
 * `instanceof` the same whichever runtime answered.
 *
 * Messages follow what upstream's kubelet shows: a failed pull keeps Go's full status string ("rpc error:
 * code = NotFound desc = failed to pull and unpack image …", the `ErrImagePull` message users know), create and
 * start failures, whatever their code, keep only the description (kuberuntime takes `status.Message()` for
 * `CreateContainerError` and `RunContainerError`), a missing object keeps containerd's own sentence. The original gRPC error is the `cause`.
 */
import { status as GrpcStatus } from "@grpc/grpc-js";
import {
  CreateContainerFailedError, CriError, ExecTimeoutError, FailedPreconditionError, ImagePullFailedError,
  NotFoundError, ResourceExhaustedError, StartContainerFailedError, type CriCode,
} from "../errors.js";

/** Go's names for gRPC codes (google.golang.org/grpc/codes String()), as they appear in "rpc error: code = …". */
const GO_CODE_NAMES: Readonly<Record<number, string>> = {
  0: "OK", 1: "Canceled", 2: "Unknown", 3: "InvalidArgument", 4: "DeadlineExceeded", 5: "NotFound",
  6: "AlreadyExists", 7: "PermissionDenied", 8: "ResourceExhausted", 9: "FailedPrecondition", 10: "Aborted",
  11: "OutOfRange", 12: "Unimplemented", 13: "Internal", 14: "Unavailable", 15: "DataLoss", 16: "Unauthenticated",
};

/** What a failed call was about, for the error's kind and message. */
export interface CallContext {
  /** The RPC's name as in api.proto (`CreateContainer`). */
  readonly method: string;
  /** The container, sandbox or image the call named, for NotFound. */
  readonly subject?: { readonly kind: "container" | "sandbox" | "image"; readonly id: string };
  /** ExecSync's command and timeout, for ExecTimeoutError. */
  readonly cmd?: readonly string[];
  readonly timeoutSeconds?: number;
}

/** The parts of a @grpc/grpc-js ServiceError this mapping reads. */
export interface GrpcErrorLike {
  readonly code: number;
  readonly details: string;
}

export function isGrpcError(err: unknown): err is Error & GrpcErrorLike {
  return err instanceof Error && typeof (err as Partial<GrpcErrorLike>).code === "number"
    && typeof (err as Partial<GrpcErrorLike>).details === "string";
}

/** Go's `status.Error(code, desc).Error()`: "rpc error: code = NotFound desc = …". */
export function goStatusString(err: GrpcErrorLike): string {
  return `rpc error: code = ${GO_CODE_NAMES[err.code] ?? `Code(${err.code})`} desc = ${err.details}`;
}

/** The gRPC code's name in cri's vocabulary; codes the CRI does not distinguish are `Unknown`. */
export function criCodeOf(code: number): CriCode {
  switch (code) {
    case GrpcStatus.NOT_FOUND: return "NotFound";
    case GrpcStatus.INVALID_ARGUMENT: return "InvalidArgument";
    case GrpcStatus.FAILED_PRECONDITION: return "FailedPrecondition";
    case GrpcStatus.RESOURCE_EXHAUSTED: return "ResourceExhausted";
    case GrpcStatus.DEADLINE_EXCEEDED: return "DeadlineExceeded";
    case GrpcStatus.ALREADY_EXISTS: return "AlreadyExists";
    case GrpcStatus.UNIMPLEMENTED: return "Unimplemented";
    default: return "Unknown";
  }
}

/** containerd's sentence for a missing object (pkg/cri/store: `an error occurred when try to find container "id": not found`). */
const NOT_FOUND_SENTENCE = /^an error occurred when try to find (container|sandbox|image) "([^"]*)": not found$/;

/** A NotFound whose message is the runtime's own when it is not containerd's usual sentence. */
class RuntimeNotFoundError extends NotFoundError {
  constructor(kind: "container" | "sandbox" | "image", id: string, message: string, options: ErrorOptions) {
    super(kind, id);
    this.message = message;
    this.cause = options.cause;
  }
}

/**
 * Maps a failed call's error. Not a gRPC error (a bug, or a conversion that threw) → returned unchanged, so
 * assertions still crash the process.
 */
export function criErrorFromGrpc(err: unknown, ctx: CallContext): unknown {
  if (!isGrpcError(err)) return err;
  // grpc-js reports a request protobufjs could not encode as a failed call (INTERNAL). That is our bug, not
  // the runtime's answer: surface it as such rather than as, say, a CreateContainerError a pod would show.
  if (err.code === GrpcStatus.INTERNAL && err.details.startsWith("Request message serialization failure")) {
    return new Error(`CRI ${ctx.method}: ${err.details}`, { cause: err });
  }
  const options: ErrorOptions = { cause: err };
  const desc = err.details;
  switch (ctx.method) {
    case "PullImage":
      // Whatever the reason (no registry, a bad reference, no space), the kubelet shows ErrImagePull.
      return new ImagePullFailedError(goStatusString(err), options);
    case "CreateContainer":
      // Every failure, a missing image or sandbox included: upstream's kuberuntime turns any CreateContainer
      // error into CreateContainerError with the status description.
      return new CreateContainerFailedError(desc, options);
    case "StartContainer":
      return new StartContainerFailedError(desc, options);
    case "ExecSync":
      // As upstream's remote runtime client: a deadline on ExecSync is a timed-out probe command.
      if (err.code === GrpcStatus.DEADLINE_EXCEEDED) return new ExecTimeoutError(ctx.cmd ?? [], ctx.timeoutSeconds ?? 0);
      break;
  }
  switch (err.code) {
    case GrpcStatus.NOT_FOUND: {
      const m = NOT_FOUND_SENTENCE.exec(desc);
      if (m !== null) {
        const e = new NotFoundError(m[1] as "container" | "sandbox" | "image", m[2]!);
        e.cause = err;
        return e;
      }
      return new RuntimeNotFoundError(ctx.subject?.kind ?? "container", ctx.subject?.id ?? "", desc, options);
    }
    case GrpcStatus.FAILED_PRECONDITION: {
      const e = new FailedPreconditionError(desc);
      e.cause = err;
      return e;
    }
    case GrpcStatus.RESOURCE_EXHAUSTED: {
      const e = new ResourceExhaustedError(desc);
      e.cause = err;
      return e;
    }
    default:
      // Unavailable (the runtime is down), Internal, Unknown, …: the full status string says which.
      return new CriError(criCodeOf(err.code), goStatusString(err), undefined, options);
  }
}
