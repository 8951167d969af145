/**
 * What goes wrong during a run, drawn from the seed: every few hundred ms one fault — crash a member
 * (it restarts a while later), partition the cluster (a random minority, the leader alone, or a one-way
 * cut), heal, change how lossy and slow the network is, give a member a failing disk for a while, or
 * a stalling one (fsyncs of hundreds of ms: a Ready's messages and its fsync drift far apart).
 * At most a minority of members is down at once, so the cluster can make progress between faults and
 * the history has something to check; partitions may still leave no quorum for a while.
 */
import type { SimCluster, MemberSlot } from "./cluster.js";
import { NETWORK_FAULTS_NONE } from "./network.js";

export interface FaultOptions {
  /** Gap between faults, ms. */
  readonly gapMsMin: number;
  readonly gapMsMax: number;
  /** How long a crashed member stays down, ms. */
  readonly downMsMax: number;
  /** Probability of an EIO per write or fsync on a member whose disk is failing. */
  readonly diskErrorRate: number;
  /** A stalling disk's fsyncs take up to one of these (ms), for a while; empty: disks never stall. */
  readonly slowDiskSyncMs: readonly number[];
}

export const FAULT_DEFAULTS: FaultOptions = { gapMsMin: 50, gapMsMax: 400, downMsMax: 600, diskErrorRate: 0.05, slowDiskSyncMs: [60, 150, 400] };

export class FaultSchedule {
  readonly #cluster: SimCluster;
  readonly #options: FaultOptions;
  #stopped = false;
  faults = 0;

  constructor(cluster: SimCluster, options: FaultOptions = FAULT_DEFAULTS) {
    this.#cluster = cluster;
    this.#options = options;
  }

  start(): void {
    this.#next();
  }

  /** No more faults: heal the network, mend the disks, and restart every member that is down. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const c = this.#cluster;
    c.network.heal();
    c.network.setFaults(NETWORK_FAULTS_NONE);
    for (const s of c.slots) {
      s.faultyFs.errorRate = 0;
      s.faultyFs.latency = c.options.diskLatency;
    }
    await c.restartAll();
  }

  #next(): void {
    const c = this.#cluster;
    c.clock.setTimer(c.random.between(this.#options.gapMsMin, this.#options.gapMsMax), () => {
      if (this.#stopped) return;
      this.#inject();
      this.#next();
    });
  }

  #inject(): void {
    const c = this.#cluster;
    const r = c.random;
    const n = c.active().length;
    const minority = Math.floor((n - 1) / 2);
    this.faults++;
    const roll = r.int(100);
    if (roll < 25) {
      const up = c.up();
      if (c.down().length >= minority || up.length === 0) return;
      // Often the leader: that is where crashes hurt.
      const leader = c.leader();
      const victim = leader !== null && r.chance(0.5) ? leader : r.pick(up);
      c.crash(victim);
      this.#restartLater(victim);
    } else if (roll < 45) {
      const ids = shuffle(c, c.active().map((s) => s.id));
      const k = r.between(1, Math.max(1, minority));
      c.network.partition(ids.slice(0, k), ids.slice(k));
    } else if (roll < 55) {
      const leader = c.leader();
      if (leader !== null) c.network.partition([leader.id], c.active().filter((s) => s !== leader).map((s) => s.id));
    } else if (roll < 60) {
      const a = r.pick(c.active());
      const b = r.pick(c.active().filter((s) => s !== a));
      c.network.cutOneWay(a.id, b.id);
      c.trace.add(`fault ${c.clock.nowMs()} cut ${a.name}>${b.name}`);
    } else if (roll < 80) {
      c.network.heal();
    } else if (roll < 92) {
      const spread = r.pick([0, 2, 10, 30]);
      c.network.setFaults({ dropRate: r.pick([0, 0.01, 0.05, 0.2]), duplicateRate: r.pick([0, 0.01, 0.05]), delayMsMin: 1, delayMsMax: 1 + spread });
      c.trace.add(`fault ${c.clock.nowMs()} network ${JSON.stringify(c.network.faults)}`);
    } else if (roll < 96) {
      const s = r.pick(c.active());
      s.faultyFs.errorRate = this.#options.diskErrorRate;
      c.trace.add(`fault ${c.clock.nowMs()} disk-errors ${s.name}`);
      c.clock.setTimer(r.between(50, 500), () => {
        s.faultyFs.errorRate = 0;
        // A member the failing disk stopped comes back once the disk is mended.
        if (!this.#stopped && s.member === null) void c.restart(s);
      });
    } else if (this.#options.slowDiskSyncMs.length > 0) {
      const s = r.pick(c.active());
      const base = c.options.diskLatency ?? { appendMsMax: 0, syncMsMax: 0 };
      s.faultyFs.latency = { appendMsMax: Math.max(base.appendMsMax, 5), syncMsMax: r.pick(this.#options.slowDiskSyncMs) };
      c.trace.add(`fault ${c.clock.nowMs()} slow-disk ${s.name} ${s.faultyFs.latency.syncMsMax}`);
      c.clock.setTimer(r.between(200, 1500), () => {
        if (!this.#stopped) s.faultyFs.latency = c.options.diskLatency;
      });
    }
  }

  #restartLater(slot: MemberSlot): void {
    const c = this.#cluster;
    c.clock.setTimer(c.random.between(20, this.#options.downMsMax), () => {
      if (!this.#stopped) void c.restart(slot);
    });
  }
}

function shuffle<T>(c: SimCluster, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = c.random.int(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
