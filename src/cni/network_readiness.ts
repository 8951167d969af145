/**
 * Whether the runtime's pod network is up, from CRI `Status` conditions, in upstream kubelet's words
 * (kubelet.go updateRuntimeUp): a node whose runtime reports `NetworkReady=false` (containerd: no CNI
 * config in its conf dir yet) is NotReady with
 * "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized".
 */
import type { RuntimeCondition } from "../kubelet/cri/cri.js";

/** null when NetworkReady is true; else the message upstream's kubelet puts in the node's Ready condition. */
export function runtimeNetworkNotReadyMessage(conditions: readonly RuntimeCondition[]): string | null {
  const c = conditions.find((x) => x.type === "NetworkReady");
  if (c === undefined) return "container runtime network not ready: <nil>";
  if (c.status) return null;
  return `container runtime network not ready: ${c.type}=${c.status} reason:${c.reason} message:${c.message}`;
}
