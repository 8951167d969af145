/**
 * Bad input to a started `tk8s server`, through kubectl and through raw HTTPS: malformed bodies, the
 * wrong kind for a URL, unknown fields under each fieldValidation, invalid objects, oversized bodies,
 * media types the server does not speak, unknown resources, and callers who are not allowed in
 * (anonymous, or a certificate outside system:masters). Every answer is a Kubernetes Status with
 * upstream's code, reason and message, and the server is still ready after all of it.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubectl, kubectlAvailable, startApiServer, type ApiServerProcess } from "../harness/apiserver_process.js";
import { requireBinary } from "../harness/datastore_process.js";
import { jsonBody, rawRequest, type RawResponse } from "./raw_https.js";

const OPENSSL_BINARY = "openssl";
// Upstream's DNS-1123 subdomain message (k8s.io/apimachinery/pkg/util/validation).
const DNS1123_SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
// kube-apiserver's limit on a request body (apiserver's MaxRequestBodyBytes default).
const REQUEST_BODY_BYTES_MAX = 3 * 1024 * 1024;

const DEPLOYMENT_WITH_UNKNOWN_FIELD = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "PLACEHOLDER" },
  spec: {
    foo: 1,
    selector: { matchLabels: { app: "x" } },
    template: { metadata: { labels: { app: "x" } }, spec: { containers: [{ name: "c", image: "busybox" }] } },
  },
};

function deploymentWithUnknownField(name: string): string {
  return JSON.stringify({ ...DEPLOYMENT_WITH_UNKNOWN_FIELD, metadata: { name } });
}

/** Asserts `res` is a Kubernetes Status failure with this code and reason, and returns it. */
function assertStatus(res: RawResponse, code: number, reason: string): Record<string, unknown> {
  assert.equal(res.status, code, res.body);
  assert.match(String(res.headers["content-type"]), /^application\/json/);
  const status = jsonBody(res);
  assert.equal(status.kind, "Status");
  assert.equal(status.apiVersion, "v1");
  assert.equal(status.status, "Failure");
  assert.equal(status.code, code);
  assert.equal(status.reason, reason);
  return status;
}

/** A client certificate for `user` in `group`, signed by the cluster CA in the server's data dir. */
function issueClientCert(server: ApiServerProcess, dir: string, user: string, group: string): { cert: string; key: string } {
  const key = join(dir, `${user}.key`);
  const csr = join(dir, `${user}.csr`);
  const crt = join(dir, `${user}.crt`);
  const run = (args: string[]) => {
    const r = spawnSync(OPENSSL_BINARY, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  };
  run(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-subj", `/O=${group}/CN=${user}`, "-out", csr]);
  run(["x509", "-req", "-in", csr, "-CA", join(server.dataDir, "pki", "ca.crt"), "-CAkey", join(server.dataDir, "pki", "ca.key"), "-CAcreateserial", "-days", "1", "-out", crt]);
  return { cert: readFileSync(crt, "utf8"), key: readFileSync(key, "utf8") };
}

function kubeconfigFor(server: ApiServerProcess, user: string, identity: { cert: string; key: string }): string {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "tk8s", cluster: { server: server.url, "certificate-authority-data": b64(server.ca) } }],
    users: [{ name: user, user: { "client-certificate-data": b64(identity.cert), "client-key-data": b64(identity.key) } }],
    contexts: [{ name: user, context: { cluster: "tk8s", user, namespace: "default" } }],
    "current-context": user,
  });
}

describe("bad input to tk8s server through kubectl and raw HTTPS", { skip: !kubectlAvailable() }, () => {
  let server: ApiServerProcess;
  let scratch: string;
  const post = (path: string, body: string | Buffer, contentType = "application/json", query = "") =>
    rawRequest(server, `${path}${query}`, { method: "POST", body, headers: { "Content-Type": contentType } });
  const CONFIGMAPS = "/api/v1/namespaces/default/configmaps";
  const DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments";

  before(async () => {
    server = await startApiServer();
    scratch = mkdtempSync(join(tmpdir(), "tk8s-e2e-bad-input-"));
  });
  after(async () => {
    await server?.stop();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  // ---- malformed bodies ----

  test("malformed JSON is a 400 BadRequest Status naming the expected kind and quoting the body", async () => {
    const status = assertStatus(await post(CONFIGMAPS, "{bad"), 400, "BadRequest");
    // Upstream: `... json parse error: invalid character 'b' looking for beginning of object key string ({bad)`;
    // the parser's own words are Go's, so only the frame around them is compared.
    assert.match(String(status.message), /^the object provided is unrecognized \(must be of type ConfigMap\): couldn't get version\/kind; json parse error: .+ \(\{bad\)$/);
  });

  test("malformed YAML is a 400 BadRequest Status from the YAML to JSON conversion", async () => {
    const status = assertStatus(await post(CONFIGMAPS, "kind: ConfigMap\ndata: [\n", "application/yaml"), 400, "BadRequest");
    assert.match(String(status.message), /^the object provided is unrecognized \(must be of type ConfigMap\): error converting YAML to JSON: yaml: /);
  });

  test("a JSON body that is not an object is a 400", async () => {
    const status = assertStatus(await post(CONFIGMAPS, "[1,2]"), 400, "BadRequest");
    assert.match(String(status.message), /^the object provided is unrecognized \(must be of type ConfigMap\): /);
  });

  test("a body of another kind than the URL's is a 400 that names both kinds", async () => {
    const status = assertStatus(await post(CONFIGMAPS, JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "s" } })), 400, "BadRequest");
    assert.equal(status.message, 'Secret in version "v1" cannot be handled as a ConfigMap: converting (v1.Secret) to (core.ConfigMap): unknown conversion');
  });

  test("a body whose name differs from the URL's on update is a 400", async () => {
    await post(CONFIGMAPS, JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "named" } }));
    const res = await rawRequest(server, `${CONFIGMAPS}/named`, { method: "PUT", body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "other" } }), headers: { "Content-Type": "application/json" } });
    const status = assertStatus(res, 400, "BadRequest");
    assert.equal(status.message, "the name of the object (other) does not match the name on the URL (named)");
  });

  // ---- field validation ----

  test("fieldValidation=Strict refuses an unknown field with upstream's strict decoding error", async () => {
    const status = assertStatus(await post(DEPLOYMENTS, deploymentWithUnknownField("strict"), "application/json", "?fieldValidation=Strict"), 400, "BadRequest");
    assert.equal(status.message, 'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo"');
    assert.equal((await rawRequest(server, `${DEPLOYMENTS}/strict`)).status, 404);
  });

  test("fieldValidation=Strict also refuses a duplicate field", async () => {
    const body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup","name":"dup"}}';
    const status = assertStatus(await post(CONFIGMAPS, body, "application/json", "?fieldValidation=Strict"), 400, "BadRequest");
    assert.equal(status.message, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: duplicate field "metadata.name"');
  });

  test("fieldValidation=Warn creates the object, drops the unknown field and says so in a Warning header", async () => {
    const res = await post(DEPLOYMENTS, deploymentWithUnknownField("warned"), "application/json", "?fieldValidation=Warn");
    assert.equal(res.status, 201, res.body);
    assert.equal(res.headers.warning, '299 - "unknown field \\"spec.foo\\""');
    const stored = jsonBody(await rawRequest(server, `${DEPLOYMENTS}/warned`)) as { spec: Record<string, unknown> };
    assert.equal(stored.spec.foo, undefined, "unknown fields are pruned, never stored");
  });

  test("fieldValidation=Ignore creates the object silently and drops the unknown field", async () => {
    const res = await post(DEPLOYMENTS, deploymentWithUnknownField("ignored"), "application/json", "?fieldValidation=Ignore");
    assert.equal(res.status, 201, res.body);
    assert.equal(res.headers.warning, undefined);
    assert.equal((jsonBody(res) as { spec: Record<string, unknown> }).spec.foo, undefined);
  });

  test("an unknown fieldValidation value is a 422 against the CreateOptions", async () => {
    const status = assertStatus(await post(DEPLOYMENTS, deploymentWithUnknownField("bogus"), "application/json", "?fieldValidation=Bogus"), 422, "Invalid");
    assert.equal(status.message, 'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Bogus": supported values: "", "Ignore", "Strict", "Warn"');
  });

  test("kubectl create validates strictly by default and prints the server's strict decoding error", () => {
    const r = kubectl(server, ["create", "-f", "-"], { input: deploymentWithUnknownField("via-kubectl") });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo"\n');
  });

  test("kubectl create --validate=warn creates the object and prints the server's warning", () => {
    const r = kubectl(server, ["create", "--validate=warn", "-f", "-"], { input: deploymentWithUnknownField("via-kubectl-warn") });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "deployment.apps/via-kubectl-warn created\n");
    assert.equal(r.stderr, 'Warning: unknown field "spec.foo"\n');
  });

  // ---- validation ----

  test("an invalid name is a 422 Invalid Status with upstream's message and a cause for the field", async () => {
    const status = assertStatus(await post(CONFIGMAPS, JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "Bad_Name" } })), 422, "Invalid");
    assert.equal(status.message, `ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ${DNS1123_SUBDOMAIN_MESSAGE}`);
    assert.deepEqual(status.details, {
      name: "Bad_Name",
      kind: "ConfigMap",
      causes: [{ reason: "FieldValueInvalid", message: `Invalid value: "Bad_Name": ${DNS1123_SUBDOMAIN_MESSAGE}`, field: "metadata.name" }],
    });
    assert.equal((await rawRequest(server, `${CONFIGMAPS}/Bad_Name`)).status, 404);
  });

  test("kubectl prints an invalid object's causes after \"The <Kind> <name> is invalid\"", () => {
    const r = kubectl(server, ["create", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "Bad_Name" } }) });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ${DNS1123_SUBDOMAIN_MESSAGE}\n`);
  });

  test("a negative replica count is refused with upstream's validation message", () => {
    const dep = JSON.parse(deploymentWithUnknownField("negative")) as { spec: Record<string, unknown> };
    delete dep.spec.foo;
    dep.spec.replicas = -1;
    const r = kubectl(server, ["create", "-f", "-"], { input: JSON.stringify(dep) });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'The Deployment "negative" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0\n');
  });

  const VALIDATION_CASES = [
    {
      name: "a pod without containers",
      setup: null,
      args: ["create", "-f", "-"],
      input: JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "empty" }, spec: { containers: [] } }),
      want: 'The Pod "empty" is invalid: spec.containers: Required value\n',
    },
    {
      name: "a deployment whose selector does not match its template's labels",
      setup: null,
      args: ["create", "-f", "-"],
      input: JSON.stringify({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "mismatch" }, spec: { selector: { matchLabels: { app: "one" } }, template: { metadata: { labels: { app: "other" } }, spec: { containers: [{ name: "c", image: "busybox" }] } } } }),
      want: 'The Deployment "mismatch" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`\n',
    },
    {
      name: "a change to a deployment's immutable selector",
      setup: JSON.stringify({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "fixed" }, spec: { selector: { matchLabels: { app: "fixed" } }, template: { metadata: { labels: { app: "fixed", v: "changed" } }, spec: { containers: [{ name: "c", image: "busybox" }] } } } }),
      args: ["patch", "deployment", "fixed", "--type=merge", "-p", '{"spec":{"selector":{"matchLabels":{"v":"changed"}}}}'],
      input: undefined,
      want: 'The Deployment "fixed" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"fixed", "v":"changed"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable\n',
    },
    {
      name: "a change to the data of an immutable configmap",
      setup: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "frozen" }, immutable: true, data: { a: "1" } }),
      args: ["patch", "configmap", "frozen", "--type=merge", "-p", '{"data":{"a":"2"}}'],
      input: undefined,
      want: "The ConfigMap \"frozen\" is invalid: data: Forbidden: field is immutable when `immutable` is set\n",
    },
  ];
  for (const c of VALIDATION_CASES) {
    test(`validation refuses ${c.name} with upstream's message`, () => {
      if (c.setup !== null) {
        const created = kubectl(server, ["create", "-f", "-"], { input: c.setup });
        assert.equal(created.code, 0, created.stderr);
      }
      const r = kubectl(server, c.args, c.input === undefined ? {} : { input: c.input });
      assert.equal(r.code, 1);
      assert.equal(r.stderr, c.want);
    });
  }

  // ---- size and media types ----

  test("a body over 3 MiB is a 413 RequestEntityTooLarge Status", async () => {
    const big = JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "big" }, data: { blob: "x".repeat(REQUEST_BODY_BYTES_MAX) } });
    const status = assertStatus(await post(CONFIGMAPS, big), 413, "RequestEntityTooLarge");
    assert.equal(status.message, "Request entity too large: limit is 3145728");
  });

  test("a Content-Type the server cannot decode is a 415 listing the media types it accepts", async () => {
    const status = assertStatus(await post(CONFIGMAPS, "name=x", "text/plain"), 415, "UnsupportedMediaType");
    assert.equal(status.message, "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf");
  });

  test("a PATCH with a Content-Type that is not a patch type is a 415 listing the patch types", async () => {
    const res = await rawRequest(server, `${CONFIGMAPS}/named`, { method: "PATCH", body: "{}", headers: { "Content-Type": "application/json" } });
    const status = assertStatus(res, 415, "UnsupportedMediaType");
    assert.equal(
      status.message,
      "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml",
    );
  });

  test("an Accept header of only media types the server does not serve is a 406", async () => {
    // Upstream also serves protobuf; tk8s serves JSON and YAML only, so a protobuf-only client is told
    // which types it can have, as upstream tells a client that asks for XML.
    for (const accept of ["application/vnd.kubernetes.protobuf", "application/xml"]) {
      const status = assertStatus(await rawRequest(server, CONFIGMAPS, { headers: { Accept: accept } }), 406, "NotAcceptable");
      assert.match(String(status.message), /^only the following media types are accepted: application\/json, application\/yaml/, accept);
    }
  });

  test("an Accept header listing JSON after an unserved type gets JSON", async () => {
    const res = await rawRequest(server, CONFIGMAPS, { headers: { Accept: "application/vnd.kubernetes.protobuf, application/json" } });
    assert.equal(res.status, 200);
    assert.match(String(res.headers["content-type"]), /^application\/json/);
    assert.equal(jsonBody(res).kind, "ConfigMapList");
  });

  // ---- not found ----

  test("an unknown resource or group is a 404 with upstream's generic message", async () => {
    for (const path of ["/api/v1/namespaces/default/widgets", "/apis/nope.example.com/v1/things", "/apis/apps/v9/deployments"]) {
      const status = assertStatus(await rawRequest(server, path), 404, "NotFound");
      assert.equal(status.message, "the server could not find the requested resource", path);
    }
  });

  test("a missing object is a 404 naming the resource and the object", async () => {
    const status = assertStatus(await rawRequest(server, `${CONFIGMAPS}/nope`), 404, "NotFound");
    assert.equal(status.message, 'configmaps "nope" not found');
    assert.deepEqual(status.details, { name: "nope", kind: "configmaps" });
  });

  test("an unsupported verb on a resource is a 405", async () => {
    const status = assertStatus(await rawRequest(server, CONFIGMAPS, { method: "PUT", body: "{}", headers: { "Content-Type": "application/json" } }), 405, "MethodNotAllowed");
    assert.equal(status.message, "the server does not allow this method on the requested resource");
  });

  // ---- authentication and authorization ----

  test("a request without credentials is a 401 Unauthorized Status", async () => {
    const status = assertStatus(await rawRequest(server, "/api/v1/namespaces", { identity: null }), 401, "Unauthorized");
    assert.equal(status.message, "Unauthorized");
  });

  test("a request with an unknown bearer token is a 401", async () => {
    const res = await rawRequest(server, "/api/v1/namespaces", { identity: null, headers: { Authorization: "Bearer not-a-token" } });
    assertStatus(res, 401, "Unauthorized");
  });

  test("kubectl with a token the server does not know reports that it must log in", () => {
    // A user with no credentials at all makes kubectl prompt for a username, so give it a wrong token.
    const cfg = join(scratch, "unknown-token.kubeconfig");
    const b64 = Buffer.from(server.ca).toString("base64");
    writeFileSync(cfg, JSON.stringify({ apiVersion: "v1", kind: "Config", clusters: [{ name: "c", cluster: { server: server.url, "certificate-authority-data": b64 } }], users: [{ name: "u", user: { token: "not-a-token" } }], contexts: [{ name: "x", context: { cluster: "c", user: "u" } }], "current-context": "x" }));
    const r = kubectl({ kubeconfig: cfg }, ["get", "configmaps"]);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.endsWith("error: You must be logged in to the server (Unauthorized)\n"), r.stderr);
  });

  test("a certificate outside system:masters is forbidden with upstream's message for each verb and scope", async (t) => {
    if (requireBinary(OPENSSL_BINARY) === null) {
      if (process.env.CI === "true") throw new Error("openssl is required under CI=true");
      t.skip("openssl is not installed");
      return;
    }
    const alice = issueClientCert(server, scratch, "alice", "developers");
    const cases = [
      { method: "GET", path: CONFIGMAPS, message: 'configmaps is forbidden: User "alice" cannot list resource "configmaps" in API group "" in the namespace "default"', details: { kind: "configmaps" } },
      { method: "GET", path: `${CONFIGMAPS}/x`, message: 'configmaps "x" is forbidden: User "alice" cannot get resource "configmaps" in API group "" in the namespace "default"', details: { name: "x", kind: "configmaps" } },
      { method: "POST", path: CONFIGMAPS, message: 'configmaps is forbidden: User "alice" cannot create resource "configmaps" in API group "" in the namespace "default"', details: { kind: "configmaps" } },
      { method: "GET", path: "/api/v1/namespaces", message: 'namespaces is forbidden: User "alice" cannot list resource "namespaces" in API group "" at the cluster scope', details: { kind: "namespaces" } },
      { method: "GET", path: DEPLOYMENTS, message: 'deployments.apps is forbidden: User "alice" cannot list resource "deployments" in API group "apps" in the namespace "default"', details: { group: "apps", kind: "deployments" } },
    ];
    for (const c of cases) {
      const res = await rawRequest(server, c.path, { method: c.method, identity: alice, ...(c.method === "POST" ? { body: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"y"}}', headers: { "Content-Type": "application/json" } } : {}) });
      const status = assertStatus(res, 403, "Forbidden");
      assert.equal(status.message, c.message, `${c.method} ${c.path}`);
      assert.deepEqual(status.details, c.details, `${c.method} ${c.path}`);
    }
  });

  test("an authenticated user outside system:masters may still read discovery and version", async (t) => {
    if (requireBinary(OPENSSL_BINARY) === null) {
      t.skip("openssl is not installed");
      return;
    }
    // Upstream binds system:discovery and system:public-info-viewer to system:authenticated.
    const bob = issueClientCert(server, scratch, "bob", "developers");
    for (const path of ["/api", "/apis", "/version", "/readyz"]) {
      const res = await rawRequest(server, path, { identity: bob });
      assert.equal(res.status, 200, `${path}: ${res.body}`);
    }
  });

  test("kubectl as a user outside system:masters prints upstream's forbidden error", (t) => {
    if (requireBinary(OPENSSL_BINARY) === null) {
      t.skip("openssl is not installed");
      return;
    }
    const carol = issueClientCert(server, scratch, "carol", "developers");
    const cfg = join(scratch, "carol.kubeconfig");
    writeFileSync(cfg, kubeconfigFor(server, "carol", carol));
    const r = kubectl({ kubeconfig: cfg }, ["get", "configmaps"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error from server (Forbidden): configmaps is forbidden: User "carol" cannot list resource "configmaps" in API group "" in the namespace "default"\n');
  });

  // ---- still serving ----

  test("after all of the above the server still answers /readyz and serves kubectl", async () => {
    const ready = await rawRequest(server, "/readyz");
    assert.equal(ready.status, 200);
    assert.equal(ready.body, "ok");
    const live = await rawRequest(server, "/livez");
    assert.equal(live.status, 200);
    const r = kubectl(server, ["get", "namespace", "default", "-o", "name"]);
    assert.equal(r.stdout, "namespace/default\n");
  });
});
