import type { History } from "./history.js";
import type { Model } from "./linearizability.js";

/**
 * The datastore's client API as the simulator's clients use it. A `cas` is an etcd txn
 * `If(compare) Then(Put(key, value))`; comparing the value against `null` means "the key is absent"
 * (the driver sends `mod_revision == 0`, which is how etcd clients create-if-absent).
 */
export type KvCompare =
  | { readonly target: "value"; readonly value: string | null }
  | { readonly target: "modRevision"; readonly modRevision: number };

/**
 * `lease` on a put attaches the key to that lease (0 or absent: no lease; a later put or a txn's put
 * without one detaches it). `revoke` revokes a lease: the one key the client attached to it is deleted
 * if it is still attached (each lease is put with at most one key, so a revoke writes at most one
 * revision, like a delete, and partitions by that key). A lease that expires is a revoke nobody
 * called: the workload records it as a timed-out revoke from the put on (it may happen, once, or never).
 */
export type KvInput =
  | { readonly kind: "put"; readonly key: string; readonly value: string; readonly lease?: number }
  | { readonly kind: "get"; readonly key: string }
  | { readonly kind: "delete"; readonly key: string }
  | { readonly kind: "cas"; readonly key: string; readonly compare: KvCompare; readonly value: string }
  | { readonly kind: "revoke"; readonly key: string; readonly lease: number };

/**
 * Answers. `revision` is the response header's revision (the store's revision after the request);
 * it is optional on reads, deletes and txns because a client may not record it. An absent key reads
 * as `value: null, modRevision: 0`.
 */
export type KvOutput =
  | { readonly kind: "put"; readonly revision: number }
  | { readonly kind: "get"; readonly value: string | null; readonly modRevision: number; readonly revision?: number }
  | { readonly kind: "delete"; readonly deleted: number; readonly revision?: number }
  | { readonly kind: "cas"; readonly succeeded: boolean; readonly revision?: number }
  | { readonly kind: "revoke"; readonly revision?: number };

/** One write as the store applied it, at its revision: what a watch must deliver. */
export interface KvWrite {
  readonly revision: number;
  readonly key: string;
  readonly type: "put" | "delete";
  /** The value put; null for a delete. */
  readonly value: string | null;
}

/** A stored key, as a get returns it. */
export interface KvValue {
  readonly value: string;
  readonly modRevision: number;
  /** The lease the key is attached to (0: none). */
  readonly lease: number;
}

/**
 * The whole store: its revision and every live key. Immutable; `key` is computed once so the memo
 * table can compare states cheaply.
 *
 *   rev 1 {}  --put(a,x)-->  rev 2 {a="x"@2}  --put(b,y)-->  rev 3 {a="x"@2, b="y"@3}  --delete(a)-->  rev 4 {b="y"@3}
 */
export interface KvState {
  readonly revision: number;
  readonly kv: ReadonlyMap<string, KvValue>;
  readonly key: string;
}

/** A fresh etcd store answers with header revision 1 before any write. */
export const KV_INITIAL_REVISION = 1;

function kvState(revision: number, kv: ReadonlyMap<string, KvValue>): KvState {
  const entries = [...kv.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { revision, kv, key: JSON.stringify([revision, entries.map(([k, v]) => [k, v.value, v.modRevision, v.lease])]) };
}

function kvPut(s: KvState, key: string, value: string, lease = 0): KvState {
  const revision = s.revision + 1;
  const kv = new Map(s.kv);
  kv.set(key, { value, modRevision: revision, lease });
  return kvState(revision, kv);
}

function kvDelete(s: KvState, key: string): KvState {
  if (!s.kv.has(key)) return s; // etcd does not advance the revision for a delete that removed nothing
  const kv = new Map(s.kv);
  kv.delete(key);
  return kvState(s.revision + 1, kv);
}

function compareHolds(current: { value: string | null; modRevision: number }, c: KvCompare): boolean {
  return c.target === "value" ? current.value === c.value : current.modRevision === c.modRevision;
}

function readKey(s: KvState, key: string): { value: string | null; modRevision: number } {
  const v = s.kv.get(key);
  return v === undefined ? { value: null, modRevision: 0 } : v;
}

/**
 * The exact model: one global revision that every write advances by exactly one, checked against
 * every revision a client saw (write revisions, modRevisions, header revisions). Not partitionable,
 * because an operation on one key fixes the revision of the next write on any key. Pass the history's
 * `claimedRevisions` (see `claimedRevisionsOf`) so writes with unknown revisions avoid them.
 */
export function newKvModel(
  options: {
    initialRevision?: number;
    claimedRevisions?: ReadonlySet<number>;
    /** Writes that watches delivered, by revision: a write at such a revision must be that write. */
    watchedWrites?: ReadonlyMap<number, KvWrite>;
  } = {},
): Model<KvState, KvInput, KvOutput> {
  const initial = kvState(options.initialRevision ?? KV_INITIAL_REVISION, new Map());
  // Every write has its own revision, so a write whose revision nobody reported cannot take one an
  // acknowledged write reported. Without this the search would try each timed-out write at every
  // point and find out only at the next return that the revisions no longer line up.
  const claimed = options.claimedRevisions ?? new Set<number>();
  // Watch events are observations too: they pin which write holds a revision, which settles where a
  // timed-out write went (or that it never happened) far better than the clients' reads alone.
  const watched = options.watchedWrites ?? new Map<number, KvWrite>();
  // A watch that delivered revision r proves the store reached r: a linearization that leaves a
  // timed-out write out (or turns a delete into a no-op) must not stop short of it.
  let finalRevisionMin = 0;
  for (const r of watched.keys()) finalRevisionMin = Math.max(finalRevisionMin, r);

  // Whether `input` may write at `revision`: legality is decided before the next state is built,
  // because most candidates the search tries are rejected and building a state is the costly part.
  const mayWriteAt = (input: KvInput, revision: number, revisionReported: boolean): boolean => {
    if (!revisionReported && claimed.has(revision)) return false;
    const w = watched.get(revision);
    if (w === undefined) return true;
    if (w.key !== input.key) return false;
    if (input.kind === "delete" || input.kind === "revoke") return w.type === "delete";
    return w.type === "put" && input.kind !== "get" && w.value === input.value;
  };

  return {
    name: "kv (exact revisions)",
    init: () => initial,
    key: (s) => s.key,
    isReadOnly: (input) => input.kind === "get",
    accepts: (s) => s.revision >= finalRevisionMin,
    acceptance: `the store reaches revision ${finalRevisionMin}, the last a watch delivered`,
    step(s, input, output) {
      if (output !== undefined && output.kind !== input.kind) return [];
      const nextRevision = s.revision + 1;
      switch (input.kind) {
        case "put": {
          const o = output as Extract<KvOutput, { kind: "put" }> | undefined;
          if (o !== undefined && o.revision !== nextRevision) return [];
          return mayWriteAt(input, nextRevision, o !== undefined) ? [kvPut(s, input.key, input.value, input.lease ?? 0)] : [];
        }
        case "revoke": {
          const o = output as Extract<KvOutput, { kind: "revoke" }> | undefined;
          const wrote = s.kv.get(input.key)?.lease === input.lease && input.lease !== 0;
          const revisionAfter = wrote ? nextRevision : s.revision;
          if (o?.revision !== undefined && o.revision !== revisionAfter) return [];
          if (!wrote) return [s];
          return mayWriteAt(input, nextRevision, o?.revision !== undefined) ? [kvDelete(s, input.key)] : [];
        }
        case "get": {
          if (output === undefined) return [s];
          const o = output as Extract<KvOutput, { kind: "get" }>;
          const cur = readKey(s, input.key);
          return o.value === cur.value && o.modRevision === cur.modRevision && (o.revision === undefined || o.revision === s.revision) ? [s] : [];
        }
        case "delete": {
          const o = output as Extract<KvOutput, { kind: "delete" }> | undefined;
          const wrote = s.kv.has(input.key);
          const revisionAfter = wrote ? nextRevision : s.revision;
          if (o !== undefined && (o.deleted !== (wrote ? 1 : 0) || (o.revision !== undefined && o.revision !== revisionAfter))) return [];
          if (!wrote) return [s];
          return mayWriteAt(input, nextRevision, o?.revision !== undefined) ? [kvDelete(s, input.key)] : [];
        }
        case "cas": {
          const o = output as Extract<KvOutput, { kind: "cas" }> | undefined;
          const holds = compareHolds(readKey(s, input.key), input.compare);
          const revisionAfter = holds ? nextRevision : s.revision;
          if (o !== undefined && (o.succeeded !== holds || (o.revision !== undefined && o.revision !== revisionAfter))) return [];
          if (!holds) return [s];
          return mayWriteAt(input, nextRevision, o?.revision !== undefined) ? [kvPut(s, input.key, input.value)] : [];
        }
      }
    },
    describeOperation: describeKvOperation,
    describeState: (s) => `rev ${s.revision} {${[...s.kv.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${JSON.stringify(v.value)}@${v.modRevision}`).join(", ")}}`,
  };
}

/**
 * One key's state in the partitioned model. `modRevision` is -1 when the last write's revision is
 * unknown (a put that timed out); a later read teaches it. `floor` is the highest revision known to
 * have written this key: writes to one key must get increasing revisions in linearization order.
 *
 *   {absent, mod 0, floor 0} --put(x) -> rev 5--> {"x", mod 5, floor 5} --delete -> rev 7--> {absent, mod 0, floor 7}
 */
export interface KvKeyState {
  readonly value: string | null;
  readonly modRevision: number;
  readonly floor: number;
  /** The lease the key is attached to (0: none). */
  readonly lease: number;
}

const UNKNOWN_REVISION = -1;

/**
 * The per-key model: values checked exactly, revisions only as far as one key can see them (a read's
 * modRevision is the revision of the write it reads; one key's writes get increasing revisions).
 * Partitions by key, so the search is exponential only in one key's concurrency. Global revision
 * properties (unique, gap-free, in real-time order across keys) are left to `checkRevisions`.
 */
export function newKvKeyModel(): Model<KvKeyState, KvInput, KvOutput> {
  const initial: KvKeyState = { value: null, modRevision: 0, floor: 0, lease: 0 };
  const written = (s: KvKeyState, value: string, revision: number | undefined, lease = 0): KvKeyState | null => {
    if (revision === undefined) return { value, modRevision: UNKNOWN_REVISION, floor: s.floor, lease };
    return revision > s.floor ? { value, modRevision: revision, floor: revision, lease } : null;
  };
  return {
    name: "kv per key (values exact; revisions per key)",
    init: () => initial,
    key: (s) => `${s.modRevision}|${s.floor}|${s.lease}|${s.value === null ? "" : "=" + s.value}`,
    isReadOnly: (input) => input.kind === "get",
    partition: partitionByKey,
    step(s, input, output) {
      if (output !== undefined && output.kind !== input.kind) return [];
      switch (input.kind) {
        case "put": {
          const next = written(s, input.value, (output as Extract<KvOutput, { kind: "put" }> | undefined)?.revision, input.lease ?? 0);
          return next === null ? [] : [next];
        }
        case "revoke": {
          const o = output as Extract<KvOutput, { kind: "revoke" }> | undefined;
          if (s.value === null || s.lease !== input.lease || input.lease === 0) return [s];
          // Its header revision is the delete's; whether it is cannot be told from one key, only that it is new.
          if (o?.revision === undefined) return [{ value: null, modRevision: 0, floor: s.floor, lease: 0 }];
          return o.revision > s.floor ? [{ value: null, modRevision: 0, floor: o.revision, lease: 0 }] : [];
        }
        case "get": {
          if (output === undefined) return [s];
          const o = output as Extract<KvOutput, { kind: "get" }>;
          if (o.value !== s.value) return [];
          if (s.modRevision !== UNKNOWN_REVISION) return o.modRevision === s.modRevision ? [s] : [];
          // The read tells us the revision of the put that timed out.
          return o.modRevision > s.floor ? [{ value: s.value, modRevision: o.modRevision, floor: o.modRevision, lease: s.lease }] : [];
        }
        case "delete": {
          const o = output as Extract<KvOutput, { kind: "delete" }> | undefined;
          const existed = s.value !== null;
          if (o !== undefined && o.deleted !== (existed ? 1 : 0)) return [];
          if (!existed) return [s];
          if (o?.revision === undefined) return [{ value: null, modRevision: 0, floor: s.floor, lease: 0 }];
          return o.revision > s.floor ? [{ value: null, modRevision: 0, floor: o.revision, lease: 0 }] : [];
        }
        case "cas": {
          const o = output as Extract<KvOutput, { kind: "cas" }> | undefined;
          const out: KvKeyState[] = [];
          for (const holds of casOutcomes(s, input.compare)) {
            if (o !== undefined && o.succeeded !== holds.holds) continue;
            if (!holds.holds) {
              out.push(s);
              continue;
            }
            const next = written(holds.before, input.value, o?.revision);
            if (next !== null) out.push(next);
          }
          return out;
        }
      }
    },
    describeOperation: describeKvOperation,
    describeState: (s) => (s.value === null ? "absent" : `${JSON.stringify(s.value)}@${s.modRevision === UNKNOWN_REVISION ? "?" : s.modRevision}`) + ` (floor ${s.floor})`,
  };
}

// Whether a compare can hold in `s`; with an unknown modRevision it may go either way, and if it
// held we learn the revision.
function casOutcomes(s: KvKeyState, c: KvCompare): { holds: boolean; before: KvKeyState }[] {
  if (c.target === "modRevision" && s.modRevision === UNKNOWN_REVISION) {
    const outcomes = [{ holds: false, before: s }];
    if (c.modRevision > s.floor) outcomes.push({ holds: true, before: { ...s, modRevision: c.modRevision, floor: c.modRevision } });
    return outcomes;
  }
  return [{ holds: compareHolds(s, c), before: s }];
}

/** Splits a KV history into one sub-history per key, each in the original order. */
export function partitionByKey(history: History<KvInput, KvOutput>): History<KvInput, KvOutput>[] {
  const byKey = new Map<string, (typeof history)[number][]>();
  for (const op of history) {
    let ops = byKey.get(op.input.key);
    if (ops === undefined) byKey.set(op.input.key, (ops = []));
    ops.push(op);
  }
  return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
}

/** `put(a, "x") -> rev 5`, `get(a) -> "x"@5`, `cas(a, value == "x" ? put "y") -> failed`. */
export function describeKvOperation(input: KvInput, output: KvOutput | undefined): string {
  const rev = (r: number | undefined): string => (r === undefined ? "" : ` rev ${r}`);
  let call: string;
  switch (input.kind) {
    case "put": call = `put(${input.key}, ${JSON.stringify(input.value)}${input.lease ? `, lease ${input.lease}` : ""})`; break;
    case "revoke": call = `revoke(lease ${input.lease} of ${input.key})`; break;
    case "get": call = `get(${input.key})`; break;
    case "delete": call = `delete(${input.key})`; break;
    case "cas": {
      const c = input.compare.target === "value" ? `value == ${JSON.stringify(input.compare.value)}` : `modRevision == ${input.compare.modRevision}`;
      call = `cas(${input.key}, ${c} ? put ${JSON.stringify(input.value)})`;
      break;
    }
  }
  if (output === undefined) return `${call} -> ?`;
  switch (output.kind) {
    case "put": return `${call} ->${rev(output.revision)}`;
    case "get": return `${call} -> ${output.value === null ? "absent" : `${JSON.stringify(output.value)}@${output.modRevision}`}${rev(output.revision)}`;
    case "delete": return `${call} -> deleted ${output.deleted}${rev(output.revision)}`;
    case "cas": return `${call} -> ${output.succeeded ? "succeeded" : "failed"}${rev(output.revision)}`;
    case "revoke": return `${call} ->${rev(output.revision)}`;
  }
}

/** Revisions that acknowledged writes reported: no other write can have them. */
export function claimedRevisionsOf(history: History<KvInput, KvOutput>): Set<number> {
  const claimed = new Set<number>();
  for (const op of history) {
    if (op.outcome !== "ok") continue;
    const o = op.output!;
    if (o.kind === "put") claimed.add(o.revision);
    else if (o.kind === "cas" && o.succeeded && o.revision !== undefined) claimed.add(o.revision);
    else if (o.kind === "delete" && o.deleted > 0 && o.revision !== undefined) claimed.add(o.revision);
  }
  return claimed;
}
