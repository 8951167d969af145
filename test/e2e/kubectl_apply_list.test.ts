/**
 * `kubectl apply -f` of a `kind: List` against a started `tk8s server`. A List is not a served kind, so
 * kubectl cannot ask the server to validate it: it validates each item on the client against the
 * `/openapi/v2` document, which client-go only reads in protobuf (gnostic's openapi_v2.Document).
 * Expected text is kubectl v1.32's (kube-openapi's validation messages).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { kubectl, kubectlAvailable, kubectlOk, startApiServer, type ApiServerProcess } from "../harness/apiserver_process.js";
import { rawRequest } from "./raw_https.js";

const LIST = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: settings
  data:
    color: blue
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
  spec:
    replicas: 2
    selector:
      matchLabels: {app: web}
    template:
      metadata:
        labels: {app: web}
      spec:
        containers:
        - name: nginx
          image: nginx:1.25
          resources:
            limits: {cpu: 500m, memory: 128Mi}
- apiVersion: v1
  kind: Service
  metadata:
    name: web
  spec:
    selector: {app: web}
    ports:
    - port: 80
      targetPort: 8080
`;

const LIST_WITH_UNKNOWN_FIELD = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: fine
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: bogus
  spec:
    bogus: true
    selector:
      matchLabels: {app: bogus}
    template:
      metadata:
        labels: {app: bogus}
      spec:
        containers:
        - name: c
          image: nginx
`;

const LIST_WITH_WRONG_TYPES = `apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: typed
  spec:
    replicas: "two"
    selector:
      matchLabels: {app: typed}
    template:
      metadata:
        labels: {app: typed}
      spec:
        containers:
        - name: c
          image: nginx
          extra: 1
`;

const PROTOBUF_ACCEPT = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

describe("kubectl apply of a kind: List against tk8s server", { skip: !kubectlAvailable() }, () => {
  let server: ApiServerProcess;
  const ok = (args: string[], input?: string) => kubectlOk(server, args, input === undefined ? {} : { input });

  before(async () => {
    server = await startApiServer();
  });
  after(async () => {
    await server?.stop();
  });

  test("a List of a ConfigMap, a Deployment and a Service is validated and all are created", () => {
    // Quantities (`500m`) and an int-or-string (`targetPort: 8080`) are valid where the schema says string.
    const out = ok(["apply", "-f", "-"], LIST);
    assert.equal(out, "configmap/settings created\ndeployment.apps/web created\nservice/web created\n");
    assert.equal(ok(["get", "service", "web", "-o", "jsonpath={.spec.ports[0].targetPort}"]), "8080");
    assert.equal(ok(["get", "configmap", "settings", "-o", "jsonpath={.data.color}"]), "blue");
    assert.equal(ok(["get", "deployment", "web", "-o", "jsonpath={.spec.replicas}"]), "2");
  });

  test("an item with an unknown field fails client-side validation and nothing in the List is created", () => {
    const r = kubectl(server, ["apply", "-f", "-"], { input: LIST_WITH_UNKNOWN_FIELD });
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'error: error validating "STDIN": error validating data: ValidationError(Deployment.spec): unknown field "bogus" in io.k8s.api.apps.v1.DeploymentSpec; ' +
        "if you choose to ignore these errors, turn validation off with --validate=false\n",
    );
    assert.match(kubectl(server, ["get", "configmap", "fine"]).stderr, /configmaps "fine" not found/);
  });

  test("every problem in an item is reported: a wrong type and an unknown field deep in the pod template", () => {
    const r = kubectl(server, ["apply", "-f", "-"], { input: LIST_WITH_WRONG_TYPES });
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'error: error validating "STDIN": error validating data: [ValidationError(Deployment.spec.replicas): invalid type for io.k8s.api.apps.v1.DeploymentSpec.replicas: got "string", expected "integer", ' +
        'ValidationError(Deployment.spec.template.spec.containers[0]): unknown field "extra" in io.k8s.api.core.v1.Container]; ' +
        "if you choose to ignore these errors, turn validation off with --validate=false\n",
    );
  });

  test("--validate=false skips client-side validation of the List", () => {
    // Still carries an unknown field (`spec.lenient`), which the server then drops (fieldValidation=Ignore).
    const list = LIST_WITH_UNKNOWN_FIELD.replaceAll("bogus", "lenient");
    assert.equal(ok(["apply", "--validate=false", "-f", "-"], list), "configmap/fine created\ndeployment.apps/lenient created\n");
  });

  test("kubectl get -o yaml of configmaps, deployments and services applies back as a List", () => {
    ok(["create", "configmap", "exported", "--from-literal=k=v"]);
    const exported = ok(["get", "configmaps,deployments,services", "-o", "yaml"]);
    assert.match(exported, /^apiVersion: v1\nitems:\n/);
    assert.match(exported, /\nkind: List\n/);
    // Server-set fields (uid, resourceVersion, creationTimestamp, managedFields, status) validate too.
    const out = ok(["apply", "-f", "-"], exported);
    for (const name of ["configmap/exported", "configmap/fine", "configmap/settings", "deployment.apps/web", "service/web"]) {
      assert.match(out, new RegExp(`^${name} configured$`, "m"));
    }
    assert.equal(ok(["get", "configmap", "exported", "-o", "jsonpath={.data.k}"]), "v");
    // Applied once, the objects now carry kubectl's last-applied annotation.
    assert.match(ok(["get", "configmap", "exported", "-o", "yaml"]), /kubectl\.kubernetes\.io\/last-applied-configuration/);
  });

  test("/openapi/v2 answers client-go's protobuf Accept with a parseable Content-Type, an ETag and 304 on revalidation", async () => {
    const first = await rawRequest(server, "/openapi/v2", { headers: { Accept: PROTOBUF_ACCEPT } });
    assert.equal(first.status, 200);
    // Go's mime.ParseMediaType (client-go) rejects the `@` spelling, so the answer uses the dot one.
    assert.equal(first.headers["content-type"], "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
    assert.equal(first.headers.vary, "Accept");
    const etag = first.headers.etag;
    assert.match(etag ?? "", /^"[0-9A-F]{128}"$/);
    assert.ok(Number(first.headers["content-length"]) > 100_000);

    const again = await rawRequest(server, "/openapi/v2", { headers: { Accept: PROTOBUF_ACCEPT, "If-None-Match": etag! } });
    assert.equal(again.status, 304);
    assert.equal(again.body, "");

    const json = await rawRequest(server, "/openapi/v2", { headers: { Accept: "application/json" } });
    assert.equal(json.status, 200);
    assert.equal(json.headers["content-type"], "application/json");
    assert.equal(json.headers.etag, etag, "upstream gives both forms the ETag of the JSON bytes");
    assert.equal((JSON.parse(json.body) as { swagger: string }).swagger, "2.0");

    const refused = await rawRequest(server, "/openapi/v2", { headers: { Accept: "application/vnd.kubernetes.protobuf" } });
    assert.equal(refused.status, 406);
  });
});
