/**
 * Randomised runs: one seed drives ticks, proposals, message drops, reordering, duplicates, partitions,
 * restarts, compactions and membership changes (a sixth member added as learner or voter, and removed) in
 * a 5-member cluster, and the Raft safety properties are checked after every step: ≤ 1 leader per term,
 * leader completeness, log matching, and every member applying the same entry at each index. After healing,
 * every member must converge. A failure names its seed: `RAFT_SEED=<n>` replays just that one,
 * `RAFT_SEEDS=<n>` runs seeds 1..n, `RAFT_TRACE=1` prints the settling phase and totals.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { SeededRng } from "../env/seeded_rng.js";
import { Network } from "./raft_test_network.js";
import { ProposalDroppedError, type Entry } from "./types.js";

const SEED_COUNT = Number(process.env["RAFT_SEEDS"] ?? 60);
const SEEDS = process.env["RAFT_SEED"] !== undefined ? [Number(process.env["RAFT_SEED"])] : Array.from({ length: SEED_COUNT }, (_, i) => i + 1);
const STEPS = 1500;

function runSeed(seed: number): { commits: number; leaders: number; confChanges: number } {
  const rng = new SeededRng(seed);
  const pick = (n: number) => rng.nextU32() % n;
  const chance = (p: number) => rng.nextU32() / 2 ** 32 < p;
  const net = new Network([1n, 2n, 3n, 4n, 5n], { preVote: seed % 2 === 0, checkQuorum: seed % 3 !== 0, maxInflightMsgs: 4, maxSizePerMsg: 16 }, seed);
  // An extra member starts outside the cluster; the run adds it as a learner or voter and removes it at
  // random. Ids are never reused (as etcd's): once removed, the next extra member has a new id.
  let extra = 6n;
  net.addEmptyPeer(extra);
  const ids = [1n, 2n, 3n, 4n, 5n, extra];
  const confTypes = ["ConfChangeAddLearnerNode", "ConfChangeAddNode", "ConfChangeRemoveNode"] as const;
  const dropRate = 0.05 + (seed % 4) * 0.05;
  const leaderOfTerm = new Map<number, bigint>();
  /** index → the entry every member that applied it must agree on. */
  const committed = new Map<number, Entry>();
  /** index → the highest term any member had when the entry was first seen applied (it committed in a term <= that). */
  const committedSeenAtTerm = new Map<number, number>();
  const maxTerm = () => Math.max(...[...net.peers.values()].map((p) => p.node.status().term));
  let proposals = 0;

  const check = (where: string) => {
    for (const p of net.peers.values()) {
      const s = p.node.status();
      if (s.raftState === "StateLeader") {
        const prev = leaderOfTerm.get(s.term);
        assert.ok(prev === undefined || prev === p.id, `seed ${seed} ${where}: two leaders in term ${s.term}: ${prev} and ${p.id}`);
        leaderOfTerm.set(s.term, p.id);
      }
      if (s.raftState === "StateLeader") {
        // Leader completeness: a leader's log holds every entry anyone has applied (unless compacted into its snapshot).
        const log = p.node.raft.raftLog;
        for (const [i, e] of committed) {
          // Only leaders of later terms than any term known when the entry was seen committed: a stale
          // leader of an older term may legitimately lack it.
          if (s.term <= committedSeenAtTerm.get(i)! || i < log.firstIndex()) continue;
          assert.ok(i <= log.lastIndex(), `seed ${seed} ${where}: leader ${p.id} (term ${s.term}) lacks committed index ${i}`);
          assert.equal(log.term(i), e.term, `seed ${seed} ${where}: leader ${p.id} has another term at committed index ${i}`);
        }
      }
      for (const [i, e] of p.appliedEntries) {
        const want = committed.get(i);
        if (want === undefined) {
          committed.set(i, e);
          committedSeenAtTerm.set(i, maxTerm());
        }
        else {
          assert.equal(e.term, want.term, `seed ${seed} ${where}: member ${p.id} applied index ${i} of term ${e.term}, another of term ${want.term}`);
          assert.deepEqual(e.data, want.data, `seed ${seed} ${where}: member ${p.id} applied different data at ${i}`);
        }
      }
    }
  };

  const drainReadies = () => {
    for (const p of net.peers.values()) while (p.handleReady(net.queue)) { /* until no more work */ }
  };

  for (let step = 0; step < STEPS; step++) {
    const action = pick(100);
    if (action < 35) {
      net.peer(ids[pick(ids.length)]!).node.tick();
    } else if (action < 75) {
      // Deliver (or drop) a random queued message: random order is reordering.
      if (net.queue.length > 0) {
        const i = pick(net.queue.length);
        const [m] = net.queue.splice(i, 1);
        if (!chance(dropRate)) net.deliver(m!);
        else net.lose(m!);
        // Occasionally duplicate a message, as a retrying transport may.
        if (chance(0.02)) net.deliver(m!);
      }
    } else if (action < 88) {
      try {
        net.peer(ids[pick(ids.length)]!).node.propose(new TextEncoder().encode(`s${seed}-${proposals++}`));
      } catch (err) {
        if (!(err instanceof ProposalDroppedError)) throw err;
      }
    } else if (action < 91) {
      if (chance(0.5)) net.heal();
      else net.isolate(ids[pick(ids.length)]!);
    } else if (action < 93) {
      // Bound the queue as a real transport's buffers are bounded: the oldest messages are lost.
      if (net.queue.length > 200) for (const m of net.queue.splice(0, net.queue.length - 200)) net.lose(m);
    } else if (action < 95) {
      const p = net.peer(ids[pick(ids.length)]!);
      if (p.appliedIndex > p.storage.snapshot().metadata.index && p.appliedIndex <= p.storage.lastIndex()) p.compact();
    } else if (action < 96) {
      drainReadies();
      net.restart(ids[pick(ids.length)]!);
    } else if (action < 97) {
      try {
        net.peer(ids[pick(5)]!).node.proposeConfChange({ type: confTypes[pick(3)]!, nodeId: extra, context: new Uint8Array(0) });
      } catch (err) {
        if (!(err instanceof ProposalDroppedError)) throw err;
      }
    }
    drainReadies();
    check(`step ${step}`);
    if (extra < 12n && [...net.peers.values()].some((p) => p.removed.has(extra))) {
      extra++;
      net.addEmptyPeer(extra);
      ids.push(extra);
    }
    if (step % 50 === 0) checkLogMatching(net, `seed ${seed} step ${step}`);
  }

  // Heal everything and let the cluster settle: every member must converge on the same state.
  net.heal();
  for (let i = 0; i < 200; i++) {
    net.tickAll(1);
    if (process.env["RAFT_TRACE"] !== undefined) {
      console.log(i, [...net.peers.values()].map((p) => `${p.id}:${p.node.status().raftState.slice(5, 9)}/t${p.node.status().term}/e${p.node.raft.electionElapsed}/${p.node.raft.randomizedElectionTimeout}`).join(" "));
    }
    if (net.leaders().length > 0 && i > 60) break;
  }
  net.tickAll(20);
  check("after healing");
  const leaders = net.leaders().sort((a, b) => b.term - a.term);
  const states = [...net.peers.values()].map((p) => {
    const st = p.node.status();
    return `${p.id}:${st.raftState}/t${st.term}/lead${st.lead}/c${st.commit}/a${st.applied}/last${p.node.raft.raftLog.lastIndex()}/conf[${st.confState.voters}|${st.confState.learners}]`;
  });
  assert.ok(leaders.length > 0, `seed ${seed}: no leader after healing: ${states.join(" ")}`);
  const lead = leaders[0]!.id;
  try {
    net.propose(lead, "final");
  } catch (err) {
    if (!(err instanceof ProposalDroppedError)) throw err;
  }
  net.tickAll(5);
  check("final");
  const want = net.peer(lead).kv;
  const members = new Set([...net.peer(lead).confState.voters, ...net.peer(lead).confState.learners]);
  for (const p of net.peers.values()) {
    if (!members.has(p.id)) continue; // a removed member stops hearing from the cluster
    if (p.kv.length === want.length) continue;
    const s = p.node.status();
    const pr = net.peer(lead).node.status().progress.get(p.id);
    const r = p.node.raft;
    const detail = `state ${s.raftState} term ${s.term} lead ${s.lead} commit ${s.commit} applied ${s.applied} last ${r.raftLog.lastIndex()} first ${r.raftLog.firstIndex()}; leader ${lead} sees ${JSON.stringify(pr)} leader first ${net.peer(lead).node.raft.raftLog.firstIndex()} last ${net.peer(lead).node.raft.raftLog.lastIndex()}`;
    assert.deepEqual(p.kv, want, `seed ${seed}: member ${p.id} did not converge: ${detail}`);
  }
  const confChanges = [...committed.values()].filter((e) => e.type === "EntryConfChange" && e.index > 5).length;
  return { commits: committed.size, leaders: leaderOfTerm.size, confChanges };
}

/**
 * Log matching: if two logs have an entry with the same index and term, they are identical up to it.
 * Checked from the highest such index down over the range both still hold.
 */
function checkLogMatching(net: Network, where: string): void {
  const peers = [...net.peers.values()];
  for (let a = 0; a < peers.length; a++) {
    for (let b = a + 1; b < peers.length; b++) {
      const la = peers[a]!.node.raft.raftLog;
      const lb = peers[b]!.node.raft.raftLog;
      const lo = Math.max(la.firstIndex(), lb.firstIndex());
      let hi = Math.min(la.lastIndex(), lb.lastIndex());
      while (hi >= lo && la.term(hi) !== lb.term(hi)) hi--;
      for (let i = hi; i >= lo; i--) {
        const ea = la.slice(i, i + 1, Number.MAX_SAFE_INTEGER)[0]!;
        const eb = lb.slice(i, i + 1, Number.MAX_SAFE_INTEGER)[0]!;
        assert.equal(ea.term, eb.term, `${where}: members ${peers[a]!.id} and ${peers[b]!.id} agree at ${hi} but differ at ${i}`);
        assert.deepEqual(ea.data, eb.data, `${where}: members ${peers[a]!.id} and ${peers[b]!.id} hold different data at ${i}`);
      }
    }
  }
}

test(`randomised drops, reordering, partitions, restarts and membership changes keep ≤ 1 leader per term, leader completeness, log matching and identical applied entries (${SEEDS.length} seeds)`, () => {
  let commits = 0;
  let leaders = 0;
  let confChanges = 0;
  for (const seed of SEEDS) {
    const r = runSeed(seed);
    commits += r.commits;
    leaders += r.leaders;
    confChanges += r.confChanges;
  }
  if (process.env["RAFT_TRACE"] !== undefined) console.log({ seeds: SEEDS.length, commits, leaders, confChanges });
  // The runs must have done real work, or the invariants held vacuously.
  assert.ok(commits > SEEDS.length * 20, `only ${commits} entries committed over all seeds`);
  assert.ok(leaders >= SEEDS.length, `only ${leaders} leaders elected over all seeds`);
  if (SEEDS.length >= 20) assert.ok(confChanges >= SEEDS.length / 2, `only ${confChanges} membership changes committed over all seeds`);
});
