import { test } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import type { StatefulSet } from "kubernetes-types/apps/v1.js";
import { planStatefulSet, newStatefulSetPod, claimsFor, getOrdinal, type StatefulSetPlanInput } from "./statefulset_core.js";
import { hashRevisionData, safeEncodeString, templatePatch, revisionsToTruncate, findEqualRevisions, newControllerRevision } from "./controller_revision.js";

const NOW = Date.parse("2024-05-01T00:00:00Z");
const tpl = { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "nginx", image: "nginx:1" }] } };
const tplNew = { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "nginx", image: "nginx:2" }] } };

function set(spec: Partial<NonNullable<StatefulSet["spec"]>> = {}): StatefulSet {
  return {
    metadata: { name: "web", namespace: "default", uid: "set-uid", generation: 3 },
    spec: { replicas: 3, serviceName: "nginx", selector: { matchLabels: { app: "web" } }, template: tpl, ...spec },
  };
}

/** A pod of ordinal `ord` at revision `hash`, in `state`. */
function pod(s: StatefulSet, ord: number, state: "pending" | "ready" | "failed" | "terminating", hash = "cur"): Pod {
  const p = newStatefulSetPod(s, tpl, ord, hash);
  return {
    ...p,
    metadata: { ...p.metadata, uid: `uid-${ord}`, ...(state === "terminating" ? { deletionTimestamp: "2024-05-01T00:00:00Z" } : {}) },
    status:
      state === "ready"
        ? { phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2024-04-30T00:00:00Z" }] }
        : { phase: state === "failed" ? "Failed" : "Pending" },
  };
}

function input(s: StatefulSet, pods: Pod[]): StatefulSetPlanInput {
  return { set: s, pods, current: { template: tpl, hash: "cur", name: "web-cur" }, update: { template: s.spec?.template === tplNew ? tplNew : tpl, hash: s.spec?.template === tplNew ? "upd" : "cur", name: s.spec?.template === tplNew ? "web-upd" : "web-cur" }, nowMs: NOW };
}

const steps = (s: StatefulSet, pods: Pod[]): string[] =>
  planStatefulSet(input(s, pods)).steps.map((x) => `${x.kind} ${x.kind === "create" ? x.pod.metadata?.name : x.pod.metadata?.name}`);

const cases = [
  { name: "OrderedReady creates web-0 first", s: set(), pods: (s: StatefulSet) => [] as Pod[], want: ["create web-0"] },
  { name: "OrderedReady waits while web-0 is not Ready", s: set(), pods: (s: StatefulSet) => [pod(s, 0, "pending")], want: [] },
  { name: "OrderedReady creates web-1 once web-0 is Running and Ready", s: set(), pods: (s: StatefulSet) => [pod(s, 0, "ready")], want: ["create web-1"] },
  { name: "Parallel creates every missing ordinal at once", s: set({ podManagementPolicy: "Parallel" }), pods: (s: StatefulSet) => [pod(s, 1, "pending")], want: ["create web-0", "create web-2"] },
  { name: "a failed pod is deleted to be re-created", s: set(), pods: (s: StatefulSet) => [pod(s, 0, "failed")], want: ["delete web-0"] },
  { name: "scale down deletes the highest ordinal first, one at a time", s: set({ replicas: 1 }), pods: (s: StatefulSet) => [pod(s, 0, "ready"), pod(s, 1, "ready"), pod(s, 2, "ready")], want: ["delete web-2"] },
  { name: "scale down waits for a terminating pod", s: set({ replicas: 1 }), pods: (s: StatefulSet) => [pod(s, 0, "ready"), pod(s, 1, "ready"), pod(s, 2, "terminating")], want: [] },
  { name: "a rolling update deletes the highest ordinal not at the update revision", s: set({ template: tplNew }), pods: (s: StatefulSet) => [pod(s, 0, "ready"), pod(s, 1, "ready"), pod(s, 2, "ready")], want: ["delete web-2"] },
  {
    name: "a rolling update waits for the re-created pod to be Ready",
    s: set({ template: tplNew }),
    pods: (s: StatefulSet) => [pod(s, 0, "ready"), pod(s, 1, "ready"), pod(s, 2, "pending", "upd")],
    want: [],
  },
  {
    name: "a rolling update stops at the partition",
    s: set({ template: tplNew, updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 2 } } }),
    pods: (s: StatefulSet) => [pod(s, 0, "ready"), pod(s, 1, "ready"), pod(s, 2, "ready", "upd")],
    want: [],
  },
  { name: "OnDelete never deletes for an update", s: set({ template: tplNew, updateStrategy: { type: "OnDelete" } }), pods: (s: StatefulSet) => [pod(s, 0, "ready"), pod(s, 1, "ready"), pod(s, 2, "ready")], want: [] },
];
for (const c of cases) test(`planStatefulSet: ${c.name}`, () => assert.deepEqual(steps(c.s, c.pods(c.s)), c.want));

test("planStatefulSet: status counts replicas, ready, current and updated, and finishes a rolling update", () => {
  const s = set();
  const plan = planStatefulSet(input(s, [pod(s, 0, "ready"), pod(s, 1, "ready"), pod(s, 2, "ready")]));
  assert.deepEqual(plan.status, {
    observedGeneration: 3,
    replicas: 3,
    readyReplicas: 3,
    availableReplicas: 3,
    currentReplicas: 3,
    updatedReplicas: 3,
    currentRevision: "web-cur",
    updateRevision: "web-cur",
    collisionCount: 0,
  });
  const s2 = set({ template: tplNew });
  const mid = planStatefulSet(input(s2, [pod(s2, 0, "ready"), pod(s2, 1, "ready"), pod(s2, 2, "ready", "upd")]));
  assert.equal(mid.status.currentReplicas, 1); // web-1 deleted this sync
  assert.equal(mid.status.updatedReplicas, 1);
  assert.equal(mid.status.currentRevision, "web-cur");
});

test("newStatefulSetPod: a pod has its stable name, hostname, subdomain, labels and claims", () => {
  const s = set({ volumeClaimTemplates: [{ metadata: { name: "www" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }] });
  const p = newStatefulSetPod(s, tpl, 1, "abc");
  assert.equal(p.metadata?.name, "web-1");
  assert.equal(p.spec?.hostname, "web-1");
  assert.equal(p.spec?.subdomain, "nginx");
  assert.deepEqual(p.metadata?.labels, { app: "web", "controller-revision-hash": "abc", "statefulset.kubernetes.io/pod-name": "web-1", "apps.kubernetes.io/pod-index": "1" });
  assert.deepEqual(p.spec?.volumes, [{ name: "www", persistentVolumeClaim: { claimName: "www-web-1" } }]);
  assert.equal(p.metadata?.ownerReferences?.[0]?.kind, "StatefulSet");
  const claims = claimsFor(s, 1);
  assert.equal(claims[0]?.metadata?.name, "www-web-1");
  assert.deepEqual(claims[0]?.metadata?.labels, { app: "web" });
  assert.equal(getOrdinal("web", p), 1);
  assert.equal(getOrdinal("web", { metadata: { name: "web-01" } }), -1);
});

test("controller revisions: hashes are stable, safe-encoded and change with the template", () => {
  assert.equal(safeEncodeString("0123"), "bcdf".replace(/./g, (_, i: number) => "bcdfghjklmnpqrstvwxz2456789"[(48 + i) % 27]!));
  const a = hashRevisionData(templatePatch(tpl), 0);
  assert.equal(a, hashRevisionData(templatePatch(structuredClone(tpl)), 0));
  assert.notEqual(a, hashRevisionData(templatePatch(tplNew), 0));
  assert.notEqual(a, hashRevisionData(templatePatch(tpl), 1));
  assert.match(a, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
});

test("controller revisions: an equal template is found, and only old revisions beyond the limit are truncated", () => {
  const s = set();
  const r1 = newControllerRevision(s, { group: "apps", version: "v1", kind: "StatefulSet" }, tpl, 1, 0);
  const r2 = newControllerRevision(s, { group: "apps", version: "v1", kind: "StatefulSet" }, tplNew, 2, 0);
  const r3 = { ...newControllerRevision(s, { group: "apps", version: "v1", kind: "StatefulSet" }, { ...tpl, metadata: { labels: { app: "web", v: "3" } } }, 3, 0) };
  assert.deepEqual(findEqualRevisions([r1, r2, r3], newControllerRevision(s, { group: "apps", version: "v1", kind: "StatefulSet" }, tpl, 9, 0)), [r1]);
  assert.deepEqual(revisionsToTruncate([r3, r1, r2], new Set([r3.metadata!.name!]), 1), [r1]);
});
