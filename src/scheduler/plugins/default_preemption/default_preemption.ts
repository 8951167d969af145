import type { Pod } from "kubernetes-types/core/v1.js";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1.js";
import type { Rng } from "../../../env/env.js";
import type { NodeInfo } from "../../cache/node_info.js";
import { podPriority, type PodInfo } from "../../cache/pod_info.js";
import type { CycleState } from "../../framework/cycle_state.js";
import { Diagnosis, fitErrorMessage } from "../../framework/fit_error.js";
import type { Handle, PostFilterPlugin, PostFilterResult } from "../../framework/interface.js";
import { labelSelector } from "../../framework/labels.js";
import { NodeToStatus } from "../../framework/node_to_status.js";
import { asStatus, Code, newStatus, Status, SUCCESS } from "../../framework/status.js";
import { DEFAULT_PREEMPTION } from "../names.js";

/** Reason on nodes where preemption could not even be tried (their rejection was unresolvable). */
export const ERR_REASON_PREEMPTION_NOT_HELPFUL = "Preemption is not helpful for scheduling";
/** Reason on a node with no lower-priority pod to evict. */
export const ERR_REASON_NO_VICTIMS = "No preemption victims found for incoming pod";

/** minCandidateNodesPercentage / minCandidateNodesAbsolute: how many candidate nodes the dry run collects. */
export const MIN_CANDIDATE_NODES_PERCENTAGE = 10;
export const MIN_CANDIDATE_NODES_ABSOLUTE = 100;

export interface DefaultPreemptionArgs {
  /** Picks where the dry run starts among potential nodes, so preemption does not always hit the same ones. */
  readonly rng: Rng;
  readonly minCandidateNodesPercentage?: number;
  readonly minCandidateNodesAbsolute?: number;
}

/** A node where evicting `victims` makes the pod fit. */
export interface Candidate {
  readonly nodeName: string;
  readonly victims: readonly Pod[];
  readonly numPDBViolations: number;
}

/** podTerminatingByPreemption: being deleted because the scheduler preempted it. */
function terminatingByPreemption(p: Pod): boolean {
  if (p.metadata?.deletionTimestamp === undefined) return false;
  return (p.status?.conditions ?? []).some((c) => c.type === "DisruptionTarget" && c.reason === "PreemptionByScheduler");
}

function startMs(p: Pod): number {
  const t = p.status?.startTime ?? p.metadata?.creationTimestamp;
  return t === undefined ? Number.MAX_SAFE_INTEGER : Date.parse(t);
}

/** util.MoreImportantPod: higher priority first, then the one running longer. */
export function moreImportantPod(a: Pod, b: Pod): number {
  const pa = podPriority(a);
  const pb = podPriority(b);
  if (pa !== pb) return pb - pa;
  return startMs(a) - startMs(b);
}

/**
 * filterPodsWithPDBViolation: splits victims into those whose eviction would take a budget below zero
 * (counting down each PDB's disruptionsAllowed as victims use it) and the rest. Pods the PDB already
 * lists as disrupted are not counted again.
 */
export function filterPodsWithPDBViolation(pods: readonly PodInfo[], pdbs: readonly PodDisruptionBudget[]): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = pdbs.map((p) => p.status?.disruptionsAllowed ?? 0);
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const pi of pods) {
    const pod = pi.pod;
    let violated = false;
    const labels = pod.metadata?.labels;
    if (labels !== undefined && Object.keys(labels).length > 0) {
      pdbs.forEach((pdb, i) => {
        if ((pdb.metadata?.namespace ?? "default") !== (pod.metadata?.namespace ?? "default")) return;
        const sel = labelSelector(pdb.spec?.selector);
        // A PDB with an empty selector protects nothing here, as upstream.
        if (sel.empty || !sel.matches(labels)) return;
        if (pdb.status?.disruptedPods?.[pod.metadata?.name ?? ""] !== undefined) return;
        allowed[i]!--;
        if (allowed[i]! < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(pi);
  }
  return { violating, nonViolating };
}

/**
 * pickOneNodeForPreemption: fewest PDB violations, then the lowest highest-priority victim, then the
 * smallest sum of priorities, then fewest victims, then the latest start among the top victims, then
 * the first.
 */
export function pickOneNodeForPreemption(candidates: readonly Candidate[]): Candidate | undefined {
  if (candidates.length === 0) return undefined;
  const minBy = (list: Candidate[], f: (c: Candidate) => number): Candidate[] => {
    let best = Infinity;
    let out: Candidate[] = [];
    for (const c of list) {
      const v = f(c);
      if (v < best) {
        best = v;
        out = [c];
      } else if (v === best) out.push(c);
    }
    return out;
  };
  let list = [...candidates];
  list = minBy(list, (c) => c.numPDBViolations);
  if (list.length === 1) return list[0];
  list = minBy(list, (c) => (c.victims.length === 0 ? -Infinity : podPriority(c.victims[0]!)));
  if (list.length === 1) return list[0];
  // Each priority is offset by 2^31 so negatives cannot make a longer list look cheaper.
  list = minBy(list, (c) => c.victims.reduce((sum, v) => sum + podPriority(v) + 2 ** 31, 0));
  if (list.length === 1) return list[0];
  list = minBy(list, (c) => c.victims.length);
  if (list.length === 1) return list[0];
  // The latest "earliest start time among the highest-priority victims" wins: its victims ran the least.
  list = minBy(list, (c) => {
    if (c.victims.length === 0) return Infinity;
    const top = podPriority(c.victims[0]!);
    let earliest = Infinity;
    for (const v of c.victims) if (podPriority(v) === top) earliest = Math.min(earliest, startMs(v));
    return -earliest;
  });
  return list[0];
}

/**
 * PostFilter: when no node fits, find one where evicting lower-priority pods (the fewest, sparing
 * PDB-protected ones first) makes the pod fit, and nominate it. Only nodes rejected as plainly
 * Unschedulable are tried; an unresolvable rejection cannot be fixed by evicting pods.
 */
export function newDefaultPreemption(handle: Handle, args: DefaultPreemptionArgs): PostFilterPlugin {
  const pct = args.minCandidateNodesPercentage ?? MIN_CANDIDATE_NODES_PERCENTAGE;
  const abs = args.minCandidateNodesAbsolute ?? MIN_CANDIDATE_NODES_ABSOLUTE;

  function eligible(pod: Pod, nominatedStatus: Status): { ok: boolean; msg: string } {
    if (pod.spec?.preemptionPolicy === "Never") return { ok: false, msg: "not eligible due to preemptionPolicy=Never." };
    const nom = pod.status?.nominatedNodeName;
    if (nom !== undefined && nom !== "") {
      if (nominatedStatus.code === Code.UnschedulableAndUnresolvable) return { ok: true, msg: "" };
      const ni = handle.snapshot().get(nom);
      if (ni !== undefined) {
        const prio = podPriority(pod);
        for (const p of ni.pods) {
          if (podPriority(p.pod) < prio && terminatingByPreemption(p.pod)) return { ok: false, msg: "not eligible due to a terminating pod on the nominated node." };
        }
      }
    }
    return { ok: true, msg: "" };
  }

  /** SelectVictimsOnNode: remove every lower-priority pod, check the fit, then reprieve as many as still fit. */
  function selectVictimsOnNode(state: CycleState, pod: Pod, nodeInfo: NodeInfo, pdbs: readonly PodDisruptionBudget[]): { victims: Pod[]; numViolating: number; status: Status } {
    const prio = podPriority(pod);
    const potential: PodInfo[] = [];
    for (const pi of [...nodeInfo.pods]) {
      if (podPriority(pi.pod) >= prio) continue;
      potential.push(pi);
      nodeInfo.removePod(pi.pod);
      const s = handle.runPreFilterExtensionRemovePod(state, pod, pi, nodeInfo);
      if (!s.isSuccess()) return { victims: [], numViolating: 0, status: s };
    }
    if (potential.length === 0) return { victims: [], numViolating: 0, status: newStatus(Code.UnschedulableAndUnresolvable, ERR_REASON_NO_VICTIMS) };
    const fits = handle.runFilterPluginsWithNominatedPods(state, pod, nodeInfo);
    if (!fits.isSuccess()) return { victims: [], numViolating: 0, status: fits };
    potential.sort((a, b) => moreImportantPod(a.pod, b.pod));
    const { violating, nonViolating } = filterPodsWithPDBViolation(potential, pdbs);
    const victims: Pod[] = [];
    let numViolating = 0;
    const reprieve = (pi: PodInfo): boolean | Status => {
      nodeInfo.addPod(pi);
      const s = handle.runPreFilterExtensionAddPod(state, pod, pi, nodeInfo);
      if (!s.isSuccess()) return s;
      const ok = handle.runFilterPluginsWithNominatedPods(state, pod, nodeInfo).isSuccess();
      if (!ok) {
        nodeInfo.removePod(pi.pod);
        const r = handle.runPreFilterExtensionRemovePod(state, pod, pi, nodeInfo);
        if (!r.isSuccess()) return r;
        victims.push(pi.pod);
      }
      return ok;
    };
    for (const pi of violating) {
      const r = reprieve(pi);
      if (r instanceof Status) return { victims: [], numViolating: 0, status: r };
      if (!r) numViolating++;
    }
    for (const pi of nonViolating) {
      const r = reprieve(pi);
      if (r instanceof Status) return { victims: [], numViolating: 0, status: r };
    }
    return { victims, numViolating, status: SUCCESS };
  }

  return {
    name: DEFAULT_PREEMPTION,
    postFilter(state, pod, nodeToStatus) {
      const snap = handle.snapshot();
      const nom = pod.status?.nominatedNodeName ?? "";
      const e = eligible(pod, nodeToStatus.get(nom));
      if (!e.ok) return { result: null, status: newStatus(Code.Unschedulable, `preemption: ${e.msg}`) };

      const allNodes = snap.nodeInfos;
      if (allNodes.length === 0) return { result: null, status: asStatus(new Error("no nodes available")) };
      const potential = nodeToStatus.nodesForStatusCode(allNodes, Code.Unschedulable);
      const statuses = new NodeToStatus();
      const candidates: Candidate[] = [];
      if (potential.length > 0) {
        const numCandidates = Math.min(potential.length, Math.max(Math.floor((potential.length * pct) / 100), abs));
        const offset = args.rng.nextU32() % potential.length;
        const nonViolating: Candidate[] = [];
        const violating: Candidate[] = [];
        for (let i = 0; i < potential.length && nonViolating.length < numCandidates; i++) {
          const ni = potential[(offset + i) % potential.length]!;
          const copy = ni.clone();
          const r = selectVictimsOnNode(state.clone(), pod, copy, snap.pdbs);
          if (r.status.isSuccess() && r.victims.length > 0) {
            const c = { nodeName: ni.name, victims: r.victims, numPDBViolations: r.numViolating };
            (r.numViolating === 0 ? nonViolating : violating).push(c);
            continue;
          }
          const s = r.status.isSuccess() ? asStatus(new Error(`expected at least one victim pod on node "${ni.name}"`)) : r.status;
          if (s.code === Code.Error) return { result: null, status: newStatus(Code.Error, `preemption: ${s.message()}`) };
          statuses.set(ni.name, s);
        }
        candidates.push(...nonViolating, ...violating);
      }
      if (candidates.length === 0) {
        const d = new Diagnosis();
        d.nodeToStatus = statuses;
        statuses.absentNodesStatus = newStatus(Code.UnschedulableAndUnresolvable, ERR_REASON_PREEMPTION_NOT_HELPFUL);
        const result: PostFilterResult = { nominatedNodeName: "", victims: [] };
        return { result, status: newStatus(Code.Unschedulable, `preemption: ${fitErrorMessage(allNodes.length, d)}`) };
      }
      const best = pickOneNodeForPreemption(candidates)!;
      return { result: { nominatedNodeName: best.nodeName, victims: best.victims }, status: SUCCESS };
    },
  };
}
