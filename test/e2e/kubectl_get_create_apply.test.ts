/**
 * Real kubectl against a started `tk8s server`: creating objects (apply, create), reading them back in
 * every output format a user types (tables, yaml, json, jsonpath, name, describe), and the discovery
 * and OpenAPI commands (api-resources, api-versions, explain, version) that kubectl builds on.
 * Expected text is upstream's (kubectl v1.32 against kube-apiserver v1.32).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { kubectl, kubectlAvailable, kubectlOk, startApiServer, type ApiServerProcess } from "../harness/apiserver_process.js";
import { parseTable, tableHeader } from "./table.js";

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
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
        ports:
        - containerPort: 80
`;

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
`;

const CONFIGMAP = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  color: blue
  size: "3"
`;

const MULTI_DOCUMENT = `apiVersion: v1
kind: Namespace
metadata:
  name: multi
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: one
  namespace: multi
data: {k: v}
---
apiVersion: v1
kind: Secret
metadata:
  name: two
  namespace: multi
stringData:
  password: s3cret
`;

describe("kubectl get, create and apply against tk8s server", { skip: !kubectlAvailable() }, () => {
  let server: ApiServerProcess;
  const ok = (args: string[], input?: string) => kubectlOk(server, args, input === undefined ? {} : { input });

  before(async () => {
    server = await startApiServer();
  });
  after(async () => {
    await server?.stop();
  });

  // ---- apply ----

  test("apply -f creates a Deployment, then reports it unchanged, then configured after an edit", () => {
    assert.equal(ok(["apply", "-f", "-"], DEPLOYMENT), "deployment.apps/web created\n");
    assert.equal(ok(["apply", "-f", "-"], DEPLOYMENT), "deployment.apps/web unchanged\n");
    assert.equal(ok(["apply", "-f", "-"], DEPLOYMENT.replace("nginx:1.25", "nginx:1.26")), "deployment.apps/web configured\n");
    assert.equal(ok(["get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"]), "nginx:1.26");
    // Put it back: later tests read the original image.
    assert.equal(ok(["apply", "-f", "-"], DEPLOYMENT), "deployment.apps/web configured\n");
  });

  test("apply -f records the applied manifest in the last-applied-configuration annotation", () => {
    const raw = ok(["get", "deployment", "web", "-o", "jsonpath={.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}"]);
    const lastApplied = JSON.parse(raw) as { kind: string; spec: { replicas: number } };
    assert.equal(lastApplied.kind, "Deployment");
    assert.equal(lastApplied.spec.replicas, 2);
  });

  test("apply -f creates a Service and the server allocates it a ClusterIP", () => {
    assert.equal(ok(["apply", "-f", "-"], SERVICE), "service/web created\n");
    const svc = JSON.parse(ok(["get", "service", "web", "-o", "json"])) as { spec: { type: string; clusterIP: string; clusterIPs: string[]; ports: { protocol: string; port: number; targetPort: number }[] } };
    assert.equal(svc.spec.type, "ClusterIP");
    assert.match(svc.spec.clusterIP, /^\d+\.\d+\.\d+\.\d+$/);
    assert.deepEqual(svc.spec.clusterIPs, [svc.spec.clusterIP]);
    assert.deepEqual(svc.spec.ports.map((p) => [p.protocol, p.port, p.targetPort]), [["TCP", 80, 8080]]);
  });

  test("apply -f creates a ConfigMap whose data reads back unchanged", () => {
    assert.equal(ok(["apply", "-f", "-"], CONFIGMAP), "configmap/settings created\n");
    assert.equal(ok(["get", "configmap", "settings", "-o", "jsonpath={.data.color},{.data.size}"]), "blue,3");
  });

  test("apply -f of a multi-document YAML creates every document in order", () => {
    assert.equal(ok(["apply", "-f", "-"], MULTI_DOCUMENT), "namespace/multi created\nconfigmap/one created\nsecret/two created\n");
    // stringData is write-only: the server folds it into data, base64-encoded.
    assert.equal(ok(["get", "secret", "two", "-n", "multi", "-o", "jsonpath={.data.password}"]), Buffer.from("s3cret").toString("base64"));
    assert.equal(ok(["get", "secret", "two", "-n", "multi", "-o", "jsonpath={.stringData}"]), "");
    assert.equal(ok(["get", "configmaps,secrets", "-n", "multi", "-o", "name", "--field-selector", "metadata.name!=kube-root-ca.crt"]), "configmap/one\nsecret/two\n");
  });

  // ---- create ----

  test("create -f creates an object and a second create fails with AlreadyExists", () => {
    const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: created\ndata: {a: b}\n";
    assert.equal(ok(["create", "-f", "-"], cm), "configmap/created created\n");
    const again = kubectl(server, ["create", "-f", "-"], { input: cm });
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'Error from server (AlreadyExists): error when creating "STDIN": configmaps "created" already exists\n');
  });

  test("create namespace makes an Active namespace that objects can be created in", () => {
    assert.equal(ok(["create", "namespace", "team-a"]), "namespace/team-a created\n");
    assert.equal(ok(["get", "namespace", "team-a", "-o", "jsonpath={.status.phase}"]), "Active");
    assert.equal(ok(["create", "-n", "team-a", "-f", "-"], "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: in-team-a\n"), "configmap/in-team-a created\n");
    const dup = kubectl(server, ["create", "namespace", "team-a"]);
    assert.equal(dup.code, 1);
    assert.equal(dup.stderr, 'Error from server (AlreadyExists): namespaces "team-a" already exists\n');
  });

  // kubectl's generator commands build typed objects and send them as protobuf
  // (application/vnd.kubernetes.protobuf), unlike -f, which sends JSON.

  test("create deployment makes a deployment whose container is named after the image", () => {
    assert.equal(ok(["create", "deployment", "gen-deploy", "--image=nginx:1.25", "--replicas=2"]), "deployment.apps/gen-deploy created\n");
    assert.equal(ok(["get", "deployment", "gen-deploy", "-o", "jsonpath={.spec.replicas} {.spec.selector.matchLabels.app} {.spec.template.spec.containers[0].name} {.spec.template.spec.containers[0].image}"]), "2 gen-deploy nginx nginx:1.25");
  });

  test("create configmap --from-literal makes a configmap with those keys", () => {
    assert.equal(ok(["create", "configmap", "gen-cm", "--from-literal=a=1", "--from-literal=b=two"]), "configmap/gen-cm created\n");
    assert.equal(ok(["get", "configmap", "gen-cm", "-o", "jsonpath={.data}"]), '{"a":"1","b":"two"}');
  });

  test("create secret generic makes an Opaque secret with base64 data", () => {
    assert.equal(ok(["create", "secret", "generic", "gen-secret", "--from-literal=pw=s3cret"]), "secret/gen-secret created\n");
    assert.equal(ok(["get", "secret", "gen-secret", "-o", "jsonpath={.type} {.data.pw}"]), `Opaque ${Buffer.from("s3cret").toString("base64")}`);
  });

  test("run makes a pod labelled run=<name>", () => {
    assert.equal(ok(["run", "gen-pod", "--image=busybox:1.36", "--restart=Never"]), "pod/gen-pod created\n");
    assert.equal(ok(["get", "pod", "gen-pod", "-o", "jsonpath={.metadata.labels.run} {.spec.restartPolicy} {.spec.containers[0].name}"]), "gen-pod Never gen-pod");
  });

  test("create service clusterip makes a service with the given port mapping", () => {
    assert.equal(ok(["create", "service", "clusterip", "gen-svc", "--tcp=80:8080"]), "service/gen-svc created\n");
    assert.equal(ok(["get", "service", "gen-svc", "-o", "jsonpath={.spec.type} {.spec.ports[0].port} {.spec.ports[0].targetPort} {.spec.selector.app}"]), "ClusterIP 80 8080 gen-svc");
  });

  test("create in a namespace that does not exist fails with NotFound for the namespace", () => {
    const r = kubectl(server, ["create", "-n", "no-such-ns", "-f", "-"], { input: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n" });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error from server (NotFound): error when creating "STDIN": namespaces "no-such-ns" not found\n');
  });

  // ---- get ----

  test("get deployments prints upstream's default columns", () => {
    const out = ok(["get", "deployments", "web"]);
    assert.equal(out.split("\n")[0], "NAME   READY   UP-TO-DATE   AVAILABLE   AGE");
    const rows = parseTable(out);
    assert.equal(rows.length, 1);
    // No controller runs yet, so nothing is ready: READY is ready/desired from status and spec.
    assert.deepEqual({ ...rows[0], AGE: undefined }, { NAME: "web", READY: "0/2", "UP-TO-DATE": "0", AVAILABLE: "0", AGE: undefined });
    assert.match(rows[0]!.AGE!, /^\d+s$/);
  });

  test("get -o wide adds the containers, images and selector columns", () => {
    const out = ok(["get", "deployments", "web", "-o", "wide"]);
    assert.equal(out.split("\n")[0], "NAME   READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES       SELECTOR");
    const [row] = parseTable(out);
    assert.equal(row!.CONTAINERS, "nginx");
    assert.equal(row!.IMAGES, "nginx:1.25");
    assert.equal(row!.SELECTOR, "app=web");
  });

  test("get --show-labels and -L add label columns from the objects' metadata", () => {
    const shown = parseTable(ok(["get", "deployments", "web", "--show-labels"]));
    assert.equal(shown[0]!.LABELS, "app=web");
    const column = ok(["get", "deployments", "web", "-L", "app"]);
    assert.deepEqual(tableHeader(column), ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "APP"]);
    assert.equal(parseTable(column)[0]!.APP, "web");
  });

  test("get all lists the resources in the all category", () => {
    const names = ok(["get", "all", "-o", "name"]).trim().split("\n");
    for (const n of ["service/kubernetes", "service/web", "deployment.apps/web"]) assert.ok(names.includes(n), `get all lacks ${n}: ${names.join(",")}`);
    assert.ok(!names.some((n) => n.startsWith("configmap/")), "configmaps are not in the all category");
  });

  test("get services and configmaps print their own default columns", () => {
    const svc = ok(["get", "services", "web"]);
    assert.deepEqual(tableHeader(svc), ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]);
    const [s] = parseTable(svc);
    assert.equal(s!.TYPE, "ClusterIP");
    assert.equal(s!["EXTERNAL-IP"], "<none>");
    assert.equal(s!["PORT(S)"], "80/TCP");
    const cm = ok(["get", "configmaps", "settings"]);
    assert.deepEqual(tableHeader(cm), ["NAME", "DATA", "AGE"]);
    assert.equal(parseTable(cm)[0]!.DATA, "2");
  });

  test("get namespaces lists the four namespaces a new cluster has", () => {
    const names = parseTable(ok(["get", "namespaces"])).map((r) => [r.NAME, r.STATUS]);
    for (const ns of ["default", "kube-node-lease", "kube-public", "kube-system"]) assert.ok(names.some(([n, s]) => n === ns && s === "Active"), `${ns} Active in ${JSON.stringify(names)}`);
  });

  test("get -o yaml shows the stored object with server-filled metadata and defaults, without managedFields", () => {
    const obj = parseYaml(ok(["get", "deployment", "web", "-o", "yaml"])) as Record<string, any>;
    assert.equal(obj.apiVersion, "apps/v1");
    assert.equal(obj.kind, "Deployment");
    assert.equal(obj.metadata.name, "web");
    assert.equal(obj.metadata.namespace, "default");
    assert.match(obj.metadata.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.match(obj.metadata.resourceVersion, /^\d+$/);
    assert.match(obj.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(obj.metadata.managedFields, undefined, "kubectl hides managedFields unless --show-managed-fields");
    // Defaults upstream's apps/v1 defaulting fills in.
    assert.equal(obj.spec.strategy.type, "RollingUpdate");
    assert.deepEqual(obj.spec.strategy.rollingUpdate, { maxSurge: "25%", maxUnavailable: "25%" });
    assert.equal(obj.spec.revisionHistoryLimit, 10);
    assert.equal(obj.spec.progressDeadlineSeconds, 600);
    const c = obj.spec.template.spec.containers[0];
    assert.equal(c.imagePullPolicy, "IfNotPresent");
    assert.equal(c.terminationMessagePath, "/dev/termination-log");
    assert.deepEqual(c.ports, [{ containerPort: 80, protocol: "TCP" }]);
    assert.equal(obj.spec.template.spec.restartPolicy, "Always");
    assert.equal(obj.spec.template.spec.dnsPolicy, "ClusterFirst");
    assert.equal(obj.spec.template.spec.terminationGracePeriodSeconds, 30);
  });

  test("get -o json and -o yaml describe the same object", () => {
    const fromJson = JSON.parse(ok(["get", "deployment", "web", "-o", "json"])) as unknown;
    const fromYaml = parseYaml(ok(["get", "deployment", "web", "-o", "yaml"])) as unknown;
    assert.deepEqual(fromJson, fromYaml);
  });

  test("get -o json of a kind lists it as a v1 List with every item", () => {
    const list = JSON.parse(ok(["get", "configmaps", "-n", "multi", "--field-selector", "metadata.name=one", "-o", "json"])) as { kind: string; apiVersion: string; items: { metadata: { name: string } }[] };
    assert.equal(list.kind, "List");
    assert.equal(list.apiVersion, "v1");
    assert.deepEqual(list.items.map((i) => i.metadata.name), ["one"]);
  });

  test("get -o jsonpath evaluates the template against the object", () => {
    assert.equal(ok(["get", "deployment", "web", "-o", "jsonpath={.metadata.name} {.spec.replicas} {.spec.template.spec.containers[*].ports[0].containerPort}"]), "web 2 80");
    assert.equal(ok(["get", "namespaces", "-o", "jsonpath={.items[?(@.metadata.name==\"kube-system\")].status.phase}"]), "Active");
  });

  test("get -o name prints resource/name, with the group for non-core kinds", () => {
    assert.equal(ok(["get", "deployment", "web", "-o", "name"]), "deployment.apps/web\n");
    assert.equal(ok(["get", "service,configmap", "web", "-o", "name", "--ignore-not-found"]), "service/web\n");
    assert.equal(ok(["get", "deploy/web", "svc/web", "cm/settings", "-o", "name"]), "deployment.apps/web\nservice/web\nconfigmap/settings\n");
  });

  test("get of a missing object fails with upstream's NotFound message", () => {
    const r = kubectl(server, ["get", "deployment", "missing"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error from server (NotFound): deployments.apps "missing" not found\n');
  });

  test("get of an empty namespace says no resources were found", () => {
    const r = kubectl(server, ["get", "deployments", "-n", "multi"]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "No resources found in multi namespace.\n");
  });

  test("get of a resource type the server does not serve fails in discovery", () => {
    const r = kubectl(server, ["get", "widgets"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: the server doesn\'t have a resource type "widgets"\n');
  });

  // ---- describe ----

  test("describe deployment prints the deployment's fields and its pod template", () => {
    const out = ok(["describe", "deployment", "web"]);
    const expected = [
      "Name:                   web",
      "Namespace:              default",
      "Labels:                 app=web",
      "Selector:               app=web",
      "Replicas:               2 desired | 0 updated | 0 total | 0 available | 0 unavailable",
      "StrategyType:           RollingUpdate",
      "MinReadySeconds:        0",
      "RollingUpdateStrategy:  25% max unavailable, 25% max surge",
      "Pod Template:",
      "  Labels:  app=web",
      "   nginx:",
      "    Image:         nginx:1.25",
      "    Port:          80/TCP",
      "Events:            <none>",
    ];
    const lines = out.split("\n");
    for (const line of expected) assert.ok(lines.includes(line), `describe output lacks ${JSON.stringify(line)}:\n${out}`);
    assert.match(out, /^CreationTimestamp:\s+\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000$/m);
  });

  test("describe configmap prints its data", () => {
    const out = ok(["describe", "configmap", "settings"]);
    assert.match(out, /^Name:\s+settings$/m);
    // kubectl walks the data map in Go's random map order: check each entry, not their order.
    assert.match(out, /^Data\n====\n/m);
    assert.match(out, /^color:\n----\nblue\n/m);
    assert.match(out, /^size:\n----\n3\n/m);
  });

  // ---- discovery ----

  test("api-resources lists each resource with its short names, group version, scope and kind", () => {
    const out = ok(["api-resources"]);
    assert.deepEqual(tableHeader(out), ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]);
    const rows = parseTable(out);
    const want = [
      { NAME: "configmaps", SHORTNAMES: "cm", APIVERSION: "v1", NAMESPACED: "true", KIND: "ConfigMap" },
      { NAME: "namespaces", SHORTNAMES: "ns", APIVERSION: "v1", NAMESPACED: "false", KIND: "Namespace" },
      { NAME: "nodes", SHORTNAMES: "no", APIVERSION: "v1", NAMESPACED: "false", KIND: "Node" },
      { NAME: "pods", SHORTNAMES: "po", APIVERSION: "v1", NAMESPACED: "true", KIND: "Pod" },
      { NAME: "secrets", SHORTNAMES: "", APIVERSION: "v1", NAMESPACED: "true", KIND: "Secret" },
      { NAME: "services", SHORTNAMES: "svc", APIVERSION: "v1", NAMESPACED: "true", KIND: "Service" },
      { NAME: "deployments", SHORTNAMES: "deploy", APIVERSION: "apps/v1", NAMESPACED: "true", KIND: "Deployment" },
      { NAME: "replicasets", SHORTNAMES: "rs", APIVERSION: "apps/v1", NAMESPACED: "true", KIND: "ReplicaSet" },
      { NAME: "statefulsets", SHORTNAMES: "sts", APIVERSION: "apps/v1", NAMESPACED: "true", KIND: "StatefulSet" },
      { NAME: "cronjobs", SHORTNAMES: "cj", APIVERSION: "batch/v1", NAMESPACED: "true", KIND: "CronJob" },
      { NAME: "jobs", SHORTNAMES: "", APIVERSION: "batch/v1", NAMESPACED: "true", KIND: "Job" },
    ];
    for (const w of want) assert.ok(rows.some((r) => JSON.stringify(r) === JSON.stringify(w)), `api-resources lacks ${JSON.stringify(w)}:\n${out}`);
  });

  test("api-resources -o wide shows each resource's verbs and categories", () => {
    const rows = parseTable(ok(["api-resources", "-o", "wide"]));
    const deployments = rows.find((r) => r.NAME === "deployments");
    assert.equal(deployments?.VERBS, "create,delete,deletecollection,get,list,patch,update,watch");
    assert.equal(deployments?.CATEGORIES, "all");
    const bindings = rows.find((r) => r.NAME === "bindings");
    assert.equal(bindings?.VERBS, "create");
    const namespaces = rows.find((r) => r.NAME === "namespaces");
    assert.equal(namespaces?.VERBS, "create,delete,get,list,patch,update,watch");
  });

  test("api-resources filters by scope and by API group", () => {
    const clusterScoped = ok(["api-resources", "--namespaced=false", "-o", "name"]).trim().split("\n");
    assert.ok(clusterScoped.includes("namespaces") && clusterScoped.includes("nodes") && clusterScoped.includes("persistentvolumes"), clusterScoped.join(","));
    assert.ok(!clusterScoped.includes("pods") && !clusterScoped.includes("deployments.apps"));
    assert.equal(ok(["api-resources", "--api-group=apps", "-o", "name"]), "controllerrevisions.apps\ndaemonsets.apps\ndeployments.apps\nreplicasets.apps\nstatefulsets.apps\n");
  });

  test("short names resolve to their resources", () => {
    assert.equal(ok(["get", "deploy", "web", "-o", "name"]), "deployment.apps/web\n");
    assert.equal(ok(["get", "cm", "settings", "-o", "name"]), "configmap/settings\n");
    assert.equal(ok(["get", "ns", "kube-system", "-o", "name"]), "namespace/kube-system\n");
  });

  test("api-versions lists the served group versions, sorted, including the core v1", () => {
    const versions = ok(["api-versions"]).trim().split("\n");
    for (const v of ["apps/v1", "batch/v1", "coordination.k8s.io/v1", "discovery.k8s.io/v1", "policy/v1", "v1"]) assert.ok(versions.includes(v), `api-versions lacks ${v}: ${versions.join(",")}`);
    assert.deepEqual(versions, [...versions].sort());
  });

  test("explain deployment.spec.replicas prints the field's type and description from the OpenAPI v3 schema", () => {
    assert.equal(
      ok(["explain", "deployment.spec.replicas"]),
      [
        "GROUP:      apps",
        "KIND:       Deployment",
        "VERSION:    v1",
        "",
        "FIELD: replicas <integer>",
        "",
        "",
        "DESCRIPTION:",
        "    Number of desired pods. This is a pointer to distinguish between explicit",
        "    zero and not specified. Defaults to 1.",
        "    ",
        "",
        "",
      ].join("\n"),
    );
  });

  test("explain pods.spec.containers prints the list type, its description and its fields with required markers", () => {
    const out = ok(["explain", "pods.spec.containers"]);
    assert.ok(
      out.startsWith("KIND:       Pod\nVERSION:    v1\n\nFIELD: containers <[]Container>\n\n\nDESCRIPTION:\n    List of containers belonging to the pod. Containers cannot currently be\n"),
      out.slice(0, 400),
    );
    const lines = out.split("\n");
    for (const f of ["  args\t<[]string>", "  image\t<string>", "  name\t<string> -required-", "  ports\t<[]ContainerPort>", "  resources\t<ResourceRequirements>"]) {
      assert.ok(lines.includes(f), `explain lacks field line ${JSON.stringify(f)}`);
    }
    assert.ok(lines.includes("FIELDS:"));
  });

  test("explain of a field that does not exist fails with kubectl's message", () => {
    const r = kubectl(server, ["explain", "deployment.spec.nope"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: field "nope" does not exist\n');
  });

  test("version prints the server's version next to the client's", () => {
    const out = ok(["version"]);
    assert.match(out, /^Client Version: v1\.32\.\d+/m);
    assert.match(out, /^Server Version: v1\.32\.\d+\S*$/m);
    const v = JSON.parse(ok(["version", "-o", "json"])) as { serverVersion: { major: string; minor: string; gitVersion: string; platform: string; goVersion: string } };
    assert.equal(v.serverVersion.major, "1");
    assert.equal(v.serverVersion.minor, "32");
    assert.match(v.serverVersion.gitVersion, /^v1\.32\.\d+/);
    assert.match(v.serverVersion.platform, /^linux\/\w+$/);
  });
});
