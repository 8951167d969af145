import type { Pod, PodAffinityTerm, WeightedPodAffinityTerm } from "kubernetes-types/core/v1.js";
import { labelSelector, type Labels, type Selector } from "../framework/labels.js";
import { podNonZeroRequests, podRequests, type Resource } from "../framework/resource.js";

/**
 * A pod affinity term compiled once (upstream `framework.AffinityTerm`): the namespaces it looks in
 * (the pod's own when neither `namespaces` nor `namespaceSelector` is given) and its label selector.
 */
export interface AffinityTerm {
  readonly namespaces: ReadonlySet<string>;
  readonly namespaceSelector: Selector;
  readonly selector: Selector;
  readonly topologyKey: string;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  readonly weight: number;
}

/** Labels of each namespace by name, for namespaceSelector; absent namespaces have no labels. */
export type NamespaceLabels = ReadonlyMap<string, Labels>;

function newAffinityTerm(pod: Pod, t: PodAffinityTerm): AffinityTerm {
  const ns = t.namespaces ?? [];
  const namespaces = new Set(ns.length === 0 && t.namespaceSelector === undefined ? [pod.metadata?.namespace ?? "default"] : ns);
  return {
    namespaces,
    namespaceSelector: labelSelector(t.namespaceSelector),
    selector: labelSelector(t.labelSelector),
    topologyKey: t.topologyKey,
  };
}

/** AffinityTerm.Matches: the pod is in one of the term's namespaces and has labels its selector matches. */
export function affinityTermMatches(term: AffinityTerm, pod: Pod, nsLabels: NamespaceLabels | undefined): boolean {
  const ns = pod.metadata?.namespace ?? "default";
  if (!term.namespaces.has(ns) && !term.namespaceSelector.matches(nsLabels?.get(ns))) return false;
  return term.selector.matches(pod.metadata?.labels);
}

function weighted(pod: Pod, terms: readonly WeightedPodAffinityTerm[] | undefined): WeightedAffinityTerm[] {
  return (terms ?? []).filter((t) => t.weight !== 0).map((t) => ({ ...newAffinityTerm(pod, t.podAffinityTerm), weight: t.weight }));
}

/** A pod with what the scheduler derives from it, computed once (upstream `framework.PodInfo`). */
export class PodInfo {
  readonly requiredAffinityTerms: readonly AffinityTerm[];
  readonly requiredAntiAffinityTerms: readonly AffinityTerm[];
  readonly preferredAffinityTerms: readonly WeightedAffinityTerm[];
  readonly preferredAntiAffinityTerms: readonly WeightedAffinityTerm[];
  readonly requests: Resource;
  readonly nonZeroRequests: { milliCPU: number; memory: number };

  constructor(readonly pod: Pod) {
    const a = pod.spec?.affinity;
    this.requiredAffinityTerms = (a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => newAffinityTerm(pod, t));
    this.requiredAntiAffinityTerms = (a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) =>
      newAffinityTerm(pod, t),
    );
    this.preferredAffinityTerms = weighted(pod, a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
    this.preferredAntiAffinityTerms = weighted(pod, a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
    this.requests = podRequests(pod);
    this.nonZeroRequests = podNonZeroRequests(pod);
  }

  get key(): string {
    return podKey(this.pod);
  }
}

/** The cache's key for a pod: its UID when it has one, else namespace/name. */
export function podKey(pod: Pod): string {
  return pod.metadata?.uid ?? `${pod.metadata?.namespace ?? "default"}/${pod.metadata?.name ?? ""}`;
}

/** `namespace/name`, for logs and messages. */
export function podName(pod: Pod): string {
  return `${pod.metadata?.namespace ?? "default"}/${pod.metadata?.name ?? ""}`;
}

/** corev1helpers.PodPriority: spec.priority, 0 when unset. */
export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}
