/**
 * The cluster's operator: every few hundred ms one administrative action through a running member, as
 * etcdctl would issue it — add a member (as a learner; the simulator then starts it, joining the running
 * cluster), promote a learner that runs, remove a member (the simulator then stops it for good), move
 * the leadership to another voter, or compact the history below what the watch has seen. One action in
 * flight at a time, a bounded number per run, and never below two voters or above the initial size + 2.
 *
 * None of these is a KV operation, so none goes into the history; the checkers see their effects
 * (Raft's properties across configuration changes, convergence of the members that remain, the watch
 * surviving compaction). An action whose outcome is unknown (timed out) may still take effect later:
 * `reconcile` brings the simulator's members in line with the membership the cluster applied.
 */
import type { MemberSlot, SimCluster } from "./cluster.js";
import type { SimAdmin } from "./sim_member.js";

export interface OperatorOptions {
  readonly gapMsMin: number;
  readonly gapMsMax: number;
  /** Actions per run at most. */
  readonly actionsMax: number;
  /** Members added per run at most. */
  readonly addsMax: number;
}

export const OPERATOR_DEFAULTS: OperatorOptions = { gapMsMin: 100, gapMsMax: 500, actionsMax: 12, addsMax: 3 };

/** How long the operator waits on one action before moving on (the member's own timeout is shorter). */
const ACTION_WAIT_MS_MAX = 3000;

export interface OperatorStats {
  added: number;
  removed: number;
  promoted: number;
  transfers: number;
  compactions: number;
  /** Actions refused or timed out (not a violation: the cluster may be partitioned, the learner behind). */
  failed: number;
}

export class Operator {
  readonly #cluster: SimCluster;
  readonly #options: OperatorOptions;
  /** The revision below which compacting loses nothing the watch still needs (the watch's next revision). */
  readonly #watchNext: () => number;
  #stopped = false;
  #busy = false;
  #actions = 0;
  /** The highest revision compacted so far (compacting at or below it again is refused). */
  #compacted = 1;
  readonly stats: OperatorStats = { added: 0, removed: 0, promoted: 0, transfers: 0, compactions: 0, failed: 0 };

  constructor(cluster: SimCluster, watchNext: () => number, options: OperatorOptions = OPERATOR_DEFAULTS) {
    this.#cluster = cluster;
    this.#options = options;
    this.#watchNext = watchNext;
  }

  start(): void {
    this.#next();
  }

  /** No new actions; the one in flight finishes on its own. */
  stop(): void {
    this.#stopped = true;
  }

  get idle(): boolean {
    return !this.#busy;
  }

  #next(): void {
    const c = this.#cluster;
    c.clock.setTimer(c.random.between(this.#options.gapMsMin, this.#options.gapMsMax), () => {
      if (this.#stopped || this.#actions >= this.#options.actionsMax) return;
      if (!this.#busy) {
        this.#busy = true;
        this.#actions++;
        void this.#act()
          .catch((err: unknown) => c.abort("the operator", err))
          .finally(() => (this.#busy = false));
      }
      this.#next();
    });
  }

  async #act(): Promise<void> {
    const c = this.#cluster;
    const r = c.random;
    const leader = c.leader();
    const via = leader ?? (c.up().length > 0 ? r.pick(c.up()) : null);
    const admin = via?.member?.admin;
    if (via === null || admin === undefined) return;
    const members = admin.members();
    const voters = members.filter((m) => !m.learner);
    const roll = r.int(100);
    if (roll < 25) {
      const targets = c.up().filter((s) => s !== leader && voters.some((v) => v.id === s.id));
      if (leader === null || targets.length === 0) return;
      const target = r.pick(targets);
      c.trace.add(`admin ${c.clock.nowMs()} move-leader ${leader.name}>${target.name}`);
      if ((await this.#attempt(admin.moveLeader(target.id))) !== null) this.stats.transfers++;
    } else if (roll < 45) {
      const rev = Math.min(this.#watchNext() - 1, via.member!.revision()) - r.int(5);
      if (rev <= this.#compacted) return;
      c.trace.add(`admin ${c.clock.nowMs()} compact ${rev}`);
      if ((await this.#attempt(admin.compact(rev))) === null) return;
      this.stats.compactions++;
      this.#compacted = Math.max(this.#compacted, rev);
    } else if (roll < 65) {
      if (this.stats.added >= this.#options.addsMax || c.active().length >= c.options.members + 2) return;
      const name = `m${c.slots.length + 1}`;
      c.trace.add(`admin ${c.clock.nowMs()} add ${name}`);
      const added = await this.#attempt(admin.addMember(name, true));
      if (added === null || this.#cluster.slots.some((s) => s.name === name)) return;
      this.stats.added++;
      void c.restart(c.addSlot(name, added.value, true));
    } else if (roll < 80) {
      const learners = c.up().filter((s) => members.some((m) => m.learner && m.id === s.id));
      if (learners.length === 0) return;
      const s = r.pick(learners);
      c.trace.add(`admin ${c.clock.nowMs()} promote ${s.name}`);
      if ((await this.#attempt(admin.promoteMember(s.id))) !== null) this.stats.promoted++;
    } else {
      // Any member, up or down, voter or learner; never the last two voters.
      const candidates = c.active().filter((s) => members.some((m) => m.id === s.id && (m.learner || voters.length > 2)));
      if (candidates.length === 0) return;
      const s = r.pick(candidates);
      c.trace.add(`admin ${c.clock.nowMs()} remove ${s.name}`);
      if ((await this.#attempt(admin.removeMember(s.id))) === null) return;
      this.stats.removed++;
      c.retire(s);
    }
  }

  /** The action's result, or null if it failed or did not answer in time. */
  async #attempt<T>(p: Promise<T>): Promise<{ value: T } | null> {
    const c = this.#cluster;
    const out = await new Promise<{ ok: true; v: T } | { ok: false; why: string }>((resolve) => {
      const t = c.clock.setTimer(ACTION_WAIT_MS_MAX, () => resolve({ ok: false, why: "no answer" }));
      p.then(
        (v) => (t.cancel(), resolve({ ok: true, v })),
        (err: unknown) => (t.cancel(), resolve({ ok: false, why: err instanceof Error ? err.message : String(err) })),
      );
    });
    c.trace.add(`admin ${c.clock.nowMs()} ${out.ok ? "ok" : `failed ${out.why}`}`);
    if (out.ok) return { value: out.v };
    this.stats.failed++;
    return null;
  }

  /**
   * After the cluster quiesced (a leader applied a write of its term): make the simulator's members the
   * cluster's. A member whose removal timed out but was applied stops for good; a member whose addition
   * timed out but was applied gets a slot and starts. `admin` is the leader's.
   */
  reconcile(admin: SimAdmin): MemberSlot[] {
    const c = this.#cluster;
    const members = admin.members();
    for (const s of c.active()) if (!members.some((m) => m.id === s.id)) c.retire(s);
    const started: MemberSlot[] = [];
    for (const m of members) {
      if (c.slots.some((s) => s.id === m.id) || m.peerName === null) continue;
      const slot = c.addSlot(m.peerName, m.id, true);
      c.trace.add(`admin ${c.clock.nowMs()} reconcile: start ${slot.name}, added though its addition timed out`);
      started.push(slot);
    }
    return started;
  }
}
