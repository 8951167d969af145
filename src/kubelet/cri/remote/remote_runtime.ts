/**
 * The kubelet's CRI client: runtime.v1 RuntimeService and ImageService over gRPC to a runtime's unix socket
 * (containerd, CRI-O), as upstream's pkg/kubelet/cri/remote (remote_runtime.go, remote_image.go). It implements
 * the same interfaces as the built-in process runtime, so the kubelet does not care which one answers.
 *
 * Per call: a deadline (upstream's `--runtime-request-timeout`, 2 min; twice that for RunPodSandbox; the
 * container's grace period on top for StopContainer; the command's timeout on top for ExecSync; longer for
 * pulls), messages bounded to 16 MiB both ways (upstream's maxMsgSize), gRPC failures mapped to the typed
 * errors of ../errors.ts by grpc_errors.ts.
 */
import * as grpc from "@grpc/grpc-js";
import type {
  AttachRequest, AttachResponse, Container, ContainerConfig, ContainerFilter, ContainerRuntime, ContainerStatusResponse,
  CreateContainerRequest, CreateContainerResponse, ExecRequest, ExecResponse, ExecSyncRequest, ExecSyncResponse, Image,
  ImageFsInfoResponse, ImageService, ImageSpec, ImageStatusResponse, LinuxContainerResources, PodSandbox,
  PodSandboxFilter, PodSandboxStatusResponse, PortForwardRequest, PortForwardResponse, PullImageRequest,
  PullImageResponse, RunPodSandboxRequest, RunPodSandboxResponse, RuntimeService, StatusResponse, VersionResponse,
} from "../cri.js";
import { CriError, NotFoundError, ResourceExhaustedError } from "../errors.js";
import {
  containerFromWire, containerStatsFromWire, containerStatusResponseFromWire, execSyncFromWire, imageFromWire,
  imageFsInfoFromWire, imageStatusFromWire, podSandboxFromWire, podSandboxStatusResponseFromWire, statusFromWire,
  versionFromWire, type ContainerStats, type ContainerStatsFilter, type Wire,
} from "./convert.js";
import { loadCriProtos } from "./cri_proto.js";
import { parseRuntimeEndpoint, type RuntimeEndpoint } from "./endpoint.js";
import { criErrorFromGrpc, type CallContext } from "./grpc_errors.js";

/** Upstream kubelet's `--runtime-request-timeout` default: the deadline of every CRI call not named below. */
export const RUNTIME_REQUEST_TIMEOUT_MS = 2 * 60_000;
/**
 * Deadline of one PullImage. Upstream sets none and cancels a pull that makes no progress instead; a unary
 * call here cannot see progress, so the bound is a fixed 15 min (a 1 GiB image over 10 Mbit/s takes ~14 min).
 */
export const IMAGE_PULL_TIMEOUT_MS = 15 * 60_000;
/** Upstream's maxMsgSize for the CRI connection (pkg/kubelet/cri/remote/utils.go), both directions. */
export const CRI_MESSAGE_BYTES_MAX = 16 * 1024 * 1024;
/**
 * Calls in flight per connection. The kubelet's callers are bounded already (pod workers, probes); this catches
 * a caller that is not, before grpc-js queues without limit behind a hung runtime.
 */
export const CRI_CALLS_INFLIGHT_MAX = 1024;
/** The API version the kubelet asks Version with, as upstream's remote runtime client. */
export const KUBE_RUNTIME_API_VERSION = "0.1.0";

export interface RemoteRuntimeOptions {
  /** Default deadline per call (ms); upstream's --runtime-request-timeout. Default RUNTIME_REQUEST_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** Deadline of PullImage (ms). Default IMAGE_PULL_TIMEOUT_MS. */
  readonly pullTimeoutMs?: number;
  /** Calls in flight per service before new ones fail with ResourceExhaustedError. Default CRI_CALLS_INFLIGHT_MAX. */
  readonly inflightMax?: number;
}

/** gRPC channel options: upstream's message bounds, and no waiting out a 20 s reconnect backoff on a restarted runtime. */
function channelOptions(): grpc.ChannelOptions {
  return {
    "grpc.max_receive_message_length": CRI_MESSAGE_BYTES_MAX,
    "grpc.max_send_message_length": CRI_MESSAGE_BYTES_MAX,
    "grpc.initial_reconnect_backoff_ms": 100,
    "grpc.max_reconnect_backoff_ms": 3_000,
  };
}

type UnaryMethod = (request: Wire, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, res?: Wire) => void) => grpc.ClientUnaryCall;

/** One gRPC client with deadlines, error mapping and a closed flag: what both services share. */
class CriConnection {
  readonly #client: grpc.Client;
  readonly #service: string;
  readonly #inflightMax: number;
  #inflight = 0;
  #closed = false;

  constructor(endpoint: RuntimeEndpoint, ctor: grpc.ServiceClientConstructor, service: string, inflightMax: number) {
    this.#client = new ctor(endpoint.target, grpc.credentials.createInsecure(), channelOptions());
    this.#service = service;
    this.#inflightMax = inflightMax;
  }

  call(method: string, request: Wire, timeoutMs: number, ctx: Partial<CallContext> = {}): Promise<Wire> {
    if (this.#closed) {
      return Promise.reject(new CriError("Unknown", `Cannot call ${this.#service}/${method}: the CRI client is closed`));
    }
    const fn = (this.#client as unknown as Record<string, UnaryMethod | undefined>)[method];
    if (typeof fn !== "function") throw new Error(`CRI proto: method ${this.#service}/${method} not loaded`);
    if (this.#inflight >= this.#inflightMax) {
      return Promise.reject(new ResourceExhaustedError(`Cannot call ${this.#service}/${method}: ${this.#inflight} CRI calls in flight (limit ${this.#inflightMax})`));
    }
    const context: CallContext = { ...ctx, method };
    this.#inflight++;
    return new Promise<Wire>((resolve, reject) => {
      fn.call(this.#client, request, { deadline: Date.now() + timeoutMs }, (err, res) => {
        this.#inflight--;
        if (err !== null) reject(criErrorFromGrpc(err, context));
        else resolve(res ?? {});
      });
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.close();
  }
}

/** Treats NotFound as done: the calls the CRI (and cri.ts) define as idempotent for a missing id. */
async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (err instanceof NotFoundError) return;
    throw err;
  }
}

/**
 * KeyValue.value is `bytes` on the wire since cri-api let env values carry arbitrary bytes (k8s 01684ef); the
 * field keeps its number and wire type, so runtimes with the older `string` read the same UTF-8.
 */
function containerConfigToWire(config: ContainerConfig): Wire {
  if (config.envs === undefined) return config;
  return { ...config, envs: config.envs.map((e) => ({ key: e.key, value: Buffer.from(e.value, "utf8") })) };
}

function requireUrl(method: string, res: Wire): string {
  const url = typeof res.url === "string" ? res.url : "";
  // As upstream: a streaming answer without a URL is the runtime's bug, not something to hand to kubectl.
  if (url === "") throw new CriError("Unknown", `${method} returned an empty URL`);
  return url;
}

/** runtime.v1.RuntimeService over gRPC. */
export class RemoteRuntimeService implements RuntimeService {
  readonly endpoint: RuntimeEndpoint;
  readonly #conn: CriConnection;
  readonly #timeoutMs: number;

  constructor(endpoint: string, options: RemoteRuntimeOptions = {}) {
    this.endpoint = parseRuntimeEndpoint(endpoint);
    this.#conn = new CriConnection(this.endpoint, loadCriProtos().runtimeService, "runtime.v1.RuntimeService", options.inflightMax ?? CRI_CALLS_INFLIGHT_MAX);
    this.#timeoutMs = options.timeoutMs ?? RUNTIME_REQUEST_TIMEOUT_MS;
  }

  async version(apiVersion: string): Promise<VersionResponse> {
    return versionFromWire(await this.#conn.call("Version", { version: apiVersion }, this.#timeoutMs));
  }

  async status(verbose = false): Promise<StatusResponse> {
    return statusFromWire(await this.#conn.call("Status", { verbose }, this.#timeoutMs));
  }

  async runPodSandbox(req: RunPodSandboxRequest): Promise<RunPodSandboxResponse> {
    // Twice the default, as upstream: a sandbox sets up its network (CNI) as well as the pause container.
    const res = await this.#conn.call("RunPodSandbox", { config: req.config, runtimeHandler: req.runtimeHandler ?? "" }, this.#timeoutMs * 2);
    const podSandboxId = typeof res.podSandboxId === "string" ? res.podSandboxId : "";
    if (podSandboxId === "") throw new CriError("Unknown", `PodSandboxId is not set for sandbox ${JSON.stringify(req.config.metadata)}`);
    return { podSandboxId };
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    await ignoreNotFound(this.#conn.call("StopPodSandbox", { podSandboxId }, this.#timeoutMs, { subject: { kind: "sandbox", id: podSandboxId } }));
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    await ignoreNotFound(this.#conn.call("RemovePodSandbox", { podSandboxId }, this.#timeoutMs, { subject: { kind: "sandbox", id: podSandboxId } }));
  }

  async podSandboxStatus(podSandboxId: string, verbose = false): Promise<PodSandboxStatusResponse> {
    const res = await this.#conn.call("PodSandboxStatus", { podSandboxId, verbose }, this.#timeoutMs, { subject: { kind: "sandbox", id: podSandboxId } });
    return podSandboxStatusResponseFromWire(res);
  }

  async listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]> {
    const res = await this.#conn.call("ListPodSandbox", filter === undefined ? {} : { filter }, this.#timeoutMs);
    return (Array.isArray(res.items) ? res.items as Wire[] : []).map(podSandboxFromWire);
  }

  async createContainer(req: CreateContainerRequest): Promise<CreateContainerResponse> {
    const res = await this.#conn.call("CreateContainer", { podSandboxId: req.podSandboxId, config: containerConfigToWire(req.config), sandboxConfig: req.sandboxConfig },
      this.#timeoutMs, { subject: { kind: "sandbox", id: req.podSandboxId } });
    const containerId = typeof res.containerId === "string" ? res.containerId : "";
    if (containerId === "") throw new CriError("Unknown", `ContainerId is not set for container ${JSON.stringify(req.config.metadata)}`);
    return { containerId };
  }

  async startContainer(containerId: string): Promise<void> {
    await this.#conn.call("StartContainer", { containerId }, this.#timeoutMs, { subject: { kind: "container", id: containerId } });
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    // The runtime waits out the grace period before it answers: the deadline is on top of it, as upstream.
    await this.#conn.call("StopContainer", { containerId, timeout: timeoutSeconds }, this.#timeoutMs + Math.max(0, timeoutSeconds) * 1000,
      { subject: { kind: "container", id: containerId } });
  }

  async removeContainer(containerId: string): Promise<void> {
    await ignoreNotFound(this.#conn.call("RemoveContainer", { containerId }, this.#timeoutMs, { subject: { kind: "container", id: containerId } }));
  }

  async listContainers(filter?: ContainerFilter): Promise<Container[]> {
    const res = await this.#conn.call("ListContainers", filter === undefined ? {} : { filter }, this.#timeoutMs);
    return (Array.isArray(res.containers) ? res.containers as Wire[] : []).map(containerFromWire);
  }

  async containerStatus(containerId: string, verbose = false): Promise<ContainerStatusResponse> {
    const res = await this.#conn.call("ContainerStatus", { containerId, verbose }, this.#timeoutMs, { subject: { kind: "container", id: containerId } });
    return containerStatusResponseFromWire(res);
  }

  async reopenContainerLog(containerId: string): Promise<void> {
    await this.#conn.call("ReopenContainerLog", { containerId }, this.#timeoutMs, { subject: { kind: "container", id: containerId } });
  }

  async updateContainerResources(containerId: string, resources: { readonly linux?: LinuxContainerResources; readonly annotations?: Record<string, string> }): Promise<void> {
    await this.#conn.call("UpdateContainerResources", { containerId, linux: resources.linux ?? null, annotations: resources.annotations ?? {} },
      this.#timeoutMs, { subject: { kind: "container", id: containerId } });
  }

  async execSync(req: ExecSyncRequest): Promise<ExecSyncResponse> {
    const timeoutSeconds = req.timeout ?? 0;
    // The runtime enforces the command's timeout; the deadline leaves it the default on top to clean up, as
    // upstream. Upstream sets no deadline for timeout 0; here the default bounds it (probes always set one).
    const deadlineMs = this.#timeoutMs + Math.max(0, timeoutSeconds) * 1000;
    const res = await this.#conn.call("ExecSync", { containerId: req.containerId, cmd: [...req.cmd], timeout: timeoutSeconds }, deadlineMs,
      { subject: { kind: "container", id: req.containerId }, cmd: req.cmd, timeoutSeconds });
    return execSyncFromWire(res);
  }

  async exec(req: ExecRequest): Promise<ExecResponse> {
    const res = await this.#conn.call("Exec", {
      containerId: req.containerId, cmd: [...req.cmd], tty: req.tty === true, stdin: req.stdin === true,
      stdout: req.stdout === true, stderr: req.stderr === true,
    }, this.#timeoutMs, { subject: { kind: "container", id: req.containerId } });
    return { url: requireUrl("Exec", res) };
  }

  async attach(req: AttachRequest): Promise<AttachResponse> {
    const res = await this.#conn.call("Attach", {
      containerId: req.containerId, stdin: req.stdin === true, tty: req.tty === true, stdout: req.stdout === true, stderr: req.stderr === true,
    }, this.#timeoutMs, { subject: { kind: "container", id: req.containerId } });
    return { url: requireUrl("Attach", res) };
  }

  async portForward(req: PortForwardRequest): Promise<PortForwardResponse> {
    const res = await this.#conn.call("PortForward", { podSandboxId: req.podSandboxId, port: [...(req.port ?? [])] },
      this.#timeoutMs, { subject: { kind: "sandbox", id: req.podSandboxId } });
    return { url: requireUrl("PortForward", res) };
  }

  async containerStats(containerId: string): Promise<ContainerStats> {
    const res = await this.#conn.call("ContainerStats", { containerId }, this.#timeoutMs, { subject: { kind: "container", id: containerId } });
    return containerStatsFromWire(res.stats ?? {});
  }

  async listContainerStats(filter?: ContainerStatsFilter): Promise<ContainerStats[]> {
    const res = await this.#conn.call("ListContainerStats", filter === undefined ? {} : { filter }, this.#timeoutMs);
    return (Array.isArray(res.stats) ? res.stats as Wire[] : []).map(containerStatsFromWire);
  }

  close(): void {
    this.#conn.close();
  }
}

/** runtime.v1.ImageService over gRPC (upstream's `--image-service-endpoint` defaults to the runtime's). */
export class RemoteImageService implements ImageService {
  readonly endpoint: RuntimeEndpoint;
  readonly #conn: CriConnection;
  readonly #timeoutMs: number;
  readonly #pullTimeoutMs: number;

  constructor(endpoint: string, options: RemoteRuntimeOptions = {}) {
    this.endpoint = parseRuntimeEndpoint(endpoint);
    this.#conn = new CriConnection(this.endpoint, loadCriProtos().imageService, "runtime.v1.ImageService", options.inflightMax ?? CRI_CALLS_INFLIGHT_MAX);
    this.#timeoutMs = options.timeoutMs ?? RUNTIME_REQUEST_TIMEOUT_MS;
    this.#pullTimeoutMs = options.pullTimeoutMs ?? IMAGE_PULL_TIMEOUT_MS;
  }

  async listImages(filter?: { readonly image?: ImageSpec }): Promise<Image[]> {
    const res = await this.#conn.call("ListImages", filter === undefined ? {} : { filter }, this.#timeoutMs);
    return (Array.isArray(res.images) ? res.images as Wire[] : []).map(imageFromWire);
  }

  async imageStatus(image: ImageSpec, verbose = false): Promise<ImageStatusResponse> {
    const res = await this.#conn.call("ImageStatus", { image, verbose }, this.#timeoutMs, { subject: { kind: "image", id: image.image } });
    return imageStatusFromWire(res);
  }

  async pullImage(req: PullImageRequest): Promise<PullImageResponse> {
    const res = await this.#conn.call("PullImage", { image: req.image, auth: req.auth ?? null, sandboxConfig: req.sandboxConfig ?? null },
      this.#pullTimeoutMs, { subject: { kind: "image", id: req.image.image } });
    const imageRef = typeof res.imageRef === "string" ? res.imageRef : "";
    if (imageRef === "") throw new CriError("Unknown", `imageRef of image "${req.image.image}" is not set`);
    return { imageRef };
  }

  async removeImage(image: ImageSpec): Promise<void> {
    await ignoreNotFound(this.#conn.call("RemoveImage", { image }, this.#timeoutMs, { subject: { kind: "image", id: image.image } }));
  }

  async imageFsInfo(): Promise<ImageFsInfoResponse> {
    return imageFsInfoFromWire(await this.#conn.call("ImageFsInfo", {}, this.#timeoutMs));
  }

  close(): void {
    this.#conn.close();
  }
}

/**
 * Both services behind one object, the `ContainerRuntime` the kubelet holds. `imageEndpoint` defaults to the
 * runtime's endpoint, as upstream's `--image-service-endpoint`.
 */
export class RemoteContainerRuntime extends RemoteRuntimeService implements ContainerRuntime {
  readonly images: RemoteImageService;

  constructor(endpoint: string, options: RemoteRuntimeOptions & { readonly imageEndpoint?: string } = {}) {
    super(endpoint, options);
    this.images = new RemoteImageService(options.imageEndpoint ?? endpoint, options);
  }

  listImages(filter?: { readonly image?: ImageSpec }): Promise<Image[]> { return this.images.listImages(filter); }
  imageStatus(image: ImageSpec, verbose?: boolean): Promise<ImageStatusResponse> { return this.images.imageStatus(image, verbose); }
  pullImage(req: PullImageRequest): Promise<PullImageResponse> { return this.images.pullImage(req); }
  removeImage(image: ImageSpec): Promise<void> { return this.images.removeImage(image); }
  imageFsInfo(): Promise<ImageFsInfoResponse> { return this.images.imageFsInfo(); }

  /** Closes the gRPC connections; the runtime's containers keep running (they are containerd's). */
  override close(): Promise<void> {
    super.close();
    this.images.close();
    return Promise.resolve();
  }
}
