import { test } from "node:test";
import assert from "node:assert/strict";
import { findResource, type ResourceInfo } from "../../api/resources.js";
import { ApiError } from "../../api/status.js";
import { admitNodeRequest, nodeIdentity } from "./node_restriction.js";

const res = (group: string, resource: string) => findResource(group, "v1", resource) as ResourceInfo;
const pod = (nodeName: string, annotations: Record<string, string> = {}) => ({ metadata: { name: "p", namespace: "default", annotations }, spec: { nodeName } });

test("a node is system:node:<name> in system:nodes; anyone else is not a node", () => {
  assert.equal(nodeIdentity({ name: "system:node:n1", uid: "", groups: ["system:nodes"] }), "n1");
  assert.equal(nodeIdentity({ name: "system:node:n1", uid: "", groups: [] }), null);
  assert.equal(nodeIdentity({ name: "n1", uid: "", groups: ["system:nodes"] }), null);
  assert.equal(nodeIdentity(undefined), null);
});

test("a node may change only itself, its lease, and pods bound to it, with upstream's messages", () => {
  const refused = (f: () => void, message: string) => assert.throws(f, (e: unknown) => e instanceof ApiError && e.code === 403 && e.message === message);
  admitNodeRequest("n1", "UPDATE", res("", "nodes"), "n1", {}, {});
  refused(() => admitNodeRequest("n1", "UPDATE", res("", "nodes"), "n2", {}, {}), 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
  admitNodeRequest("n1", "UPDATE", res("", "pods"), "p", pod("n1"), pod("n1"));
  refused(() => admitNodeRequest("n1", "UPDATE", res("", "pods"), "p", pod("n2"), pod("n2")), 'pods "p" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself');
  refused(() => admitNodeRequest("n1", "DELETE", res("", "pods"), "p", null, pod("n2")), 'pods "p" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself');
  refused(() => admitNodeRequest("n1", "CREATE", res("", "pods"), "p", pod("n1"), null), 'pods "p" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods');
  admitNodeRequest("n1", "CREATE", res("", "pods"), "p", pod("n1", { "kubernetes.io/config.mirror": "x" }), null);
  const lease = (name: string) => ({ metadata: { name, namespace: "kube-node-lease" } });
  admitNodeRequest("n1", "UPDATE", findResource("coordination.k8s.io", "v1", "leases") as ResourceInfo, "n1", lease("n1"), lease("n1"));
  refused(
    () => admitNodeRequest("n1", "UPDATE", findResource("coordination.k8s.io", "v1", "leases") as ResourceInfo, "n2", lease("n2"), lease("n2")),
    'leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node',
  );
});
