/**
 * The members the simulator can run, by name (`--member`).  `etcd` is the real `EtcdServer`
 * (the default, see `DEFAULT_FACTORY` in run.ts); `raft-core` is the pure Raft core with the simulator's
 * own state machine; `etcd-harsh-backend` is the real member on a backend that commits only when told.
 */
import { raftKvMemberFactory } from "./raft_kv_member.js";
import { etcdMemberFactory, makeEtcdMemberFactory } from "./etcd_member.js";
import type { SimMemberFactory } from "./sim_member.js";

const FACTORIES: readonly SimMemberFactory[] = [etcdMemberFactory, raftKvMemberFactory, makeEtcdMemberFactory({ backendCommitDelayMs: null })];

export const FACTORY_NAMES: readonly string[] = FACTORIES.map((f) => f.name);

export function factoryNamed(name: string): SimMemberFactory {
  const f = FACTORIES.find((x) => x.name === name);
  if (f === undefined) throw new Error(`Cannot run member "${name}": known members are ${FACTORY_NAMES.join(", ")}`);
  return f;
}
