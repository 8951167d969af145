/**
 * The pure part of the DaemonSet controller (pkg/controller/daemon, Kubernetes 1.32): which nodes
 * should run a daemon pod (node name, node selector and required node affinity, NoSchedule/NoExecute
 * taints against the pod's tolerations — the template's plus the defaults every daemon pod gets),
 * the pod a node gets (pinned by required node affinity `metadata.name In [node]`; the scheduler binds
 * it), and one sync's plan: create, delete, roll, and the status that results.
 */
import type { Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodTemplateSpec, Taint, Toleration } from "kubernetes-types/core/v1.js";
import type { DaemonSet, DaemonSetStatus } from "kubernetes-types/apps/v1.js";
import { isPodAvailable, isPodReady, parseTimeMs } from "../util/pod_util.js";
import { CONTROLLER_REVISION_HASH_LABEL } from "../statefulset/controller_revision.js";

export const POD_TEMPLATE_GENERATION_LABEL = "pod-template-generation";

/** The tolerations every daemon pod gets (AddOrUpdateDaemonPodTolerations). */
export function defaultDaemonTolerations(hostNetwork: boolean): Toleration[] {
  const t: Toleration[] = [
    { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
    { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
    { key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" },
    { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
    { key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" },
    { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
  ];
  if (hostNetwork) t.push({ key: "node.kubernetes.io/network-unavailable", operator: "Exists", effect: "NoSchedule" });
  return t;
}

/** The template daemon pods are made from (CreatePodTemplate): default tolerations and the revision labels. */
export function daemonPodTemplate(ds: DaemonSet, hash: string): PodTemplateSpec {
  const t = structuredClone(ds.spec?.template ?? {});
  const spec = (t.spec ??= { containers: [] });
  const tolerations = [...(spec.tolerations ?? [])];
  for (const d of defaultDaemonTolerations(spec.hostNetwork === true)) {
    const i = tolerations.findIndex((x) => x.key === d.key && x.effect === d.effect);
    if (i >= 0) tolerations[i] = d;
    else tolerations.push(d);
  }
  spec.tolerations = tolerations;
  const meta = (t.metadata ??= {});
  meta.labels = {
    ...(meta.labels ?? {}),
    ...(ds.metadata?.generation === undefined ? {} : { [POD_TEMPLATE_GENERATION_LABEL]: String(ds.metadata.generation) }),
    [CONTROLLER_REVISION_HASH_LABEL]: hash,
  };
  return t;
}

/** The template pinned to one node (ReplaceDaemonSetPodNodeNameNodeAffinity). */
export function pinToNode(template: PodTemplateSpec, nodeName: string): PodTemplateSpec {
  const t = structuredClone(template);
  const spec = (t.spec ??= { containers: [] });
  const affinity = (spec.affinity ??= {});
  const nodeAffinity = (affinity.nodeAffinity ??= {});
  nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
    nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [nodeName] }] }],
  };
  return t;
}

/** The node a daemon pod is for: its nodeName, else its pinned affinity (GetTargetNodeName). */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) {
      if (f.key === "metadata.name" && f.operator === "In" && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  switch (r.operator) {
    case "In":
      return value !== undefined && (r.values ?? []).includes(value);
    case "NotIn":
      return value === undefined || !(r.values ?? []).includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
    case "Lt": {
      if (value === undefined || !/^-?\d+$/.test(value) || r.values?.length !== 1) return false;
      const v = Number(value);
      const w = Number(r.values[0]);
      return r.operator === "Gt" ? v > w : v < w;
    }
    default:
      return false;
  }
}

function termMatches(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false; // an empty term matches nothing
  const labels = node.metadata?.labels ?? {};
  return (
    exprs.every((r) => requirementMatches(r, Object.prototype.hasOwnProperty.call(labels, r.key) ? labels[r.key] : undefined)) &&
    fields.every((r) => r.key === "metadata.name" && requirementMatches(r, node.metadata?.name))
  );
}

/** nodeSelector and required node affinity (the NodeAffinity filter's required part). */
export function fitsNodeAffinity(template: PodTemplateSpec, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(template.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = template.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required === undefined) return true;
  return required.nodeSelectorTerms.some((t) => termMatches(t, node));
}

/** Whether `toleration` tolerates `taint` (ToleratesTaint). */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  if (!toleration.key && toleration.operator !== "Exists") return false;
  if (toleration.operator === "Exists") return true;
  return (toleration.value ?? "") === (taint.value ?? "");
}

function untolerated(taints: readonly Taint[], tolerations: readonly Toleration[], effects: readonly string[]): Taint | undefined {
  return taints.find((t) => effects.includes(t.effect) && !tolerations.some((tol) => tolerates(tol, t)));
}

export interface NodeDecision {
  readonly shouldRun: boolean;
  readonly shouldContinueRunning: boolean;
}

/** NodeShouldRunDaemonPod: a pod should run (and keep running) here, given its template with defaults. */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): NodeDecision {
  const template = daemonPodTemplate(ds, "");
  const nodeName = template.spec?.nodeName;
  if ((nodeName && nodeName !== node.metadata?.name) || !fitsNodeAffinity(template, node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = node.spec?.taints ?? [];
  const tolerations = template.spec?.tolerations ?? [];
  if (untolerated(taints, tolerations, ["NoSchedule", "NoExecute"]) !== undefined) {
    // A pod already there may stay unless a NoExecute taint would evict it.
    return { shouldRun: false, shouldContinueRunning: untolerated(taints, tolerations, ["NoExecute"]) === undefined };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

/** Oldest first; a running pod before a pending one of the same age (podByCreationTimestampAndPhase). */
function byAge(a: Pod, b: Pod): number {
  const ra = a.status?.phase === "Running" ? 0 : 1;
  const rb = b.status?.phase === "Running" ? 0 : 1;
  const ta = parseTimeMs(a.metadata?.creationTimestamp) ?? 0;
  const tb = parseTimeMs(b.metadata?.creationTimestamp) ?? 0;
  if (ta !== tb) return ta - tb;
  if (ra !== rb) return ra - rb;
  return (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "");
}

export interface DaemonSetPlanInput {
  readonly ds: DaemonSet;
  readonly nodes: readonly Node[];
  /** The DaemonSet's pods (owned). */
  readonly pods: readonly Pod[];
  /** The update revision's hash. */
  readonly hash: string;
  readonly nowMs: number;
  /** Creations and deletions of earlier syncs have been observed. */
  readonly satisfiedExpectations: boolean;
}

export interface DaemonSetPlan {
  readonly nodesToCreate: string[];
  readonly podsToDelete: { pod: Pod; why: "failed" | "succeeded" | "duplicate" | "misscheduled" | "orphaned" | "update" }[];
  readonly status: DaemonSetStatus;
}

function maxUnavailableOf(ds: DaemonSet, desired: number): number {
  const v = ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1;
  let n: number;
  if (typeof v === "number") n = v;
  else if (/^\d+%$/.test(v)) n = Math.ceil((Number(v.slice(0, -1)) * desired) / 100);
  else n = Number.parseInt(v, 10) || 0;
  return n === 0 ? 1 : n; // as upstream when maxSurge is 0 too: at least one at a time
}

/** One sync: manage (create/delete per node), rolling update, status. */
export function planDaemonSet(input: DaemonSetPlanInput): DaemonSetPlan {
  const { ds, nodes, pods, hash, nowMs } = input;
  const minReadySeconds = ds.spec?.minReadySeconds ?? 0;
  const byNode = new Map<string, Pod[]>();
  const nodeNames = new Set(nodes.map((n) => n.metadata?.name ?? ""));
  const plan: DaemonSetPlan = { nodesToCreate: [], podsToDelete: [], status: { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 } };
  for (const p of pods) {
    const n = targetNodeName(p);
    if (n === undefined || !nodeNames.has(n)) {
      if (p.metadata?.deletionTimestamp == null) plan.podsToDelete.push({ pod: p, why: "orphaned" });
      continue;
    }
    byNode.set(n, [...(byNode.get(n) ?? []), p]);
  }
  const decisions = new Map<string, NodeDecision>();
  for (const node of nodes) {
    const name = node.metadata?.name ?? "";
    const d = nodeShouldRunDaemonPod(node, ds);
    decisions.set(name, d);
    const daemonPods = byNode.get(name) ?? [];
    if (d.shouldRun && daemonPods.length === 0) plan.nodesToCreate.push(name);
    else if (d.shouldContinueRunning) {
      const running: Pod[] = [];
      for (const p of daemonPods) {
        if (p.metadata?.deletionTimestamp != null) continue;
        if (p.status?.phase === "Failed") plan.podsToDelete.push({ pod: p, why: "failed" });
        else if (p.status?.phase === "Succeeded") plan.podsToDelete.push({ pod: p, why: "succeeded" });
        else running.push(p);
      }
      running.sort(byAge);
      for (const extra of running.slice(1)) plan.podsToDelete.push({ pod: extra, why: "duplicate" });
    } else {
      for (const p of daemonPods) if (p.metadata?.deletionTimestamp == null) plan.podsToDelete.push({ pod: p, why: "misscheduled" });
    }
  }
  if (!input.satisfiedExpectations) {
    plan.nodesToCreate.length = 0;
    plan.podsToDelete.length = 0;
  }

  // Status over the pods as they are (before this sync's actions), as upstream's updateDaemonSetStatus.
  let desired = 0;
  let current = 0;
  let miss = 0;
  let ready = 0;
  let available = 0;
  let updated = 0;
  for (const node of nodes) {
    const name = node.metadata?.name ?? "";
    const live = (byNode.get(name) ?? []).filter((p) => p.metadata?.deletionTimestamp == null).sort(byAge);
    if (decisions.get(name)!.shouldRun) {
      desired++;
      if (live.length === 0) continue;
      current++;
      const p = live[0]!;
      if (isPodReady(p)) {
        ready++;
        if (isPodAvailable(p, minReadySeconds, nowMs)) available++;
      }
      if (p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash) updated++;
    } else if (live.length > 0) miss++;
  }
  const status: DaemonSetStatus = {
    observedGeneration: ds.metadata?.generation ?? 0,
    desiredNumberScheduled: desired,
    currentNumberScheduled: current,
    numberMisscheduled: miss,
    numberReady: ready,
    numberAvailable: available,
    updatedNumberScheduled: updated,
    numberUnavailable: desired - available,
  };

  // RollingUpdate (maxSurge 0): replace old pods, unavailable ones first, keeping at most maxUnavailable down.
  if (input.satisfiedExpectations && (ds.spec?.updateStrategy?.type ?? "RollingUpdate") === "RollingUpdate") {
    const maxUnavailable = maxUnavailableOf(ds, desired);
    const deleting = new Set(plan.podsToDelete.map((x) => x.pod.metadata?.uid));
    let numUnavailable = 0;
    const allowed: Pod[] = [];
    const candidates: Pod[] = [];
    for (const node of nodes) {
      const name = node.metadata?.name ?? "";
      if (!decisions.get(name)!.shouldRun) continue;
      const live = (byNode.get(name) ?? []).filter((p) => p.metadata?.deletionTimestamp == null && !deleting.has(p.metadata?.uid));
      const fresh = live.filter((p) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash);
      const old = live.filter((p) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] !== hash);
      if (live.length > 1 || live.length === 0 || (fresh.length > 0 && old.length > 0)) {
        numUnavailable++; // manage handles it
      } else if (fresh.length === 1) {
        if (!isPodAvailable(fresh[0]!, minReadySeconds, nowMs)) numUnavailable++;
      } else {
        const o = old[0]!;
        if (!isPodAvailable(o, minReadySeconds, nowMs)) allowed.push(o);
        else if (numUnavailable < maxUnavailable) candidates.push(o);
      }
    }
    const remaining = Math.max(0, maxUnavailable - numUnavailable);
    for (const p of [...allowed, ...candidates.slice(0, remaining)]) plan.podsToDelete.push({ pod: p, why: "update" });
  }
  return { ...plan, status };
}
