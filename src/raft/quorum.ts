/**
 * Majority arithmetic over one set of voters (etcd raft's quorum/majority.go).
 *
 *   voters {1,2,3,4,5}, match {1:9, 2:7, 3:7, 4:3, 5:0} → sorted desc 9,7,7,3,0 → the 3rd (a majority) is 7
 */

export type VoteResult = "VotePending" | "VoteLost" | "VoteWon";

/**
 * The highest index that a majority of `voters` have (by `matchOf`). An empty set commits everything
 * (MAX_SAFE_INTEGER), as etcd's, so it never holds back the other half of a joint config.
 */
export function majorityCommitted(voters: ReadonlySet<bigint>, matchOf: (id: bigint) => number | undefined): number {
  const n = voters.size;
  if (n === 0) return Number.MAX_SAFE_INTEGER;
  const matches: number[] = [];
  for (const id of voters) matches.push(matchOf(id) ?? 0);
  matches.sort((a, b) => b - a);
  return matches[Math.floor(n / 2)]!;
}

/** Won if a majority said yes, lost if a majority can no longer say yes, else pending. */
export function voteResult(voters: ReadonlySet<bigint>, votes: ReadonlyMap<bigint, boolean>): VoteResult {
  if (voters.size === 0) return "VoteWon";
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const q = Math.floor(voters.size / 2) + 1;
  if (granted >= q) return "VoteWon";
  if (granted + missing >= q) return "VotePending";
  return "VoteLost";
}
