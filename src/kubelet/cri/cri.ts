/**
 * The Container Runtime Interface as the kubelet sees it: upstream's `runtime.v1` RuntimeService and
 * ImageService (k8s.io/cri-api pkg/apis/runtime/v1/api.proto), with message and field names as
 * @grpc/proto-loader maps them (snake_case → camelCase), so a containerd client over gRPC drops in
 * behind the same interface as the built-in process runtime.
 *
 * Deviations, each for a reason:
 * - int64 nanosecond timestamps are `bigint` (a `number` cannot hold 1.7e18 exactly).
 * - Exec/Attach/PortForward may answer with a `url` (a runtime with its own streaming server, as
 *   containerd does) or with an in-process `stream` handle (the process runtime has none); the kubelet's
 *   streaming server serves either.
 * - Errors are the typed classes of `errors.ts`, not gRPC status codes (a gRPC client maps codes to them).
 */
import type { Duplex, Readable, Writable } from "node:stream";

// ---------- shared ----------

export interface KeyValue { readonly key: string; readonly value: string }

/** Protocol of a port mapping. */
export type Protocol = "TCP" | "UDP" | "SCTP";

export interface PortMapping {
  readonly protocol?: Protocol;
  readonly containerPort: number;
  readonly hostPort?: number;
  readonly hostIp?: string;
}

export type MountPropagation = "PROPAGATION_PRIVATE" | "PROPAGATION_HOST_TO_CONTAINER" | "PROPAGATION_BIDIRECTIONAL";

export interface Mount {
  readonly containerPath: string;
  readonly hostPath: string;
  readonly readonly?: boolean;
  readonly selinuxRelabel?: boolean;
  readonly propagation?: MountPropagation;
}

export interface ImageSpec {
  readonly image: string;
  readonly annotations?: Record<string, string>;
  readonly userSpecifiedImage?: string;
  readonly runtimeHandler?: string;
}

// ---------- sandboxes ----------

export interface PodSandboxMetadata {
  readonly name: string;
  readonly uid: string;
  readonly namespace: string;
  readonly attempt?: number;
}

export interface DNSConfig {
  readonly servers?: readonly string[];
  readonly searches?: readonly string[];
  readonly options?: readonly string[];
}

export type NamespaceMode = "POD" | "CONTAINER" | "NODE" | "TARGET";

export interface NamespaceOption {
  readonly network?: NamespaceMode;
  readonly pid?: NamespaceMode;
  readonly ipc?: NamespaceMode;
  readonly targetId?: string;
}

export interface LinuxSandboxSecurityContext {
  readonly namespaceOptions?: NamespaceOption;
  readonly runAsUser?: { readonly value: number };
  readonly runAsGroup?: { readonly value: number };
  readonly readonlyRootfs?: boolean;
  readonly supplementalGroups?: readonly number[];
  readonly privileged?: boolean;
}

export interface LinuxPodSandboxConfig {
  readonly cgroupParent?: string;
  readonly securityContext?: LinuxSandboxSecurityContext;
  readonly sysctls?: Record<string, string>;
  readonly resources?: LinuxContainerResources;
  readonly overhead?: LinuxContainerResources;
}

export interface PodSandboxConfig {
  readonly metadata: PodSandboxMetadata;
  readonly hostname?: string;
  /** Directory (on the host) under which the kubelet asks containers' logs to be written. */
  readonly logDirectory?: string;
  readonly dnsConfig?: DNSConfig;
  readonly portMappings?: readonly PortMapping[];
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly linux?: LinuxPodSandboxConfig;
}

export type PodSandboxState = "SANDBOX_READY" | "SANDBOX_NOTREADY";

export interface PodSandbox {
  readonly id: string;
  readonly metadata: PodSandboxMetadata;
  readonly state: PodSandboxState;
  readonly createdAt: bigint;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly runtimeHandler: string;
}

export interface PodSandboxNetworkStatus {
  readonly ip: string;
  readonly additionalIps: readonly { readonly ip: string }[];
}

export interface PodSandboxStatus {
  readonly id: string;
  readonly metadata: PodSandboxMetadata;
  readonly state: PodSandboxState;
  readonly createdAt: bigint;
  readonly network: PodSandboxNetworkStatus;
  readonly linux: { readonly namespaces: { readonly options: NamespaceOption } };
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly runtimeHandler: string;
}

export interface PodSandboxFilter {
  readonly id?: string;
  readonly state?: { readonly state: PodSandboxState };
  readonly labelSelector?: Record<string, string>;
}

export interface RunPodSandboxRequest { readonly config: PodSandboxConfig; readonly runtimeHandler?: string }
export interface RunPodSandboxResponse { readonly podSandboxId: string }
export interface PodSandboxStatusResponse {
  readonly status: PodSandboxStatus;
  readonly info: Record<string, string>;
  readonly containersStatuses: readonly ContainerStatus[];
  readonly timestamp: bigint;
}

// ---------- containers ----------

export interface ContainerMetadata { readonly name: string; readonly attempt?: number }

export interface LinuxContainerResources {
  readonly cpuPeriod?: number;
  readonly cpuQuota?: number;
  readonly cpuShares?: number;
  readonly memoryLimitInBytes?: number;
  readonly oomScoreAdj?: number;
  readonly cpusetCpus?: string;
  readonly cpusetMems?: string;
  readonly memorySwapLimitInBytes?: number;
  readonly unified?: Record<string, string>;
}

export interface LinuxContainerSecurityContext {
  readonly capabilities?: { readonly addCapabilities?: readonly string[]; readonly dropCapabilities?: readonly string[] };
  readonly privileged?: boolean;
  readonly namespaceOptions?: NamespaceOption;
  readonly runAsUser?: { readonly value: number };
  readonly runAsGroup?: { readonly value: number };
  readonly runAsUsername?: string;
  readonly readonlyRootfs?: boolean;
  readonly supplementalGroups?: readonly number[];
  readonly noNewPrivs?: boolean;
}

export interface LinuxContainerConfig {
  readonly resources?: LinuxContainerResources;
  readonly securityContext?: LinuxContainerSecurityContext;
}

export interface Device { readonly containerPath: string; readonly hostPath: string; readonly permissions: string }

export interface ContainerConfig {
  readonly metadata: ContainerMetadata;
  readonly image: ImageSpec;
  /** The entrypoint (a pod's `command`); empty means the image's, which the process runtime does not have. */
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly workingDir?: string;
  readonly envs?: readonly KeyValue[];
  readonly mounts?: readonly Mount[];
  readonly devices?: readonly Device[];
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  /** Relative to the sandbox's `logDirectory`, e.g. `web/0.log`. */
  readonly logPath?: string;
  readonly stdin?: boolean;
  readonly stdinOnce?: boolean;
  readonly tty?: boolean;
  readonly linux?: LinuxContainerConfig;
}

export type ContainerState = "CONTAINER_CREATED" | "CONTAINER_RUNNING" | "CONTAINER_EXITED" | "CONTAINER_UNKNOWN";

export interface Container {
  readonly id: string;
  readonly podSandboxId: string;
  readonly metadata: ContainerMetadata;
  readonly image: ImageSpec;
  readonly imageRef: string;
  readonly state: ContainerState;
  readonly createdAt: bigint;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

export interface ContainerStatus {
  readonly id: string;
  readonly metadata: ContainerMetadata;
  readonly state: ContainerState;
  /** Nanoseconds since the Unix epoch; 0n when it has not happened. */
  readonly createdAt: bigint;
  readonly startedAt: bigint;
  readonly finishedAt: bigint;
  readonly exitCode: number;
  readonly image: ImageSpec;
  readonly imageRef: string;
  /** Brief CamelCase reason for the state (`Completed`, `Error`, `Unknown`). */
  readonly reason: string;
  readonly message: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly mounts: readonly Mount[];
  /** Absolute path of the container's log file on the host ("" when none was asked for). */
  readonly logPath: string;
  readonly resources?: { readonly linux?: LinuxContainerResources };
}

export interface ContainerFilter {
  readonly id?: string;
  readonly state?: { readonly state: ContainerState };
  readonly podSandboxId?: string;
  readonly labelSelector?: Record<string, string>;
}

export interface CreateContainerRequest {
  readonly podSandboxId: string;
  readonly config: ContainerConfig;
  readonly sandboxConfig: PodSandboxConfig;
}
export interface CreateContainerResponse { readonly containerId: string }
export interface ContainerStatusResponse { readonly status: ContainerStatus; readonly info: Record<string, string> }

// ---------- exec, attach, port-forward ----------

export interface ExecSyncRequest {
  readonly containerId: string;
  readonly cmd: readonly string[];
  /** Seconds; 0 means no timeout. */
  readonly timeout?: number;
}
export interface ExecSyncResponse { readonly stdout: Uint8Array; readonly stderr: Uint8Array; readonly exitCode: number }

export interface ExecRequest {
  readonly containerId: string;
  readonly cmd: readonly string[];
  readonly tty?: boolean;
  readonly stdin?: boolean;
  readonly stdout?: boolean;
  readonly stderr?: boolean;
}
export interface AttachRequest {
  readonly containerId: string;
  readonly stdin?: boolean;
  readonly tty?: boolean;
  readonly stdout?: boolean;
  readonly stderr?: boolean;
}
export interface PortForwardRequest { readonly podSandboxId: string; readonly port?: readonly number[] }

/** Terminal size, as the streaming protocol's resize channel carries it. */
export interface TerminalSize { readonly width: number; readonly height: number }

/**
 * An in-process exec or attach session. Streams that were not asked for are null. With `tty` the
 * process's stderr is merged into stdout (a terminal has one output), as upstream.
 */
export interface StreamSession {
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** Applies a terminal resize; a no-op where the runtime cannot. */
  resize(size: TerminalSize): void;
  /** Resolves with the exit code of the exec'd process (for attach: when the client should hang up). */
  readonly done: Promise<{ readonly exitCode: number }>;
  /** Ends the session: kills an exec'd process, detaches an attach. Idempotent. */
  close(): void;
}

/** In-process port forwarding: one connection to `port` of the sandbox per call. */
export interface PortForwarder {
  readonly ports: readonly number[];
  connect(port: number): Promise<Duplex>;
}

export interface ExecResponse { readonly url?: string; readonly stream?: StreamSession }
export interface AttachResponse { readonly url?: string; readonly stream?: StreamSession }
export interface PortForwardResponse { readonly url?: string; readonly forwarder?: PortForwarder }

// ---------- runtime status ----------

export interface VersionResponse {
  readonly version: string;
  readonly runtimeName: string;
  readonly runtimeVersion: string;
  readonly runtimeApiVersion: string;
}

export interface RuntimeCondition {
  readonly type: "RuntimeReady" | "NetworkReady" | string;
  readonly status: boolean;
  readonly reason: string;
  readonly message: string;
}
export interface StatusResponse {
  readonly status: { readonly conditions: readonly RuntimeCondition[] };
  readonly info: Record<string, string>;
}

// ---------- images ----------

export interface Image {
  readonly id: string;
  readonly repoTags: readonly string[];
  readonly repoDigests: readonly string[];
  /** Bytes; 0 for the process runtime, which stores no image content. */
  readonly size: number;
  readonly uid?: { readonly value: number };
  readonly username: string;
  readonly spec: ImageSpec;
  readonly pinned: boolean;
}

export interface AuthConfig {
  readonly username?: string;
  readonly password?: string;
  readonly auth?: string;
  readonly serverAddress?: string;
  readonly identityToken?: string;
  readonly registryToken?: string;
}

export interface PullImageRequest { readonly image: ImageSpec; readonly auth?: AuthConfig; readonly sandboxConfig?: PodSandboxConfig }
export interface PullImageResponse { readonly imageRef: string }
export interface ImageStatusResponse { readonly image: Image | null; readonly info: Record<string, string> }

export interface FilesystemUsage {
  readonly timestamp: bigint;
  readonly fsId: { readonly mountpoint: string };
  readonly usedBytes: { readonly value: number };
  readonly inodesUsed: { readonly value: number };
}
export interface ImageFsInfoResponse {
  readonly imageFilesystems: readonly FilesystemUsage[];
  readonly containerFilesystems: readonly FilesystemUsage[];
}

// ---------- the services ----------

/** runtime.v1.RuntimeService: the sandbox and container lifecycle. */
export interface RuntimeService {
  version(apiVersion: string): Promise<VersionResponse>;
  status(verbose?: boolean): Promise<StatusResponse>;

  runPodSandbox(req: RunPodSandboxRequest): Promise<RunPodSandboxResponse>;
  /** Stops every container of the sandbox; idempotent. */
  stopPodSandbox(podSandboxId: string): Promise<void>;
  /** Removes the sandbox and its containers (stopping them if they run); a missing id is not an error. */
  removePodSandbox(podSandboxId: string): Promise<void>;
  podSandboxStatus(podSandboxId: string, verbose?: boolean): Promise<PodSandboxStatusResponse>;
  listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]>;

  createContainer(req: CreateContainerRequest): Promise<CreateContainerResponse>;
  startContainer(containerId: string): Promise<void>;
  /** SIGTERM, then SIGKILL after `timeoutSeconds` (0: at once). Resolves when the container has exited. */
  stopContainer(containerId: string, timeoutSeconds: number): Promise<void>;
  /** Removes a container (killing it if it runs); a missing id is not an error. */
  removeContainer(containerId: string): Promise<void>;
  listContainers(filter?: ContainerFilter): Promise<Container[]>;
  containerStatus(containerId: string, verbose?: boolean): Promise<ContainerStatusResponse>;
  /** Closes and reopens the container's log file (after the kubelet renamed it to rotate it). */
  reopenContainerLog(containerId: string): Promise<void>;

  execSync(req: ExecSyncRequest): Promise<ExecSyncResponse>;
  exec(req: ExecRequest): Promise<ExecResponse>;
  attach(req: AttachRequest): Promise<AttachResponse>;
  portForward(req: PortForwardRequest): Promise<PortForwardResponse>;
}

/** runtime.v1.ImageService. */
export interface ImageService {
  listImages(filter?: { readonly image?: ImageSpec }): Promise<Image[]>;
  imageStatus(image: ImageSpec, verbose?: boolean): Promise<ImageStatusResponse>;
  pullImage(req: PullImageRequest): Promise<PullImageResponse>;
  /** A missing image is not an error (as upstream: RemoveImage is idempotent). */
  removeImage(image: ImageSpec): Promise<void>;
  imageFsInfo(): Promise<ImageFsInfoResponse>;
}

/** What the kubelet holds: both services, usually one object. */
export interface ContainerRuntime extends RuntimeService, ImageService {
  /** Stops background work and closes files; running containers keep running (state files stay). */
  close(): Promise<void>;
}
