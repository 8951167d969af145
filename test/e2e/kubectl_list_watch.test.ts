/**
 * Real kubectl listing and watching on a started `tk8s server`: `get -w` streaming rows as objects
 * change, label and field selectors (and upstream's error for a field that cannot be selected on), and
 * `--chunk-size` paging through many objects with continue tokens.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { kubectl, kubectlAvailable, kubectlOk, startApiServer, type ApiServerProcess } from "../harness/apiserver_process.js";
import { startKubectl } from "./background_kubectl.js";
import { jsonBody, rawRequest } from "./raw_https.js";

const WATCH_STEP_TIMEOUT_MS = 10_000;
const PAGED_OBJECTS = 25;

function configMap(name: string, namespace: string, labels: Record<string, string>, data: Record<string, string> = {}): string {
  return JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace, labels }, data });
}

/** The whitespace-separated cells of each non-empty line. */
function rows(text: string): string[][] {
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => l.trim().split(/\s+/));
}

describe("kubectl get -w, selectors and paging against tk8s server", { skip: !kubectlAvailable() }, () => {
  let server: ApiServerProcess;
  const ok = (args: string[], input?: string) => kubectlOk(server, args, input === undefined ? {} : { input });

  before(async () => {
    server = await startApiServer();
    ok(["apply", "-f", "-"], ["watch", "sel", "page"].map((n) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${n}\n`).join("---\n"));
  });
  after(async () => {
    await server?.stop();
  });

  // ---- watch ----

  test("get -w --output-watch-events streams ADDED, MODIFIED and DELETED rows as objects change", async () => {
    ok(["apply", "-f", "-"], configMap("w1", "watch", { w: "1" }, { a: "1" }));
    const watch = startKubectl(server, ["get", "configmaps", "-n", "watch", "-l", "w", "-w", "--output-watch-events"]);
    try {
      await watch.waitFor((out) => rows(out).some((r) => r[0] === "ADDED" && r[1] === "w1"), WATCH_STEP_TIMEOUT_MS);
      assert.deepEqual(rows(watch.stdout())[0], ["EVENT", "NAME", "DATA", "AGE"]);
      ok(["apply", "-f", "-"], configMap("w2", "watch", { w: "1" }));
      await watch.waitFor((out) => rows(out).some((r) => r[0] === "ADDED" && r[1] === "w2"), WATCH_STEP_TIMEOUT_MS);
      ok(["patch", "configmap", "w1", "-n", "watch", "--type=merge", "-p", '{"data":{"b":"2"}}']);
      await watch.waitFor((out) => rows(out).some((r) => r[0] === "MODIFIED" && r[1] === "w1"), WATCH_STEP_TIMEOUT_MS);
      ok(["delete", "configmap", "w2", "-n", "watch"]);
      await watch.waitFor((out) => rows(out).some((r) => r[0] === "DELETED" && r[1] === "w2"), WATCH_STEP_TIMEOUT_MS);
      // An object that leaves the selection is a DELETED for this watch, though it still exists.
      ok(["label", "configmap", "w1", "-n", "watch", "w-"]);
      await watch.waitFor((out) => rows(out).some((r) => r[0] === "DELETED" && r[1] === "w1"), WATCH_STEP_TIMEOUT_MS);
      const events = rows(watch.stdout()).filter((r) => r[0] !== "EVENT").map((r) => [r[0], r[1], r[2]]);
      assert.deepEqual(events, [
        ["ADDED", "w1", "1"],
        ["ADDED", "w2", "0"],
        ["MODIFIED", "w1", "2"],
        ["DELETED", "w2", "0"],
        ["DELETED", "w1", "2"],
      ]);
      assert.equal(watch.stderr(), "");
    } finally {
      await watch.stop();
    }
  });

  test("get -w prints the current table, then a row for each change", async () => {
    ok(["apply", "-f", "-"], configMap("t1", "watch", { t: "1" }, { a: "1" }));
    const watch = startKubectl(server, ["get", "configmaps", "-n", "watch", "-l", "t", "-w"]);
    try {
      await watch.waitFor((out) => rows(out).length >= 2, WATCH_STEP_TIMEOUT_MS);
      ok(["patch", "configmap", "t1", "-n", "watch", "--type=merge", "-p", '{"data":{"b":"2","c":"3"}}']);
      await watch.waitFor((out) => rows(out).length >= 3, WATCH_STEP_TIMEOUT_MS);
      const table = rows(watch.stdout()).map((r) => r.slice(0, 2));
      assert.deepEqual(table, [["NAME", "DATA"], ["t1", "1"], ["t1", "3"]]);
    } finally {
      await watch.stop();
    }
  });

  test("get -w --watch-only prints nothing for existing objects and a row for a new one", async () => {
    const watch = startKubectl(server, ["get", "configmaps", "-n", "watch", "-l", "t", "--watch-only", "-o", "name"]);
    try {
      // Give the watch time to start; the existing t1 must not be printed.
      await new Promise((r) => setTimeout(r, 1000));
      ok(["apply", "-f", "-"], configMap("t2", "watch", { t: "1" }));
      await watch.waitFor((out) => out.includes("configmap/t2"), WATCH_STEP_TIMEOUT_MS);
      assert.equal(watch.stdout(), "configmap/t2\n");
    } finally {
      await watch.stop();
    }
  });

  test("get -w --request-timeout ends the watch cleanly when the timeout passes", async () => {
    const watch = startKubectl(server, ["get", "configmaps", "-n", "watch", "-w", "--request-timeout=2s", "-o", "name"]);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([watch.exited(), new Promise<string>((r) => (timer = setTimeout(() => r("still running"), 15_000)))]);
    clearTimeout(timer);
    await watch.stop();
    assert.equal(code, 0, watch.stderr());
  });

  test("wait --for=jsonpath returns once a change makes the condition true", async () => {
    ok(["apply", "-f", "-"], configMap("waited", "watch", {}, { phase: "pending" }));
    const wait = startKubectl(server, ["wait", "-n", "watch", "configmap/waited", "--for=jsonpath={.data.phase}=done", "--timeout=20s"]);
    try {
      await new Promise((r) => setTimeout(r, 500));
      ok(["patch", "configmap", "waited", "-n", "watch", "--type=merge", "-p", '{"data":{"phase":"done"}}']);
      assert.equal(await wait.exited(), 0, wait.stderr());
      assert.equal(wait.stdout(), "configmap/waited condition met\n");
    } finally {
      await wait.stop();
    }
  });

  test("wait --for=delete returns once the object is gone", async () => {
    ok(["apply", "-f", "-"], configMap("doomed", "watch", {}));
    const wait = startKubectl(server, ["wait", "-n", "watch", "configmap/doomed", "--for=delete", "--timeout=20s"]);
    try {
      await new Promise((r) => setTimeout(r, 500));
      ok(["delete", "configmap", "doomed", "-n", "watch", "--wait=false"]);
      assert.equal(await wait.exited(), 0, wait.stderr());
      assert.equal(wait.stdout(), "configmap/doomed condition met\n");
    } finally {
      await wait.stop();
    }
  });

  // ---- selectors ----

  test("-l selects by equality, inequality, set membership and existence", () => {
    ok(["apply", "-f", "-"], [configMap("s1", "sel", { app: "a", tier: "fe" }), configMap("s2", "sel", { app: "a", tier: "be" }), configMap("s3", "sel", { app: "b" })].join("\n"));
    const names = (selector: string) => ok(["get", "configmaps", "-n", "sel", "-l", selector, "-o", "name"]);
    const cases = [
      { selector: "app=a", want: "configmap/s1\nconfigmap/s2\n" },
      { selector: "app==b", want: "configmap/s3\n" },
      { selector: "app,app!=a", want: "configmap/s3\n" },
      { selector: "tier in (fe,qa)", want: "configmap/s1\n" },
      { selector: "app,tier notin (fe)", want: "configmap/s2\nconfigmap/s3\n" },
      { selector: "app,!tier", want: "configmap/s3\n" },
      { selector: "app=a,tier=be", want: "configmap/s2\n" },
    ];
    for (const c of cases) assert.equal(names(c.selector), c.want, `-l ${c.selector}`);
  });

  test("-l that matches nothing says no resources were found", () => {
    const r = kubectl(server, ["get", "configmaps", "-n", "sel", "-l", "app=zzz"]);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, "No resources found in sel namespace.\n");
  });

  test("a malformed label selector is refused", () => {
    const r = kubectl(server, ["get", "configmaps", "-n", "sel", "-l", "app in a"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unable to parse requirement: found 'a', expected: '\('/);
  });

  test("--field-selector selects on metadata.name and metadata.namespace, alone and with -l", () => {
    assert.equal(ok(["get", "configmaps", "-n", "sel", "--field-selector", "metadata.name=s2", "-o", "name"]), "configmap/s2\n");
    assert.equal(ok(["get", "configmaps", "-n", "sel", "-l", "app", "--field-selector", "metadata.name!=s2", "-o", "name"]), "configmap/s1\nconfigmap/s3\n");
    assert.equal(ok(["get", "configmaps", "-A", "-l", "app", "--field-selector", "metadata.namespace=sel,metadata.name=s3", "-o", "name"]), "configmap/s3\n");
  });

  test("--field-selector on a field the kind does not index fails with upstream's message", () => {
    const r = kubectl(server, ["get", "configmaps", "-n", "sel", "--field-selector", "spec.foo=x"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'Error from server (BadRequest): Unable to find "/v1, Resource=configmaps" that match label selector "", field selector "spec.foo=x": "spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"\n',
    );
  });

  test("--field-selector on a field a kind with its own selectable fields does not index names that kind's error", () => {
    // Pods register their own field label conversion, whose message differs from the default one.
    const r = kubectl(server, ["get", "pods", "-n", "sel", "--field-selector", "spec.foo=x"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error from server (BadRequest): Unable to find "/v1, Resource=pods" that match label selector "", field selector "spec.foo=x": field label not supported: spec.foo\n');
  });

  test("--field-selector on a field a kind does index (a pod's spec.nodeName, a namespace's status.phase) works", () => {
    ok(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "p1", namespace: "sel" }, spec: { nodeName: "node-a", containers: [{ name: "c", image: "busybox" }] } }));
    assert.equal(ok(["get", "pods", "-n", "sel", "--field-selector", "spec.nodeName=node-a", "-o", "name"]), "pod/p1\n");
    assert.equal(ok(["get", "pods", "-n", "sel", "--field-selector", "spec.nodeName=node-b", "-o", "name"]), "");
    assert.equal(ok(["get", "namespaces", "--field-selector", "status.phase=Active,metadata.name=sel", "-o", "name"]), "namespace/sel\n");
  });

  // ---- paging ----

  test("get --chunk-size pages through many objects and returns every one once, in name order", () => {
    const docs = Array.from({ length: PAGED_OBJECTS }, (_, i) => configMap(`item-${String(i).padStart(2, "0")}`, "page", { paged: "yes" }));
    ok(["apply", "-f", "-"], docs.join("\n"));
    const r = kubectl(server, ["get", "configmaps", "-n", "page", "-l", "paged", "--chunk-size=7", "-o", "name", "-v=6"]);
    assert.equal(r.code, 0, r.stderr);
    const want = Array.from({ length: PAGED_OBJECTS }, (_, i) => `configmap/item-${String(i).padStart(2, "0")}\n`).join("");
    assert.equal(r.stdout, want);
    // ceil(25 / 7) = 4 requests of 7; every one after the first carries the previous page's token.
    const lists = r.stderr.split("\n").filter((l) => /GET https:\/\/\S+\/api\/v1\/namespaces\/page\/configmaps\?\S*limit=7/.test(l));
    assert.equal(lists.length, 4, lists.join("\n"));
    assert.equal(lists.filter((l) => /[?&]continue=/.test(l)).length, 3);
  });

  test("a paged list reports the remaining count, and a continue token resumes where the page ended", async () => {
    const page1 = jsonBody(await rawRequest(server, "/api/v1/namespaces/page/configmaps?limit=10"));
    const meta1 = page1.metadata as { continue?: string; remainingItemCount?: number; resourceVersion: string };
    assert.equal((page1.items as unknown[]).length, 10);
    assert.equal(meta1.remainingItemCount, PAGED_OBJECTS - 10);
    assert.ok(meta1.continue, "a page with more after it has a continue token");
    const page2 = jsonBody(await rawRequest(server, `/api/v1/namespaces/page/configmaps?limit=10&continue=${encodeURIComponent(meta1.continue!)}`));
    const meta2 = page2.metadata as { continue?: string; remainingItemCount?: number; resourceVersion: string };
    assert.equal((page2.items as { metadata: { name: string } }[])[0]!.metadata.name, "item-10");
    assert.equal(meta2.remainingItemCount, PAGED_OBJECTS - 20);
    // Every page is read at the first page's resourceVersion: one consistent snapshot.
    assert.equal(meta2.resourceVersion, meta1.resourceVersion);
    const page3 = jsonBody(await rawRequest(server, `/api/v1/namespaces/page/configmaps?limit=10&continue=${encodeURIComponent(meta2.continue!)}`));
    const meta3 = page3.metadata as { continue?: string; remainingItemCount?: number };
    assert.equal((page3.items as unknown[]).length, PAGED_OBJECTS - 20);
    assert.equal(meta3.continue, undefined);
    assert.equal(meta3.remainingItemCount, undefined);
  });

  test("a continue token that is not one of the server's is refused with 400", async () => {
    const res = await rawRequest(server, "/api/v1/namespaces/page/configmaps?limit=10&continue=bm90LWEtdG9rZW4");
    assert.equal(res.status, 400);
    const status = jsonBody(res);
    assert.equal(status.reason, "BadRequest");
    // Upstream decodes it (base64, then JSON) and says why it could not.
    assert.match(String(status.message), /^invalid continue token: continue key is not valid: /);
  });
});
