import type { NodeInfo } from "../cache/node_info.js";
import { Code, Status } from "./status.js";

/**
 * Why each node was rejected (upstream `framework.NodeToStatus`). Nodes never looked at (cut by a
 * PreFilterResult, or all of them when PreFilter itself failed) share `absentNodesStatus`.
 */
export class NodeToStatus {
  #byNode = new Map<string, Status>();
  absentNodesStatus: Status;

  constructor(absentNodesStatus: Status = new Status(Code.UnschedulableAndUnresolvable)) {
    this.absentNodesStatus = absentNodesStatus;
  }

  set(nodeName: string, s: Status): void {
    this.#byNode.set(nodeName, s);
  }
  /** The node's status, or the absent nodes' one. */
  get(nodeName: string): Status {
    return this.#byNode.get(nodeName) ?? this.absentNodesStatus;
  }
  has(nodeName: string): boolean {
    return this.#byNode.has(nodeName);
  }
  get size(): number {
    return this.#byNode.size;
  }
  entries(): IterableIterator<[string, Status]> {
    return this.#byNode.entries();
  }

  /** NodesForStatusCode: the nodes whose status has `code`, counting absent ones through absentNodesStatus. */
  nodesForStatusCode(nodes: readonly NodeInfo[], code: Code): NodeInfo[] {
    return nodes.filter((n) => this.get(n.name).code === code);
  }
}
