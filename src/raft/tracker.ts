/**
 * The leader's (and a candidate's) view of the membership: who votes, who learns, each one's Progress,
 * and the votes of the current election (etcd raft's tracker/tracker.go, without joint configs).
 */
import { majorityCommitted, voteResult, type VoteResult } from "./quorum.js";
import { Progress } from "./progress.js";
import type { ConfState } from "./types.js";

export class ProgressTracker {
  readonly voters = new Set<bigint>();
  readonly learners = new Set<bigint>();
  readonly progress = new Map<bigint, Progress>();
  readonly votes = new Map<bigint, boolean>();
  readonly maxInflight: number;
  readonly maxInflightBytes: number;

  constructor(maxInflight: number, maxInflightBytes: number) {
    this.maxInflight = maxInflight;
    this.maxInflightBytes = maxInflightBytes;
  }

  confState(): ConfState {
    return { voters: sortIds(this.voters), learners: sortIds(this.learners) };
  }

  /** Member ids in ascending order, so messages go out in the same order on every run. */
  ids(): bigint[] {
    return sortIds(this.progress.keys());
  }

  isSingleton(): boolean {
    return this.voters.size === 1;
  }

  /** The highest index stored on a quorum of voters. */
  committed(): number {
    return majorityCommitted(this.voters, (id) => this.progress.get(id)?.match);
  }

  /** Whether a quorum of voters was heard from recently (the leader counts itself active). */
  quorumActive(): boolean {
    const votes = new Map<bigint, boolean>();
    for (const [id, pr] of this.progress) if (!pr.isLearner) votes.set(id, pr.recentActive);
    return voteResult(this.voters, votes) === "VoteWon";
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Records id's vote; only the first answer of a member counts. */
  recordVote(id: bigint, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: voteResult(this.voters, this.votes) };
  }

  newProgress(match: number, next: number, isLearner: boolean): Progress {
    return new Progress({ match, next, maxInflight: this.maxInflight, maxInflightBytes: this.maxInflightBytes, isLearner });
  }
}

export function sortIds(ids: Iterable<bigint>): bigint[] {
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
