/**
 * Data that plugins share within one scheduling cycle of one pod (upstream `CycleState`): a PreFilter
 * computes something once, its Filter reads it for every node. Preemption clones it to try removals.
 */
export interface StateData {
  /** A copy deep enough that changes to the clone (AddPod/RemovePod during preemption) leave this one alone. */
  clone(): StateData;
}

export class CycleState {
  #data = new Map<string, StateData>();
  /** Plugins whose PreFilter said Skip: their Filter is not run this cycle. */
  skipFilterPlugins = new Set<string>();
  /** Plugins whose PreScore said Skip: their Score is not run this cycle. */
  skipScorePlugins = new Set<string>();

  read<T extends StateData>(key: string): T | undefined {
    return this.#data.get(key) as T | undefined;
  }
  write(key: string, value: StateData): void {
    this.#data.set(key, value);
  }
  delete(key: string): void {
    this.#data.delete(key);
  }
  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.#data) c.#data.set(k, v.clone());
    c.skipFilterPlugins = new Set(this.skipFilterPlugins);
    c.skipScorePlugins = new Set(this.skipScorePlugins);
    return c;
  }
}
