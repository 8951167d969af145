import { test } from "node:test";
import assert from "node:assert/strict";
import { status as GrpcStatus } from "@grpc/grpc-js";
import {
  CreateContainerFailedError, CriError, ExecTimeoutError, FailedPreconditionError, ImagePullFailedError, KubeletReason,
  NotFoundError, ResourceExhaustedError, StartContainerFailedError,
} from "../errors.js";
import { criErrorFromGrpc, goStatusString, type CallContext } from "./grpc_errors.js";

/** A ServiceError as @grpc/grpc-js builds it: message "<code> <NAME>: <details>", plus code and details. */
function grpcError(code: number, details: string): Error & { code: number; details: string } {
  return Object.assign(new Error(`${code} ${GrpcStatus[code]}: ${details}`), { code, details });
}

interface Case {
  readonly name: string;
  readonly ctx: CallContext;
  readonly code: number;
  readonly details: string;
  readonly cls: abstract new (...args: never[]) => CriError;
  readonly criCode: string;
  readonly message: string;
  readonly kubeletReason?: string;
}

const pullDetails = 'failed to pull and unpack image "docker.io/library/nope:1": failed to resolve reference "docker.io/library/nope:1": failed to do request: dial tcp: lookup registry-1.docker.io: no such host';
const cases: Case[] = [
  { name: "containerd's missing-container sentence becomes NotFoundError with the same message",
    ctx: { method: "ContainerStatus", subject: { kind: "container", id: "abc" } },
    code: GrpcStatus.NOT_FOUND, details: 'an error occurred when try to find container "abc": not found',
    cls: NotFoundError, criCode: "NotFound", message: 'an error occurred when try to find container "abc": not found' },
  { name: "containerd's missing-sandbox sentence becomes NotFoundError",
    ctx: { method: "PodSandboxStatus", subject: { kind: "sandbox", id: "s1" } },
    code: GrpcStatus.NOT_FOUND, details: 'an error occurred when try to find sandbox "s1": not found',
    cls: NotFoundError, criCode: "NotFound", message: 'an error occurred when try to find sandbox "s1": not found' },
  { name: "another runtime's NotFound keeps its own words and is still a NotFoundError",
    ctx: { method: "ContainerStatus", subject: { kind: "container", id: "abc" } },
    code: GrpcStatus.NOT_FOUND, details: "container with ID starting with abc not found: ID does not exist",
    cls: NotFoundError, criCode: "NotFound", message: "container with ID starting with abc not found: ID does not exist" },
  { name: "any failed pull is ErrImagePull with Go's full status string, as upstream's kubelet shows it",
    ctx: { method: "PullImage" }, code: GrpcStatus.UNKNOWN, details: pullDetails,
    cls: ImagePullFailedError, criCode: "Unknown", message: `rpc error: code = Unknown desc = ${pullDetails}`, kubeletReason: KubeletReason.ErrImagePull },
  { name: "a pull answered NotFound is ErrImagePull too",
    ctx: { method: "PullImage" }, code: GrpcStatus.NOT_FOUND, details: "not found",
    cls: ImagePullFailedError, criCode: "Unknown", message: "rpc error: code = NotFound desc = not found", kubeletReason: KubeletReason.ErrImagePull },
  { name: "a failed create is CreateContainerError with the description only",
    ctx: { method: "CreateContainer" }, code: GrpcStatus.UNKNOWN, details: 'failed to create containerd container: get image: not found',
    cls: CreateContainerFailedError, criCode: "InvalidArgument", message: "failed to create containerd container: get image: not found", kubeletReason: KubeletReason.CreateContainerError },
  { name: "a failed start is RunContainerError with the description only",
    ctx: { method: "StartContainer" }, code: GrpcStatus.UNKNOWN, details: 'failed to create containerd task: exec: "nope": executable file not found in $PATH',
    cls: StartContainerFailedError, criCode: "Unknown", message: 'failed to create containerd task: exec: "nope": executable file not found in $PATH', kubeletReason: KubeletReason.RunContainerError },
  { name: "a create whose image is missing (NotFound) is still CreateContainerError, as upstream",
    ctx: { method: "CreateContainer" }, code: GrpcStatus.NOT_FOUND, details: 'failed to create containerd container: failed to resolve image "x": not found',
    cls: CreateContainerFailedError, criCode: "InvalidArgument", message: 'failed to create containerd container: failed to resolve image "x": not found', kubeletReason: KubeletReason.CreateContainerError },
  { name: "a start of a missing container is RunContainerError, as upstream",
    ctx: { method: "StartContainer", subject: { kind: "container", id: "gone" } }, code: GrpcStatus.NOT_FOUND, details: 'an error occurred when try to find container "gone": not found',
    cls: StartContainerFailedError, criCode: "Unknown", message: 'an error occurred when try to find container "gone": not found', kubeletReason: KubeletReason.RunContainerError },
  { name: "a deadline on ExecSync is a timed-out probe command",
    ctx: { method: "ExecSync", cmd: ["sh", "-c", "sleep 9"], timeoutSeconds: 1 }, code: GrpcStatus.DEADLINE_EXCEEDED, details: "Deadline exceeded",
    cls: ExecTimeoutError, criCode: "DeadlineExceeded", message: 'command "sh -c sleep 9" timed out after 1s' },
  { name: "FailedPrecondition keeps the runtime's words",
    ctx: { method: "ExecSync", cmd: ["true"] }, code: GrpcStatus.FAILED_PRECONDITION, details: 'container is in CONTAINER_EXITED state',
    cls: FailedPreconditionError, criCode: "FailedPrecondition", message: "container is in CONTAINER_EXITED state" },
  { name: "ResourceExhausted keeps the runtime's words",
    ctx: { method: "RunPodSandbox" }, code: GrpcStatus.RESOURCE_EXHAUSTED, details: "grpc: received message larger than max",
    cls: ResourceExhaustedError, criCode: "ResourceExhausted", message: "grpc: received message larger than max" },
  { name: "a runtime that is down is an Unknown CriError saying Unavailable",
    ctx: { method: "Version" }, code: GrpcStatus.UNAVAILABLE, details: "No connection established",
    cls: CriError, criCode: "Unknown", message: "rpc error: code = Unavailable desc = No connection established" },
  { name: "Unimplemented keeps its code",
    ctx: { method: "ListPodSandboxMetrics" }, code: GrpcStatus.UNIMPLEMENTED, details: "unknown method ListPodSandboxMetrics for service runtime.v1.RuntimeService",
    cls: CriError, criCode: "Unimplemented", message: "rpc error: code = Unimplemented desc = unknown method ListPodSandboxMetrics for service runtime.v1.RuntimeService" },
];

for (const c of cases) {
  test(`criErrorFromGrpc: ${c.name}`, () => {
    const cause = grpcError(c.code, c.details);
    const err = criErrorFromGrpc(cause, c.ctx);
    assert.ok(err instanceof c.cls, `want ${c.cls.name}, got ${(err as Error).name}`);
    assert.equal((err as CriError).code, c.criCode);
    assert.equal((err as CriError).message, c.message);
    assert.equal((err as CriError).kubeletReason, c.kubeletReason);
    if (!(err instanceof ExecTimeoutError)) assert.equal((err as Error).cause, cause);
  });
}

test("criErrorFromGrpc: an error that is not from gRPC passes through unchanged", () => {
  const err = new TypeError("x is undefined");
  assert.equal(criErrorFromGrpc(err, { method: "Version" }), err);
});

test("criErrorFromGrpc: a request the client could not encode is a plain Error, not a runtime answer", () => {
  const err = criErrorFromGrpc(grpcError(GrpcStatus.INTERNAL, "Request message serialization failure: invalid encoding"), { method: "CreateContainer" });
  assert.ok(!(err instanceof CriError));
  assert.equal((err as Error).message, "CRI CreateContainer: Request message serialization failure: invalid encoding");
});

test("goStatusString: reads as Go's status error, unknown codes by number", () => {
  assert.equal(goStatusString({ code: 5, details: "x" }), "rpc error: code = NotFound desc = x");
  assert.equal(goStatusString({ code: 99, details: "x" }), "rpc error: code = Code(99) desc = x");
});
