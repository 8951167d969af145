import { test } from "node:test";
import assert from "node:assert/strict";
import { BUILTIN_RESOURCES, servedGroupVersions } from "../resources.js";
import { documentHash, openApiV2Document, openApiV3GroupVersion, openApiV3Index, openApiV3Paths, v3PathOf } from "./documents.js";
import { generateDefinitions, readTypesSources } from "./generate.js";
import { refName, refsOf, type Schema } from "./schema.js";

const defs = generateDefinitions(readTypesSources());
// The documents are plain JSON; the tests walk them as such.
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const index = openApiV3Index(defs);

test("openApiV3Index: lists every served group/version, every group, the roots and version", () => {
  const keys = Object.keys(index.paths);
  for (const gv of servedGroupVersions()) {
    assert.ok(keys.includes(v3PathOf(gv.group, gv.version)), v3PathOf(gv.group, gv.version));
    if (gv.group !== "") assert.ok(keys.includes(`apis/${gv.group}`), gv.group);
  }
  for (const k of ["api", "apis", "version"]) assert.ok(keys.includes(k), k);
  assert.deepEqual(keys.sort(), openApiV3Paths().sort());
});

test("openApiV3Index: each URL carries the SHA-512 of the document it names", () => {
  for (const [key, { serverRelativeURL }] of Object.entries(index.paths)) {
    const doc = openApiV3GroupVersion(key, defs);
    assert.ok(doc !== undefined, key);
    assert.equal(serverRelativeURL, `/openapi/v3/${key}?hash=${documentHash(JSON.stringify(doc))}`);
  }
  assert.match(index.paths["api/v1"]!.serverRelativeURL, /\?hash=[0-9A-F]{128}$/);
});

test("openApiV3GroupVersion: a path that is not served has no document", () => {
  assert.equal(openApiV3GroupVersion("apis/apps/v2", defs), undefined);
  assert.equal(openApiV3GroupVersion("apis/nope.example.com/v1", defs), undefined);
});

const apps = openApiV3GroupVersion("apis/apps/v1", defs) as Doc;

test("openApiV3GroupVersion: apps/v1 holds the GVK-tagged Deployment and every schema its refs reach", () => {
  assert.equal(apps.openapi, "3.0.0");
  const schemas = apps.components.schemas as Record<string, Schema>;
  assert.deepEqual(schemas["io.k8s.api.apps.v1.Deployment"]!["x-kubernetes-group-version-kind"], [{ group: "apps", version: "v1", kind: "Deployment" }]);
  for (const [name, s] of Object.entries(schemas)) {
    for (const ref of refsOf(s)) assert.ok(schemas[ref] !== undefined, `${name} -> ${ref}`);
  }
  const text = JSON.stringify(apps);
  assert.ok(!text.includes("#/definitions/"), "v3 refs point into components");
  assert.ok(schemas["io.k8s.api.core.v1.Container"] !== undefined, "PodSpec's Container is reachable");
  assert.equal(schemas["io.k8s.api.core.v1.Node"], undefined, "only what apps/v1 reaches");
});

test("openApiV3GroupVersion: the containers list keeps its merge key through the ref rewrite", () => {
  const containers = apps.components.schemas["io.k8s.api.core.v1.PodSpec"].properties.containers;
  assert.equal(containers["x-kubernetes-patch-merge-key"], "name");
  assert.equal(refName(containers.items.$ref), "io.k8s.api.core.v1.Container");
  assert.match(containers.items.$ref, /^#\/components\/schemas\//);
});

// kubectl apply computes a strategic merge patch from v3 only if a PATCH tagged with the kind accepts
// it, and asks the server to validate fields only if that PATCH declares fieldValidation.
test("openApiV3GroupVersion: every PATCH on deployments is tagged, accepts strategic merge patch and declares fieldValidation", () => {
  const patch = apps.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"].patch;
  assert.deepEqual(patch["x-kubernetes-group-version-kind"], { group: "apps", kind: "Deployment", version: "v1" });
  assert.equal(patch["x-kubernetes-action"], "patch");
  assert.ok("application/strategic-merge-patch+json" in patch.requestBody.content);
  assert.ok("application/apply-patch+yaml" in patch.requestBody.content);
  for (const name of ["fieldValidation", "fieldManager", "dryRun", "force"]) {
    assert.ok(patch.parameters.some((p: Doc) => p.name === name && p.in === "query"), name);
  }
  for (const [path, item] of Object.entries(apps.paths as Record<string, Doc>)) {
    if (item.patch === undefined) continue;
    assert.ok(item.patch.parameters.some((p: Doc) => p.name === "fieldValidation"), path);
  }
});

// kubectl explain finds a resource's kind through an operation on these four paths.
test("openApiV3GroupVersion: the paths kubectl explain searches exist for every served resource, tagged with its kind", () => {
  for (const r of BUILTIN_RESOURCES) {
    const doc = openApiV3GroupVersion(v3PathOf(r.group, r.version), defs) as Doc;
    const prefix = r.group === "" ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
    const candidates = r.namespaced
      ? [`${prefix}/namespaces/{namespace}/${r.resource}`, `${prefix}/namespaces/{namespace}/${r.resource}/{name}`]
      : [`${prefix}/${r.resource}`, `${prefix}/${r.resource}/{name}`];
    const tagged = candidates.flatMap((p): Doc[] => Object.values((doc.paths[p] ?? {}) as Record<string, Doc>)).filter((op) => op["x-kubernetes-group-version-kind"] !== undefined);
    assert.ok(tagged.length > 0, `${r.resource}`);
    assert.deepEqual(tagged[0]["x-kubernetes-group-version-kind"], { group: r.group, kind: r.kind, version: r.version });
    assert.ok(doc.components.schemas[r.definition] !== undefined, r.definition);
  }
});

test("openApiV3GroupVersion: subresources are documented with their body's kind", () => {
  const core = openApiV3GroupVersion("api/v1", defs) as Doc;
  const eviction = core.paths["/api/v1/namespaces/{namespace}/pods/{name}/eviction"].post;
  assert.deepEqual(eviction["x-kubernetes-group-version-kind"], { group: "policy", kind: "Eviction", version: "v1" });
  const scale = apps.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"];
  assert.deepEqual(scale.get["x-kubernetes-group-version-kind"], { group: "autoscaling", kind: "Scale", version: "v1" });
  assert.deepEqual(Object.keys(core.paths["/api/v1/namespaces/{namespace}/bindings"]).filter((k) => k !== "parameters"), ["post"]);
});

test("openApiV2Document: a swagger 2.0 document with every definition and the PATCH content types", () => {
  const v2 = openApiV2Document(defs, { version: "v1.32.0" }) as Doc;
  assert.equal(v2.swagger, "2.0");
  assert.deepEqual(v2.info, { title: "Kubernetes", version: "v1.32.0" });
  assert.equal(v2.definitions, defs);
  const patch = v2.paths["/api/v1/namespaces/{namespace}/pods/{name}"].patch;
  assert.ok(patch.consumes.includes("application/strategic-merge-patch+json"));
  assert.deepEqual(patch["x-kubernetes-group-version-kind"], { group: "", kind: "Pod", version: "v1" });
  assert.equal(patch.parameters[0].in, "body");
  assert.equal(patch.parameters[0].schema.$ref, "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch");
  const list = v2.paths["/api/v1/pods"].get;
  assert.equal(list["x-kubernetes-action"], "list");
  assert.equal(list.operationId, "listCoreV1PodForAllNamespaces");
  assert.equal(v2.paths["/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"].post.operationId, "createCoordinationV1NamespacedLease");
});
