/**
 * The pod lifecycle event generator (upstream's generic PLEG): relists the runtime every second and
 * tells the pod workers which pods had a container or sandbox change state (started, exited, removed).
 * It is how the kubelet notices a container that exited on its own. Also reports pods the runtime holds
 * that no worker knows (left by an earlier run of the kubelet) so housekeeping can remove them.
 */
import type { Clock, Logger, Timer } from "../env/env.js";
import { rethrowIfAssertion } from "../util/assert.js";
import type { RuntimeService } from "./cri/cri.js";
import { POD_UID_LABEL } from "./runtime_pod.js";

export const RELIST_PERIOD_MS = 1_000;

export interface PlegOptions {
  readonly clock: Clock;
  readonly log: Logger;
  readonly runtime: RuntimeService;
  readonly onPodChanged: (uid: string) => void;
  readonly relistPeriodMs?: number;
}

export class Pleg {
  readonly #o: PlegOptions;
  #fingerprints = new Map<string, string>();
  #timer: Timer | null = null;
  #stopped = true;
  #running: Promise<void> | null = null;
  relists = 0;

  constructor(options: PlegOptions) {
    this.#o = options;
  }

  /** Pod uids the runtime held at the last relist. */
  podUids(): string[] {
    return [...this.#fingerprints.keys()];
  }

  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimer(this.#o.relistPeriodMs ?? RELIST_PERIOD_MS, () => {
      this.#timer = null;
      this.#running = this.relist().finally(() => {
        this.#running = null;
        this.#schedule();
      });
    });
  }

  /** One relist: emits a change for every pod whose runtime state differs from the last relist. */
  async relist(): Promise<void> {
    let parts: Map<string, string[]>;
    try {
      parts = new Map();
      const add = (uid: string | undefined, s: string) => {
        if (uid === undefined) return;
        const list = parts.get(uid) ?? [];
        list.push(s);
        parts.set(uid, list);
      };
      for (const s of await this.#o.runtime.listPodSandbox()) add(s.labels[POD_UID_LABEL], `s:${s.id}:${s.state}`);
      for (const c of await this.#o.runtime.listContainers()) add(c.labels[POD_UID_LABEL], `c:${c.id}:${c.state}`);
    } catch (err) {
      rethrowIfAssertion(err);
      this.#o.log.warn("cannot relist the runtime", { error: (err as Error).message });
      return;
    }
    this.relists++;
    const next = new Map<string, string>();
    for (const [uid, list] of parts) next.set(uid, list.sort().join(","));
    const changed = new Set<string>();
    for (const [uid, fp] of next) if (this.#fingerprints.get(uid) !== fp) changed.add(uid);
    for (const uid of this.#fingerprints.keys()) if (!next.has(uid)) changed.add(uid);
    this.#fingerprints = next;
    for (const uid of changed) this.#o.onPodChanged(uid);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
    await this.#running;
  }
}
