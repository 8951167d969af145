import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import { ManualClock } from "../env/manual_clock.js";
import { MemoryLogger } from "../env/memory_logger.js";
import { startInProcessApiServer, type InProcessApiServer } from "../../test/harness/inprocess_apiserver.js";
import { loadKubeconfig } from "./kubeconfig.js";
import { RestClient } from "./rest_client.js";
import { LeaderElector, type LeaderElectionConfig } from "./leader_election.js";
import { waitUntil } from "./testing_wait.js";

let srv: InProcessApiServer;
let client: RestClient;
before(async () => {
  srv = await startInProcessApiServer();
  client = new RestClient(loadKubeconfig(srv.kubeconfig, { component: "leader-test" }));
});
after(async () => {
  client.close();
  await srv.stop();
});

interface Candidate {
  readonly elector: LeaderElector;
  readonly events: string[];
  signal: AbortSignal | null;
  done: Promise<void> | null;
}

function candidate(clock: ManualClock, lease: string, identity: string, extra: Partial<LeaderElectionConfig> = {}): Candidate {
  const c: Candidate = { elector: null as never, events: [], signal: null, done: null };
  const config: LeaderElectionConfig = {
    namespace: "kube-system",
    name: lease,
    identity,
    callbacks: {
      onStartedLeading: (signal) => {
        c.signal = signal;
        c.events.push("started");
      },
      onStoppedLeading: () => c.events.push("stopped"),
      onNewLeader: (id) => c.events.push(`leader ${id}`),
    },
    ...extra,
  };
  (c as { elector: LeaderElector }).elector = new LeaderElector({ clock, log: new MemoryLogger() }, client, config);
  return c;
}

async function lease(name: string): Promise<Lease> {
  return client.resource<Lease>("coordination.k8s.io", "v1", "leases").namespace("kube-system").get(name);
}

/** Advances the manual clock by `ms` and waits for the elector's round that the timer started. */
async function step(clock: ManualClock, ms: number, ...cs: Candidate[]): Promise<void> {
  const before = cs.map((c) => c.elector.attempts);
  clock.advance(ms);
  await waitUntil("a round of every candidate", () => cs.every((c, i) => c.elector.attempts > before[i]!));
}

test("LeaderElector: one of two candidates wins; the other takes over only after the lease went unrenewed for its duration", async () => {
  const clock = new ManualClock();
  const a = candidate(clock, "two-candidates", "a");
  const b = candidate(clock, "two-candidates", "b");
  a.done = a.elector.run();
  await waitUntil("a leads", () => a.events.includes("started"));
  assert.equal(a.elector.isLeader(), true);
  const first = await lease("two-candidates");
  assert.equal(first.spec?.holderIdentity, "a");
  assert.equal(first.spec?.leaseDurationSeconds, 15);
  assert.equal(first.spec?.leaseTransitions, 0);
  assert.match(first.spec?.renewTime ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

  b.done = b.elector.run();
  await waitUntil("b's first look", () => b.elector.attempts >= 1);
  assert.equal(b.elector.isLeader(), false);
  assert.equal(b.elector.getLeader(), "a");
  // a renews every 2 s; b retries every 2 s and sees a changing record, so it never takes over.
  for (let i = 0; i < 10; i++) await step(clock, 2000, a, b);
  assert.equal(b.events.includes("started"), false);
  const renewed = await lease("two-candidates");
  assert.equal(renewed.spec?.holderIdentity, "a");
  assert.notEqual(renewed.spec?.renewTime, first.spec?.renewTime);
  assert.equal(renewed.spec?.acquireTime, first.spec?.acquireTime, "renewing keeps acquireTime");

  // a stops without releasing (as a crashed process would): b must wait out the 15 s lease.
  await a.elector.stop();
  await a.done;
  assert.deepEqual(a.events, ["leader a", "started", "stopped"]);
  assert.equal(a.signal?.aborted, true);
  for (let t = 2000; t < 14_000; t += 2000) {
    await step(clock, 2000, b);
    assert.equal(b.events.includes("started"), false, `b took over ${t} ms after the last renewal it saw`);
  }
  for (let i = 0; i < 3 && !b.events.includes("started"); i++) await step(clock, 2000, b);
  await waitUntil("b leads", () => b.events.includes("started"));
  const taken = await lease("two-candidates");
  assert.equal(taken.spec?.holderIdentity, "b");
  assert.equal(taken.spec?.leaseTransitions, 1);
  assert.notEqual(taken.spec?.acquireTime, first.spec?.acquireTime);
  assert.deepEqual(b.events, ["leader a", "leader b", "started"]);
  await b.elector.stop();
  await b.done;
});

test("LeaderElector: a leader that cannot renew for renewDeadline calls onStoppedLeading", async () => {
  const clock = new ManualClock();
  const a = candidate(clock, "stolen", "a");
  a.done = a.elector.run();
  await waitUntil("a leads", () => a.events.includes("started"));
  // Another writer takes the lease over (an operator, or a candidate whose clock ran fast).
  const leases = client.resource<Lease>("coordination.k8s.io", "v1", "leases").namespace("kube-system");
  const current = await leases.get("stolen");
  await leases.update({ ...current, spec: { ...current.spec, holderIdentity: "intruder", leaseTransitions: 1 } });
  for (let i = 0; i < 4; i++) await step(clock, 2000, a);
  assert.equal(a.events.includes("stopped"), false, "not before renewDeadline (10 s after the last renewal)");
  await step(clock, 2000, a);
  await a.done;
  assert.deepEqual(a.events, ["leader a", "started", "leader intruder", "stopped"]);
  assert.equal(a.signal?.aborted, true);
  assert.equal(a.elector.isLeader(), false);
});

test("LeaderElector: candidates starting together race on create and exactly one leads", async () => {
  const clock = new ManualClock();
  const cs = ["x", "y", "z"].map((id) => candidate(clock, "race", id));
  for (const c of cs) c.done = c.elector.run();
  await waitUntil("every first attempt", () => cs.every((c) => c.elector.attempts >= 1));
  await waitUntil("one leader", () => cs.some((c) => c.events.includes("started")));
  const leaders = cs.filter((c) => c.events.includes("started"));
  assert.equal(leaders.length, 1);
  assert.equal((await lease("race")).spec?.holderIdentity, leaders[0]!.elector.getLeader());
  for (const c of cs) await c.elector.stop();
});

test("LeaderElector: with releaseOnCancel a stopping leader frees the lease and a successor takes it at once", async () => {
  const clock = new ManualClock();
  const a = candidate(clock, "released", "a", { releaseOnCancel: true });
  const b = candidate(clock, "released", "b");
  a.done = a.elector.run();
  await waitUntil("a leads", () => a.events.includes("started"));
  b.done = b.elector.run();
  await waitUntil("b's first look", () => b.elector.attempts >= 1);
  await a.elector.stop();
  const released = await lease("released");
  assert.equal(released.spec?.holderIdentity ?? "", "");
  assert.equal(released.spec?.leaseDurationSeconds, 1);
  await step(clock, 2400, b);
  await waitUntil("b leads", () => b.events.includes("started"));
  assert.equal((await lease("released")).spec?.leaseTransitions, 1);
  await b.elector.stop();
});

test("LeaderElector: a configuration upstream rejects is rejected", () => {
  const clock = new ManualClock();
  const cb = { onStartedLeading() {}, onStoppedLeading() {} };
  const base = { namespace: "kube-system", name: "x", identity: "a", callbacks: cb };
  assert.throws(() => new LeaderElector({ clock, log: new MemoryLogger() }, client, { ...base, leaseDurationMs: 10_000 }), /leaseDuration must be greater than renewDeadline/);
  assert.throws(() => new LeaderElector({ clock, log: new MemoryLogger() }, client, { ...base, retryPeriodMs: 9000 }), /renewDeadline must be greater than retryPeriod\*JitterFactor/);
  assert.throws(() => new LeaderElector({ clock, log: new MemoryLogger() }, client, { ...base, identity: "" }), /Lock identity is empty/);
});
