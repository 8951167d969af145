/**
 * The files of configMap, secret, downwardAPI and projected volumes (upstream's MakePayload and
 * CollectData of each plugin): what the atomic writer writes, computed from the API objects without IO.
 */
import type { ConfigMap, DownwardAPIVolumeFile, KeyToPath, ObjectFieldSelector, Pod, Secret } from "kubernetes-types/core/v1.js";
import type { FileProjection } from "./atomic_writer.js";

export const DEFAULT_MODE = 0o644;

/** A payload the pod's spec cannot be satisfied with (missing object or key); shown on a FailedMount event. */
export class PayloadError extends Error {
  override readonly name = "PayloadError";
}

type Payload = Map<string, FileProjection>;

function fromKeys(kind: "configmap" | "secret", data: ReadonlyMap<string, Uint8Array>, items: readonly KeyToPath[] | undefined, defaultMode: number, optional: boolean): Payload {
  const out: Payload = new Map();
  if (items === undefined || items.length === 0) {
    for (const [k, v] of data) out.set(k, { data: v, mode: defaultMode });
    return out;
  }
  for (const it of items) {
    const v = data.get(it.key);
    if (v === undefined) {
      if (optional) continue;
      throw new PayloadError(`${kind} references non-existent ${kind === "configmap" ? "config" : "secret"} key: ${it.key}`);
    }
    out.set(it.path, { data: v, mode: it.mode ?? defaultMode });
  }
  return out;
}

export function configMapData(cm: ConfigMap): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>();
  for (const [k, v] of Object.entries(cm.data ?? {})) m.set(k, Buffer.from(v, "utf8"));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) m.set(k, Buffer.from(v, "base64"));
  return m;
}

export function secretData(s: Secret): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>();
  for (const [k, v] of Object.entries(s.data ?? {})) m.set(k, Buffer.from(v, "base64"));
  for (const [k, v] of Object.entries(s.stringData ?? {})) m.set(k, Buffer.from(v, "utf8"));
  return m;
}

/** A configMap volume's files; `cm` null means the ConfigMap does not exist. */
export function configMapPayload(name: string, cm: ConfigMap | null, o: { items?: readonly KeyToPath[]; defaultMode?: number; optional?: boolean }): Payload {
  if (cm === null) {
    if (o.optional === true) return new Map();
    throw new PayloadError(`configmap "${name}" not found`);
  }
  return fromKeys("configmap", configMapData(cm), o.items, o.defaultMode ?? DEFAULT_MODE, o.optional === true);
}

export function secretPayload(name: string, s: Secret | null, o: { items?: readonly KeyToPath[]; defaultMode?: number; optional?: boolean }): Payload {
  if (s === null) {
    if (o.optional === true) return new Map();
    throw new PayloadError(`secret "${name}" not found`);
  }
  return fromKeys("secret", secretData(s), o.items, o.defaultMode ?? DEFAULT_MODE, o.optional === true);
}

/** `key="value"` lines, sorted, as upstream's FormatMap (values %q-quoted). */
export function formatMap(m: Readonly<Record<string, string>> | undefined): string {
  return Object.keys(m ?? {}).sort().map((k) => `${k}=${JSON.stringify(m![k])}`).join("\n");
}

/** The value of a downward API fieldRef (volumes and env share it). */
export function podFieldValue(pod: Pod, ref: ObjectFieldSelector): string {
  const p = ref.fieldPath;
  const meta = pod.metadata ?? {};
  const sub = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(p);
  if (sub !== null) return (sub[1] === "labels" ? meta.labels : meta.annotations)?.[sub[2]!] ?? "";
  switch (p) {
    case "metadata.name": return meta.name ?? "";
    case "metadata.namespace": return meta.namespace ?? "";
    case "metadata.uid": return meta.uid ?? "";
    case "metadata.labels": return formatMap(meta.labels);
    case "metadata.annotations": return formatMap(meta.annotations);
    case "spec.nodeName": return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName": return pod.spec?.serviceAccountName ?? "";
    case "status.hostIP": return pod.status?.hostIP ?? "";
    case "status.hostIPs": return (pod.status?.hostIPs ?? []).map((i) => i.ip).join(",");
    case "status.podIP": return pod.status?.podIP ?? "";
    case "status.podIPs": return (pod.status?.podIPs ?? []).map((i) => i.ip).join(",");
    default: throw new PayloadError(`unsupported fieldPath: ${p}`);
  }
}

/** A container resource (limits.cpu, requests.memory, …) divided by its divisor, as upstream rounds it up. */
export function resourceFieldValue(pod: Pod, ref: { containerName?: string; resource: string; divisor?: string }, nodeAllocatable: Readonly<Record<string, string>>): string {
  const c = (pod.spec?.containers ?? []).find((x) => x.name === ref.containerName) ?? pod.spec?.containers?.[0];
  const [kind, res] = ref.resource.split(".") as ["limits" | "requests", string];
  const q = (kind === "limits" ? c?.resources?.limits : c?.resources?.requests)?.[res] ?? (kind === "limits" ? nodeAllocatable[res] : undefined) ?? "0";
  const value = parseQuantity(String(q));
  const divisor = parseQuantity(ref.divisor ?? "1");
  return String(Math.ceil(value / (divisor === 0 ? 1 : divisor)));
}

const SUFFIX: Record<string, number> = { "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6 };

/** A resource.Quantity as a number (precision is enough for files and env values). */
export function parseQuantity(q: string): number {
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(q.trim());
  if (m === null || SUFFIX[m[2]!] === undefined) throw new PayloadError(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': ${q}`);
  return Number(m[1]) * SUFFIX[m[2]!]!;
}

export function downwardAPIPayload(pod: Pod, items: readonly DownwardAPIVolumeFile[], defaultMode: number, nodeAllocatable: Readonly<Record<string, string>>): Payload {
  const out: Payload = new Map();
  for (const it of items) {
    let value: string;
    if (it.fieldRef !== undefined) value = podFieldValue(pod, it.fieldRef);
    else if (it.resourceFieldRef !== undefined) value = resourceFieldValue(pod, { ...it.resourceFieldRef, divisor: it.resourceFieldRef.divisor as string | undefined }, nodeAllocatable);
    else continue;
    out.set(it.path, { data: Buffer.from(value, "utf8"), mode: it.mode ?? defaultMode });
  }
  return out;
}
