/**
 * Raft's data types, named and shaped as etcd raft's raftpb (go.etcd.io/raft/v3/raftpb).
 *
 * Member ids are `bigint`: etcd member ids are random uint64s, which do not fit a JS number, and the
 * datastore already names members with bigint. `NONE` (0n) means "no member", as etcd's `raft.None`.
 * Indexes and terms stay `number`: they count up from 0 and stay far below 2^53.
 */

/** No member: no leader known, no vote cast. */
export const NONE = 0n;

/** What an entry carries. ConfChange entries change membership once applied. */
export type EntryType = "EntryNormal" | "EntryConfChange";

/**
 * A log entry. Extends the WAL's Entry {term, index, data} with `type`, as raftpb.Entry; a WAL that
 * does not store the type must encode it (e.g. a leading byte) or the member cannot replay conf changes.
 */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/**
 * Raft's persistent state. `vote` is a member id (bigint), unlike the single-member WAL's number:
 * the WAL must store it as a uint64.
 */
export interface HardState {
  readonly term: number;
  readonly vote: bigint;
  readonly commit: number;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: NONE, commit: 0 };

/** The membership as of some index: who votes, who only learns. */
export interface ConfState {
  readonly voters: readonly bigint[];
  readonly learners: readonly bigint[];
}

export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

/** The state machine's state as of `metadata.index`; replaces every entry up to it. */
export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

export const EMPTY_SNAPSHOT: Snapshot = {
  metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } },
  data: new Uint8Array(0),
};

/** Single-step membership changes, as etcd's ConfChange (v1) types. */
export type ConfChangeType = "ConfChangeAddNode" | "ConfChangeRemoveNode" | "ConfChangeAddLearnerNode";

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: bigint;
  /** Opaque to raft (etcd puts the member's URLs here). */
  readonly context: Uint8Array;
}

export type MessageType =
  | "MsgHup" // local: start an election
  | "MsgBeat" // local: leader sends heartbeats
  | "MsgProp" // a proposal (local, or forwarded to the leader)
  | "MsgApp"
  | "MsgAppResp"
  | "MsgVote"
  | "MsgVoteResp"
  | "MsgPreVote"
  | "MsgPreVoteResp"
  | "MsgSnap"
  | "MsgHeartbeat"
  | "MsgHeartbeatResp"
  | "MsgUnreachable" // local: the transport could not reach `from`
  | "MsgSnapStatus" // local: a snapshot send finished (reject = failed)
  | "MsgCheckQuorum" // local: leader checks it heard from a quorum
  | "MsgTransferLeader" // `from` is the transferee
  | "MsgTimeoutNow" // leader tells the transferee to campaign now
  | "MsgReadIndex"
  | "MsgReadIndexResp";

/** One message between members (or from the host to its own member, for the local types). */
export interface Message {
  readonly type: MessageType;
  readonly to: bigint;
  readonly from: bigint;
  readonly term: number;
  /** MsgApp: term of the entry at `index` (the one before `entries`); votes: the candidate's last term; reject: hint term. */
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly snapshot: Snapshot | null;
  readonly reject: boolean;
  readonly rejectHint: number;
  /** Votes: CAMPAIGN_TRANSFER; heartbeats: the ReadIndex request context. */
  readonly context: Uint8Array | null;
}

/** A message with defaults for every field not given. */
export function message(m: Partial<Message> & { type: MessageType }): Message {
  return {
    to: NONE,
    from: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    snapshot: null,
    reject: false,
    rejectHint: 0,
    context: null,
    ...m,
  };
}

/** Messages a member may send before its term is settled: they carry their own term. */
export function isVoteMessage(t: MessageType): boolean {
  return t === "MsgVote" || t === "MsgVoteResp" || t === "MsgPreVote" || t === "MsgPreVoteResp";
}

/** Messages the host generates for its own member; never sent over the network. */
export function isLocalMessage(t: MessageType): boolean {
  return t === "MsgHup" || t === "MsgBeat" || t === "MsgUnreachable" || t === "MsgSnapStatus" || t === "MsgCheckQuorum";
}

export function isResponseMessage(t: MessageType): boolean {
  return (
    t === "MsgAppResp" ||
    t === "MsgVoteResp" ||
    t === "MsgHeartbeatResp" ||
    t === "MsgUnreachable" ||
    t === "MsgPreVoteResp"
  );
}

export function voteRespMsgType(t: MessageType): MessageType {
  if (t === "MsgVote") return "MsgVoteResp";
  if (t === "MsgPreVote") return "MsgPreVoteResp";
  throw new Error(`Cannot answer a vote: not a vote request: current value is ${t}`);
}

/** The bytes an entry counts for in size limits (its payload, as etcd's limits are dominated by it). */
export function entrySize(e: Entry): number {
  return e.data.length;
}

export function entriesSize(ents: readonly Entry[]): number {
  let n = 0;
  for (const e of ents) n += entrySize(e);
  return n;
}

/**
 * The longest prefix of `ents` within `maxBytes`, but never empty if `ents` is not: one entry larger than
 * the limit still goes, alone, so a big entry cannot stall replication.
 */
export function limitSize<T extends Entry>(ents: readonly T[], maxBytes: number): T[] {
  if (ents.length === 0) return [];
  let size = entrySize(ents[0]!);
  let n = 1;
  while (n < ents.length) {
    size += entrySize(ents[n]!);
    if (size > maxBytes) break;
    n++;
  }
  return ents.slice(0, n);
}

export function bytesEqual(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const CONF_CHANGE_CODES: readonly ConfChangeType[] = ["ConfChangeAddNode", "ConfChangeRemoveNode", "ConfChangeAddLearnerNode"];

/** Encodes a ConfChange as an entry's data: 1 byte type, 8 bytes node id (big endian), then the context. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const out = new Uint8Array(9 + cc.context.length);
  const view = new DataView(out.buffer);
  view.setUint8(0, CONF_CHANGE_CODES.indexOf(cc.type));
  view.setBigUint64(1, cc.nodeId);
  out.set(cc.context, 9);
  return out;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  if (data.length < 9) throw new Error(`Cannot decode a conf change: need 9 bytes: current value is ${data.length}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const type = CONF_CHANGE_CODES[view.getUint8(0)];
  if (type === undefined) throw new Error(`Cannot decode a conf change: unknown type: current value is ${view.getUint8(0)}`);
  return { type, nodeId: view.getBigUint64(1), context: data.slice(9) };
}

/** A proposal was not appended (no leader, leader transfer in progress, a conf change pending, or too much uncommitted). */
export class ProposalDroppedError extends Error {
  override readonly name = "ProposalDroppedError";
  constructor(reason: string) {
    super(`raft proposal dropped: ${reason}`);
  }
}
