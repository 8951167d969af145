/**
 * The single-node cluster running workloads, driven by real kubectl against `tk8s server`: the
 * scheduler, the controllers and the kubelet with the built-in process runtime all take part.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { kubectl, kubectlAvailable, kubectlOk, startApiServer, type ApiServerProcess } from "../harness/apiserver_process.js";
import { eventually, startKubectl } from "./background_kubectl.js";
import type { Pod } from "kubernetes-types/core/v1.js";
import { loadKubeconfig } from "../../src/client/kubeconfig.js";
import { RestClient } from "../../src/client/rest_client.js";

/**
 * Follows the pods of a selector through a watch and records the most live pods (not being deleted,
 * as the Deployment controller counts them) and the fewest Ready ones at any moment.
 */
async function watchRolloutBounds(server: ApiServerProcess, labelSelector: string): Promise<{ stop(done: (live: Pod[]) => boolean): Promise<{ maxLive: number; minReady: number }> }> {
  const client = new RestClient(loadKubeconfig(server.kubeconfig, { component: "e2e" }));
  const pods = client.resource<Pod>("", "v1", "pods").namespace("default");
  const list = await pods.list({ labelSelector });
  const state = new Map<string, Pod>(list.items.map((p) => [p.metadata?.name ?? "", p]));
  const live = () => [...state.values()].filter((p) => p.metadata?.deletionTimestamp === undefined);
  const readyCount = () => live().filter((p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")).length;
  let maxLive = live().length;
  let minReady = readyCount();
  const watch = await pods.watch({ labelSelector, resourceVersion: list.metadata?.resourceVersion ?? "" });
  void (async () => {
    for await (const ev of watch) {
      if (ev.type === "ERROR" || ev.type === "BOOKMARK") continue;
      const name = ev.object.metadata?.name ?? "";
      if (ev.type === "DELETED") state.delete(name);
      else state.set(name, ev.object);
      maxLive = Math.max(maxLive, live().length);
      minReady = Math.min(minReady, readyCount());
    }
  })();
  return {
    /** Once the watch has caught up with `done` (its view of the pods), stops and gives the bounds seen. */
    async stop(done: (live: Pod[]) => boolean) {
      try {
        await eventually(() => done(live()), 20_000, "the rollout watch to catch up with the cluster");
      } finally {
        watch.stop();
        client.close();
      }
      return { maxLive, minReady };
    },
  };
}

describe("workloads on a single-node tk8s server", { timeout: 240_000 }, () => {
  let server: ApiServerProcess;
  before(async () => {
    if (!kubectlAvailable()) throw new Error("kubectl is missing");
    server = await startApiServer({ cluster: true });
  }, { timeout: 90_000 });
  after(async () => {
    if (server !== undefined) kubectl(server, ["delete", "cronjob,deploy,job,sts,ds", "--all", "--wait=true", "--timeout=30s"]);
    await server?.stop();
  }, { timeout: 60_000 });

  const ok = (args: string[], input?: string) => kubectlOk(server, args, input === undefined ? {} : { input });
  const jsonpath = (args: string[], path: string) => ok([...args, "-o", `jsonpath=${path}`]);

  test("a CronJob is created (it fires on the next minute; a later test checks it)", () => {
    // Created first so its minute passes while the other tests run.
    ok(["create", "cronjob", "tick", "--image=busybox:1.36", "--schedule=* * * * *", "--", "sh", "-c", "echo tick"]);
    assert.equal(jsonpath(["get", "cronjob", "tick"], "{.spec.schedule}"), "* * * * *");
  });

  test("the node registers and is Ready", async () => {
    await eventually(() => jsonpath(["get", "nodes"], "{.items[0].status.conditions[?(@.type==\"Ready\")].status}") === "True", 30_000, "a Ready node");
    assert.match(jsonpath(["get", "nodes"], "{.items[0].status.nodeInfo.containerRuntimeVersion}"), /^tk8s-process:\/\//);
  });

  test("a Deployment with 3 replicas becomes Available, scales, rolls out within maxSurge/maxUnavailable, rolls back, pauses and resumes", async () => {
    ok(["create", "deployment", "web", "--image=busybox:1.36", "--replicas=3", "--", "sh", "-c", "echo started; sleep 3600"]);
    ok(["rollout", "status", "deployment/web", "--timeout=60s"]);
    assert.equal(jsonpath(["get", "deploy", "web"], "{.status.availableReplicas}"), "3");
    assert.equal(jsonpath(["get", "deploy", "web"], "{.status.conditions[?(@.type==\"Available\")].status}"), "True");
    ok(["scale", "deploy", "web", "--replicas=2"]);
    await eventually(() => jsonpath(["get", "pods", "-l", "app=web", "--field-selector=status.phase=Running"], "{.items[*].metadata.name}").split(" ").filter((x) => x !== "").length === 2, 60_000, "2 running pods");
    // Watch the rollout: with 2 replicas and upstream's 25% defaults, maxSurge 1 and maxUnavailable 0.
    // kubectl runs asynchronously here: the watch needs this process's event loop while it works.
    const bounds = await watchRolloutBounds(server, "app=web");
    for (const args of [["set", "image", "deploy/web", "busybox=busybox:1.37"], ["rollout", "status", "deployment/web", "--timeout=90s"]]) {
      const run = startKubectl(server, args);
      assert.equal(await run.exited(), 0, run.stderr());
    }
    const seen = await bounds.stop((live) => live.length === 2 && live.every((p) => p.spec?.containers[0]?.image === "busybox:1.37"));
    assert.ok(seen.maxLive <= 3, `at most replicas + maxSurge = 3 pods at once, saw ${seen.maxLive}`);
    assert.ok(seen.minReady >= 2, `never fewer than replicas - maxUnavailable = 2 ready pods, saw ${seen.minReady}`);
    assert.ok(seen.maxLive === 3, `the rollout surged by one pod: ${JSON.stringify(seen)}`);
    assert.equal(jsonpath(["get", "deploy", "web"], "{.spec.template.spec.containers[0].image}"), "busybox:1.37");
    ok(["rollout", "undo", "deployment/web"]);
    ok(["rollout", "status", "deployment/web", "--timeout=90s"]);
    assert.equal(jsonpath(["get", "deploy", "web"], "{.spec.template.spec.containers[0].image}"), "busybox:1.36");
    assert.match(ok(["rollout", "history", "deployment/web"]), /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>/);
    // A paused Deployment takes template changes without rolling them out, until it is resumed.
    assert.match(ok(["rollout", "pause", "deployment/web"]), /deployment\.apps\/web paused/);
    ok(["set", "image", "deploy/web", "busybox=busybox:1.38"]);
    await eventually(() => jsonpath(["get", "deploy", "web"], "{.status.conditions[?(@.type==\"Progressing\")].reason}") === "DeploymentPaused", 20_000, "the DeploymentPaused condition");
    assert.equal(jsonpath(["get", "rs", "-l", "app=web"], "{.items[*].spec.template.spec.containers[0].image}").split(" ").includes("busybox:1.38"), false, "no ReplicaSet for the new template while paused");
    assert.match(ok(["rollout", "resume", "deployment/web"]), /deployment\.apps\/web resumed/);
    ok(["rollout", "status", "deployment/web", "--timeout=90s"]);
    assert.equal(jsonpath(["get", "pods", "-l", "app=web", "--field-selector=status.phase=Running"], "{.items[0].spec.containers[0].image}"), "busybox:1.38");
  });

  test("kubectl logs and exec reach the pod's process through the API server and the kubelet", async () => {
    const pod = jsonpath(["get", "pods", "-l", "app=web", "--field-selector=status.phase=Running"], "{.items[0].metadata.name}");
    await eventually(() => kubectl(server, ["logs", pod]).stdout === "started\n", 20_000, "the pod's log");
    const r = kubectl(server, ["exec", pod, "--", "sh", "-c", "cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; exit 4"]);
    assert.equal(r.stdout, "default");
    assert.equal(r.code, 4);
    assert.match(r.stderr, /command terminated with exit code 4/);
  });

  test("a Job runs to completion and its logs read back", () => {
    ok(["create", "job", "hello", "--image=busybox:1.36", "--", "sh", "-c", "echo hello from the job"]);
    ok(["wait", "--for=condition=Complete", "job/hello", "--timeout=60s"]);
    assert.equal(jsonpath(["get", "job", "hello"], "{.status.succeeded}"), "1");
    assert.equal(ok(["logs", "job/hello"]), "hello from the job\n");
  });

  test("a container without a command cannot run on the process runtime, and says why", async () => {
    ok(["run", "nocmd", "--image=nginx:1.27"]);
    await eventually(() => jsonpath(["get", "pod", "nocmd"], "{.status.containerStatuses[0].state.waiting.reason}") === "CreateContainerError", 30_000, "CreateContainerError");
    assert.match(jsonpath(["get", "pod", "nocmd"], "{.status.containerStatuses[0].state.waiting.message}"), /cannot run image "nginx:1.27" without an explicit command/);
    ok(["delete", "pod", "nocmd", "--wait=true", "--timeout=30s"]);
  });

  test("a StatefulSet starts its pods in order with stable names; a DaemonSet runs one pod on the node", async () => {
    ok(["apply", "-f", "-"], `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: c, image: "busybox:1.36", command: [sleep, "3600"]}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: c, image: "busybox:1.36", command: [sleep, "3600"]}]
`);
    ok(["rollout", "status", "statefulset/db", "--timeout=90s"]);
    assert.equal(jsonpath(["get", "pods", "-l", "app=db"], "{.items[*].metadata.name}"), "db-0 db-1");
    assert.equal(jsonpath(["get", "pod", "db-1"], "{.spec.hostname}"), "db-1");
    ok(["rollout", "status", "daemonset/agent", "--timeout=60s"]);
    assert.equal(jsonpath(["get", "ds", "agent"], "{.status.numberReady}"), "1");
  });

  test("foreground deletion of a Deployment waits until its ReplicaSets and pods are gone", () => {
    ok(["create", "deployment", "fg", "--image=busybox:1.36", "--replicas=2", "--", "sleep", "3600"]);
    ok(["rollout", "status", "deployment/fg", "--timeout=60s"]);
    ok(["delete", "deployment", "fg", "--cascade=foreground", "--timeout=90s"]);
    assert.equal(jsonpath(["get", "rs,pods", "-l", "app=fg"], "{.items[*].metadata.name}"), "");
  });

  test("a ResourceQuota's usage follows the pods, and a pod beyond it is refused with upstream's message", async () => {
    ok(["create", "namespace", "limited"]);
    ok(["-n", "limited", "create", "quota", "q", "--hard=pods=2"]);
    await eventually(() => jsonpath(["-n", "limited", "get", "quota", "q"], "{.status.used.pods}") === "0", 30_000, "the quota's status");
    ok(["-n", "limited", "run", "p1", "--image=busybox:1.36", "--", "sleep", "3600"]);
    ok(["-n", "limited", "run", "p2", "--image=busybox:1.36", "--", "sleep", "3600"]);
    await eventually(() => jsonpath(["-n", "limited", "get", "quota", "q"], "{.status.used.pods}") === "2", 30_000, "2 pods used");
    const r = kubectl(server, ["-n", "limited", "run", "p3", "--image=busybox:1.36", "--", "sleep", "3600"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /pods "p3" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2/);
    ok(["delete", "namespace", "limited", "--timeout=90s"]);
  });

  test("the CronJob fired: a Job it owns ran to completion, its log reads back, and the CronJob records it", async () => {
    await eventually(() => jsonpath(["get", "cronjob", "tick"], "{.status.lastSuccessfulTime}") !== "", 90_000, "a successful run of the CronJob");
    const job = jsonpath(["get", "jobs"], "{.items[?(@.metadata.ownerReferences[0].name==\"tick\")].metadata.name}").split(" ")[0]!;
    assert.match(job, /^tick-\d+$/, "upstream's name: the CronJob's name and the scheduled time in minutes");
    assert.equal(jsonpath(["get", "job", job], "{.metadata.ownerReferences[0].kind}"), "CronJob");
    assert.equal(ok(["logs", `job/${job}`]), "tick\n");
    assert.notEqual(jsonpath(["get", "cronjob", "tick"], "{.status.lastScheduleTime}"), "");
    ok(["delete", "cronjob", "tick"]);
  });

  test("deleting a namespace stops and removes its pods, then the namespace", () => {
    ok(["create", "namespace", "doomed"]);
    ok(["-n", "doomed", "run", "sleeper", "--image=busybox:1.36", "--", "sleep", "3600"]);
    ok(["-n", "doomed", "wait", "--for=condition=Ready", "pod/sleeper", "--timeout=60s"]);
    ok(["delete", "namespace", "doomed", "--timeout=90s"]);
    const r = kubectl(server, ["get", "namespace", "doomed"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /namespaces "doomed" not found/);
  });
});
