/**
 * A simulated cluster: members (from a `SimMemberFactory`), each with its own MemoryFileSystem behind a
 * FaultyFileSystem and its own durable `disk` map, on one SimNetwork, all on one ManualClock and one
 * seed. Crashing a member stops it, then crashes its disk (unsynced bytes, uncommitted backend writes
 * are lost); restarting opens it again on what survived.
 *
 * Time moves only in `runFor`: the clock advances 1 ms at a time and, after each step, every promise
 * continuation that step caused runs (one macrotask turn drains the microtask queue; nothing here does
 * real IO), so a run is a pure function of the seed.
 */
import { ManualClock } from "../../src/env/manual_clock.js";
import { MemoryFileSystem } from "../../src/env/memory_fs.js";
import { MemoryLogger } from "../../src/env/memory_logger.js";
import { SeededRng } from "../../src/env/seeded_rng.js";
import { DISK_LATENCY_DEFAULT, FaultyFileSystem, type DiskLatency } from "./faulty_fs.js";
import { SimNetwork } from "./network.js";
import { RaftChecker } from "./raft_checker.js";
import { SimRandom } from "./rand.js";
import { SimStartRetryError, type SimMember, type SimMemberFactory } from "./sim_member.js";
import { TraceHash } from "./trace.js";

/** A member that has not opened after this long (its disk is slow, not stuck) is a bug. */
export const RESTART_MS_MAX = 10_000;

/** A member that could not join yet tries again this much later. */
export const JOIN_RETRY_MS = 200;

/** Errors kept per run (distinct lines). */
export const CLUSTER_ERRORS_MAX = 20;

export interface SimClusterOptions {
  readonly seed: number;
  readonly members: number;
  readonly factory: SimMemberFactory;
  /** etcd's --heartbeat-interval and --election-timeout, scaled down: the ratio is what matters. */
  readonly heartbeatMs?: number;
  readonly electionMs?: number;
  readonly requestTimeoutMs?: number;
  readonly snapshotCount?: number;
  /** How slow each member's disk is (null: every write and fsync completes at once). */
  readonly diskLatency?: DiskLatency | null;
}

/** One member's slot: what survives its crashes (fs, disk) and the running instance, if up. */
export interface MemberSlot {
  readonly id: bigint;
  readonly name: string;
  readonly fs: MemoryFileSystem;
  readonly faultyFs: FaultyFileSystem;
  readonly disk: Map<string, unknown>;
  member: SimMember | null;
  starting: boolean;
  /** Removed from the cluster by a membership change: stays down for good. */
  removed: boolean;
  /** Added to the running cluster (not one of the initial members): it joins instead of bootstrapping. */
  readonly joining: boolean;
  crashes: number;
}

export class SimCluster {
  readonly clock = new ManualClock(0);
  readonly random: SimRandom;
  readonly trace = new TraceHash({ tailMax: 200 });
  readonly network: SimNetwork;
  readonly checker = new RaftChecker();
  readonly slots: MemberSlot[] = [];
  /** Problems that are not Raft properties: a member that cannot restart, a thrown assertion. */
  readonly errors: string[] = [];
  readonly log = new MemoryLogger();
  /** Shared by the members (SimMemberContext.directory). */
  readonly directory = new Map<string, unknown>();
  readonly options: Required<SimClusterOptions>;
  /** Member starts so far: each start's rng comes from its own hashed seed. */
  #starts = 0;
  #aborted = false;
  /** Disk errors and disk latencies: their own streams, so one does not move the other's draws. */
  readonly #diskRandom: SimRandom;
  readonly #latencyRandom: SimRandom;

  constructor(options: SimClusterOptions) {
    this.options = { heartbeatMs: 10, electionMs: 100, requestTimeoutMs: 1000, snapshotCount: 50, diskLatency: DISK_LATENCY_DEFAULT, ...options };
    // Independent streams: the network's choices must not shift when a member draws one more number.
    this.random = new SimRandom(new SeededRng(mix(options.seed, 1)));
    this.network = new SimNetwork(this.clock, new SimRandom(new SeededRng(mix(options.seed, 2))), { trace: this.trace });
    const names = Array.from({ length: options.members }, (_, i) => `m${i + 1}`);
    const ids = options.factory.memberIds?.(names) ?? names.map((_, i) => BigInt(i + 1));
    this.#diskRandom = new SimRandom(new SeededRng(mix(options.seed, 4)));
    this.#latencyRandom = new SimRandom(new SeededRng(mix(options.seed, 5)));
    for (let i = 0; i < names.length; i++) this.addSlot(names[i]!, ids[i]!);
  }


  /** A slot for a member that has not started yet (the initial ones, or one the workload adds later). */
  addSlot(name: string, id: bigint, joining = false): MemberSlot {
    const fs = new MemoryFileSystem();
    const faultyFs = new FaultyFileSystem(fs, this.#diskRandom, { clock: this.clock, latencyRandom: this.#latencyRandom, latency: this.options.diskLatency });
    const slot: MemberSlot = { id, name, fs, faultyFs, disk: new Map(), member: null, starting: false, removed: false, joining, crashes: 0 };
    this.slots.push(slot);
    return slot;
  }

  /** Starts every member (the initial cluster). */
  async start(): Promise<void> {
    await this.restartAll();
  }

  /**
   * Starts every member that is down and waits until each start ended (up, or failed on a disk error).
   * Virtual time runs meanwhile: opening a member reads and writes its disk, which takes time. Only
   * outside `runFor` (timers restart single members with `restart`).
   */
  async restartAll(msMax = RESTART_MS_MAX): Promise<void> {
    let pending = 0;
    for (const s of this.down()) {
      if (s.starting || s.removed) continue;
      pending++;
      void this.restart(s).finally(() => pending--);
    }
    // Members on instant disks open without time passing: no clock step for them.
    await drain();
    if (pending > 0) await this.runUntil(() => pending === 0, msMax);
  }

  up(): MemberSlot[] {
    return this.slots.filter((s) => s.member !== null && !s.removed);
  }

  /** Members of the cluster now, up or down (not those removed). */
  active(): MemberSlot[] {
    return this.slots.filter((s) => !s.removed);
  }

  /**
   * The member was removed from the cluster: it stops for good (etcd's removed member exits) and its disk
   * is thrown away unread. The disk is not crashed: a member that applied its own removal may be closing
   * itself right now, and its last writes land on a disk nobody reads again.
   */
  retire(slot: MemberSlot): void {
    this.trace.add(`fault ${this.clock.nowMs()} retire ${slot.name}`);
    slot.removed = true;
    if (slot.member === null) return;
    slot.member.crash();
    this.checker.crashed(slot.id);
    slot.member = null;
  }

  /** Members that are down and should come back (not those removed from the cluster). */
  down(): MemberSlot[] {
    return this.slots.filter((s) => s.member === null && !s.removed);
  }

  /** The member that leads the highest term among running members, if any. */
  leader(): MemberSlot | null {
    let best: MemberSlot | null = null;
    for (const s of this.up()) {
      const m = s.member!;
      if (m.leaderId() === s.id && (best === null || m.term() > best.member!.term())) best = s;
    }
    return best;
  }

  /** Power loss on one member: it stops at once and its disk keeps only what was made durable. */
  crash(slot: MemberSlot, why = "crash"): void {
    if (slot.member === null) return;
    this.trace.add(`fault ${this.clock.nowMs()} ${why} ${slot.name}`);
    slot.member.crash();
    this.checker.crashed(slot.id);
    slot.member = null;
    slot.crashes++;
    crashDisk(slot);
  }

  async restart(slot: MemberSlot): Promise<void> {
    if (slot.member !== null || slot.starting || slot.removed) return;
    slot.starting = true;
    this.trace.add(`fault ${this.clock.nowMs()} start ${slot.name}`);
    const o = this.options;
    try {
      slot.member = await o.factory.start({
        id: slot.id,
        name: slot.name,
        peers: (slot.joining ? this.active() : this.slots.filter((s) => !s.joining)).map((s) => ({ id: s.id, name: s.name })),
        joining: slot.joining,
        directory: this.directory,
        clock: this.clock,
        // Not the next outputs of one xorshift: seeded with its successive outputs, the members' streams
        // are the same sequence shifted by one draw, and their election timeouts fall into lockstep
        // (every member campaigns in the same ms, splits the vote, forever). A hash per start is independent.
        rng: new SeededRng(mix(this.options.seed, 1000 + this.#starts++)),
        // Its own session: once this incarnation crashes, nothing it still runs can touch the disk.
        fs: slot.faultyFs.session(),
        log: this.log.child({ member: slot.name }),
        transport: this.network.transport(slot.id),
        observer: this.checker,
        disk: slot.disk,
        heartbeatMs: o.heartbeatMs,
        electionMs: o.electionMs,
        requestTimeoutMs: o.requestTimeoutMs,
        snapshotCount: o.snapshotCount,
        onFatal: (err) => this.#fatal(slot, err),
        reportError: (message) => this.#error(`member ${slot.name}: ${message}`),
      });
      // Removed from the cluster while it was opening: it stops for good, as retire() would have stopped it.
      if (slot.removed && slot.member !== null) {
        slot.member.crash();
        slot.member = null;
      }
    } catch (err) {
      // A disk error while opening is the disk's fault: try again later. Anything else is a bug.
      if (!isEio(err) && !(err instanceof SimStartRetryError)) this.#error(`member ${slot.name} failed to restart: ${describe(err)}`);
      // As an operator's supervisor restarts a member that exited: its disk is fine, only the cluster was not ready.
      if (err instanceof SimStartRetryError) this.clock.setTimer(JOIN_RETRY_MS, () => void this.restart(slot));
      crashDisk(slot);
    } finally {
      slot.starting = false;
    }
  }

  /**
   * Set when something threw out of a member or client (an assertion, a bug): the run is over, time
   * stops, and the error is reported with the seed.
   */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Records an error that ends the run (an uncaught throw inside a member, a client, a timer). */
  abort(where: string, err: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#error(`${where} threw at ${this.clock.nowMs()} ms: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }

  /** Advances virtual time by `ms`, 1 ms at a time, letting every continuation run after each step. */
  async runFor(ms: number): Promise<void> {
    await this.runUntil(() => false, ms);
  }

  /** Runs until `done()` holds (checked every ms) or `msMax` passes; returns whether it held. */
  async runUntil(done: () => boolean, msMax: number): Promise<boolean> {
    for (let i = 0; i < msMax && !this.#aborted; i++) {
      if (done()) return true;
      try {
        this.clock.advance(1);
      } catch (err) {
        this.abort("a timer (member, network or client)", err);
        return false;
      }
      await drain();
    }
    return !this.#aborted && done();
  }

  /** Bounded: a member that fails every restart must not fill memory with the same line. */
  #error(message: string): void {
    if (this.errors.length < CLUSTER_ERRORS_MAX && !this.errors.includes(message)) this.errors.push(message);
  }

  #fatal(slot: MemberSlot, err: unknown): void {
    if (!isEio(err)) this.abort(`member ${slot.name}`, err);
    // The member stopped itself; its disk loses what was not synced, as after a panic and reboot.
    if (slot.member !== null) {
      this.trace.add(`fault ${this.clock.nowMs()} fatal ${slot.name} ${err instanceof Error ? err.message : String(err)}`);
      slot.member = null;
      this.checker.crashed(slot.id);
      slot.crashes++;
      crashDisk(slot);
    }
  }
}

/** Power loss on a member's machine: queued disk operations, unsynced file bytes and uncommitted backend writes are gone. */
function crashDisk(slot: MemberSlot): void {
  slot.faultyFs.crash();
  slot.fs.crash();
  for (const v of slot.disk.values()) (v as { crash?: () => void }).crash?.();
}

/** One macrotask turn: every microtask queued so far (and those they queue) runs first. */
export function drain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Derives independent seeds for the run's random streams. */
export function mix(seed: number, stream: number): number {
  let x = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(stream, 0xc2b2ae35)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  return x >>> 0 || 1;
}

function isEio(err: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e: unknown = err; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    if ((e as { code?: string }).code === "EIO" || /\bEIO\b/.test(e.message)) return true;
  }
  return false;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
