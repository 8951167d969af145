import type { Pod } from "kubernetes-types/core/v1.js";
import { assert } from "../../util/assert.js";
import type { NodeInfo } from "../cache/node_info.js";
import { podPriority, type PodInfo } from "../cache/pod_info.js";
import type { Snapshot } from "../cache/snapshot.js";
import { CycleState } from "./cycle_state.js";
import {
  isBind, isFilter, isPermit, isPostFilter, isPreBind, isPreFilter, isPreScore, isReserve, isScore,
  MAX_NODE_SCORE, MIN_NODE_SCORE,
  type BindPlugin, type FilterPlugin, type Handle, type NodeScore, type PermitPlugin, type Plugin, type PostFilterPlugin,
  type PostFilterResult, type PreBindPlugin, type PreFilterPlugin, type PreFilterResult, type PreScorePlugin, type ReservePlugin, type ScorePlugin,
} from "./interface.js";
import type { NodeToStatus } from "./node_to_status.js";
import { asStatus, Code, newStatus, orSuccess, Status, SUCCESS } from "./status.js";

/** Builds a plugin for one profile; it may keep the handle to read the cycle's snapshot. */
export type PluginFactory = (handle: Handle) => Plugin;

/** One plugin of a profile with its score weight (upstream's MultiPoint entry). */
export interface PluginEntry {
  readonly factory: PluginFactory;
  /** Multiplies its normalized score; 1 when unset. */
  readonly weight?: number;
}

/** A scheduler profile: the plugins run for pods whose spec.schedulerName is `schedulerName`, in order. */
export interface Profile {
  readonly schedulerName: string;
  readonly plugins: readonly PluginEntry[];
  /** percentageOfNodesToScore; 0 or unset means upstream's adaptive default. */
  readonly percentageOfNodesToScore?: number;
}

/** One node's weighted scores (upstream `NodePluginScores`). */
export interface NodePluginScores {
  readonly name: string;
  readonly scores: { readonly name: string; readonly score: number }[];
  totalScore: number;
}

/**
 * Runs one profile's plugins at each extension point in the profile's order (upstream `frameworkImpl`).
 * It holds the snapshot of the running cycle, which is what plugins read through the Handle.
 */
export class Framework implements Handle {
  readonly profileName: string;
  readonly percentageOfNodesToScore: number;
  readonly plugins: readonly Plugin[];
  readonly preFilterPlugins: readonly PreFilterPlugin[];
  readonly filterPlugins: readonly FilterPlugin[];
  readonly postFilterPlugins: readonly PostFilterPlugin[];
  readonly preScorePlugins: readonly PreScorePlugin[];
  readonly scorePlugins: readonly ScorePlugin[];
  readonly reservePlugins: readonly ReservePlugin[];
  readonly permitPlugins: readonly PermitPlugin[];
  readonly preBindPlugins: readonly PreBindPlugin[];
  readonly bindPlugins: readonly BindPlugin[];
  readonly #weights = new Map<string, number>();
  #snapshot: Snapshot | null = null;
  #nominated: (nodeName: string) => readonly PodInfo[] = () => [];

  constructor(profile: Profile) {
    this.profileName = profile.schedulerName;
    this.percentageOfNodesToScore = profile.percentageOfNodesToScore ?? 0;
    const plugins: Plugin[] = [];
    for (const e of profile.plugins) {
      const p = e.factory(this);
      assert(!this.#weights.has(p.name), `plugin ${p.name} is listed twice in profile ${profile.schedulerName}`);
      const weight = e.weight ?? 1;
      assert(Number.isInteger(weight) && weight > 0, `plugin ${p.name} has weight ${weight}; want a positive integer`);
      this.#weights.set(p.name, weight);
      plugins.push(p);
    }
    this.plugins = plugins;
    this.preFilterPlugins = plugins.filter(isPreFilter);
    this.filterPlugins = plugins.filter(isFilter);
    this.postFilterPlugins = plugins.filter(isPostFilter);
    this.preScorePlugins = plugins.filter(isPreScore);
    this.scorePlugins = plugins.filter(isScore);
    this.reservePlugins = plugins.filter(isReserve);
    this.permitPlugins = plugins.filter(isPermit);
    this.preBindPlugins = plugins.filter(isPreBind);
    this.bindPlugins = plugins.filter(isBind);
  }

  // --- Handle ---
  snapshot(): Snapshot {
    assert(this.#snapshot !== null, "a plugin read the snapshot outside a scheduling cycle");
    return this.#snapshot;
  }
  nominatedPodsForNode(nodeName: string): readonly PodInfo[] {
    return this.#nominated(nodeName);
  }
  /** Starts a cycle over `snapshot`; the nominator gives pods nominated to each node by earlier preemptions. */
  beginCycle(snapshot: Snapshot, nominator?: (nodeName: string) => readonly PodInfo[]): void {
    this.#snapshot = snapshot;
    this.#nominated = nominator ?? (() => []);
  }

  weightOf(pluginName: string): number {
    return this.#weights.get(pluginName) ?? 1;
  }

  /**
   * RunPreFilterPlugins. Skip drops the plugin's Filter for this cycle; UnschedulableAndUnresolvable
   * stops at once; Unschedulable lets the others run (preemption needs their state) and is returned
   * at the end. PreFilterResults intersect; an empty intersection rejects the pod everywhere.
   */
  runPreFilterPlugins(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): { result: PreFilterResult | null; status: Status; pluginsWithNodes: Set<string> } {
    let result: ReadonlySet<string> | null = null;
    let returnStatus: Status = SUCCESS;
    const pluginsWithNodes = new Set<string>();
    for (const pl of this.preFilterPlugins) {
      const { result: r, status } = pl.preFilter(state, pod, nodes);
      const s = orSuccess(status);
      if (s.isSkip()) {
        state.skipFilterPlugins.add(pl.name);
        continue;
      }
      if (!s.isSuccess()) {
        s.withPlugin(pl.name);
        if (s.code === Code.UnschedulableAndUnresolvable) return { result: null, status: s, pluginsWithNodes };
        if (s.code === Code.Unschedulable) {
          returnStatus = s;
          continue;
        }
        return { result: null, status: wrapError(`running PreFilter plugin "${pl.name}"`, s).withPlugin(pl.name), pluginsWithNodes };
      }
      if (r?.nodeNames != null) {
        pluginsWithNodes.add(pl.name);
        const names: ReadonlySet<string> = r.nodeNames;
        const prev: ReadonlySet<string> | null = result;
        result = prev === null ? new Set<string>(names) : new Set<string>([...prev].filter((n: string) => names.has(n)));
        if (result.size === 0) {
          const names = [...pluginsWithNodes].sort();
          const msg = names.length === 1 ? `node(s) didn't satisfy plugin ${names[0]}` : `node(s) didn't satisfy plugin(s) [${names.join(" ")}] simultaneously`;
          return { result: { nodeNames: result }, status: newStatus(Code.UnschedulableAndUnresolvable, msg), pluginsWithNodes };
        }
      }
    }
    return { result: result === null ? null : { nodeNames: result }, status: returnStatus, pluginsWithNodes };
  }

  runPreFilterExtensionAddPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): Status {
    for (const pl of this.preFilterPlugins) {
      if (state.skipFilterPlugins.has(pl.name)) continue;
      const ext = pl.preFilterExtensions?.();
      if (ext == null) continue;
      const s = orSuccess(ext.addPod(state, podToSchedule, podInfoToAdd, nodeInfo));
      if (!s.isSuccess()) return wrapError(`running AddPod on PreFilter plugin "${pl.name}"`, s);
    }
    return SUCCESS;
  }

  runPreFilterExtensionRemovePod(state: CycleState, podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): Status {
    for (const pl of this.preFilterPlugins) {
      if (state.skipFilterPlugins.has(pl.name)) continue;
      const ext = pl.preFilterExtensions?.();
      if (ext == null) continue;
      const s = orSuccess(ext.removePod(state, podToSchedule, podInfoToRemove, nodeInfo));
      if (!s.isSuccess()) return wrapError(`running RemovePod on PreFilter plugin "${pl.name}"`, s);
    }
    return SUCCESS;
  }

  /** RunFilterPlugins: the first plugin that rejects the node decides its status. */
  runFilterPlugins(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    for (const pl of this.filterPlugins) {
      if (state.skipFilterPlugins.has(pl.name)) continue;
      let s = orSuccess(pl.filter(state, pod, nodeInfo));
      if (s.isSuccess()) continue;
      if (!s.isRejected()) s = wrapError(`running "${pl.name}" filter plugin`, s);
      return s.withPlugin(pl.name);
    }
    return SUCCESS;
  }

  /**
   * RunFilterPluginsWithNominatedPods: first as if the nominated pods of equal or higher priority
   * already ran on the node (the pod must not take room freed for them), then, if that passed and
   * there were such pods, without them (affinity to them must not count, they may land elsewhere).
   */
  runFilterPluginsWithNominatedPods(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    // Almost always no pod is nominated to the node: skip the what-if without allocating.
    if (this.#nominated(nodeInfo.name).length === 0) return this.runFilterPlugins(state, pod, nodeInfo);
    const added = this.#addGENominatedPods(state, pod, nodeInfo);
    if (added instanceof Status) return added;
    const first = this.runFilterPlugins(added.state, pod, added.nodeInfo);
    if (!first.isSuccess() || !added.podsAdded) return first;
    return this.runFilterPlugins(state, pod, nodeInfo);
  }

  #addGENominatedPods(state: CycleState, pod: Pod, nodeInfo: NodeInfo): { podsAdded: boolean; state: CycleState; nodeInfo: NodeInfo } | Status {
    const nominated = this.#nominated(nodeInfo.name);
    const priority = podPriority(pod);
    const uid = pod.metadata?.uid;
    const ge = nominated.filter((pi) => podPriority(pi.pod) >= priority && (uid === undefined || pi.pod.metadata?.uid !== uid));
    if (ge.length === 0) return { podsAdded: false, state, nodeInfo };
    const nodeInfoOut = nodeInfo.clone();
    const stateOut = state.clone();
    for (const pi of ge) {
      nodeInfoOut.addPod(pi);
      const s = this.runPreFilterExtensionAddPod(stateOut, pod, pi, nodeInfoOut);
      if (!s.isSuccess()) return s;
    }
    return { podsAdded: true, state: stateOut, nodeInfo: nodeInfoOut };
  }

  /**
   * RunPostFilterPlugins: the first success wins; rejections collect their reasons into one
   * Unschedulable status; an error stops the run.
   */
  runPostFilterPlugins(state: CycleState, pod: Pod, nodeToStatus: NodeToStatus): { result: PostFilterResult | null; status: Status } {
    const reasons: string[] = [];
    let rejector = "";
    let result: PostFilterResult | null = null;
    for (const pl of this.postFilterPlugins) {
      const r = pl.postFilter(state, pod, nodeToStatus);
      const s = r.status;
      if (s.isSuccess()) return { result: r.result, status: s };
      if (s.code === Code.UnschedulableAndUnresolvable) return { result: r.result, status: s.withPlugin(pl.name) };
      if (!s.isRejected()) return { result: null, status: asStatus(new Error(s.message())).withPlugin(pl.name) };
      if (r.result !== null) result = r.result;
      reasons.push(...s.reasonsOrError());
      if (rejector === "") rejector = pl.name;
    }
    return { result, status: newStatus(Code.Unschedulable, ...reasons).withPlugin(rejector) };
  }

  /** RunPreScorePlugins: Skip drops the plugin's Score for this cycle. */
  runPreScorePlugins(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): Status {
    for (const pl of this.preScorePlugins) {
      const s = orSuccess(pl.preScore(state, pod, nodes));
      if (s.isSkip()) {
        state.skipScorePlugins.add(pl.name);
        continue;
      }
      if (!s.isSuccess()) return wrapError(`running PreScore plugin "${pl.name}"`, s);
    }
    return SUCCESS;
  }

  /**
   * RunScorePlugins: each plugin scores every node, normalizes, checks the 0..100 range, and is
   * multiplied by its weight; a node's total is the sum.
   */
  runScorePlugins(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): { scores: NodePluginScores[]; status: Status } {
    const active = this.scorePlugins.filter((pl) => !state.skipScorePlugins.has(pl.name));
    const all: NodePluginScores[] = nodes.map((n) => ({ name: n.name, scores: [], totalScore: 0 }));
    for (const pl of active) {
      const list: NodeScore[] = [];
      for (const n of nodes) {
        const r = pl.score(state, pod, n);
        const s = orSuccess(r.status);
        if (!s.isSuccess()) return { scores: [], status: wrapError(`running Score plugin "${pl.name}"`, s) };
        list.push({ name: n.name, score: r.score });
      }
      if (pl.normalizeScore !== undefined) {
        const s = orSuccess(pl.normalizeScore(state, pod, list));
        if (!s.isSuccess()) return { scores: [], status: wrapError(`running Normalize on Score plugin "${pl.name}"`, s) };
      }
      const weight = this.weightOf(pl.name);
      for (let i = 0; i < list.length; i++) {
        const score = list[i]!.score;
        if (score > MAX_NODE_SCORE || score < MIN_NODE_SCORE) {
          return { scores: [], status: asStatus(new Error(`plugin "${pl.name}" returns an invalid score ${score}, it should in the range of [${MIN_NODE_SCORE}, ${MAX_NODE_SCORE}] after normalizing`)) };
        }
        const weighted = score * weight;
        all[i]!.scores.push({ name: pl.name, score: weighted });
        all[i]!.totalScore += weighted;
      }
    }
    return { scores: all, status: SUCCESS };
  }

  runReservePluginsReserve(state: CycleState, pod: Pod, nodeName: string): Status {
    for (const pl of this.reservePlugins) {
      const s = orSuccess(pl.reserve(state, pod, nodeName));
      if (s.isSuccess()) continue;
      if (s.isRejected()) return s.withPlugin(pl.name);
      return wrapError(`running Reserve plugin "${pl.name}"`, s).withPlugin(pl.name);
    }
    return SUCCESS;
  }

  /** Unreserve runs in reverse order, as upstream, so plugins undo in the opposite order they reserved. */
  runReservePluginsUnreserve(state: CycleState, pod: Pod, nodeName: string): void {
    for (let i = this.reservePlugins.length - 1; i >= 0; i--) this.reservePlugins[i]!.unreserve(state, pod, nodeName);
  }

  /** RunPermitPlugins: a rejection wins; otherwise Wait with the shortest timeout when any plugin waits. */
  runPermitPlugins(state: CycleState, pod: Pod, nodeName: string): { status: Status; timeoutMs: number } {
    let waitMs = Infinity;
    for (const pl of this.permitPlugins) {
      const r = pl.permit(state, pod, nodeName);
      const s = orSuccess(r.status);
      if (s.isSuccess()) continue;
      if (s.isRejected()) return { status: s.withPlugin(pl.name), timeoutMs: 0 };
      if (s.isWait()) {
        waitMs = Math.min(waitMs, r.timeoutMs ?? PERMIT_WAIT_MS_MAX);
        continue;
      }
      return { status: wrapError(`running Permit plugin "${pl.name}"`, s).withPlugin(pl.name), timeoutMs: 0 };
    }
    if (waitMs !== Infinity) return { status: newStatus(Code.Wait), timeoutMs: Math.min(waitMs, PERMIT_WAIT_MS_MAX) };
    return { status: SUCCESS, timeoutMs: 0 };
  }

  async runPreBindPlugins(state: CycleState, pod: Pod, nodeName: string): Promise<Status> {
    for (const pl of this.preBindPlugins) {
      const s = orSuccess(await pl.preBind(state, pod, nodeName));
      if (!s.isSuccess()) return s.isRejected() ? s.withPlugin(pl.name) : wrapError(`running PreBind plugin "${pl.name}"`, s).withPlugin(pl.name);
    }
    return SUCCESS;
  }

  /** RunBindPlugins: the first binder that does not Skip binds; Skip from all of them is Skip. */
  async runBindPlugins(state: CycleState, pod: Pod, nodeName: string): Promise<Status> {
    if (this.bindPlugins.length === 0) return newStatus(Code.Skip);
    for (const pl of this.bindPlugins) {
      const s = orSuccess(await pl.bind(state, pod, nodeName));
      if (s.isSkip()) continue;
      if (!s.isSuccess()) return s.isRejected() ? s.withPlugin(pl.name) : wrapError(`running Bind plugin "${pl.name}"`, s).withPlugin(pl.name);
      return s;
    }
    return newStatus(Code.Skip);
  }

  hasPostFilterPlugins(): boolean {
    return this.postFilterPlugins.length > 0;
  }
  hasScorePlugins(): boolean {
    return this.scorePlugins.length > 0;
  }
  hasFilterPlugins(): boolean {
    return this.filterPlugins.length > 0;
  }

  /** A fresh CycleState for a pod. */
  newCycleState(): CycleState {
    return new CycleState();
  }
}

/** A Permit plugin may hold a pod at most this long (upstream maxTimeout: 15 minutes). */
export const PERMIT_WAIT_MS_MAX = 15 * 60 * 1000;

function wrapError(context: string, s: Status): Status {
  return asStatus(new Error(`${context}: ${s.message()}`));
}

