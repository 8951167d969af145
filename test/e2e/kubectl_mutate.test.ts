/**
 * Real kubectl changing objects on a started `tk8s server`: edit, the three patch types, label and
 * annotate, scale, delete (and finalizers holding a delete), diff, server-side dry runs, server-side
 * apply with field-manager conflicts, optimistic concurrency and generateName. Expected text is
 * upstream's (kubectl v1.32 against kube-apiserver v1.32).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubectl, kubectlAvailable, kubectlOk, startApiServer, type ApiServerProcess } from "../harness/apiserver_process.js";
import { startKubectl } from "./background_kubectl.js";

/** A Deployment manifest named `name`; no container ports, so server-side apply needs no port defaults. */
function deployment(name: string, replicas: number, image = "nginx:1.25"): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: {app: ${name}}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: main
        image: ${image}
`;
}

function configMap(name: string, data: Record<string, string>, extraMetadata = ""): string {
  const lines = Object.entries(data).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`);
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extraMetadata}data:\n${lines.join("\n")}\n`;
}

// Upstream kubectl's advice after a server-side apply conflict (staging/src/k8s.io/kubectl/pkg/cmd/apply).
const SSA_CONFLICT_ADVICE = `Please review the fields above--they currently have other managers. Here
are the ways you can resolve this warning:
* If you intend to manage all of these fields, please re-run the apply
  command with the \`--force-conflicts\` flag.
* If you do not intend to manage all of the fields, please edit your
  manifest to remove references to the fields that should keep their
  current managers.
* You may co-own fields by updating your manifest to match the existing
  value; in this case, you'll become the manager if the other manager(s)
  stop managing the field (remove it from their configuration).
See https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts
`;

describe("kubectl edit, patch, label, scale, delete, diff and apply --server-side against tk8s server", { skip: !kubectlAvailable() }, () => {
  let server: ApiServerProcess;
  let scratch: string;
  const ok = (args: string[], input?: string) => kubectlOk(server, args, input === undefined ? {} : { input });
  const jsonpath = (target: string, path: string) => ok(["get", target, "-o", `jsonpath={${path}}`]);

  before(async () => {
    server = await startApiServer();
    scratch = mkdtempSync(join(tmpdir(), "tk8s-e2e-mutate-"));
  });
  after(async () => {
    await server?.stop();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  // ---- edit ----

  test("edit with KUBE_EDITOR saves what the editor wrote", () => {
    ok(["apply", "-f", "-"], deployment("ed", 2));
    const editor = join(scratch, "set-replicas.sh");
    // kubectl runs "$KUBE_EDITOR <tmpfile>" and sends what is in the file when the editor exits 0.
    writeFileSync(editor, `#!/bin/sh\nsed -i 's/^  replicas: 2$/  replicas: 4/' "$1"\n`);
    chmodSync(editor, 0o755);
    const r = kubectl(server, ["edit", "deployment", "ed"], { env: { KUBE_EDITOR: `sh ${editor}` } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "deployment.apps/ed edited\n");
    assert.equal(jsonpath("deployment/ed", ".spec.replicas"), "4");
    assert.equal(jsonpath("deployment/ed", ".metadata.generation"), "2");
  });

  test("edit that changes nothing is cancelled and sends no update", () => {
    const before = jsonpath("deployment/ed", ".metadata.resourceVersion");
    const r = kubectl(server, ["edit", "deployment", "ed"], { env: { KUBE_EDITOR: "true" } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "Edit cancelled, no changes made.\n");
    assert.equal(jsonpath("deployment/ed", ".metadata.resourceVersion"), before);
  });

  test("edit -o json hands the editor JSON and saves the edited JSON", () => {
    const editor = join(scratch, "set-image.sh");
    writeFileSync(editor, `#!/bin/sh\nsed -i 's/"nginx:1.25"/"nginx:1.27"/' "$1"\n`);
    const r = kubectl(server, ["edit", "deployment", "ed", "-o", "json"], { env: { KUBE_EDITOR: `sh ${editor}` } });
    assert.equal(r.code, 0, r.stderr);
    // -o also prints the saved object in that format instead of "edited".
    const saved = JSON.parse(r.stdout) as { spec: { template: { spec: { containers: { image: string }[] } } } };
    assert.equal(saved.spec.template.spec.containers[0]!.image, "nginx:1.27");
    assert.equal(jsonpath("deployment/ed", ".spec.template.spec.containers[0].image"), "nginx:1.27");
  });

  // ---- patch ----

  test("patch without --type is a strategic merge that merges containers by name", () => {
    ok(["apply", "-f", "-"], deployment("pt", 1));
    ok(["patch", "deployment", "pt", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.36"}]}}}}']);
    assert.equal(jsonpath("deployment/pt", ".spec.template.spec.containers[*].name"), "sidecar main");
    const out = ok(["patch", "deployment", "pt", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"nginx:1.26"}]}}}}']);
    assert.equal(out, "deployment.apps/pt patched\n");
    assert.equal(jsonpath("deployment/pt", ".spec.template.spec.containers[*].image"), "busybox:1.36 nginx:1.26");
  });

  test("patch with the strategic $patch: delete directive removes one list element", () => {
    ok(["patch", "deployment", "pt", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}']);
    assert.equal(jsonpath("deployment/pt", ".spec.template.spec.containers[*].name"), "main");
  });

  test("patch --type=merge replaces a list wholesale and null deletes a key", () => {
    ok(["patch", "deployment", "pt", "--type=merge", "-p", '{"metadata":{"labels":{"tier":"fe","app":null}}}']);
    assert.equal(jsonpath("deployment/pt", ".metadata.labels"), '{"tier":"fe"}');
    ok(["patch", "deployment", "pt", "--type=merge", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"busybox:1.36"}]}}}}']);
    assert.equal(jsonpath("deployment/pt", ".spec.template.spec.containers[*].name"), "only");
  });

  test("patch --type=json applies RFC 6902 operations in order", () => {
    const out = ok(["patch", "deployment", "pt", "--type=json", "-p", '[{"op":"replace","path":"/spec/replicas","value":7},{"op":"add","path":"/metadata/labels/json","value":"yes"}]']);
    assert.equal(out, "deployment.apps/pt patched\n");
    assert.equal(jsonpath("deployment/pt", ".spec.replicas"), "7");
    assert.equal(jsonpath("deployment/pt", ".metadata.labels.json"), "yes");
  });

  test("a patch that changes nothing says so and keeps the resourceVersion", () => {
    const before = jsonpath("deployment/pt", ".metadata.resourceVersion");
    assert.equal(ok(["patch", "deployment", "pt", "--type=merge", "-p", '{"spec":{"replicas":7}}']), "deployment.apps/pt patched (no change)\n");
    assert.equal(jsonpath("deployment/pt", ".metadata.resourceVersion"), before);
  });

  test("a json patch whose test operation fails changes nothing and is refused", () => {
    const r = kubectl(server, ["patch", "deployment", "pt", "--type=json", "-p", '[{"op":"test","path":"/spec/replicas","value":99},{"op":"replace","path":"/spec/replicas","value":1}]']);
    assert.equal(r.code, 1);
    // Upstream answers a failed JSON patch with a generic 422 (NewGenericServerResponse): the patch
    // library's own message is not passed on.
    assert.equal(r.stderr, "The request is invalid: the server rejected our request due to an error in our request\n");
    assert.equal(jsonpath("deployment/pt", ".spec.replicas"), "7");
  });

  test("patch of a missing object fails with NotFound", () => {
    const r = kubectl(server, ["patch", "deployment", "nope", "--type=merge", "-p", "{}"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error from server (NotFound): deployments.apps "nope" not found\n');
  });

  test("set image changes one container's image with a strategic merge patch", () => {
    ok(["apply", "-f", "-"], deployment("si", 1));
    assert.equal(ok(["set", "image", "deployment/si", "main=nginx:1.27"]), "deployment.apps/si image updated\n");
    assert.equal(jsonpath("deployment/si", ".spec.template.spec.containers[0].image"), "nginx:1.27");
  });

  test("a spec change bumps metadata.generation and a metadata-only change does not", () => {
    const before = Number(jsonpath("deployment/si", ".metadata.generation"));
    ok(["label", "deployment", "si", "touched=yes"]);
    assert.equal(Number(jsonpath("deployment/si", ".metadata.generation")), before);
    ok(["patch", "deployment", "si", "--type=merge", "-p", '{"spec":{"replicas":2}}']);
    assert.equal(Number(jsonpath("deployment/si", ".metadata.generation")), before + 1);
  });

  test("status written through the main resource is ignored, so the patch changes nothing", () => {
    // The deployment strategy copies the old status over the new on a main-resource update.
    assert.equal(ok(["patch", "deployment", "si", "--type=merge", "-p", '{"status":{"replicas":9}}']), "deployment.apps/si patched (no change)\n");
    assert.equal(jsonpath("deployment/si", ".status.replicas"), "");
  });

  test("status written through the status subresource is kept, and spec sent there is ignored", () => {
    const replicas = jsonpath("deployment/si", ".spec.replicas");
    assert.equal(ok(["patch", "deployment", "si", "--subresource=status", "--type=merge", "-p", '{"status":{"replicas":9},"spec":{"replicas":7}}']), "deployment.apps/si patched\n");
    assert.equal(jsonpath("deployment/si", ".status.replicas"), "9");
    assert.equal(jsonpath("deployment/si", ".spec.replicas"), replicas);
  });

  // ---- label / annotate ----

  test("label adds a label, refuses to change it without --overwrite, and key- removes it", () => {
    ok(["apply", "-f", "-"], configMap("lb", { a: "1" }));
    assert.equal(ok(["label", "configmap", "lb", "tier=fe"]), "configmap/lb labeled\n");
    const refused = kubectl(server, ["label", "configmap", "lb", "tier=be"]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, "error: 'tier' already has a value (fe), and --overwrite is false\n");
    assert.equal(jsonpath("configmap/lb", ".metadata.labels.tier"), "fe");
    assert.equal(ok(["label", "configmap", "lb", "tier=be", "--overwrite"]), "configmap/lb labeled\n");
    assert.equal(jsonpath("configmap/lb", ".metadata.labels.tier"), "be");
    assert.equal(ok(["label", "configmap", "lb", "tier-"]), "configmap/lb unlabeled\n");
    assert.equal(jsonpath("configmap/lb", ".metadata.labels.tier"), "");
  });

  test("annotate adds an annotation, refuses to overwrite it without --overwrite, and key- removes it", () => {
    assert.equal(ok(["annotate", "configmap", "lb", "note=first"]), "configmap/lb annotated\n");
    const refused = kubectl(server, ["annotate", "configmap", "lb", "note=second"]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, "error: --overwrite is false but found the following declared annotation(s): 'note' already has a value (first)\n");
    assert.equal(ok(["annotate", "configmap", "lb", "note=second", "--overwrite"]), "configmap/lb annotated\n");
    assert.equal(jsonpath("configmap/lb", ".metadata.annotations.note"), "second");
    assert.equal(ok(["annotate", "configmap", "lb", "note-"]), "configmap/lb annotated\n");
    assert.equal(jsonpath("configmap/lb", ".metadata.annotations.note"), "");
    // apply's own annotation is untouched by the removal.
    assert.notEqual(jsonpath("configmap/lb", ".metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration"), "");
  });

  // ---- scale ----

  test("scale changes a deployment's replicas through the scale subresource", () => {
    ok(["apply", "-f", "-"], deployment("sc", 1));
    assert.equal(ok(["scale", "deployment", "sc", "--replicas=5"]), "deployment.apps/sc scaled\n");
    assert.equal(jsonpath("deployment/sc", ".spec.replicas"), "5");
    const scale = JSON.parse(ok(["get", "--raw", "/apis/apps/v1/namespaces/default/deployments/sc/scale"])) as { kind: string; apiVersion: string; spec: { replicas: number }; status: { replicas: number; selector: string } };
    assert.equal(scale.kind, "Scale");
    assert.equal(scale.apiVersion, "autoscaling/v1");
    assert.equal(scale.spec.replicas, 5);
    assert.equal(scale.status.selector, "app=sc");
  });

  test("scale with a --current-replicas precondition that does not hold is refused", () => {
    const r = kubectl(server, ["scale", "deployment", "sc", "--current-replicas=2", "--replicas=3"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "error: Expected replicas to be 2, was 5\n");
    assert.equal(jsonpath("deployment/sc", ".spec.replicas"), "5");
  });

  // ---- delete ----

  test("delete removes an object and waits for it to be gone", () => {
    ok(["apply", "-f", "-"], configMap("del1", { a: "1" }));
    assert.equal(ok(["delete", "configmap", "del1", "--wait"]), 'configmap "del1" deleted\n');
    const r = kubectl(server, ["get", "configmap", "del1"]);
    assert.equal(r.stderr, 'Error from server (NotFound): configmaps "del1" not found\n');
  });

  test("delete of a missing object fails with upstream's NotFound message, unless --ignore-not-found", () => {
    const r = kubectl(server, ["delete", "deployment", "x"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error from server (NotFound): deployments.apps "x" not found\n');
    const ignored = kubectl(server, ["delete", "deployment", "x", "--ignore-not-found"]);
    assert.equal(ignored.code, 0);
    assert.equal(ignored.stdout + ignored.stderr, "");
  });

  test("delete -l removes every object the label selector matches and no other", () => {
    ok(["apply", "-f", "-"], [configMap("dl1", { a: "1" }, "  labels: {batch: gone}\n"), configMap("dl2", { a: "1" }, "  labels: {batch: gone}\n"), configMap("dl3", { a: "1" }, "  labels: {batch: kept}\n")].join("---\n"));
    assert.equal(ok(["delete", "configmaps", "-l", "batch=gone"]), 'configmap "dl1" deleted\nconfigmap "dl2" deleted\n');
    assert.equal(ok(["get", "configmaps", "-l", "batch", "-o", "name"]), "configmap/dl3\n");
  });

  // ---- finalizers ----

  test("an object with a finalizer stays, marked for deletion, until a patch removes the finalizer", () => {
    ok(["apply", "-f", "-"], configMap("fin", { a: "1" }, "  finalizers: [example.com/hold]\n"));
    assert.equal(ok(["delete", "configmap", "fin", "--wait=false"]), 'configmap "fin" deleted\n');
    const held = JSON.parse(ok(["get", "configmap", "fin", "-o", "json"])) as { metadata: { deletionTimestamp?: string; deletionGracePeriodSeconds?: number; finalizers?: string[] } };
    assert.match(held.metadata.deletionTimestamp ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(held.metadata.deletionGracePeriodSeconds, 0);
    assert.deepEqual(held.metadata.finalizers, ["example.com/hold"]);
    // A second delete changes nothing: the object is already terminating.
    assert.equal(ok(["delete", "configmap", "fin", "--wait=false"]), 'configmap "fin" deleted\n');
    assert.equal(jsonpath("configmap/fin", ".metadata.deletionTimestamp"), held.metadata.deletionTimestamp);
    ok(["patch", "configmap", "fin", "--type=merge", "-p", '{"metadata":{"finalizers":null}}']);
    const gone = kubectl(server, ["get", "configmap", "fin"]);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, 'Error from server (NotFound): configmaps "fin" not found\n');
  });

  test("delete --wait blocks while a finalizer holds the object and returns once it is removed", async () => {
    ok(["apply", "-f", "-"], configMap("fin2", { a: "1" }, "  finalizers: [example.com/hold]\n"));
    const del = startKubectl(server, ["delete", "configmap", "fin2", "--wait", "--timeout=30s"]);
    try {
      await del.waitFor((out) => out.includes('configmap "fin2" deleted'), 10_000);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await Promise.race([del.exited().then(() => "exited"), Promise.resolve("waiting")]), "waiting", "delete --wait returned while the finalizer was still there");
      ok(["patch", "configmap", "fin2", "--type=json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]']);
      assert.equal(await del.exited(), 0, del.stderr());
    } finally {
      await del.stop();
    }
  });

  test("delete --timeout gives up with kubectl's timeout error while a finalizer holds the object", () => {
    ok(["apply", "-f", "-"], configMap("fin3", { a: "1" }, "  finalizers: [example.com/hold]\n"));
    // 2 s, not 1: below a second client-go's reflector itself warns of a "very short watch".
    const r = kubectl(server, ["delete", "configmap", "fin3", "--timeout=2s"]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'configmap "fin3" deleted\n');
    // client-go's reflector may also log its cancelled watch (an E line) before kubectl's own error.
    assert.ok(r.stderr.endsWith("error: timed out waiting for the condition on configmaps/fin3\n"), r.stderr);
    ok(["patch", "configmap", "fin3", "--type=merge", "-p", '{"metadata":{"finalizers":null}}']);
  });

  // ---- diff ----

  test("diff exits 0 with no output when the manifest matches the live object", () => {
    ok(["apply", "-f", "-"], configMap("df", { a: "1" }));
    const r = kubectl(server, ["diff", "-f", "-"], { input: configMap("df", { a: "1" }) });
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "");
  });

  test("diff exits 1 with a unified diff of the live object against the manifest when they differ", () => {
    const r = kubectl(server, ["diff", "-f", "-"], { input: configMap("df", { a: "2" }) });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.split("\n");
    assert.ok(lines.some((l) => /^diff -u -N \S+\/v1\.ConfigMap\.default\.df \S+\/v1\.ConfigMap\.default\.df$/.test(l)), r.stdout);
    assert.ok(lines.includes('-  a: "1"'), r.stdout);
    assert.ok(lines.includes('+  a: "2"'), r.stdout);
    // diff is a dry run: nothing changed.
    assert.equal(jsonpath("configmap/df", ".data.a"), "1");
  });

  // ---- dry run ----

  test("create --dry-run=server answers as if created and stores nothing", () => {
    assert.equal(ok(["create", "-f", "-", "--dry-run=server"], configMap("dry", { a: "1" })), "configmap/dry created (server dry run)\n");
    const r = kubectl(server, ["get", "configmap", "dry"]);
    assert.equal(r.stderr, 'Error from server (NotFound): configmaps "dry" not found\n');
  });

  test("apply, scale and delete with --dry-run=server leave the stored object unchanged", () => {
    ok(["apply", "-f", "-"], deployment("dr", 1));
    const rv = jsonpath("deployment/dr", ".metadata.resourceVersion");
    assert.equal(ok(["apply", "-f", "-", "--dry-run=server"], deployment("dr", 3)), "deployment.apps/dr configured (server dry run)\n");
    assert.equal(ok(["scale", "deployment", "dr", "--replicas=9", "--dry-run=server"]), "deployment.apps/dr scaled (server dry run)\n");
    assert.equal(ok(["delete", "deployment", "dr", "--dry-run=server"]), 'deployment.apps "dr" deleted (server dry run)\n');
    assert.equal(jsonpath("deployment/dr", ".spec.replicas"), "1");
    assert.equal(jsonpath("deployment/dr", ".metadata.resourceVersion"), rv);
  });

  test("a server dry run still runs defaulting and returns the object as it would be stored", () => {
    const out = ok(["create", "-f", "-", "--dry-run=server", "-o", "json"], deployment("dry-defaults", 1));
    const obj = JSON.parse(out) as { metadata: { uid?: string; creationTimestamp?: string }; spec: { strategy: { type: string }; template: { spec: { containers: { imagePullPolicy: string }[] } } } };
    assert.equal(obj.spec.strategy.type, "RollingUpdate");
    assert.equal(obj.spec.template.spec.containers[0]!.imagePullPolicy, "IfNotPresent");
    assert.ok(obj.metadata.uid, "a dry-run create fills uid as a real one would");
    assert.equal(kubectl(server, ["get", "deployment", "dry-defaults"]).code, 1);
  });

  // ---- server-side apply ----

  test("apply --server-side creates the object and records kubectl as its Apply manager", () => {
    assert.equal(ok(["apply", "--server-side", "-f", "-"], deployment("ssa", 2)), "deployment.apps/ssa serverside-applied\n");
    const obj = JSON.parse(ok(["get", "deployment", "ssa", "-o", "json", "--show-managed-fields"])) as { metadata: { managedFields: { manager: string; operation: string; apiVersion: string; fieldsType: string; fieldsV1: { "f:spec"?: Record<string, unknown> } }[] } };
    const apply = obj.metadata.managedFields.filter((m) => m.operation === "Apply");
    assert.equal(apply.length, 1);
    assert.equal(apply[0]!.manager, "kubectl");
    assert.equal(apply[0]!.apiVersion, "apps/v1");
    assert.equal(apply[0]!.fieldsType, "FieldsV1");
    assert.ok(apply[0]!.fieldsV1["f:spec"]?.["f:replicas"] !== undefined, JSON.stringify(apply[0]!.fieldsV1));
    // Defaults the server filled in are not the applier's.
    assert.equal(apply[0]!.fieldsV1["f:spec"]?.["f:revisionHistoryLimit"], undefined);
  });

  test("apply --server-side of a field another manager changed fails with upstream's conflict message", () => {
    assert.equal(ok(["scale", "deployment", "ssa", "--replicas=3"]), "deployment.apps/ssa scaled\n");
    const r = kubectl(server, ["apply", "--server-side", "-f", "-"], { input: deployment("ssa", 5) });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `error: Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas\n${SSA_CONFLICT_ADVICE}`);
    assert.equal(jsonpath("deployment/ssa", ".spec.replicas"), "3");
  });

  test("apply --server-side with a named field manager names the other manager in the conflict", () => {
    ok(["patch", "deployment", "ssa", "--type=merge", "--field-manager=hotfix", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"nginx:1.99"}]}}}}']);
    const r = kubectl(server, ["apply", "--server-side", "--field-manager=ci", "-f", "-"], { input: deployment("ssa", 3, "nginx:1.25") });
    assert.equal(r.code, 1);
    assert.ok(r.stderr.startsWith('error: Apply failed with 1 conflict: conflict with "hotfix" using apps/v1: .spec.template.spec.containers[name="main"].image\n'), r.stderr);
  });

  test("apply --server-side --force-conflicts takes ownership and applies the value", () => {
    const out = ok(["apply", "--server-side", "--force-conflicts", "-f", "-"], deployment("ssa", 5));
    assert.equal(out, "deployment.apps/ssa serverside-applied\n");
    assert.equal(jsonpath("deployment/ssa", ".spec.replicas"), "5");
    assert.equal(jsonpath("deployment/ssa", ".spec.template.spec.containers[0].image"), "nginx:1.25");
    const obj = JSON.parse(ok(["get", "deployment", "ssa", "-o", "json", "--show-managed-fields"])) as { metadata: { managedFields: { manager: string; subresource?: string; fieldsV1: { "f:spec"?: Record<string, unknown> } }[] } };
    const scaler = obj.metadata.managedFields.find((m) => m.manager === "kubectl" && m.subresource === "scale");
    assert.equal(scaler?.fieldsV1["f:spec"]?.["f:replicas"], undefined, "the scale manager lost .spec.replicas");
    // Re-applying the same manifest now has no conflict.
    assert.equal(ok(["apply", "--server-side", "-f", "-"], deployment("ssa", 5)), "deployment.apps/ssa serverside-applied\n");
  });

  test("apply --server-side removes a field the manager owned and no longer applies", () => {
    ok(["apply", "--server-side", "--field-manager=owner", "-f", "-"], configMap("ssa-cm", { a: "1", b: "2" }));
    ok(["apply", "--server-side", "--field-manager=owner", "-f", "-"], configMap("ssa-cm", { a: "1" }));
    assert.equal(jsonpath("configmap/ssa-cm", ".data"), '{"a":"1"}');
  });

  test("apply --server-side accepts list keys the server defaults (a container port without a protocol)", () => {
    // containerPort + protocol key the ports list; upstream's schema defaults protocol to TCP before
    // building the applied field set, so a manifest may leave it out.
    const manifest = deployment("ssa-ports", 1).replace("        image: nginx:1.25\n", "        image: nginx:1.25\n        ports:\n        - containerPort: 80\n");
    assert.equal(ok(["apply", "--server-side", "-f", "-"], manifest), "deployment.apps/ssa-ports serverside-applied\n");
    assert.equal(jsonpath("deployment/ssa-ports", ".spec.template.spec.containers[0].ports[0].protocol"), "TCP");
    assert.equal(ok(["apply", "--server-side", "-f", "-"], manifest), "deployment.apps/ssa-ports serverside-applied\n");
  });

  // ---- optimistic concurrency ----

  test("replace with a stale resourceVersion fails with upstream's conflict message", () => {
    ok(["apply", "-f", "-"], configMap("occ", { v: "0" }));
    const stale = JSON.parse(ok(["get", "configmap", "occ", "-o", "json"])) as { data: Record<string, string> };
    stale.data.v = "1";
    assert.equal(ok(["replace", "-f", "-"], JSON.stringify(stale)), "configmap/occ replaced\n");
    stale.data.v = "2";
    const r = kubectl(server, ["replace", "-f", "-"], { input: JSON.stringify(stale) });
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on configmaps "occ": the object has been modified; please apply your changes to the latest version and try again\n',
    );
    assert.equal(jsonpath("configmap/occ", ".data.v"), "1");
  });

  test("a patch carrying a stale resourceVersion is refused with the same conflict", () => {
    const r = kubectl(server, ["patch", "configmap", "occ", "--type=merge", "-p", '{"metadata":{"resourceVersion":"1"},"data":{"v":"3"}}']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error from server (Conflict): Operation cannot be fulfilled on configmaps "occ": the object has been modified; please apply your changes to the latest version and try again\n');
  });

  // ---- generateName ----

  test("create -f with generateName gets a fresh name with a five-character random suffix each time", () => {
    const manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: gen-\ndata: {a: b}\n";
    const first = ok(["create", "-f", "-"], manifest);
    const second = ok(["create", "-f", "-"], manifest);
    // Upstream's suffix alphabet leaves out vowels and look-alike characters.
    assert.match(first, /^configmap\/gen-[bcdfghjklmnpqrstvwxz2456789]{5} created\n$/);
    assert.match(second, /^configmap\/gen-[bcdfghjklmnpqrstvwxz2456789]{5} created\n$/);
    assert.notEqual(first, second);
    const name = /configmap\/(\S+)/.exec(first)![1]!;
    assert.equal(jsonpath(`configmap/${name}`, ".metadata.generateName"), "gen-");
  });
});
