/**
 * The cluster's membership as the log has decided it (etcd's membership.RaftCluster): who the members
 * are, their URLs, who is a learner, and which ids were removed (an id is never reused). It lives in the
 * backend's meta bucket, written in the same batch as the entry that changed it, so it survives restarts
 * and travels inside snapshots.
 *
 * Conf-change entries carry the member as JSON in their context, as etcd's do. Every member checks a
 * change against its own copy when applying it; a change that no longer makes sense (a member added
 * twice by racing requests, say) is refused identically everywhere, so the members stay in agreement.
 */
import type { BackendStore } from "../storage/backend/backend.js";
import type { ConfChange, ConfState } from "../raft/types.js";
import {
  ErrIDRemoved,
  ErrMemberExist,
  ErrMemberNotFound,
  ErrMemberNotLearner,
  ErrPeerURLExist,
  ErrTooManyLearners,
  type EtcdError,
} from "./errors.js";

/** etcd's maxLearners: one learner at a time. */
export const LEARNERS_MAX = 1;

export interface Member {
  readonly id: bigint;
  /** Empty until the member has started and published its attributes. */
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
  readonly isLearner: boolean;
}

const MEMBERS_META = "members";
const REMOVED_META = "removed_members";

interface MemberJson {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export function memberToJson(m: Member): MemberJson {
  return { id: m.id.toString(), name: m.name, peerURLs: [...m.peerUrls], clientURLs: [...m.clientUrls], isLearner: m.isLearner };
}

export function memberFromJson(j: MemberJson): Member {
  return { id: BigInt(j.id), name: j.name, peerUrls: j.peerURLs, clientUrls: j.clientURLs, isLearner: j.isLearner };
}

/** The context of a conf-change entry: the member it adds or promotes. */
export function encodeMemberContext(m: Member): Uint8Array {
  return Buffer.from(JSON.stringify(memberToJson(m)));
}

export function decodeMemberContext(b: Uint8Array): Member | null {
  if (b.length === 0) return null;
  return memberFromJson(JSON.parse(Buffer.from(b).toString("utf8")) as MemberJson);
}

export class Membership {
  readonly #members = new Map<bigint, Member>();
  readonly #removed = new Set<bigint>();

  /** Reads what the backend holds; `null` if it has never held a membership (a store from before replication). */
  static load(backend: BackendStore): Membership | null {
    const raw = backend.getMeta(MEMBERS_META);
    if (raw === undefined) return null;
    const m = new Membership();
    for (const j of JSON.parse(raw) as MemberJson[]) m.#members.set(BigInt(j.id), memberFromJson(j));
    for (const id of JSON.parse(backend.getMeta(REMOVED_META) ?? "[]") as string[]) m.#removed.add(BigInt(id));
    return m;
  }

  static of(members: readonly Member[]): Membership {
    const m = new Membership();
    for (const x of members) m.#members.set(x.id, x);
    return m;
  }

  save(backend: BackendStore): void {
    backend.putMeta(MEMBERS_META, JSON.stringify(this.members().map(memberToJson)));
    backend.putMeta(REMOVED_META, JSON.stringify([...this.#removed].map(String)));
  }

  /** Members ordered by id, as etcd lists them. */
  members(): Member[] {
    return [...this.#members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  member(id: bigint): Member | undefined {
    return this.#members.get(id);
  }

  isRemoved(id: bigint): boolean {
    return this.#removed.has(id);
  }

  /** Whether `id` is the only voting member (checked on every linearizable read: no sorting, no copies). */
  isSoleVoter(id: bigint): boolean {
    let voters = 0;
    for (const m of this.#members.values()) if (!m.isLearner && ++voters > 1) return false;
    return voters === 1 && this.#members.get(id)?.isLearner === false;
  }

  confState(): ConfState {
    const ms = this.members();
    return { voters: ms.filter((m) => !m.isLearner).map((m) => m.id), learners: ms.filter((m) => m.isLearner).map((m) => m.id) };
  }

  /** Why `cc` cannot be applied to this membership, or null if it can (etcd's ValidateConfigurationChange). */
  check(cc: ConfChange, member: Member | null): EtcdError | null {
    if (this.#removed.has(cc.nodeId)) return ErrIDRemoved();
    switch (cc.type) {
      case "ConfChangeAddNode":
      case "ConfChangeAddLearnerNode": {
        const existing = this.#members.get(cc.nodeId);
        if (cc.type === "ConfChangeAddNode" && existing !== undefined && existing.isLearner && member?.isLearner === false) return null; // promotion
        if (existing !== undefined) return ErrMemberExist();
        const urls = new Set(member?.peerUrls ?? []);
        for (const m of this.#members.values()) if (m.peerUrls.some((u) => urls.has(u))) return ErrPeerURLExist();
        if (cc.type === "ConfChangeAddLearnerNode" && this.confState().learners.length >= LEARNERS_MAX) return ErrTooManyLearners();
        return null;
      }
      case "ConfChangeRemoveNode":
        return this.#members.has(cc.nodeId) ? null : ErrMemberNotFound();
    }
  }

  /** Whether promoting `id` is allowed at all (it must be a learner). */
  checkPromote(id: bigint): EtcdError | null {
    const m = this.#members.get(id);
    if (m === undefined) return ErrMemberNotFound();
    if (!m.isLearner) return ErrMemberNotLearner();
    return null;
  }

  /** Applies a change that `check` accepted. */
  apply(cc: ConfChange, member: Member | null): void {
    switch (cc.type) {
      case "ConfChangeAddNode":
      case "ConfChangeAddLearnerNode": {
        const existing = this.#members.get(cc.nodeId);
        if (existing !== undefined) {
          this.#members.set(cc.nodeId, { ...existing, isLearner: false });
          return;
        }
        this.#members.set(cc.nodeId, {
          id: cc.nodeId,
          name: member?.name ?? "",
          peerUrls: member?.peerUrls ?? [],
          clientUrls: member?.clientUrls ?? [],
          isLearner: cc.type === "ConfChangeAddLearnerNode",
        });
        return;
      }
      case "ConfChangeRemoveNode":
        this.#members.delete(cc.nodeId);
        this.#removed.add(cc.nodeId);
        return;
    }
  }

  /** A started member publishes its name and client URLs (etcd's attribute update). */
  setAttributes(id: bigint, name: string, clientUrls: readonly string[]): boolean {
    const m = this.#members.get(id);
    if (m === undefined) return false;
    this.#members.set(id, { ...m, name, clientUrls: [...clientUrls] });
    return true;
  }

  /** etcdctl member update: new peer URLs. */
  setPeerUrls(id: bigint, peerUrls: readonly string[]): boolean {
    const m = this.#members.get(id);
    if (m === undefined) return false;
    this.#members.set(id, { ...m, peerUrls: [...peerUrls] });
    return true;
  }
}
