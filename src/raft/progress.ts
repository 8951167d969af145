/**
 * The leader's view of one follower (etcd raft's tracker/progress.go).
 *
 *   StateProbe:     one MsgApp per heartbeat interval until the follower's match is found
 *   StateReplicate: stream MsgApps optimistically (next advances on send), bounded by Inflights
 *   StateSnapshot:  a snapshot is on its way; send nothing until it is acknowledged
 *
 * Invariant: match < next. An ack raises match; a rejection lowers next (probe) or falls back to probe.
 */
import { Inflights } from "./inflights.js";

export type ProgressState = "StateProbe" | "StateReplicate" | "StateSnapshot";

export class Progress {
  /** Highest index known to be on the follower. */
  match: number;
  /** Next index to send. */
  next: number;
  state: ProgressState = "StateProbe";
  /** StateSnapshot: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from within the last election timeout (check-quorum), or just added. */
  recentActive = false;
  /** StateProbe: a MsgApp is out; wait for an answer (or a heartbeat response) before the next. */
  probeSent = false;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(options: { match: number; next: number; maxInflight: number; maxInflightBytes: number; isLearner: boolean }) {
    this.match = options.match;
    this.next = options.next;
    this.inflights = new Inflights(options.maxInflight, options.maxInflightBytes);
    this.isLearner = options.isLearner;
  }

  #resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, the follower has at least the snapshot: probe from just after it.
    if (this.state === "StateSnapshot") {
      const pendingSnapshot = this.pendingSnapshot;
      this.#resetState("StateProbe");
      this.next = Math.max(this.match + 1, pendingSnapshot + 1);
    } else {
      this.#resetState("StateProbe");
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.#resetState("StateReplicate");
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.#resetState("StateSnapshot");
    this.pendingSnapshot = snapshotIndex;
  }

  /** An ack for index n. Returns whether match moved (an old, reordered ack does not move it). */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /** A MsgApp carrying `entries` entries and `bytes` bytes, the last at `lastIndex`, went out. */
  sentEntries(entries: number, bytes: number, lastIndex: number): void {
    switch (this.state) {
      case "StateReplicate":
        if (entries > 0) {
          this.next = lastIndex + 1;
          this.inflights.add(lastIndex, bytes);
        }
        break;
      case "StateProbe":
        this.probeSent = true;
        break;
      case "StateSnapshot":
        throw new Error(`Cannot send entries: progress is in ${this.state}`);
    }
  }

  /**
   * The follower rejected a MsgApp at index `rejected`, hinting its log matches at most up to
   * `matchHint`. Returns false if the rejection is stale (from an older message).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === "StateReplicate") {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), 1);
    this.probeSent = false;
    return true;
  }

  /** Whether the leader must hold back MsgApps to this follower. */
  isPaused(): boolean {
    switch (this.state) {
      case "StateProbe":
        return this.probeSent;
      case "StateReplicate":
        return this.inflights.full();
      case "StateSnapshot":
        return true;
    }
  }
}
