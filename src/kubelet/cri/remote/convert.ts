/**
 * Decoded runtime.v1 responses → the types of ../cri.ts. proto-loader (CRI_PROTO_LOADER_OPTIONS) already gives
 * camelCase names and enum names; what changes here: int64 nanosecond timestamps (decimal strings) → bigint,
 * int64/uint64 sizes and limits → number (bytes fit a double up to 8 PiB), wrappers (`Int64Value`) kept as
 * `{ value }`, absent messages → the empty value cri.ts expects. Requests need no conversion: protobufjs's
 * fromObject accepts cri.ts's objects as they are (numbers for int64, enum names, plain objects for maps).
 *
 * Every reader picks the fields it knows, so a newer runtime's extra fields never leak into the kubelet.
 */
import type {
  Container, ContainerMetadata, ContainerStatus, ContainerStatusResponse, FilesystemUsage, Image, ImageFsInfoResponse,
  ImageSpec, ImageStatusResponse, LinuxContainerResources, Mount, MountPropagation, NamespaceMode, NamespaceOption,
  PodSandbox, PodSandboxMetadata, PodSandboxStatus, PodSandboxStatusResponse, StatusResponse, VersionResponse,
  ExecSyncResponse,
} from "../cri.js";

/** A message as proto-loader decoded it (shape per api.proto); only the readers below look inside. */
export type Wire = Record<string, any>;

/** An int64 as decoded (`longs: String`) → bigint; absent → 0n. */
export function int64ToBigInt(v: unknown): bigint {
  if (v === null || v === undefined || v === "") return 0n;
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return BigInt(Math.trunc(v));
  if (typeof v === "string" && /^-?\d+$/.test(v)) return BigInt(v);
  throw new TypeError(`Cannot read int64: current value is ${JSON.stringify(v)}`);
}

/** An int64/uint64 that counts bytes, shares or ids → number; absent → 0. Beyond 2^53 it is rounded (never seen for these). */
export function int64ToNumber(v: unknown): number {
  if (v === null || v === undefined || v === "") return 0;
  if (typeof v === "number") return v;
  if (typeof v === "string" && /^-?\d+$/.test(v)) return Number(v);
  if (typeof v === "bigint") return Number(v);
  throw new TypeError(`Cannot read int64: current value is ${JSON.stringify(v)}`);
}

function stringMap(v: unknown): Record<string, string> {
  if (v === null || v === undefined) return {};
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) out[k] = String(val);
  return out;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

export function imageSpecFromWire(w: Wire | null | undefined): ImageSpec {
  if (w === null || w === undefined) return { image: "" };
  const spec: { image: string; annotations?: Record<string, string>; userSpecifiedImage?: string; runtimeHandler?: string } = { image: str(w.image) };
  const annotations = stringMap(w.annotations);
  if (Object.keys(annotations).length > 0) spec.annotations = annotations;
  if (str(w.userSpecifiedImage) !== "") spec.userSpecifiedImage = w.userSpecifiedImage;
  if (str(w.runtimeHandler) !== "") spec.runtimeHandler = w.runtimeHandler;
  return spec;
}

function sandboxMetadataFromWire(w: Wire | null | undefined): PodSandboxMetadata {
  return { name: str(w?.name), uid: str(w?.uid), namespace: str(w?.namespace), attempt: Number(w?.attempt ?? 0) };
}

function containerMetadataFromWire(w: Wire | null | undefined): ContainerMetadata {
  return { name: str(w?.name), attempt: Number(w?.attempt ?? 0) };
}

function namespaceOptionFromWire(w: Wire | null | undefined): NamespaceOption {
  const mode = (v: unknown): NamespaceMode => (typeof v === "string" && v !== "" ? v as NamespaceMode : "POD");
  const out: { network: NamespaceMode; pid: NamespaceMode; ipc: NamespaceMode; targetId?: string } = {
    network: mode(w?.network), pid: mode(w?.pid), ipc: mode(w?.ipc),
  };
  if (str(w?.targetId) !== "") out.targetId = w!.targetId;
  return out;
}

function mountFromWire(w: Wire): Mount {
  return {
    containerPath: str(w.containerPath), hostPath: str(w.hostPath), readonly: w.readonly === true,
    selinuxRelabel: w.selinuxRelabel === true, propagation: (str(w.propagation) || "PROPAGATION_PRIVATE") as MountPropagation,
  };
}

export function linuxResourcesFromWire(w: Wire | null | undefined): LinuxContainerResources | undefined {
  if (w === null || w === undefined) return undefined;
  const out: {
    cpuPeriod: number; cpuQuota: number; cpuShares: number; memoryLimitInBytes: number; oomScoreAdj: number;
    cpusetCpus: string; cpusetMems: string; memorySwapLimitInBytes: number; unified?: Record<string, string>;
  } = {
    cpuPeriod: int64ToNumber(w.cpuPeriod), cpuQuota: int64ToNumber(w.cpuQuota), cpuShares: int64ToNumber(w.cpuShares),
    memoryLimitInBytes: int64ToNumber(w.memoryLimitInBytes), oomScoreAdj: int64ToNumber(w.oomScoreAdj),
    cpusetCpus: str(w.cpusetCpus), cpusetMems: str(w.cpusetMems), memorySwapLimitInBytes: int64ToNumber(w.memorySwapLimitInBytes),
  };
  const unified = stringMap(w.unified);
  if (Object.keys(unified).length > 0) out.unified = unified;
  return out;
}

export function versionFromWire(w: Wire): VersionResponse {
  return { version: str(w.version), runtimeName: str(w.runtimeName), runtimeVersion: str(w.runtimeVersion), runtimeApiVersion: str(w.runtimeApiVersion) };
}

export function statusFromWire(w: Wire): StatusResponse {
  const conditions = Array.isArray(w.status?.conditions) ? w.status.conditions as Wire[] : [];
  return {
    status: { conditions: conditions.map((c) => ({ type: str(c.type), status: c.status === true, reason: str(c.reason), message: str(c.message) })) },
    info: stringMap(w.info),
  };
}

export function podSandboxFromWire(w: Wire): PodSandbox {
  return {
    id: str(w.id), metadata: sandboxMetadataFromWire(w.metadata), state: (str(w.state) || "SANDBOX_NOTREADY") as PodSandbox["state"],
    createdAt: int64ToBigInt(w.createdAt), labels: stringMap(w.labels), annotations: stringMap(w.annotations),
    runtimeHandler: str(w.runtimeHandler),
  };
}

export function podSandboxStatusFromWire(w: Wire): PodSandboxStatus {
  const additional = Array.isArray(w.network?.additionalIps) ? w.network.additionalIps as Wire[] : [];
  return {
    id: str(w.id), metadata: sandboxMetadataFromWire(w.metadata), state: (str(w.state) || "SANDBOX_NOTREADY") as PodSandboxStatus["state"],
    createdAt: int64ToBigInt(w.createdAt),
    network: { ip: str(w.network?.ip), additionalIps: additional.map((a) => ({ ip: str(a.ip) })) },
    linux: { namespaces: { options: namespaceOptionFromWire(w.linux?.namespaces?.options) } },
    labels: stringMap(w.labels), annotations: stringMap(w.annotations), runtimeHandler: str(w.runtimeHandler),
  };
}

export function podSandboxStatusResponseFromWire(w: Wire): PodSandboxStatusResponse {
  const statuses = Array.isArray(w.containersStatuses) ? w.containersStatuses as Wire[] : [];
  return {
    status: podSandboxStatusFromWire(w.status ?? {}), info: stringMap(w.info),
    containersStatuses: statuses.map(containerStatusFromWire), timestamp: int64ToBigInt(w.timestamp),
  };
}

export function containerFromWire(w: Wire): Container {
  return {
    id: str(w.id), podSandboxId: str(w.podSandboxId), metadata: containerMetadataFromWire(w.metadata),
    image: imageSpecFromWire(w.image), imageRef: str(w.imageRef) || str(w.imageId),
    state: (str(w.state) || "CONTAINER_UNKNOWN") as Container["state"], createdAt: int64ToBigInt(w.createdAt),
    labels: stringMap(w.labels), annotations: stringMap(w.annotations),
  };
}

export function containerStatusFromWire(w: Wire): ContainerStatus {
  const linux = linuxResourcesFromWire(w.resources?.linux);
  const mounts = Array.isArray(w.mounts) ? w.mounts as Wire[] : [];
  const status: ContainerStatus = {
    id: str(w.id), metadata: containerMetadataFromWire(w.metadata),
    state: (str(w.state) || "CONTAINER_UNKNOWN") as ContainerStatus["state"],
    createdAt: int64ToBigInt(w.createdAt), startedAt: int64ToBigInt(w.startedAt), finishedAt: int64ToBigInt(w.finishedAt),
    exitCode: Number(w.exitCode ?? 0), image: imageSpecFromWire(w.image), imageRef: str(w.imageRef) || str(w.imageId),
    reason: str(w.reason), message: str(w.message), labels: stringMap(w.labels), annotations: stringMap(w.annotations),
    mounts: mounts.map(mountFromWire), logPath: str(w.logPath),
    ...(linux === undefined ? {} : { resources: { linux } }),
  };
  return status;
}

export function containerStatusResponseFromWire(w: Wire): ContainerStatusResponse {
  return { status: containerStatusFromWire(w.status ?? {}), info: stringMap(w.info) };
}

export function execSyncFromWire(w: Wire): ExecSyncResponse {
  const bytes = (v: unknown): Uint8Array => (v instanceof Uint8Array ? v : new Uint8Array(0));
  return { stdout: bytes(w.stdout), stderr: bytes(w.stderr), exitCode: Number(w.exitCode ?? 0) };
}

export function imageFromWire(w: Wire): Image {
  const image: Image = {
    id: str(w.id), repoTags: strings(w.repoTags), repoDigests: strings(w.repoDigests), size: int64ToNumber(w.size),
    username: str(w.username), spec: imageSpecFromWire(w.spec), pinned: w.pinned === true,
    ...(w.uid === null || w.uid === undefined ? {} : { uid: { value: int64ToNumber(w.uid.value) } }),
  };
  return image;
}

export function imageStatusFromWire(w: Wire): ImageStatusResponse {
  // An absent image is how the CRI says "not present" (ImageStatus is not a NotFound error).
  const present = w.image !== null && w.image !== undefined && str(w.image.id) !== "";
  return { image: present ? imageFromWire(w.image) : null, info: stringMap(w.info) };
}

export function filesystemUsageFromWire(w: Wire): FilesystemUsage {
  return {
    timestamp: int64ToBigInt(w.timestamp), fsId: { mountpoint: str(w.fsId?.mountpoint) },
    usedBytes: { value: int64ToNumber(w.usedBytes?.value) }, inodesUsed: { value: int64ToNumber(w.inodesUsed?.value) },
  };
}

export function imageFsInfoFromWire(w: Wire): ImageFsInfoResponse {
  const list = (v: unknown): FilesystemUsage[] => (Array.isArray(v) ? (v as Wire[]).map(filesystemUsageFromWire) : []);
  return { imageFilesystems: list(w.imageFilesystems), containerFilesystems: list(w.containerFilesystems) };
}

// ---------- stats: not in cri.ts's RuntimeService (the kubelet's summary API will read them) ----------

/** A uint64 gauge or counter; null when the runtime did not report it (as upstream's `*UInt64Value`). */
export type UInt64Value = { readonly value: number } | null;

/** runtime.v1.ContainerStats (Linux fields). */
export interface ContainerStats {
  readonly attributes: { readonly id: string; readonly metadata: ContainerMetadata; readonly labels: Record<string, string>; readonly annotations: Record<string, string> };
  readonly cpu: { readonly timestamp: bigint; readonly usageCoreNanoSeconds: UInt64Value; readonly usageNanoCores: UInt64Value } | null;
  readonly memory: {
    readonly timestamp: bigint; readonly workingSetBytes: UInt64Value; readonly availableBytes: UInt64Value; readonly usageBytes: UInt64Value;
    readonly rssBytes: UInt64Value; readonly pageFaults: UInt64Value; readonly majorPageFaults: UInt64Value;
  } | null;
  readonly writableLayer: FilesystemUsage | null;
}

/** ListContainerStats' filter (all fields ANDed). */
export interface ContainerStatsFilter {
  readonly id?: string;
  readonly podSandboxId?: string;
  readonly labelSelector?: Record<string, string>;
}

function uint64Value(w: Wire | null | undefined): UInt64Value {
  return w === null || w === undefined ? null : { value: int64ToNumber(w.value) };
}

export function containerStatsFromWire(w: Wire): ContainerStats {
  const a = w.attributes ?? {};
  return {
    attributes: { id: str(a.id), metadata: containerMetadataFromWire(a.metadata), labels: stringMap(a.labels), annotations: stringMap(a.annotations) },
    cpu: w.cpu === null || w.cpu === undefined ? null : {
      timestamp: int64ToBigInt(w.cpu.timestamp), usageCoreNanoSeconds: uint64Value(w.cpu.usageCoreNanoSeconds), usageNanoCores: uint64Value(w.cpu.usageNanoCores),
    },
    memory: w.memory === null || w.memory === undefined ? null : {
      timestamp: int64ToBigInt(w.memory.timestamp), workingSetBytes: uint64Value(w.memory.workingSetBytes),
      availableBytes: uint64Value(w.memory.availableBytes), usageBytes: uint64Value(w.memory.usageBytes),
      rssBytes: uint64Value(w.memory.rssBytes), pageFaults: uint64Value(w.memory.pageFaults), majorPageFaults: uint64Value(w.memory.majorPageFaults),
    },
    writableLayer: w.writableLayer === null || w.writableLayer === undefined ? null : filesystemUsageFromWire(w.writableLayer),
  };
}
