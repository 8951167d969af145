/**
 * ServiceAccount tokens end to end: `kubectl create token` (TokenRequest), the token authenticating as
 * the ServiceAccount (and refused once the ServiceAccount or bound pod is gone), and the projected
 * `kube-api-access-*` volume pods get, as upstream's ServiceAccount admission plugin adds it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { kubectl, kubectlAvailable, kubectlOk, startApiServer, type ApiServerProcess } from "../harness/apiserver_process.js";

describe("ServiceAccount tokens", { timeout: 90_000 }, () => {
  let server: ApiServerProcess;
  before(async () => {
    if (!kubectlAvailable()) throw new Error("kubectl is missing");
    server = await startApiServer();
  }, { timeout: 60_000 });
  after(async () => {
    await server?.stop();
  });

  const asToken = (token: string, args: string[]) => kubectl(server, ["--token", token, ...args]);

  test("kubectl create token gives a JWT that authenticates as the ServiceAccount", () => {
    kubectlOk(server, ["create", "sa", "robot"]);
    const token = kubectlOk(server, ["create", "token", "robot", "--duration=15m"]).trim();
    const [, payload] = token.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    assert.equal(claims.sub, "system:serviceaccount:default:robot");
    assert.equal(claims.iss, "https://kubernetes.default.svc.cluster.local");
    assert.equal(claims.exp - claims.iat, 900);
    assert.equal(claims["kubernetes.io"].serviceaccount.name, "robot");
    // Authenticated (not 401) but, until RBAC, not authorized: the 403 names the ServiceAccount user.
    const r = asToken(token, ["get", "pods"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /User "system:serviceaccount:default:robot" cannot list resource "pods" in API group "" in the namespace "default"/);
    // Discovery is open to every authenticated user.
    assert.equal(asToken(token, ["api-versions"]).code, 0);
  });

  test("a token shorter than 10 minutes is refused, and deleting the ServiceAccount revokes its tokens", () => {
    const short = kubectl(server, ["create", "token", "robot", "--duration=5m"]);
    assert.equal(short.code, 1);
    assert.match(short.stderr, /may not specify a duration less than 10 minutes/);
    const token = kubectlOk(server, ["create", "token", "robot"]).trim();
    kubectlOk(server, ["delete", "sa", "robot"]);
    const r = asToken(token, ["get", "pods"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Unauthorized|You must be logged in/);
  });

  test("a pod gets the kube-api-access projected volume and its mount, unless it turns automounting off", () => {
    kubectlOk(server, ["run", "p1", "--image=busybox:1.36", "--command", "--", "sleep", "3600"]);
    const pod = JSON.parse(kubectlOk(server, ["get", "pod", "p1", "-o", "json"]));
    const volume = pod.spec.volumes.find((v: { name: string }) => v.name.startsWith("kube-api-access-"));
    assert.ok(volume, JSON.stringify(pod.spec.volumes));
    assert.match(volume.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(volume.projected.sources[0], { serviceAccountToken: { expirationSeconds: 3607, path: "token" } });
    assert.deepEqual(pod.spec.containers[0].volumeMounts, [{ name: volume.name, readOnly: true, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" }]);
    const ca = kubectlOk(server, ["get", "configmap", "kube-root-ca.crt", "-o", "jsonpath={.data.ca\\.crt}"]);
    assert.match(ca, /^-----BEGIN CERTIFICATE-----/);
    kubectlOk(server, ["run", "p2", "--image=busybox:1.36", "--overrides", '{"spec":{"automountServiceAccountToken":false}}', "--command", "--", "sleep", "1"]);
    const p2 = JSON.parse(kubectlOk(server, ["get", "pod", "p2", "-o", "json"]));
    assert.equal(p2.spec.volumes, undefined);
  });

  test("a token bound to a pod stops working when the pod is deleted", async () => {
    kubectlOk(server, ["create", "sa", "bound"]);
    kubectlOk(server, ["run", "holder", "--image=busybox:1.36", "--command", "--", "sleep", "3600"]);
    const token = kubectlOk(server, ["create", "token", "bound", "--bound-object-kind=Pod", "--bound-object-name=holder"]).trim();
    assert.match(asToken(token, ["get", "pods"]).stderr, /system:serviceaccount:default:bound/);
    kubectlOk(server, ["delete", "pod", "holder", "--wait=true"]);
    assert.match(asToken(token, ["get", "pods"]).stderr, /Unauthorized|You must be logged in/);
  });
});
