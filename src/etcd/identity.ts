/**
 * Who a member is: its id, its cluster's id, and — on first start — how its log begins. A member of a new
 * cluster derives every member's id from --initial-cluster and the token, as etcd does, so all of them
 * bootstrap the same log; a member joining a running cluster (--initial-cluster-state existing) asks a
 * running member's /members. Kept in identity.json from then on.
 */
import { createHash } from "node:crypto";
import type { Env } from "../env/env.js";
import { parseInitialCluster, type DatastoreConfig } from "./config.js";
import { memberFromJson, memberToJson, type Member } from "./membership.js";

export interface Identity {
  readonly member: Member;
  readonly clusterId: bigint;
  /** A brand-new cluster: the members to bootstrap the log with. */
  readonly bootstrap: Member[] | null;
  /** Joining a running cluster: its members as they answered. */
  readonly existing: Member[] | null;
}

/** An id from the SHA-1 of some parts (etcd derives member and cluster ids from hashes too). */
export function idFromHash(parts: string[]): bigint {
  const h = createHash("sha1").update(parts.join("\n")).digest();
  // Keep it within int64 so every client prints the same value.
  return h.readBigUInt64BE(0) & 0x7fffffffffffffffn;
}

/** A member's id in a new cluster, from its peer URLs and the cluster token: every member computes every id alike. */
export function memberIdFor(peerUrls: readonly string[], clusterToken: string): bigint {
  return idFromHash([...peerUrls].sort().concat(clusterToken));
}

/**
 * Who this member is. On first start: from --initial-cluster (a new cluster: every member derives every
 * id from the URLs and the token, as etcd does) or, with --initial-cluster-state existing, from a running
 * member's /members (this member was added there with `etcdctl member add`). Then from identity.json.
 */
export async function loadOrCreateIdentity(
  env: Env,
  config: DatastoreConfig,
  memberDir: string,
  fetchCluster: (peerUrls: readonly string[]) => Promise<{ clusterId: bigint; members: Member[] }>,
): Promise<Identity> {
  const path = `${memberDir}/identity.json`;
  if (await env.fs.exists(path)) {
    const j = JSON.parse(Buffer.from(await env.fs.readFile(path)).toString("utf8")) as {
      id: string;
      name: string;
      peerUrls: string[];
      clusterId: string;
      joinedMembers?: Parameters<typeof memberFromJson>[0][];
    };
    return {
      member: { id: BigInt(j.id), name: j.name, peerUrls: j.peerUrls, clientUrls: config.advertiseClientUrls, isLearner: false },
      clusterId: BigInt(j.clusterId),
      bootstrap: null,
      // A member that joined may restart before it has applied any membership: it still knows its peers.
      existing: j.joinedMembers?.map(memberFromJson) ?? null,
    };
  }
  const listed = parseInitialCluster(config.initialCluster);
  const self = listed.find((m) => m.name === config.name);
  if (self === undefined) throw new Error(`Cannot start: --initial-cluster has no member named "${config.name}" (--name)`);
  const memberId = (urls: readonly string[]): bigint => memberIdFor(urls, config.initialClusterToken);
  let identity: Identity;
  if (config.initialClusterState === "existing") {
    const peers = listed.filter((m) => m.name !== config.name).flatMap((m) => m.peerUrls);
    const remote = await fetchCluster(peers);
    const wanted = new Set(self.peerUrls);
    const me = remote.members.find((m) => m.peerUrls.some((u) => wanted.has(u)));
    if (me === undefined) {
      throw new Error(`Cannot start: the running cluster has no member with peer URLs ${self.peerUrls.join(",")}; add it first with "etcdctl member add ${config.name} --peer-urls=${self.peerUrls.join(",")}"`);
    }
    identity = {
      member: { id: me.id, name: config.name, peerUrls: self.peerUrls, clientUrls: config.advertiseClientUrls, isLearner: me.isLearner },
      clusterId: remote.clusterId,
      bootstrap: null,
      existing: remote.members,
    };
  } else {
    const members: Member[] = listed.map((m) => ({
      id: memberId(m.peerUrls),
      name: m.name,
      peerUrls: m.peerUrls,
      // Every member must bootstrap the same log, so client URLs come later, each member publishing its own.
      clientUrls: [],
      isLearner: false,
    }));
    const id = memberId(self.peerUrls);
    const clusterId = idFromHash([...members.map((m) => m.id.toString(16)).sort(), config.initialClusterToken]);
    identity = { member: { ...members.find((m) => m.id === id)!, clientUrls: config.advertiseClientUrls }, clusterId, bootstrap: members, existing: null };
  }
  const j = {
    id: identity.member.id.toString(),
    name: config.name,
    peerUrls: self.peerUrls,
    clusterId: identity.clusterId.toString(),
    ...(identity.existing === null ? {} : { joinedMembers: identity.existing.map(memberToJson) }),
  };
  await env.fs.writeFileAtomic(path, Buffer.from(JSON.stringify(j)));
  env.log.info("created new member", { name: config.name, memberId: identity.member.id.toString(16), clusterId: identity.clusterId.toString(16), state: config.initialClusterState });
  return identity;
}

/** Asks running members for the membership (etcd's GetClusterFromRemotePeers); the first that answers wins. */
export async function fetchClusterFromPeers(urls: readonly string[], env: Env): Promise<{ clusterId: bigint; members: Member[] }> {
  const errors: string[] = [];
  for (const base of urls) {
    try {
      const res = await fetch(`${base.replace(/\/$/, "")}/members`, { signal: AbortSignal.timeout(2000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const cid = res.headers.get("x-etcd-cluster-id");
      if (cid === null) throw new Error("no X-Etcd-Cluster-ID header");
      const list = (await res.json()) as { id: string; name: string; peerURLs: string[]; clientURLs: string[]; isLearner?: boolean }[];
      return { clusterId: BigInt(`0x${cid}`), members: list.map((m) => memberFromJson({ ...m, id: BigInt(`0x${m.id}`).toString(), isLearner: m.isLearner ?? false })) };
    } catch (err) {
      errors.push(`${base}: ${err instanceof Error ? err.message : String(err)}`);
      env.log.warn("could not get the cluster's members from a peer", { url: base, error: errors[errors.length - 1] });
    }
  }
  throw new Error(`Cannot start: --initial-cluster-state=existing, but no running member answered (${errors.join("; ") || "no other member in --initial-cluster"})`);
}
