/**
 * The admission plugins a default kube-apiserver runs, in upstream's order, for what they change that a
 * user sees: NamespaceLifecycle (no new objects in a missing or terminating namespace, system
 * namespaces cannot be deleted), ServiceAccount (pods run as `default` unless they say otherwise),
 * Priority (pods get their PriorityClass's value), DefaultTolerationSeconds (pods tolerate a not-ready
 * or unreachable node for 300 s). Mutating plugins run before validation, validating ones after.
 */
import { ApiError, notFound } from "../../api/status.js";
import type { ResourceInfo } from "../../api/resources.js";
import type { KubeObject } from "../registry/codec.js";

export interface AdmissionLookups {
  /** The namespace object, or null when it does not exist. */
  namespace(name: string): Promise<KubeObject | null>;
  /** Every PriorityClass. */
  priorityClasses(): Promise<KubeObject[]>;
  /** A ServiceAccount, or null when it does not exist. */
  serviceAccount?(namespace: string, name: string): Promise<KubeObject | null>;
  /** Five random characters for generated names (upstream's generateName suffix alphabet). */
  randomSuffix?(): string;
}

/** Where the ServiceAccount admission plugin mounts the API credentials, as upstream. */
export const SERVICE_ACCOUNT_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";
/** upstream's token lifetime for the projected volume: an hour and 7 seconds (the kubelet refreshes it). */
const PROJECTED_TOKEN_EXPIRATION_S = 3607;

/** Namespaces the cluster needs to work; deleting them is forbidden, as upstream. */
const IMMORTAL_NAMESPACES = new Set(["default", "kube-system", "kube-public"]);
/** upstream's --default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds. */
const DEFAULT_TOLERATION_SECONDS = 300;

export type Operation = "CREATE" | "UPDATE" | "DELETE";

/** NamespaceLifecycle for a write in `namespace`. */
export async function admitNamespaceLifecycle(op: Operation, info: ResourceInfo, namespace: string, name: string, lookups: AdmissionLookups): Promise<void> {
  if (info.resource === "namespaces") {
    if (op === "DELETE" && IMMORTAL_NAMESPACES.has(name)) {
      throw new ApiError("Forbidden", 403, `namespaces "${name}" is forbidden: this namespace may not be deleted`, { name, kind: "namespaces" });
    }
    return;
  }
  if (!info.namespaced || op !== "CREATE") return;
  const ns = await lookups.namespace(namespace);
  if (ns === null) throw notFound({ group: "", resource: "namespaces" }, namespace);
  if (ns.metadata?.deletionTimestamp !== undefined || ns.status?.phase === "Terminating") {
    // Events may still be written into a terminating namespace: they record what is happening to it.
    if (info.resource === "events") return;
    throw new ApiError(
      "Forbidden",
      403,
      `${info.group === "" ? info.resource : `${info.resource}.${info.group}`} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
      { name, ...(info.group === "" ? {} : { group: info.group }), kind: info.resource, causes: [{ reason: "NamespaceTerminating", message: `namespace ${namespace} is being terminated`, field: "metadata.namespace" }] },
    );
  }
}

/** The mutating plugins for a pod being created. */
export async function mutatePodOnCreate(pod: KubeObject, lookups: AdmissionLookups): Promise<void> {
  const spec = (pod.spec ??= {});
  // ServiceAccount: the deprecated serviceAccount field mirrors serviceAccountName.
  if (!spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount || "default";
  spec.serviceAccount = spec.serviceAccountName;
  await mountServiceAccountToken(pod, lookups);

  // Priority.
  const classes = await lookups.priorityClasses();
  if (spec.priorityClassName) {
    const pc = classes.find((c) => c.metadata?.name === spec.priorityClassName);
    if (pc === undefined) {
      throw new ApiError("Forbidden", 403, `pods "${pod.metadata?.name ?? ""}" is forbidden: no PriorityClass with name ${spec.priorityClassName} was found`, {
        name: pod.metadata?.name,
        kind: "pods",
      });
    }
    spec.priority = pc.value;
    spec.preemptionPolicy = pc.preemptionPolicy ?? "PreemptLowerPriority";
  } else {
    const global = classes.find((c) => c.globalDefault === true);
    spec.priority = global?.value ?? 0;
    if (global !== undefined) spec.priorityClassName = global.metadata.name;
    spec.preemptionPolicy = global?.preemptionPolicy ?? "PreemptLowerPriority";
  }

  // DefaultTolerationSeconds.
  const tolerations: KubeObject[] = spec.tolerations ?? [];
  for (const key of ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]) {
    const has = tolerations.some((t) => (t.key === key || (t.key === undefined && t.operator === "Exists")) && (t.effect === undefined || t.effect === "" || t.effect === "NoExecute"));
    if (!has) tolerations.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: DEFAULT_TOLERATION_SECONDS });
  }
  spec.tolerations = tolerations;
}

/**
 * The ServiceAccount plugin's `kube-api-access-<suffix>` projected volume (a bound token, the cluster CA
 * from the `kube-root-ca.crt` ConfigMap, the namespace) mounted read-only in every container — unless the
 * pod or its ServiceAccount turn automounting off, or a container already mounts that path.
 */
async function mountServiceAccountToken(pod: KubeObject, lookups: AdmissionLookups): Promise<void> {
  const spec = pod.spec;
  if (spec.automountServiceAccountToken === false) return;
  const sa = lookups.serviceAccount === undefined ? null : await lookups.serviceAccount(String(pod.metadata?.namespace ?? ""), spec.serviceAccountName);
  if (spec.automountServiceAccountToken !== true && sa?.automountServiceAccountToken === false) return;
  const volumes: KubeObject[] = spec.volumes ?? [];
  if (volumes.some((v) => typeof v.name === "string" && v.name.startsWith("kube-api-access-"))) return;
  const name = `kube-api-access-${lookups.randomSuffix?.() ?? "00000"}`;
  volumes.push({
    name,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: PROJECTED_TOKEN_EXPIRATION_S, path: "token" } },
        { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
        { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
      ],
    },
  });
  spec.volumes = volumes;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])] as KubeObject[]) {
    const mounts: KubeObject[] = c.volumeMounts ?? [];
    if (mounts.some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH)) continue;
    mounts.push({ name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH });
    c.volumeMounts = mounts;
  }
}
