import type { Rng } from "../../src/env/env.js";
import { assert } from "../../src/util/assert.js";
import type { History, Operation, Outcome } from "./history.js";
import type { KvCompare, KvInput, KvOutput, KvWrite } from "./kv_model.js";
import { KV_INITIAL_REVISION } from "./kv_model.js";

/** Shapes a generated history. */
export interface KvHistoryOptions {
  readonly operations: number;
  readonly clients: number;
  readonly keys: number;
  /** Chance that an operation times out (`unknown`); half of those take effect, at any later point. */
  readonly unknownRate?: number;
  /** Chance that an operation is refused (`failed`) and does not take effect. */
  readonly failedRate?: number;
  /** Longest an operation stays in flight, in ticks; longer windows mean more concurrency. */
  readonly durationTicksMax?: number;
  /** Whether gets record the header revision. */
  readonly readHeaderRevision?: boolean;
}

/** A generated history and the writes that really happened, in revision order. */
export interface GeneratedKvHistory {
  readonly history: History<KvInput, KvOutput>;
  readonly writes: readonly KvWrite[];
}

/**
 * Generates a history that is linearizable by construction: each client runs operations back to back
 * over random windows; each operation that takes effect gets a random point inside its window (after
 * its call, anywhere later for a timed-out one), and the operations run one at a time in point order
 * against `ReferenceKv`, a plain sequential store written independently of the checker's model.
 */
export function generateKvHistory(rng: Rng, options: KvHistoryOptions): GeneratedKvHistory {
  const unknownRate = options.unknownRate ?? 0;
  const failedRate = options.failedRate ?? 0;
  const durationMax = options.durationTicksMax ?? 10;
  const keys = Array.from({ length: options.keys }, (_, i) => `k${i}`);
  const clientTime = new Array<number>(options.clients).fill(0);
  interface Planned { op: Omit<Operation<KvInput, KvOutput>, "output">; point: number | null }
  const planned: Planned[] = [];
  let valueSeq = 0;
  for (let id = 0; id < options.operations; id++) {
    const clientId = uniform(rng, options.clients);
    const callTime = clientTime[clientId]! + uniform(rng, 3);
    const returnTime = callTime + 1 + uniform(rng, durationMax);
    clientTime[clientId] = returnTime;
    const key = keys[uniform(rng, keys.length)]!;
    const input = randomInput(rng, key, () => `v${valueSeq++}`);
    const roll = unit(rng);
    let outcome: Outcome = "ok";
    let point: number | null = callTime + unit(rng) * (returnTime - callTime);
    if (roll < failedRate) {
      outcome = "failed";
      point = null;
    } else if (roll < failedRate + unknownRate) {
      outcome = "unknown";
      // Half never happen; the others land anywhere after the call, possibly long after the timeout.
      point = unit(rng) < 0.5 ? null : callTime + unit(rng) * 3 * durationMax;
    }
    planned.push({ op: { id, clientId, callTime, returnTime: outcome === "unknown" ? Infinity : returnTime, input, outcome }, point });
  }
  const store = new ReferenceKv();
  const outputs = new Map<number, KvOutput>();
  const order = planned.filter((p) => p.point !== null).sort((a, b) => a.point! - b.point! || a.op.id - b.op.id);
  for (const p of order) {
    const out = store.apply(p.op.input);
    if (out.kind === "get" && !options.readHeaderRevision) outputs.set(p.op.id, { kind: "get", value: out.value, modRevision: out.modRevision });
    else outputs.set(p.op.id, out);
  }
  const history = planned
    .map((p) => ({ ...p.op, output: p.op.outcome === "ok" ? outputs.get(p.op.id) : undefined }))
    .sort((a, b) => a.callTime - b.callTime || a.id - b.id)
    .map((op, i) => ({ ...op, id: i }));
  return { history, writes: store.writes };
}

function randomInput(rng: Rng, key: string, nextValue: () => string): KvInput {
  const r = unit(rng);
  if (r < 0.35) return { kind: "put", key, value: nextValue() };
  if (r < 0.7) return { kind: "get", key };
  if (r < 0.8) return { kind: "delete", key };
  // Compare against something that is sometimes right: absent, a recent-looking value, or a small revision.
  const c = unit(rng);
  const compare: KvCompare = c < 0.3
    ? { target: "value", value: null }
    : c < 0.6
      ? { target: "value", value: `v${uniform(rng, 1 + Math.floor(c * 40))}` }
      : { target: "modRevision", modRevision: uniform(rng, 40) };
  return { kind: "cas", key, compare, value: nextValue() };
}

/**
 * A plain sequential etcd-like store: the ground truth generated histories come from. Deliberately
 * separate from `newKvModel` so a bug in the model is not mirrored here.
 */
export class ReferenceKv {
  revision = KV_INITIAL_REVISION;
  readonly writes: KvWrite[] = [];
  readonly #data = new Map<string, { value: string; modRevision: number; lease: number }>();

  apply(input: KvInput): KvOutput {
    const cur = this.#data.get(input.key);
    switch (input.kind) {
      case "put":
        return { kind: "put", revision: this.#write(input.key, input.value, input.lease ?? 0) };
      case "revoke":
        if (cur === undefined || input.lease === 0 || cur.lease !== input.lease) return { kind: "revoke", revision: this.revision };
        return { kind: "revoke", revision: this.#write(input.key, null) };
      case "get":
        return { kind: "get", value: cur?.value ?? null, modRevision: cur?.modRevision ?? 0, revision: this.revision };
      case "delete":
        if (cur === undefined) return { kind: "delete", deleted: 0, revision: this.revision };
        return { kind: "delete", deleted: 1, revision: this.#write(input.key, null) };
      case "cas": {
        const c = input.compare;
        const ok = c.target === "value" ? (cur?.value ?? null) === c.value : (cur?.modRevision ?? 0) === c.modRevision;
        if (!ok) return { kind: "cas", succeeded: false, revision: this.revision };
        return { kind: "cas", succeeded: true, revision: this.#write(input.key, input.value) };
      }
    }
  }

  #write(key: string, value: string | null, lease = 0): number {
    this.revision++;
    if (value === null) this.#data.delete(key);
    else this.#data.set(key, { value, modRevision: this.revision, lease });
    this.writes.push({ revision: this.revision, key, type: value === null ? "delete" : "put", value });
    return this.revision;
  }
}

/**
 * Breaks one acknowledged operation of a linearizable history in a way a real bug would: a read
 * returns another value of its key (stale or never-current), loses the key or reads the wrong
 * modRevision, a write reports another revision, a cas or delete reports the opposite result.
 * Returns null if there is nothing to break.
 */
export function mutateKvHistory(
  rng: Rng, history: History<KvInput, KvOutput>,
): { history: History<KvInput, KvOutput>; description: string } | null {
  const acked = history.filter((op) => op.outcome === "ok");
  if (acked.length === 0) return null;
  const op = acked[uniform(rng, acked.length)]!;
  const out = op.output!;
  let mutated: Operation<KvInput, KvOutput>;
  let description: string;
  switch (out.kind) {
    case "get": {
      const others = history.filter((o) => o.input.key === op.input.key && (o.input.kind === "put" || o.input.kind === "cas") && o.input.value !== out.value);
      const choice = unit(rng);
      if (choice < 0.4 && others.length > 0) {
        const other = others[uniform(rng, others.length)]!.input as { value: string };
        mutated = { ...op, output: { ...out, value: other.value } };
        description = `get returns another value of its key (${other.value})`;
      } else if (choice < 0.7) {
        mutated = { ...op, output: { ...out, modRevision: out.modRevision + 1 } };
        description = "get returns modRevision + 1";
      } else if (out.value !== null) {
        mutated = { ...op, output: { kind: "get", value: null, modRevision: 0 } };
        description = "get loses the key";
      } else {
        mutated = { ...op, output: { ...out, value: "never-written", modRevision: 1 } };
        description = "get returns a value never written";
      }
      break;
    }
    case "put":
      mutated = { ...op, output: { kind: "put", revision: out.revision + (unit(rng) < 0.5 ? 1 : -1) } };
      description = "put reports a neighbouring revision";
      break;
    case "cas":
      mutated = { ...op, output: { kind: "cas", succeeded: !out.succeeded } };
      description = "cas reports the opposite result";
      break;
    case "delete":
      mutated = { ...op, output: { kind: "delete", deleted: out.deleted > 0 ? 0 : 1 } };
      description = "delete reports the opposite count";
      break;
    case "revoke":
      mutated = { ...op, output: { kind: "revoke", revision: (out.revision ?? 0) + 1 } };
      description = "revoke reports the next revision";
      break;
  }
  assert(mutated.id === op.id, "a mutation keeps the operation's id");
  return { history: history.map((o) => (o.id === op.id ? mutated : o)), description: `#${op.id}: ${description}` };
}

/** A uniform integer in [0, n). */
export function uniform(rng: Rng, n: number): number {
  return Math.floor(unit(rng) * n);
}

/** A uniform number in [0, 1). */
export function unit(rng: Rng): number {
  return rng.nextU32() / 0x1_0000_0000;
}
