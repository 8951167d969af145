/**
 * The simulated network between members: each member gets a `RaftTransport` handle. Every message
 * goes through one place that decides, from the run's seed, whether it is dropped, how long it takes
 * (random delays reorder it), and whether a copy arrives twice; cut links (partitions, also one-way)
 * drop it at delivery time, as a cable pulled while the message is on the wire. Time is the
 * ManualClock's: a delivery is a timer, so the whole network is deterministic given the seed and the
 * order in which members send.
 *
 * As the real transport: a message to a peer the sender cannot reach (cut, stopped, unknown, or a full
 * link) is reported through `onUnreachable`, and each MsgSnap ends with `onSnapshotStatus`.
 */
import type { ManualClock } from "../../src/env/manual_clock.js";
import type { RaftTransport } from "../../src/etcd/raft_transport.js";
import type { Message } from "../../src/raft/types.js";
import { SimRandom } from "./rand.js";
import type { TraceHash } from "./trace.js";

/** What the network does to messages; any of it may change during a run. */
export interface NetworkFaults {
  /** Probability a message is lost. */
  readonly dropRate: number;
  /** Probability a delivered message arrives a second time (a retrying sender). */
  readonly duplicateRate: number;
  /** Delay range, ms; a spread larger than the gap between sends reorders messages. */
  readonly delayMsMin: number;
  readonly delayMsMax: number;
}

export const NETWORK_FAULTS_NONE: NetworkFaults = { dropRate: 0, duplicateRate: 0, delayMsMin: 1, delayMsMax: 1 };

/**
 * Messages in flight per directed link. A real stream's buffer is bounded too (the peer transport's
 * queue): beyond it messages are dropped and the peer reported unreachable.
 */
export const LINK_IN_FLIGHT_MAX = 4096;

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  unreachable: number;
  /** MsgSnap delivered: followers caught up by snapshot rather than by log. */
  snapshots: number;
}

export class SimNetwork {
  readonly #clock: ManualClock;
  readonly #random: SimRandom;
  readonly #trace: TraceHash | null;
  readonly #endpoints = new Map<bigint, SimTransport>();
  /** Directed cut links "from>to". */
  readonly #cut = new Set<string>();
  readonly #inFlight = new Map<string, number>();
  #faults: NetworkFaults;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, unreachable: 0, snapshots: 0 };

  constructor(clock: ManualClock, random: SimRandom, options: { faults?: NetworkFaults; trace?: TraceHash } = {}) {
    this.#clock = clock;
    this.#random = random;
    this.#faults = options.faults ?? NETWORK_FAULTS_NONE;
    this.#trace = options.trace ?? null;
  }

  /** The handle member `id` uses; a new one each time (a restarted member gets a fresh transport). */
  transport(id: bigint): SimTransport {
    const old = this.#endpoints.get(id);
    if (old !== undefined) old.detach();
    const t = new SimTransport(id, this);
    this.#endpoints.set(id, t);
    return t;
  }

  get faults(): NetworkFaults {
    return this.#faults;
  }

  setFaults(faults: NetworkFaults): void {
    if (faults.delayMsMin < 0 || faults.delayMsMax < faults.delayMsMin) {
      throw new Error(`Cannot set network faults: delay range [${faults.delayMsMin}, ${faults.delayMsMax}] is not a range`);
    }
    this.#faults = faults;
  }

  /** Cuts both directions between every member of `a` and every member of `b`. */
  partition(a: readonly bigint[], b: readonly bigint[]): void {
    for (const x of a) for (const y of b) this.cutOneWay(x, y), this.cutOneWay(y, x);
    this.#trace?.add(`net partition [${a.join(",")}] | [${b.join(",")}]`);
  }

  /** Messages from `from` to `to` are lost; the other way still works. */
  cutOneWay(from: bigint, to: bigint): void {
    this.#cut.add(`${from}>${to}`);
  }

  heal(): void {
    this.#cut.clear();
    this.#trace?.add("net heal");
  }

  isCut(from: bigint, to: bigint): boolean {
    return this.#cut.has(`${from}>${to}`);
  }

  /** @internal Called by a transport. */
  send(from: SimTransport, m: Message): void {
    this.stats.sent++;
    const link = `${m.from}>${m.to}`;
    const inFlight = this.#inFlight.get(link) ?? 0;
    if (!from.knows(m.to) || inFlight >= LINK_IN_FLIGHT_MAX || this.#random.chance(this.#faults.dropRate)) {
      this.#lose(from, m, "drop");
      return;
    }
    // Raft tolerates every duplicate but a proposal's: neither it nor etcd dedupes MsgProp, so a copy
    // would apply the write twice. etcd's TCP streams never duplicate; the peer transport must not
    // resend a MsgProp after reconnecting either. Everything else may arrive twice.
    const copies = m.type !== "MsgProp" && this.#random.chance(this.#faults.duplicateRate) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      const delayMs = this.#random.between(this.#faults.delayMsMin, this.#faults.delayMsMax);
      this.#inFlight.set(link, (this.#inFlight.get(link) ?? 0) + 1);
      this.#clock.setTimer(delayMs, () => {
        this.#inFlight.set(link, this.#inFlight.get(link)! - 1);
        this.#deliver(from, m, i === 0);
      });
    }
  }

  #deliver(from: SimTransport, m: Message, first: boolean): void {
    const to = this.#endpoints.get(m.to);
    if (to === undefined || !to.running || this.isCut(m.from, m.to)) {
      if (first) this.#lose(from, m, "cut");
      else this.stats.dropped++;
      return;
    }
    // As the real transport: a sender the receiver does not know yet (it joined after the membership
    // the receiver has applied) becomes a peer it can answer (etcd's X-PeerURLs).
    to.learn(m.from);
    this.stats.delivered++;
    this.#trace?.add(`net ${this.#clock.nowMs()} ${m.from}>${m.to} ${m.type} t${m.term} i${m.index} lt${m.logTerm} c${m.commit} n${m.entries.length}${m.reject ? " rej" : ""}`);
    // The sender's transport hears how a snapshot send ended; a duplicate does not end it again.
    if (m.type === "MsgSnap" && first) {
      this.stats.snapshots++;
      from.snapshotStatus(m.to, false);
    }
    to.receive(m);
  }

  #lose(from: SimTransport, m: Message, why: string): void {
    this.stats.dropped++;
    this.stats.unreachable++;
    this.#trace?.add(`net ${this.#clock.nowMs()} ${why} ${m.from}>${m.to} ${m.type} t${m.term} i${m.index}`);
    // Reported on a later turn, as a real transport notices a failed stream asynchronously: the
    // member must not be re-entered from inside its own send().
    this.#clock.setTimer(0, () => {
      from.unreachable(m.to);
      if (m.type === "MsgSnap") from.snapshotStatus(m.to, true);
    });
  }
}

/** One member's handle on the simulated network. */
export class SimTransport implements RaftTransport {
  readonly id: bigint;
  readonly #net: SimNetwork;
  readonly #peers = new Set<bigint>();
  #running = false;
  #detached = false;
  #onMessage: ((m: Message) => void) | null = null;
  #onUnreachable: ((id: bigint) => void) | null = null;
  #onSnapshotStatus: ((id: bigint, failed: boolean) => void) | null = null;

  constructor(id: bigint, net: SimNetwork) {
    this.id = id;
    this.#net = net;
  }

  get running(): boolean {
    return this.#running && !this.#detached;
  }

  async start(): Promise<void> {
    this.#running = true;
  }

  async stop(): Promise<void> {
    this.#running = false;
  }

  /** The member crashed: nothing reaches it or leaves it any more. */
  detach(): void {
    this.#detached = true;
    this.#running = false;
  }

  addPeer(id: bigint, _urls: readonly string[]): void {
    this.#peers.add(id);
  }

  removePeer(id: bigint): void {
    this.#peers.delete(id);
  }

  knows(id: bigint): boolean {
    return this.#peers.has(id);
  }

  /** A message arrived from `id`: answerable from now on. */
  learn(id: bigint): void {
    if (id !== this.id) this.#peers.add(id);
  }

  send(messages: readonly Message[]): void {
    if (!this.running) return;
    for (const m of messages) this.#net.send(this, m);
  }

  onMessage(handler: (m: Message) => void): void {
    this.#onMessage = handler;
  }

  onUnreachable(handler: (id: bigint) => void): void {
    this.#onUnreachable = handler;
  }

  onSnapshotStatus(handler: (id: bigint, failed: boolean) => void): void {
    this.#onSnapshotStatus = handler;
  }

  /** @internal */
  receive(m: Message): void {
    if (this.running) this.#onMessage?.(m);
  }

  /** @internal */
  unreachable(id: bigint): void {
    if (this.running) this.#onUnreachable?.(id);
  }

  /** @internal */
  snapshotStatus(id: bigint, failed: boolean): void {
    if (this.running) this.#onSnapshotStatus?.(id, failed);
  }
}
