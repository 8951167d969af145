import { test } from "node:test";
import assert from "node:assert/strict";
import { applyConfiguration } from "./apply.js";
import type { ManagedFieldsEntry } from "./managed_fields.js";
import { DEFS, DEPLOYMENT } from "./testing_definitions.js";
import { defaultManagerName, trackUpdate, type UpdateOptions } from "./update.js";

type Obj = Record<string, unknown>;

const T0 = "2026-01-01T00:00:00Z";
const T1 = "2026-01-01T00:01:00Z";
const T2 = "2026-01-01T00:02:00Z";

function update(old: Obj | null, updated: Obj, manager: string, extra: Partial<UpdateOptions> = {}): Obj {
  return trackUpdate(old, updated, { manager, operation: "Update", schema: DEPLOYMENT, defs: DEFS, now: T0, apiVersion: "apps/v1", ...extra });
}

function entries(obj: Obj): ManagedFieldsEntry[] | undefined {
  return (obj["metadata"] as Obj)["managedFields"] as ManagedFieldsEntry[] | undefined;
}

function entry(obj: Obj, manager: string): ManagedFieldsEntry | undefined {
  return entries(obj)?.find((e) => e.manager === manager);
}

function fieldsV1(obj: Obj, manager: string): string {
  return JSON.stringify(entry(obj, manager)?.fieldsV1);
}

function web(image = "nginx:1", replicas = 2): Obj {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", uid: "u1", resourceVersion: "1", labels: { app: "web" } },
    spec: {
      replicas,
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image }] } },
    },
  };
}

function withImage(obj: Obj, image: string): Obj {
  const copy = structuredClone(obj);
  (((((copy["spec"] as Obj)["template"] as Obj)["spec"] as Obj)["containers"] as Obj[])[0]!)["image"] = image;
  return copy;
}

test("create: the creator owns every field it set, in upstream's FieldsV1 for a Go object", () => {
  const obj = update(null, web(), "kubectl-create");
  assert.deepEqual(entries(obj), [
    {
      manager: "kubectl-create",
      operation: "Update",
      apiVersion: "apps/v1",
      time: T0,
      fieldsType: "FieldsV1",
      fieldsV1: JSON.parse(
        '{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"web\\"}":{".":{},"f:image":{},"f:name":{},"f:resources":{}}}}}}}',
      ) as Record<string, unknown>,
    },
  ]);
  // Key order is part of the bytes clients see.
  assert.equal(
    JSON.stringify(entry(obj, "kubectl-create")?.fieldsV1),
    '{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"web\\"}":{".":{},"f:image":{},"f:name":{},"f:resources":{}}}}}}}',
  );
});

test("update: changed fields move to the updater, who gets a fresh time; the others keep theirs", () => {
  const created = update(null, web(), "kubectl-create");
  const edited = update(created, withImage(created, "nginx:2"), "kubectl-edit", { now: T1 });
  assert.equal(fieldsV1(edited, "kubectl-edit"), '{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\\"name\\":\\"web\\"}":{"f:image":{}}}}}}}');
  assert.equal(fieldsV1(edited, "kubectl-create").includes('"f:image"'), false);
  assert.equal(entry(edited, "kubectl-create")?.time, T0);
  assert.equal(entry(edited, "kubectl-edit")?.time, T1);
  assert.deepEqual(entries(edited)?.map((e) => e.manager), ["kubectl-create", "kubectl-edit"]);
});

test("create: a null creationTimestamp in the pod template is not owned, as in a Go object", () => {
  const obj = web();
  (((obj["spec"] as Obj)["template"] as Obj)["metadata"] as Obj)["creationTimestamp"] = null;
  const created = update(null, obj, "kubectl-create");
  assert.equal(fieldsV1(created, "kubectl-create").includes("creationTimestamp"), false);
});

test("update: a request that changes nothing adds no entry and touches no time", () => {
  const created = update(null, web(), "kubectl-create");
  const same = update(created, structuredClone(created), "kubectl-replace", { now: T2 });
  assert.deepEqual(entries(same), entries(created));
});

test("update: a second change by the same updater adds to its entry", () => {
  const created = update(null, web(), "kubectl-create");
  const one = update(created, withImage(created, "nginx:2"), "kubectl-edit", { now: T1 });
  const two = update(one, { ...one, spec: { ...(one["spec"] as Obj), replicas: 5 } }, "kubectl-edit", { now: T2 });
  assert.equal(fieldsV1(two, "kubectl-edit"), '{"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\\"name\\":\\"web\\"}":{"f:image":{}}}}}}}');
  assert.equal(entry(two, "kubectl-edit")?.time, T2);
});

test("update: removing a field takes it from its owner", () => {
  const created = update(null, web(), "kubectl-create");
  const copy = structuredClone(created);
  delete ((copy["metadata"] as Obj)["labels"] as Obj)["app"];
  const edited = update(created, copy, "kubectl-edit", { now: T1 });
  // The creator keeps the (now empty) labels map it added, not the removed entry.
  assert.equal(JSON.stringify(entry(edited, "kubectl-create")?.fieldsV1?.["f:metadata"]), '{"f:labels":{}}');
  assert.equal(entry(edited, "kubectl-edit"), undefined, "a removal owns nothing");
});

test("entries are ordered Apply first, then oldest first", () => {
  const applied = applyConfiguration(null, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" }, spec: { replicas: 1 } }, {
    manager: "kubectl",
    force: false,
    schema: DEPLOYMENT,
    defs: DEFS,
    now: T2,
    apiVersion: "apps/v1",
  });
  const a = update(applied, { ...applied, metadata: { ...(applied["metadata"] as Obj), labels: { a: "1" } } }, "zz-early", { now: T0 });
  const b = update(a, { ...a, metadata: { ...(a["metadata"] as Obj), annotations: { b: "1" } } }, "aa-late", { now: T1 });
  assert.deepEqual(entries(b)?.map((e) => `${e.operation} ${e.manager}`), ["Apply kubectl", "Update zz-early", "Update aa-late"]);
});

test("update through /status owns status only, and ignores managedFields the request sends", () => {
  const created = update(null, web(), "kubectl-create");
  const sent: Obj = { ...structuredClone(created), status: { replicas: 2 } };
  ((sent["metadata"] as Obj)["managedFields"] as unknown) = [];
  (sent["spec"] as Obj)["replicas"] = 9;
  const obj = update(created, sent, "kube-controller-manager", { subresource: "status", now: T1 });
  const e = entry(obj, "kube-controller-manager")!;
  assert.equal(e.subresource, "status");
  // No "." on f:status: a Go Deployment always has `status: {}`, so status itself was not added.
  assert.equal(JSON.stringify(e.fieldsV1), '{"f:status":{"f:replicas":{}}}');
  assert.equal(fieldsV1(obj, "kubectl-create").includes('"f:replicas"'), true, "spec changes through /status are not owned");
});

test("update of the main resource does not own status", () => {
  const created = update(null, web(), "kubectl-create");
  const obj = update(created, { ...structuredClone(created), status: { replicas: 3 } }, "someone", { now: T1 });
  assert.equal(entry(obj, "someone"), undefined);
});

const sentManagedFields: { name: string; sent: unknown; want: string[] }[] = [
  { name: "an empty list clears them", sent: [], want: ["kubectl-edit"] },
  { name: "a single empty entry clears them", sent: [{}], want: ["kubectl-edit"] },
  { name: "invalid ones fall back to the live ones", sent: [{ manager: "x", operation: "Bogus", apiVersion: "apps/v1", fieldsType: "FieldsV1" }], want: ["kubectl-create", "kubectl-edit"] },
  { name: "absent ones fall back to the live ones", sent: undefined, want: ["kubectl-create", "kubectl-edit"] },
  {
    name: "valid ones replace the live ones",
    sent: [{ manager: "someone", operation: "Update", apiVersion: "apps/v1", time: T0, fieldsType: "FieldsV1", fieldsV1: { "f:spec": { "f:replicas": {} } } }],
    want: ["someone", "kubectl-edit"],
  },
];
for (const c of sentManagedFields) {
  test(`update with managedFields in the request: ${c.name}`, () => {
    const created = update(null, web(), "kubectl-create");
    const sent = withImage(created, "nginx:2");
    if (c.sent === undefined) delete (sent["metadata"] as Obj)["managedFields"];
    else (sent["metadata"] as Obj)["managedFields"] = c.sent;
    const obj = update(created, sent, "kubectl-edit", { now: T1 });
    assert.deepEqual(entries(obj)?.map((e) => e.manager), c.want);
  });
}

test("an object the schema cannot walk loses managedFields instead of failing the request", () => {
  const created = update(null, web(), "kubectl-create");
  const broken = structuredClone(created);
  (((broken["spec"] as Obj)["template"] as Obj)["spec"] as Obj)["containers"] = [{ image: "no-name" }];
  const obj = update(created, broken, "kubectl-edit", { now: T1 });
  assert.equal(entries(obj), undefined);
});

test("beyond ten updaters the oldest merge into ancient-changes", () => {
  let obj = update(null, web(), "creator", { now: "2026-01-01T00:00:00Z" });
  for (let i = 1; i <= 10; i++) {
    obj = update(obj, { ...obj, metadata: { ...(obj["metadata"] as Obj), annotations: { ...(((obj["metadata"] as Obj)["annotations"] as Obj) ?? {}), [`k${i}`]: "v" } } }, `m${i}`, {
      now: `2026-01-01T00:${String(i).padStart(2, "0")}:00Z`,
    });
  }
  const managers = entries(obj)!.map((e) => e.manager);
  assert.equal(managers.length, 10);
  assert.deepEqual(managers.slice(0, 2), ["ancient-changes", "m2"]);
  const ancient = entry(obj, "ancient-changes")!;
  assert.equal(ancient.time, "2026-01-01T00:01:00Z");
  assert.equal(JSON.stringify(ancient.fieldsV1).includes('"f:k1"'), true);
  assert.equal(JSON.stringify(ancient.fieldsV1).includes('"f:replicas"'), true);
});

const userAgents = [
  { ua: "kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9", manager: undefined, want: "kubectl" },
  { ua: "kube-controller-manager/v1.32.0 (linux/amd64) kubernetes/70d3cc9/system:serviceaccount:kube-system:deployment-controller", manager: undefined, want: "kube-controller-manager" },
  { ua: "kubectl/v1.32.0", manager: "kubectl-client-side-apply", want: "kubectl-client-side-apply" },
  { ua: "bad\u0007agent/1", manager: undefined, want: "badagent" },
  { ua: "x".repeat(200), manager: undefined, want: "x".repeat(128) },
  { ua: "", manager: undefined, want: "" },
];
for (const c of userAgents) {
  test(`defaultManagerName(${JSON.stringify(c.ua.slice(0, 40))}, ${String(c.manager)}) is ${JSON.stringify(c.want.slice(0, 20))}`, () => {
    assert.equal(defaultManagerName(c.ua, c.manager), c.want);
  });
}
