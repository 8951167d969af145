/**
 * Holds back a leader's commit notices for a moment, so the next append carries them instead.
 *
 * When a quorum acknowledges an entry, Raft's leader at once sends every follower an empty MsgApp whose
 * only news is the higher commit index (etcd raft's bcastAppend after maybeCommit); each follower answers
 * it. Under a steady stream of writes the next proposal's MsgApp follows a fraction of a millisecond
 * later and carries the same commit index, so the notice is a message (and its answer) that tells
 * nothing new — and on these machines every peer message costs the sender 40–120 µs of wake-up. Measured
 * on a 3-member cluster with one write in flight, the leader spent more time writing peer sockets than
 * anything else.
 *
 * So a commit notice waits up to `delayMs`; a later MsgApp to the same follower (whose commit index is at
 * least as high: the leader's commit never goes back) replaces it, and otherwise it goes when the delay
 * runs out. To Raft this is the network delaying or losing an empty append — both allowed, and
 * harmless: the follower learns the commit index from the next append or heartbeat, and a follower's
 * linearizable read learns it from the ReadIndex heartbeat. What it costs is up to `delayMs` more before a
 * follower applies (and serves to its own watchers) the last write of a burst.
 */
import type { Clock, Timer } from "../env/env.js";
import type { Message } from "../raft/types.js";

/** How long a commit notice waits for an append to ride on; well under the heartbeat interval. */
export const COMMIT_NOTICE_DELAY_MS = 2;

export class CommitNoticeDeferral {
  readonly #clock: Clock;
  readonly #delayMs: number;
  readonly #sendNow: (messages: readonly Message[]) => void;
  /** Per follower: the commit notice held back and the timer that sends it. */
  readonly #held = new Map<bigint, { readonly message: Message; readonly timer: Timer }>();

  constructor(clock: Clock, delayMs: number, sendNow: (messages: readonly Message[]) => void) {
    this.#clock = clock;
    this.#delayMs = delayMs;
    this.#sendNow = sendNow;
  }

  /** Sends `messages`, holding back commit notices and dropping held ones that a new append supersedes. */
  send(messages: readonly Message[]): void {
    if (this.#delayMs <= 0) {
      this.#sendNow(messages);
      return;
    }
    const now: Message[] = [];
    for (const m of messages) {
      if (m.type === "MsgApp") this.#drop(m.to);
      if (isCommitNotice(m)) this.#hold(m);
      else now.push(m);
    }
    if (now.length > 0) this.#sendNow(now);
  }

  /** Drops every held notice (the member stopped, or stopped leading: a new leader sends its own). */
  clear(): void {
    for (const to of [...this.#held.keys()]) this.#drop(to);
  }

  #hold(m: Message): void {
    const timer = this.#clock.setTimer(this.#delayMs, () => {
      if (this.#held.get(m.to)?.message !== m) return;
      this.#held.delete(m.to);
      this.#sendNow([m]);
    }, { keepProcessAlive: false });
    this.#held.set(m.to, { message: m, timer });
  }

  #drop(to: bigint): void {
    const h = this.#held.get(to);
    if (h === undefined) return;
    h.timer.cancel();
    this.#held.delete(to);
  }
}

/** An append with nothing to append: it only moves the follower's commit index (or probes its log). */
function isCommitNotice(m: Message): boolean {
  return m.type === "MsgApp" && m.entries.length === 0 && m.snapshot === null;
}
