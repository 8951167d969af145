/**
 * Typed errors of the CRI. A runtime throws these; the kubelet turns them into a container's waiting
 * reason (`CreateContainerError`, `RunContainerError`, `ErrImageNeverPull`, …) in one place, reading
 * `kubeletReason`. A gRPC runtime client maps status codes to the same classes, so the kubelet does not
 * care which runtime answered.
 */

/** gRPC status code names, the vocabulary CRI runtimes answer in. */
export type CriCode =
  | "NotFound" | "InvalidArgument" | "FailedPrecondition" | "ResourceExhausted" | "DeadlineExceeded"
  | "AlreadyExists" | "Unimplemented" | "Unknown";

/** Waiting reasons the kubelet shows on a container status (pkg/kubelet/container, images, kuberuntime). */
export const KubeletReason = {
  CreateContainerConfigError: "CreateContainerConfigError",
  CreateContainerError: "CreateContainerError",
  RunContainerError: "RunContainerError",
  KillContainerError: "KillContainerError",
  CreatePodSandboxError: "CreatePodSandboxError",
  KillPodSandboxError: "KillPodSandboxError",
  ErrImagePull: "ErrImagePull",
  ErrImageNeverPull: "ErrImageNeverPull",
  ImageInspectError: "ImageInspectError",
  InvalidImageName: "InvalidImageName",
} as const;
export type KubeletReason = (typeof KubeletReason)[keyof typeof KubeletReason];

/** Any error a CRI call answers with. */
export class CriError extends Error {
  override name = "CriError";
  constructor(
    readonly code: CriCode,
    message: string,
    readonly kubeletReason?: KubeletReason,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** An id that names no sandbox, container or image. Messages as containerd's. */
export class NotFoundError extends CriError {
  override name = "NotFoundError";
  constructor(kind: "container" | "sandbox" | "image", id: string) {
    super("NotFound", `an error occurred when try to find ${kind} "${id}": not found`);
  }
}

/** CreateContainer failed; the kubelet shows `CreateContainerError` with this message. */
export class CreateContainerFailedError extends CriError {
  override name = "CreateContainerFailedError";
  constructor(message: string, options?: ErrorOptions) {
    super("InvalidArgument", message, KubeletReason.CreateContainerError, options);
  }
}

/** StartContainer failed (e.g. the executable does not exist); the kubelet shows `RunContainerError`. */
export class StartContainerFailedError extends CriError {
  override name = "StartContainerFailedError";
  constructor(message: string, options?: ErrorOptions) {
    super("Unknown", message, KubeletReason.RunContainerError, options);
  }
}

/** The kubelet's image manager raises this for `imagePullPolicy: Never` and a missing image (message as upstream). */
export class ImageNeverPullError extends CriError {
  override name = "ImageNeverPullError";
  constructor(readonly image: string) {
    super("NotFound", `Container image "${image}" is not present with pull policy of Never`, KubeletReason.ErrImageNeverPull);
  }
}

/** PullImage failed; the kubelet shows `ErrImagePull`, then `ImagePullBackOff`. */
export class ImagePullFailedError extends CriError {
  override name = "ImagePullFailedError";
  constructor(message: string, options?: ErrorOptions) {
    super("Unknown", message, KubeletReason.ErrImagePull, options);
  }
}

/** An image reference that does not parse; the kubelet shows `InvalidImageName`. */
export class InvalidImageNameError extends CriError {
  override name = "InvalidImageNameError";
  constructor(readonly image: string) {
    super("InvalidArgument", `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`, KubeletReason.InvalidImageName);
  }
}

/** The call is valid but not in the current state (exec into an exited container). */
export class FailedPreconditionError extends CriError {
  override name = "FailedPreconditionError";
  constructor(message: string) {
    super("FailedPrecondition", message);
  }
}

/** A bound was reached (containers, sandboxes, sessions); the caller may retry later. */
export class ResourceExhaustedError extends CriError {
  override name = "ResourceExhaustedError";
  constructor(message: string) {
    super("ResourceExhausted", message);
  }
}

/** ExecSync ran past its timeout; the kubelet's exec prober reports the probe as timed out. */
export class ExecTimeoutError extends CriError {
  override name = "ExecTimeoutError";
  constructor(readonly cmd: readonly string[], readonly timeoutSeconds: number) {
    super("DeadlineExceeded", `command "${cmd.join(" ")}" timed out after ${timeoutSeconds}s`);
  }
}
