/**
 * The kubelet's view of one pod in the runtime (upstream's kubecontainer.PodStatus): its sandboxes and
 * containers, found through the labels the kubelet put on them, newest first. Built from CRI calls by
 * `readRuntimePods`; read by the pure sync (pod_sync.ts) and status (pod_status.ts) code.
 */
import type { ContainerState, PodSandboxState, RuntimeService } from "./cri/cri.js";

/** Labels and annotations as upstream's kubelet types/labels.go names them. */
export const POD_NAME_LABEL = "io.kubernetes.pod.name";
export const POD_NAMESPACE_LABEL = "io.kubernetes.pod.namespace";
export const POD_UID_LABEL = "io.kubernetes.pod.uid";
export const CONTAINER_NAME_LABEL = "io.kubernetes.container.name";
export const RESTART_COUNT_ANNOTATION = "io.kubernetes.container.restartCount";
export const CONTAINER_HASH_ANNOTATION = "io.kubernetes.container.hash";
/** The runtime name in container IDs shown on pod status (`tk8s://<id>`), as `containerd://…` upstream. */
export const CONTAINER_ID_SCHEME = "tk8s";

export interface RuntimeSandbox {
  readonly id: string;
  readonly state: PodSandboxState;
  readonly attempt: number;
  readonly createdAtNs: bigint;
  readonly ip: string;
}

export interface RuntimeContainer {
  readonly id: string;
  readonly name: string;
  readonly sandboxId: string;
  /** The restart count this instance was created with. */
  readonly restartCount: number;
  readonly hash: string;
  readonly state: ContainerState;
  readonly createdAtNs: bigint;
  readonly startedAtNs: bigint;
  readonly finishedAtNs: bigint;
  readonly exitCode: number;
  readonly reason: string;
  readonly message: string;
  readonly image: string;
  readonly imageRef: string;
  readonly logPath: string;
}

export interface RuntimePod {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  /** Newest first. */
  readonly sandboxes: readonly RuntimeSandbox[];
  /** Newest first (by creation). */
  readonly containers: readonly RuntimeContainer[];
}

export function emptyRuntimePod(uid: string, namespace = "", name = ""): RuntimePod {
  return { uid, name, namespace, sandboxes: [], containers: [] };
}

/** The newest instance of a container by name, if any. */
export function latestContainer(rp: RuntimePod, name: string): RuntimeContainer | undefined {
  return rp.containers.find((c) => c.name === name);
}

/** The instance before the newest (for lastState and `logs --previous`). */
export function previousContainer(rp: RuntimePod, name: string): RuntimeContainer | undefined {
  return rp.containers.filter((c) => c.name === name)[1];
}

function byNewest<T extends { createdAtNs: bigint; id: string }>(a: T, b: T): number {
  return a.createdAtNs > b.createdAtNs ? -1 : a.createdAtNs < b.createdAtNs ? 1 : b.id.localeCompare(a.id);
}

/** Every pod the runtime holds that the kubelet made, by pod uid (one List of each kind, then a status per container). */
export async function readRuntimePods(runtime: RuntimeService, podUid?: string): Promise<Map<string, RuntimePod>> {
  const labelSelector = podUid === undefined ? undefined : { [POD_UID_LABEL]: podUid };
  const out = new Map<string, { uid: string; name: string; namespace: string; sandboxes: RuntimeSandbox[]; containers: RuntimeContainer[] }>();
  const entry = (uid: string, labels: Record<string, string>) => {
    let e = out.get(uid);
    if (e === undefined) {
      e = { uid, name: labels[POD_NAME_LABEL] ?? "", namespace: labels[POD_NAMESPACE_LABEL] ?? "", sandboxes: [], containers: [] };
      out.set(uid, e);
    }
    return e;
  };
  for (const s of await runtime.listPodSandbox(labelSelector === undefined ? undefined : { labelSelector })) {
    const uid = s.labels[POD_UID_LABEL];
    if (uid === undefined) continue; // not ours
    let ip = "";
    try {
      ip = (await runtime.podSandboxStatus(s.id)).status.network.ip;
    } catch {
      continue; // removed between list and status
    }
    entry(uid, s.labels).sandboxes.push({ id: s.id, state: s.state, attempt: s.metadata.attempt ?? 0, createdAtNs: s.createdAt, ip });
  }
  for (const c of await runtime.listContainers(labelSelector === undefined ? undefined : { labelSelector })) {
    const uid = c.labels[POD_UID_LABEL];
    if (uid === undefined) continue;
    let st;
    try {
      st = (await runtime.containerStatus(c.id)).status;
    } catch {
      continue;
    }
    entry(uid, c.labels).containers.push({
      id: c.id,
      name: c.labels[CONTAINER_NAME_LABEL] ?? c.metadata.name,
      sandboxId: c.podSandboxId,
      restartCount: Number(st.annotations[RESTART_COUNT_ANNOTATION] ?? c.metadata.attempt ?? 0) || 0,
      hash: st.annotations[CONTAINER_HASH_ANNOTATION] ?? "",
      state: st.state,
      createdAtNs: st.createdAt,
      startedAtNs: st.startedAt,
      finishedAtNs: st.finishedAt,
      exitCode: st.exitCode,
      reason: st.reason,
      message: st.message,
      image: st.image.userSpecifiedImage || st.image.image,
      imageRef: st.imageRef,
      logPath: st.logPath,
    });
  }
  const result = new Map<string, RuntimePod>();
  for (const [uid, e] of out) {
    e.sandboxes.sort(byNewest);
    e.containers.sort(byNewest);
    result.set(uid, e);
  }
  return result;
}

/** The runtime's view of one pod (empty when it has nothing of it). */
export async function readRuntimePod(runtime: RuntimeService, uid: string, namespace = "", name = ""): Promise<RuntimePod> {
  return (await readRuntimePods(runtime, uid)).get(uid) ?? emptyRuntimePod(uid, namespace, name);
}
