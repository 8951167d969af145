import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../../api/status.js";
import { applyConfiguration, FieldManagerError, LAST_APPLIED_ANNOTATION, type ApplyOptions } from "./apply.js";
import type { ManagedFieldsEntry } from "./managed_fields.js";
import { DEFS, DEPLOYMENT } from "./testing_definitions.js";
import { trackUpdate } from "./update.js";

type Obj = Record<string, unknown>;

const T0 = "2026-01-01T00:00:00Z";
const T1 = "2026-01-01T00:01:00Z";
const T2 = "2026-01-01T00:02:00Z";

function apply(live: Obj | null, config: Obj, manager: string, extra: Partial<ApplyOptions> = {}): Obj {
  return applyConfiguration(live, config, { manager, force: false, schema: DEPLOYMENT, defs: DEFS, now: T0, apiVersion: "apps/v1", kind: "Deployment", ...extra });
}

function update(old: Obj | null, updated: Obj, manager: string, now = T1): Obj {
  return trackUpdate(old, updated, { manager, operation: "Update", schema: DEPLOYMENT, defs: DEFS, now, apiVersion: "apps/v1" });
}

/** A Deployment configuration; `spec` undefined leaves spec out (an empty spec would be owned as `{}`). */
function deployment(spec: Obj | undefined, metadata: Obj = {}): Obj {
  return { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "default", ...metadata }, ...(spec === undefined ? {} : { spec }) };
}

function entries(obj: Obj): ManagedFieldsEntry[] {
  return ((obj["metadata"] as Obj)["managedFields"] as ManagedFieldsEntry[] | undefined) ?? [];
}

function entry(obj: Obj, manager: string): ManagedFieldsEntry | undefined {
  return entries(obj).find((e) => e.manager === manager);
}

function fieldsV1(obj: Obj, manager: string): string {
  return JSON.stringify(entry(obj, manager)?.fieldsV1);
}

function spec(obj: Obj): Obj {
  return obj["spec"] as Obj;
}

function containers(obj: Obj): Obj[] {
  return ((spec(obj)["template"] as Obj)["spec"] as Obj)["containers"] as Obj[];
}

function withContainers(replicas: number | undefined, cs: Obj[]): Obj {
  return deployment({
    ...(replicas === undefined ? {} : { replicas }),
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers: cs } },
  });
}

function conflictOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  assert.fail("expected a conflict");
}

test("apply to a missing object creates it, owned by the applier with an Apply entry", () => {
  const config = withContainers(2, [{ name: "web", image: "nginx:1" }]);
  const obj = apply(null, config, "kubectl");
  assert.equal(spec(obj)["replicas"], 2);
  assert.deepEqual(entries(obj).map((e) => Object.keys(e)), [["manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1"]]);
  const e = entries(obj)[0]!;
  assert.deepEqual([e.manager, e.operation, e.apiVersion, e.time, e.fieldsType], ["kubectl", "Apply", "apps/v1", T0, "FieldsV1"]);
  assert.equal(
    JSON.stringify(e.fieldsV1),
    '{"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"web\\"}":{".":{},"f:image":{},"f:name":{}}}}}}}',
  );
});

test("re-applying without a field removes it from the object and from the applier's set", () => {
  const first = apply(null, deployment({ replicas: 2, template: { spec: { containers: [{ name: "web", image: "nginx:1" }] } } }, { labels: { app: "web", tier: "fe" } }), "kubectl");
  const second = apply(first, deployment({ template: { spec: { containers: [{ name: "web", image: "nginx:1" }] } } }, { labels: { app: "web" } }), "kubectl", { now: T1 });
  assert.equal(spec(second)["replicas"], undefined);
  assert.deepEqual((second["metadata"] as Obj)["labels"], { app: "web" });
  assert.equal(fieldsV1(second, "kubectl"), '{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\\"name\\":\\"web\\"}":{".":{},"f:image":{},"f:name":{}}}}}}}');
  assert.equal(entry(second, "kubectl")?.time, T1);
});

test("a field another manager changed conflicts on apply with upstream's exact message and causes", () => {
  const created = apply(null, withContainers(2, [{ name: "web", image: "nginx:1" }]), "kubectl");
  const scaled = update(created, { ...created, spec: { ...spec(created), replicas: 3 } }, "kubectl-client-side-apply");
  assert.equal(fieldsV1(scaled, "kubectl-client-side-apply"), '{"f:spec":{"f:replicas":{}}}');
  assert.equal(fieldsV1(scaled, "kubectl").includes("f:replicas"), false, "the updater took replicas from the applier");
  const err = conflictOf(() => apply(scaled, withContainers(2, [{ name: "web", image: "nginx:1" }]), "kubectl", { now: T2 }));
  assert.deepEqual(err.toStatus(), {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
    reason: "Conflict",
    details: { causes: [{ reason: "FieldManagerConflict", message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: ".spec.replicas" }] },
    code: 409,
  });
});

test("apply with force takes the conflicting fields; the loser's emptied entry is dropped", () => {
  const created = apply(null, withContainers(2, [{ name: "web", image: "nginx:1" }]), "kubectl");
  const scaled = update(created, { ...created, spec: { ...spec(created), replicas: 3 } }, "kubectl-scale");
  const forced = apply(scaled, withContainers(2, [{ name: "web", image: "nginx:1" }]), "kubectl", { force: true, now: T2 });
  assert.equal(spec(forced)["replicas"], 2);
  assert.equal(entry(forced, "kubectl-scale"), undefined);
  assert.equal(fieldsV1(forced, "kubectl").includes('"f:replicas"'), true);
  assert.equal(entry(forced, "kubectl")?.time, T2);
});

test("applying the value another manager set is no conflict and makes both owners", () => {
  const created = apply(null, withContainers(2, [{ name: "web", image: "nginx:1" }]), "kubectl");
  const scaled = update(created, { ...created, spec: { ...spec(created), replicas: 3 } }, "kubectl-scale");
  const agreed = apply(scaled, withContainers(3, [{ name: "web", image: "nginx:1" }]), "kubectl", { now: T2 });
  assert.equal(fieldsV1(agreed, "kubectl-scale"), '{"f:spec":{"f:replicas":{}}}');
  assert.equal(fieldsV1(agreed, "kubectl").includes('"f:replicas"'), true);
});

test("two appliers share a field with the same value; when one drops it, it stays for the other", () => {
  const a = apply(null, deployment({ replicas: 2 }), "team-a");
  const both = apply(a, deployment({ replicas: 2 }), "team-b");
  assert.equal(fieldsV1(both, "team-a"), '{"f:spec":{"f:replicas":{}}}');
  assert.equal(fieldsV1(both, "team-b"), '{"f:spec":{"f:replicas":{}}}');
  // The object did not change, so upstream records no time for the new owner.
  assert.equal(entry(both, "team-b")?.time, undefined);
  const dropped = apply(both, deployment(undefined), "team-a", { now: T1 });
  assert.equal(spec(dropped)["replicas"], 2);
  assert.equal(entry(dropped, "team-a"), undefined, "team-a owns nothing now");
  assert.equal(fieldsV1(dropped, "team-b"), '{"f:spec":{"f:replicas":{}}}');
});

test("a conflict with another applier names it without an apiVersion", () => {
  const a = apply(null, deployment({ replicas: 2 }), "team-a");
  const err = conflictOf(() => apply(a, deployment({ replicas: 5 }), "team-b"));
  assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "team-a": .spec.replicas');
});

test("several conflicts are listed per manager, managers sorted, one path per line", () => {
  let obj = apply(null, withContainers(2, [{ name: "web", image: "nginx:1" }]), "kubectl");
  obj = update(obj, { ...obj, spec: { ...spec(obj), replicas: 3 } }, "zeta");
  const changed = structuredClone(obj);
  containers(changed)[0]!["image"] = "nginx:2";
  ((spec(changed)["template"] as Obj)["metadata"] as Obj)["labels"] = { app: "other" };
  obj = update(obj, changed, "alpha");
  const err = conflictOf(() => apply(obj, withContainers(2, [{ name: "web", image: "nginx:1" }]), "kubectl"));
  assert.equal(
    err.message,
    [
      'Apply failed with 3 conflicts: conflicts with "alpha" using apps/v1:',
      "- .spec.template.metadata.labels.app",
      '- .spec.template.spec.containers[name="web"].image',
      'conflicts with "zeta" using apps/v1:',
      "- .spec.replicas",
    ].join("\n"),
  );
  assert.deepEqual(
    new Set(err.details?.causes?.map((c) => `${c.message}: ${c.field}`)),
    new Set([
      'conflict with "zeta" using apps/v1: .spec.replicas',
      'conflict with "alpha" using apps/v1: .spec.template.metadata.labels.app',
      'conflict with "alpha" using apps/v1: .spec.template.spec.containers[name="web"].image',
    ]),
  );
  assert.equal(err.details?.causes?.length, 3);
});

test("an associative list merges per key: another manager's container survives re-apply, the applier's own goes when dropped", () => {
  const created = apply(null, withContainers(1, [{ name: "web", image: "nginx:1" }]), "kubectl");
  const withSidecar = structuredClone(created);
  containers(withSidecar).push({ name: "sidecar", image: "envoy:1" });
  const updated = update(created, withSidecar, "injector");
  // f:resources: a Go container always has `resources: {}`, so upstream sees it added with the item.
  assert.equal(fieldsV1(updated, "injector"), '{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\\"name\\":\\"sidecar\\"}":{".":{},"f:image":{},"f:name":{},"f:resources":{}}}}}}}');

  const reapplied = apply(updated, withContainers(1, [{ name: "web", image: "nginx:2" }]), "kubectl", { now: T2 });
  assert.deepEqual(containers(reapplied), [
    { name: "web", image: "nginx:2" },
    { name: "sidecar", image: "envoy:1" },
  ]);

  const replaced = apply(reapplied, withContainers(1, [{ name: "api", image: "api:1" }]), "kubectl", { now: T2 });
  assert.deepEqual(containers(replaced).map((c) => c["name"]), ["sidecar", "api"]);
});

test("a set merges by value: finalizers from two appliers are unioned and each removes only its own", () => {
  const a = apply(null, deployment(undefined, { finalizers: ["example.com/a"] }), "a");
  const ab = apply(a, deployment(undefined, { finalizers: ["example.com/b"] }), "b");
  assert.deepEqual((ab["metadata"] as Obj)["finalizers"], ["example.com/a", "example.com/b"]);
  assert.equal(fieldsV1(ab, "b"), '{"f:metadata":{"f:finalizers":{"v:\\"example.com/b\\"":{}}}}');
  const b = apply(ab, deployment(undefined, { finalizers: [] }), "a");
  assert.deepEqual((b["metadata"] as Obj)["finalizers"], ["example.com/b"]);
});

test("an atomic list is replaced whole and owned as one field", () => {
  const first = apply(null, withContainers(undefined, [{ name: "web", args: ["a", "b"] }]), "kubectl");
  const second = apply(first, withContainers(undefined, [{ name: "web", args: ["c"] }]), "kubectl");
  assert.deepEqual(containers(second)[0]!["args"], ["c"]);
  assert.equal(fieldsV1(second, "kubectl").includes('"f:args":{}'), true);
});

test("a no-op apply leaves the object and the entry's time alone", () => {
  const first = apply(null, deployment({ replicas: 2 }), "kubectl");
  const again = apply(first, deployment({ replicas: 2 }), "kubectl", { now: T2 });
  assert.deepEqual(again, first);
});

test("status is not owned through the main resource", () => {
  const obj = apply(null, { ...deployment({ replicas: 1 }), status: { replicas: 7 } }, "kubectl");
  assert.equal(fieldsV1(obj, "kubectl"), '{"f:spec":{"f:replicas":{}}}');
});

test("apply through /status owns status and not spec, in an entry of its own", () => {
  const created = apply(null, deployment({ replicas: 1 }), "kubectl");
  const obj = apply(created, { ...deployment({ replicas: 9 }), status: { replicas: 1 } }, "controller", { subresource: "status" });
  const e = entry(obj, "controller")!;
  assert.equal(e.subresource, "status");
  assert.equal(JSON.stringify(e.fieldsV1), '{"f:status":{"f:replicas":{}}}');
  assert.equal(fieldsV1(obj, "kubectl"), '{"f:spec":{"f:replicas":{}}}');
});

const rejected: { name: string; config: Obj; code: number; message: string }[] = [
  { name: "managedFields in the configuration", config: deployment(undefined, { managedFields: [] }), code: 400, message: "metadata.managedFields must be nil" },
  { name: "another kind", config: { apiVersion: "v1", kind: "Pod", metadata: { name: "web" } }, code: 400, message: "invalid object type: /v1, Kind=Pod" },
];
for (const c of rejected) {
  test(`apply rejects ${c.name}`, () => {
    const err = conflictOf(() => apply(null, c.config, "kubectl"));
    assert.deepEqual([err.code, err.reason, err.message], [c.code, "BadRequest", c.message]);
  });
}

test("a configuration with duplicate list keys fails as upstream's typed patch error", () => {
  assert.throws(
    () => apply(null, withContainers(1, [{ name: "a" }, { name: "a" }]), "kubectl"),
    (err: unknown) =>
      err instanceof FieldManagerError &&
      err.message === 'failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.template.spec.containers: duplicate entries for key [name="a"]',
  );
});

test("kubectl's server-side apply takes over fields client-side apply set, and keeps last-applied in sync", () => {
  const lastApplied = withContainers(2, [{ name: "web", image: "nginx:1" }]);
  const created = update(null, { ...lastApplied, metadata: { name: "web", namespace: "default", annotations: { [LAST_APPLIED_ANNOTATION]: JSON.stringify(lastApplied) } } }, "kubectl-client-side-apply", T0);
  const upgraded = apply(created, withContainers(3, [{ name: "web", image: "nginx:1" }]), "kubectl", { now: T1 });
  assert.equal(spec(upgraded)["replicas"], 3);
  assert.equal(fieldsV1(upgraded, "kubectl-client-side-apply").includes("f:replicas"), false);
  const annotation = ((upgraded["metadata"] as Obj)["annotations"] as Obj)[LAST_APPLIED_ANNOTATION] as string;
  assert.equal(annotation.endsWith("\n"), true);
  assert.equal((JSON.parse(annotation) as Obj)["spec"] !== undefined && ((JSON.parse(annotation) as Obj)["spec"] as Obj)["replicas"], 3);

  // Another manager as applier gets no such upgrade.
  const err = conflictOf(() => apply(created, withContainers(3, [{ name: "web", image: "nginx:1" }]), "other"));
  assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
});

test("the upgrade does not take a field that drifted from last-applied", () => {
  const lastApplied = withContainers(2, [{ name: "web", image: "nginx:1" }]);
  const created = update(null, { ...lastApplied, metadata: { name: "web", namespace: "default", annotations: { [LAST_APPLIED_ANNOTATION]: JSON.stringify(lastApplied) } } }, "kubectl-client-side-apply", T0);
  const drifted = update(created, { ...created, spec: { ...spec(created), replicas: 5 } }, "kubectl-client-side-apply", T1);
  const err = conflictOf(() => apply(drifted, withContainers(3, [{ name: "web", image: "nginx:1" }]), "kubectl"));
  assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
});
