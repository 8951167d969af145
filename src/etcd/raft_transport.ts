/**
 * What a member needs of the network between members. `PeerTransport` (src/etcd/peer/) is the real one
 * on the peer URLs; the simulator (test/sim/) gives each member a handle on its simulated network.
 * Sending never blocks and may drop: Raft retries, and a dropped message to a peer is reported through
 * `onUnreachable` so the leader probes it instead of streaming blindly.
 */
import type { Message } from "../raft/types.js";

export interface RaftTransport {
  /** Starts listening and dialling the peers added so far. */
  start(): Promise<void>;
  stop(): Promise<void>;
  addPeer(id: bigint, urls: readonly string[]): void;
  removePeer(id: bigint): void;
  /** Queues messages for their `to`; unknown peers are dropped (reported as unreachable). */
  send(messages: readonly Message[]): void;
  /** Every message received for this member, in order per sender. */
  onMessage(handler: (m: Message) => void): void;
  onUnreachable(handler: (id: bigint) => void): void;
  /** Once per MsgSnap sent: whether it failed. */
  onSnapshotStatus(handler: (id: bigint, failed: boolean) => void): void;
  /** Optional: a peer's process is known to be gone (not just silent). */
  onPeerDown?(handler: (id: bigint) => void): void;
  /** Optional: find out now whether a peer's process is gone (answered through onPeerDown). */
  checkPeerDown?(id: bigint): void;
  /** Optional: a peer told this member it was removed from the cluster. */
  onRemoved?(handler: () => void): void;
}

/**
 * The transport of a member that does not listen for peers (`tk8s server`'s embedded datastore, or a
 * config with no --listen-peer-urls): fine alone; any message for another member is reported unreachable.
 */
export class NoPeerTransport implements RaftTransport {
  #onUnreachable: (id: bigint) => void = () => {};
  #onSnapshotStatus: (id: bigint, failed: boolean) => void = () => {};

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  addPeer(): void {}
  removePeer(): void {}
  send(messages: readonly Message[]): void {
    for (const m of messages) {
      if (m.type === "MsgSnap") this.#onSnapshotStatus(m.to, true);
      this.#onUnreachable(m.to);
    }
  }
  onMessage(): void {}
  onUnreachable(handler: (id: bigint) => void): void {
    this.#onUnreachable = handler;
  }
  onSnapshotStatus(handler: (id: bigint, failed: boolean) => void): void {
    this.#onSnapshotStatus = handler;
  }
}
