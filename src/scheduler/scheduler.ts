import type { Pod, PodCondition } from "kubernetes-types/core/v1.js";
import type { Rng } from "../env/env.js";
import type { NodeInfo } from "./cache/node_info.js";
import { podName, type PodInfo } from "./cache/pod_info.js";
import type { Snapshot } from "./cache/snapshot.js";
import { CycleState } from "./framework/cycle_state.js";
import { Diagnosis, FitError } from "./framework/fit_error.js";
import { Framework, type NodePluginScores, type Profile } from "./framework/framework.js";
import { Code, newStatus, type Status } from "./framework/status.js";
import { DEFAULT_SCHEDULER_NAME } from "./plugins/registry.js";

/** minFeasibleNodesToFind: below this many nodes every node is checked. */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
/** minFeasibleNodesPercentageToFind: the adaptive percentage never goes below this. */
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;
/** validation.NoteLengthLimit: an event's note is cut to this many bytes. */
export const NOTE_LENGTH_LIMIT = 1024;
/** ErrNoNodesAvailable's text. */
export const ERR_NO_NODES_AVAILABLE = "no nodes available to schedule pods";

/** An event the shell records (events.k8s.io/v1 shape: type, reason, action, note, regarding, related). */
export interface SchedulerEvent {
  readonly type: "Normal" | "Warning";
  readonly reason: string;
  readonly action: string;
  readonly note: string;
  readonly regarding: Pod;
  readonly related?: Pod;
}

/** The pod fits `nodeName`: assume it in the cache, run Reserve/Permit/PreBind, then POST pods/binding. */
export interface BindDecision {
  readonly kind: "bind";
  readonly nodeName: string;
  readonly evaluatedNodes: number;
  readonly feasibleNodes: number;
  /** The cycle's state, for the Reserve/Permit/PreBind/Bind plugins the shell runs. */
  readonly state: CycleState;
  /** Emit after the binding succeeded: `Successfully assigned ns/name to node`. */
  readonly event: SchedulerEvent;
}

interface FailureFields {
  readonly message: string;
  /** PodScheduled=False with reason Unschedulable (or SchedulerError) and the message; the shell sets lastTransitionTime. */
  readonly condition: PodCondition;
  /** The FailedScheduling Warning. */
  readonly event: SchedulerEvent;
  /** Plugins that rejected the pod: only cluster events they care about requeue it (empty: back off and retry). */
  readonly unschedulablePlugins: ReadonlySet<string>;
}

/** No node fits and preemption found nothing (or was not tried). */
export interface UnschedulableDecision extends FailureFields {
  readonly kind: "unschedulable";
  readonly reason: "Unschedulable" | "SchedulerError";
  /** The pod's new status.nominatedNodeName: "" clears it, null leaves it as it is. */
  readonly nominatedNodeName: string | null;
}

/**
 * No node fits now, but evicting `victims` from `nominatedNode` would make room: the shell sets the
 * pod's status.nominatedNodeName, marks each victim with `victimCondition` and deletes it, records
 * `victimEvents`, and requeues the pod (it is still unschedulable in this cycle: event and condition).
 */
export interface PreemptDecision extends FailureFields {
  readonly kind: "preempt";
  readonly nominatedNode: string;
  readonly victims: readonly Pod[];
  readonly victimCondition: PodCondition;
  readonly victimEvents: readonly SchedulerEvent[];
}

export type ScheduleDecision = BindDecision | UnschedulableDecision | PreemptDecision;

export interface SchedulerOptions {
  /** Profiles by schedulerName; the default profile alone when omitted is the caller's choice (see defaultProfile). */
  readonly profiles: readonly Profile[];
  /** Breaks ties between equally scored nodes (never Math.random). */
  readonly rng: Rng;
  /** Pods nominated to each node by earlier preemptions (the scheduling queue's nominator). */
  readonly nominator?: (nodeName: string) => readonly PodInfo[];
}

/** truncateMessage: notes longer than the API allows end in " ...". */
export function truncateMessage(message: string): string {
  const bytes = new TextEncoder().encode(message);
  if (bytes.length <= NOTE_LENGTH_LIMIT) return message;
  const suffix = " ...";
  return new TextDecoder().decode(bytes.subarray(0, NOTE_LENGTH_LIMIT - suffix.length)) + suffix;
}

/**
 * numFeasibleNodesToFind: on big clusters stop filtering once enough feasible nodes are found —
 * 50% at 0 nodes falling by 1% per 125 nodes, at least 5%, and never fewer than 100 nodes.
 */
export function numFeasibleNodesToFind(percentageOfNodesToScore: number, numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let pct = percentageOfNodesToScore;
  if (pct === 0) pct = Math.max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND, 50 - Math.trunc(numAllNodes / 125));
  const n = Math.trunc((numAllNodes * pct) / 100);
  return Math.max(n, MIN_FEASIBLE_NODES_TO_FIND);
}

/**
 * selectHost: the highest total score; among equal tops, each is chosen with equal probability by
 * reservoir sampling with the injected Rng (so a seed replays the same choices).
 */
export function selectHost(scores: readonly NodePluginScores[], rng: Rng): string {
  if (scores.length === 0) throw new Error("empty priorityList");
  let best = scores[0]!;
  let count = 1;
  for (let i = 1; i < scores.length; i++) {
    const s = scores[i]!;
    if (s.totalScore > best.totalScore) {
      best = s;
      count = 1;
    } else if (s.totalScore === best.totalScore) {
      count++;
      if (rng.nextU32() % count === 0) best = s;
    }
  }
  return best.name;
}

/** The condition a preempted pod gets before it is deleted. */
export function preemptionVictimCondition(schedulerName: string): PodCondition {
  return { type: "DisruptionTarget", status: "True", reason: "PreemptionByScheduler", message: `${schedulerName}: preempting to accommodate a higher priority pod` };
}

/**
 * The scheduler's deterministic core: given a pod and a snapshot it decides bind, unschedulable or
 * preempt, running the pod's profile through PreFilter, Filter, PostFilter, PreScore and Score. It
 * does no IO; the shell feeds it from informers and acts on the decision through the API server.
 */
export class Scheduler {
  readonly #frameworks = new Map<string, Framework>();
  readonly #rng: Rng;
  readonly #nominator: (nodeName: string) => readonly PodInfo[];
  #nextStartNodeIndex = 0;

  constructor(options: SchedulerOptions) {
    for (const p of options.profiles) {
      if (this.#frameworks.has(p.schedulerName)) throw new Error(`Cannot create scheduler: duplicate profile "${p.schedulerName}"`);
      this.#frameworks.set(p.schedulerName, new Framework(p));
    }
    this.#rng = options.rng;
    this.#nominator = options.nominator ?? (() => []);
  }

  /** The profile for spec.schedulerName (default-scheduler when unset); undefined means another scheduler's pod. */
  frameworkForPod(pod: Pod): Framework | undefined {
    return this.#frameworks.get(pod.spec?.schedulerName ?? DEFAULT_SCHEDULER_NAME);
  }

  /** Whether this scheduler handles the pod at all: ours by name, unassigned, not being deleted. */
  responsibleFor(pod: Pod): boolean {
    return this.frameworkForPod(pod) !== undefined && (pod.spec?.nodeName ?? "") === "" && pod.metadata?.deletionTimestamp === undefined;
  }

  schedulePod(pod: Pod, snapshot: Snapshot): ScheduleDecision {
    const fwk = this.frameworkForPod(pod);
    if (fwk === undefined) {
      return this.#failure(pod, "SchedulerError", `profile not found for scheduler name "${pod.spec?.schedulerName ?? ""}"`, new Set(), "");
    }
    fwk.beginCycle(snapshot, this.#nominator);
    const state = new CycleState();
    if (snapshot.numNodes === 0) return this.#failure(pod, "Unschedulable", ERR_NO_NODES_AVAILABLE, new Set(), "");

    const found = this.#findNodesThatFitPod(fwk, state, pod, snapshot);
    if (found instanceof Error) return this.#failure(pod, "SchedulerError", found.message, new Set(), "");
    const { feasible, diagnosis, evaluated } = found;

    if (feasible.length === 0) {
      const fitError = new FitError(pod, snapshot.numNodes, diagnosis);
      if (!fwk.hasPostFilterPlugins()) return this.#failure(pod, "Unschedulable", fitError.message, diagnosis.unschedulablePlugins, "");
      const { result, status } = fwk.runPostFilterPlugins(state, pod, diagnosis.nodeToStatus);
      diagnosis.postFilterMsg = status.message();
      const message = fitError.message;
      if (status.isSuccess() && result !== null && result.nominatedNodeName !== "") {
        const base = this.#failure(pod, "Unschedulable", message, diagnosis.unschedulablePlugins, result.nominatedNodeName);
        return {
          kind: "preempt",
          message: base.message,
          condition: base.condition,
          event: base.event,
          unschedulablePlugins: base.unschedulablePlugins,
          nominatedNode: result.nominatedNodeName,
          victims: result.victims,
          victimCondition: preemptionVictimCondition(fwk.profileName),
          victimEvents: result.victims.map((v) => ({
            type: "Normal",
            reason: "Preempted",
            action: "Preempting",
            note: `Preempted by pod ${pod.metadata?.uid ?? ""} on node ${result.nominatedNodeName}`,
            regarding: v,
            related: pod,
          })),
        };
      }
      return this.#failure(pod, "Unschedulable", message, diagnosis.unschedulablePlugins, result === null ? null : result.nominatedNodeName);
    }

    let nodeName: string;
    if (feasible.length === 1) {
      nodeName = feasible[0]!.name;
    } else {
      const scored = this.#prioritizeNodes(fwk, state, pod, feasible);
      if (scored instanceof Error) return this.#failure(pod, "SchedulerError", scored.message, new Set(), "");
      nodeName = selectHost(scored, this.#rng);
    }
    return {
      kind: "bind",
      nodeName,
      evaluatedNodes: evaluated,
      feasibleNodes: feasible.length,
      state,
      event: {
        type: "Normal",
        reason: "Scheduled",
        action: "Binding",
        note: `Successfully assigned ${podName(pod)} to ${nodeName}`,
        regarding: pod,
      },
    };
  }

  #findNodesThatFitPod(fwk: Framework, state: CycleState, pod: Pod, snapshot: Snapshot): { feasible: NodeInfo[]; diagnosis: Diagnosis; evaluated: number } | Error {
    const diagnosis = new Diagnosis();
    const allNodes = snapshot.nodeInfos;
    const pre = fwk.runPreFilterPlugins(state, pod, allNodes);
    diagnosis.unschedulablePlugins = new Set(pre.pluginsWithNodes);
    if (!pre.status.isSuccess()) {
      if (!pre.status.isRejected()) return new Error(pre.status.message());
      diagnosis.nodeToStatus.absentNodesStatus = pre.status;
      diagnosis.preFilterMsg = pre.status.message();
      diagnosis.addPluginStatus(pre.status);
      return { feasible: [], diagnosis, evaluated: 0 };
    }

    // A node nominated by an earlier preemption is likely the only one that fits: try it first.
    const nominated = pod.status?.nominatedNodeName ?? "";
    if (nominated !== "") {
      const ni = snapshot.get(nominated);
      if (ni !== undefined && (pre.result === null || pre.result.nodeNames?.has(nominated) !== false)) {
        const s = fwk.runFilterPluginsWithNominatedPods(state, pod, ni);
        if (s.code === Code.Error) return new Error(s.message());
        if (s.isSuccess()) return { feasible: [ni], diagnosis, evaluated: 1 };
      }
    }

    let nodes: readonly NodeInfo[] = allNodes;
    if (pre.result !== null && pre.result.nodeNames !== null) {
      const names = pre.result.nodeNames;
      nodes = allNodes.filter((n) => names.has(n.name));
      diagnosis.nodeToStatus.absentNodesStatus = newStatus(Code.UnschedulableAndUnresolvable, `node(s) didn't satisfy plugin(s) [${[...pre.pluginsWithNodes].sort().join(" ")}]`);
    }
    return this.#findNodesThatPassFilters(fwk, state, pod, diagnosis, nodes);
  }

  #findNodesThatPassFilters(fwk: Framework, state: CycleState, pod: Pod, diagnosis: Diagnosis, nodes: readonly NodeInfo[]): { feasible: NodeInfo[]; diagnosis: Diagnosis; evaluated: number } | Error {
    const n = nodes.length;
    if (n === 0) return { feasible: [], diagnosis, evaluated: 0 };
    const want = numFeasibleNodesToFind(fwk.percentageOfNodesToScore, n);
    const start = this.#nextStartNodeIndex % n;
    const feasible: NodeInfo[] = [];
    if (!fwk.hasFilterPlugins()) {
      for (let i = 0; i < want; i++) feasible.push(nodes[(start + i) % n]!);
      this.#nextStartNodeIndex = (start + want) % n;
      return { feasible, diagnosis, evaluated: want };
    }
    let processed = 0;
    for (let i = 0; i < n; i++) {
      const ni = nodes[(start + i) % n]!;
      processed++;
      const s: Status = fwk.runFilterPluginsWithNominatedPods(state, pod, ni);
      if (s.code === Code.Error) return new Error(s.message());
      if (s.isSuccess()) {
        feasible.push(ni);
        if (feasible.length >= want) break;
      } else {
        diagnosis.nodeToStatus.set(ni.name, s);
        diagnosis.addPluginStatus(s);
      }
    }
    this.#nextStartNodeIndex = (start + processed) % n;
    return { feasible, diagnosis, evaluated: processed };
  }

  #prioritizeNodes(fwk: Framework, state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): NodePluginScores[] | Error {
    if (!fwk.hasScorePlugins()) return nodes.map((n) => ({ name: n.name, scores: [], totalScore: 1 }));
    const pre = fwk.runPreScorePlugins(state, pod, nodes);
    if (!pre.isSuccess()) return new Error(pre.message());
    const r = fwk.runScorePlugins(state, pod, nodes);
    if (!r.status.isSuccess()) return new Error(r.status.message());
    return r.scores;
  }

  #failure(pod: Pod, reason: "Unschedulable" | "SchedulerError", message: string, plugins: ReadonlySet<string>, nominatedNodeName: string | null): UnschedulableDecision {
    return {
      kind: "unschedulable",
      reason,
      message,
      condition: { type: "PodScheduled", status: "False", reason, message },
      event: { type: "Warning", reason: "FailedScheduling", action: "Scheduling", note: truncateMessage(message), regarding: pod },
      unschedulablePlugins: plugins,
      nominatedNodeName,
    };
  }
}
